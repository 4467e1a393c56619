package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestH2PrefaceSplit: an h2c connection whose client preface comes in a
// first segment shorter than "PRI " (a client, or one hiding from a
// monitor, may cut it anywhere) is still found to be HTTP/2, and its
// WebSocket stream decoded.
func TestH2PrefaceSplit(t *testing.T) {
	for _, cut := range []int{1, 3} {
		h := synth.NewH2()
		c := synth.New("192.0.2.3:40001", "192.0.2.2:80").Wait(time.Millisecond).Open()
		pre := h.Preface()
		c.Send(true, pre[:cut])
		c.Send(true, pre[cut:])
		c.Send(false, h.ConnectProtocol())
		c.Send(true, h.Headers(true, 1, false, synth.ExtendedConnect("/chat")...))
		c.Send(false, h.Headers(false, 1, false, ":status", "200"))
		c.Send(true, h.Data(true, 1, false, synth.WSFrame(true, wsparse.OpText, []byte("hello over h2"))))
		c.Fin(true).Fin(false)
		path := writeSynth(t, 0, c)
		out, errs, code := runWsdump(t, nil, "-r", path, "--messages")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(out, "hello over h2") || !strings.Contains(out, "1/1") {
			t.Errorf("preface cut after %d bytes:\n%s", cut, out)
		}
	}
}
