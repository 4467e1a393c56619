package reassembly

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTunnelNotTLS: a WebSocket carrying TLS records (a tunnel), captured
// from a segment that opens with one of them (its frame's header sent
// before the capture), was taken for TLS captured after its handshake and
// its frames were never looked for (one TLS record, no message; session
// 34 found them all). Once its bytes stop being TLS records, the frames are
// found and the bytes taken for TLS count as skipped.
func TestTunnelNotTLS(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xa5}, n)...)
	}
	c := synth.New("192.0.2.1:40000", "192.0.2.2:8080")
	c.Send(false, rec(300))
	for i := 0; i < 5; i++ {
		c.Frame(true, wsparse.OpBinary, rec(40+i))
		c.Frame(false, wsparse.OpBinary, append(rec(60+i), rec(7)...))
	}
	lines := edgeRun(t, "a tunnel captured from a record", c.Packets, "counts lost 0/0 skipped 0/305")
	msgs := 0
	for _, l := range lines {
		if strings.Contains(l, " message ") {
			msgs++
		}
		if strings.Contains(l, " tls ") {
			t.Errorf("taken for TLS: %s", l)
		}
	}
	if msgs != 10 {
		t.Errorf("%d messages, want 10:\n%s", msgs, strings.Join(lines, "\n"))
	}
}
