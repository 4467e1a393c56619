package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestJSONLMessageReusesOnlyUnwrittenBase64: a message with its frame's
// bytes takes the frame's base64 from the line buffer only while that line
// is still there; once the buffer has been written out (a frame line past
// flushAt, or a Flush in between, and other lines may have been built
// where it was), the message encodes its own. Each
// message's "data" decodes to its bytes, whatever came between.
func TestJSONLMessageReusesOnlyUnwrittenBase64(t *testing.T) {
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.2:80")})
	ts := time.Unix(1700000000, 0)
	big := bytes.Repeat([]byte("0123456789abcdef"), (flushAt+4096)/16) // its frame line alone passes flushAt
	small := []byte("hello, reuse")
	other := []byte("hello, other")
	var out bytes.Buffer
	j := newJSONL(&out)
	msg := func(data []byte) {
		j.MessageApps(c, &wsparse.Message{TS: ts, Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Frames: 1, Len: uint64(len(data)), Data: data}, nil)
	}
	pair := func(frame, m []byte, between func()) {
		j.Frame(c, &wsparse.Frame{TS: ts, Dir: wsparse.ClientToServer, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: uint64(len(frame))}, Payload: frame})
		if between != nil {
			between()
		}
		msg(m)
	}
	pair(small, small, nil)                  // reused from the buffer
	pair(big, big, nil)                      // the frame's line was written out: encoded again
	pair(small, small, func() { j.Flush() }) // written out by a Flush
	pair(small, other, nil)                  // other bytes
	pair(big, small, nil)
	// Written out, then overwritten by a message of other bytes; the
	// next message has the frame's bytes again.
	long := bytes.Repeat([]byte("xyz"), 200)
	pair(small, long, func() { j.Flush() })
	msg(small)
	pair(small, long, nil) // still in the buffer: reused
	msg(small)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{small, big, small, other, small, long, small, long, small}
	var got [][]byte
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var rec struct {
			Type string `json:"type"`
			Data string `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v in %.200q", err, line)
		}
		if rec.Type == "message" {
			b, err := base64.StdEncoding.DecodeString(rec.Data)
			if err != nil {
				t.Fatalf("message data %.80q: %v", rec.Data, err)
			}
			got = append(got, b)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("message %d: data %.40q (%d bytes), want %.40q (%d bytes)", i, got[i], len(got[i]), want[i], len(want[i]))
		}
	}
}
