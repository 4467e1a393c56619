package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestHTTP2NotListedNoticed: conns lists the first 1 000 HTTP/2
// connections (and those not wholly followed past them); the others are
// said on stderr, which is all a JSON lines reader has of them (the table
// says so under its rows too).
func TestHTTP2NotListedNoticed(t *testing.T) {
	var pkts []synth.Packet
	for i := range 1001 {
		h := synth.NewH2()
		c := synth.New(fmt.Sprintf("10.1.%d.%d:40000", i/250, i%250+1), "10.0.0.2:80").At(time.Duration(i) * time.Millisecond).Open()
		c.Send(true, h.Preface())
		c.Send(false, h.Settings(false))
		c.Send(true, h.Headers(true, 1, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/"))
		c.Send(false, h.Headers(false, 1, true, ":status", "200"))
		pkts = append(pkts, c.Packets...)
	}
	file := writeCapture(t, pkts)
	const want = "wsdump: 1 HTTP/2 connection is not listed (past the first 1 000, and past 10 000 more of those not wholly followed)\n"
	out, errs := connsJSONL(t, file, 2)
	if !strings.Contains(errs, want) {
		t.Errorf("stderr %q, want %q", errs, want)
	}
	if n := strings.Count(out, `"type":"http2_conn"`); n != 1000 {
		t.Errorf("%d http2_conn records, want 1000", n)
	}
}
