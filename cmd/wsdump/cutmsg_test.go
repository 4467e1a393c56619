package main

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestCutMessageRecords is issue 16's case 5 through a capture: a 300 kB
// message each way, compressed (random bytes: stored blocks, as in the
// issue's s2c record) and not, over --max-message 64 KiB, then the same
// with 1 000 bytes of the server's message lost from the capture. Each
// message record must give the true length when known (null when not),
// data_kept, message_truncated or capture_truncated, and data that is a
// prefix of what was sent.
func TestCutMessageRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 5))
	data := make([]byte, 300000)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	compress := func(b []byte) []byte {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestSpeed)
		w.Write(b)
		w.Flush()
		return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	}
	mask := [4]byte{1, 2, 3, 4}
	masked := func(p []byte) []byte {
		p = bytes.Clone(p)
		wsparse.Unmask(mask, 0, p)
		return p
	}
	type msg struct {
		Dir       string   `json:"dir"`
		Len       *uint64  `json:"len"`
		Data      string   `json:"data"`
		DataKept  *int     `json:"data_kept"`
		Anomalies []string `json:"anomalies"`
	}
	for _, deflate := range []bool{false, true} {
		for _, lose := range []bool{false, true} {
			payload, rsv := data, uint8(0)
			if deflate {
				payload, rsv = compress(data), 4
			}
			c := conv(deflate)
			c.Send(true, frameBytes(wsparse.Header{Fin: true, RSV: rsv, Opcode: wsparse.OpBinary, Masked: true, MaskKey: mask}, masked(payload)))
			server := frameBytes(wsparse.Header{Fin: true, RSV: rsv, Opcode: wsparse.OpBinary}, payload)
			c.Send(false, server[:20440])
			if lose {
				c.DropNext = 1 // 1 000 bytes inside the payload, before the limit
			}
			c.MSS = 1000
			c.Send(false, server[20440:21440])
			c.MSS = 1460
			c.Send(false, server[21440:])
			path := writeSynth(t, 0, c)
			out, errs, code := runWsdump(t, nil, "-r", path, "--format", "jsonl", "--max-message", "65536")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got []msg
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, `{"type":"message"`) {
					var m msg
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatal(err)
					}
					got = append(got, m)
				}
			}
			if len(got) != 2 {
				t.Fatalf("deflate %v, lose %v: %d messages:\n%s", deflate, lose, len(got), out)
			}
			for _, m := range got {
				d, _ := base64.StdEncoding.DecodeString(m.Data)
				name := m.Dir
				if deflate {
					name += " compressed"
				}
				if lose && m.Dir == "s2c" {
					name += ", bytes lost"
				}
				has := func(a string) bool { return strings.Contains(strings.Join(m.Anomalies, ","), a) }
				if !bytes.HasPrefix(data, d) {
					t.Errorf("%s: data (%d bytes, ending %x) is not what was sent", name, len(d), d[max(len(d)-4, 0):])
				}
				if m.DataKept == nil || *m.DataKept != len(d) {
					t.Errorf("%s: data_kept %v, want %d", name, m.DataKept, len(d))
				}
				cut := lose && m.Dir == "s2c"
				switch {
				case cut && deflate:
					if m.Len != nil || !has("capture_truncated") || has("message_truncated") || has("inflate_failed") {
						t.Errorf("%s: len %v, anomalies %v; want len null, capture_truncated", name, lenOf(m.Len), m.Anomalies)
					}
				case cut:
					if m.Len == nil || *m.Len != uint64(len(data)) || !has("capture_truncated") || has("message_truncated") || len(d) != 20440-10 {
						t.Errorf("%s: len %v, %d bytes kept, anomalies %v; want len %d, capture_truncated, the 20430 bytes before the hole", name, lenOf(m.Len), len(d), m.Anomalies, len(data))
					}
				default:
					if m.Len == nil || *m.Len != uint64(len(data)) || len(d) != 65536 || !has("message_truncated") || has("inflate_failed") {
						t.Errorf("%s: len %v, %d bytes kept, anomalies %v; want len %d, 65536 kept, message_truncated", name, lenOf(m.Len), len(d), m.Anomalies, len(data))
					}
				}
			}
		}
	}
}

func lenOf(n *uint64) string {
	if n == nil {
		return "null"
	}
	return strconv.FormatUint(*n, 10)
}

// TestLintDeflateParamsInvalid: a 101 accepting permessage-deflate with
// server_max_window_bits=99 (RFC 7692 §7.1.2.1: 8 to 15) is a lint error,
// WS215 on the handshake.
func TestLintDeflateParamsInvalid(t *testing.T) {
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte(upgradeReq+deflateExt+"\r\n"))
	c.Send(false, []byte(upgradeResp+"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n\r\n"))
	fs, code := lintJSONL(t, "-r", writeSynth(t, 0, c))
	if code != exitFindings || !hasFinding(fs, "WS215", "handshake", "") {
		t.Errorf("exit %d, findings %+v; want WS215 on the handshake", code, fs)
	}
}
