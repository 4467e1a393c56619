package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTCPFirstClockStepBack: who sent the first FIN is the order the
// capture saw the FINs in, not their times: a server killed at 10.0 s
// whose FIN the tap stamped before the capture's clock stepped back 5 s
// (an NTP step) and the client's FIN 30 ms later stamped 5.03 s. conns'
// CLOSE, lint's WS302 and follow's end line said "client first, then
// server", the reverse of what happened. Equal times still say "both".
func TestTCPFirstClockStepBack(t *testing.T) {
	t.Parallel()
	conv := func(client string, step time.Duration) *synth.Conv {
		c := synth.New(client, "192.0.2.2:80").Open().UpgradeURI("/chat")
		c.Wait(10*time.Millisecond).Frame(false, wsparse.OpText, []byte("tick"))
		c.Wait(10 * time.Second).Fin(false) // the server goes away
		c.Wait(step - c.Step).Fin(true)     // the client's FIN, step after it
		return c
	}
	for _, tc := range []struct {
		name string
		step time.Duration
		want string
	}{
		{"clock stepped back", -5*time.Second + 30*time.Millisecond, "FIN from server first, then client"},
		{"clock steady", 30 * time.Millisecond, "FIN from server first, then client"},
		{"same time", 0, "FIN from both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSynth(t, 0, conv("192.0.2.1:40000", tc.step))
			for _, j := range []string{"1", "2"} {
				out, _, code := runWsdump(t, nil, "conns", "-r", path, "-j", j)
				if code != 0 || !strings.Contains(out, tc.want+", no Close") {
					t.Errorf("-j %s: conns (exit %d):\n%s\nwant CLOSE %q", j, code, out, tc.want+", no Close")
				}
				out, _, _ = runWsdump(t, nil, "lint", "-r", path, "-j", j)
				if !strings.Contains(out, "fin-without-close") || !strings.Contains(out, tc.want) {
					t.Errorf("-j %s: lint:\n%s\nwant WS302 %q", j, out, tc.want)
				}
				out, _, _ = runWsdump(t, nil, "follow", "-r", path, "-j", j)
				if !strings.Contains(out, "fin_without_close, "+tc.want) {
					t.Errorf("-j %s: follow:\n%s\nwant an end line %q", j, out, "fin_without_close, "+tc.want)
				}
			}
		})
	}
}
