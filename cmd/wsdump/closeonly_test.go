package main

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestCaptureStartsAtClose: a capture that starts with the closing
// handshake of a connection (one Close each way, then FINs) shows the
// connection, sniffed without a handshake, with its two Close frames.
func TestCaptureStartsAtClose(t *testing.T) {
	closeFrame := func(masked bool, reason string) []byte {
		p := binary.BigEndian.AppendUint16(nil, 1000)
		p = append(p, reason...)
		h := wsparse.Header{Fin: true, Opcode: wsparse.OpClose}
		if masked {
			h.Masked, h.MaskKey = true, [4]byte{1, 2, 3, 4}
			wsparse.Unmask(h.MaskKey, 0, p)
		}
		return frameBytes(h, p)
	}
	for _, reason := range []string{"", "bye"} {
		c := synth.New("192.0.2.1:40000", "192.0.2.2:80") // no SYN: caught mid-connection
		c.Send(true, closeFrame(true, reason))
		c.Send(false, closeFrame(false, reason))
		c.Fin(false).Fin(true)
		path := writeSynth(t, 0, c)
		out, errs, code := runWsdump(t, nil, "-r", path, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		closes := 0
		for _, r := range parseJSONL(t, out) {
			if r.Type == "frame" && r.Opcode == int(wsparse.OpClose) && len(r.Anomalies) == 0 {
				closes++
			}
		}
		if closes != 2 || !strings.Contains(out, `"end":"clean"`) {
			t.Errorf("reason %q: %d close frames, want 2 and a clean end:\n%s", reason, closes, out)
		}
	}
}
