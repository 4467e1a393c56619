package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// closedRetryCapture: a WebSocket from 10.0.0.1 to 10.0.0.2:8080 that the
// server resets at 1 s, then one retry at 4 s (an upgrade request, or a
// SockJS /info request, on a new connection) that end does to, and a
// packet elsewhere 2 s later: the capture's end.
func closedRetryCapture(t *testing.T, kind string, end func(*synth.Conv)) string {
	const server = "10.0.0.2:8080"
	ws := synth.New("10.0.0.1:40000", server).Open().UpgradeURI("/stomp").Frame(false, wsparse.OpText, []byte("o")).Wait(time.Second).Rst(false)
	retry := synth.New("10.0.0.1:40001", server).At(4 * time.Second).Open()
	if kind == "upgrade" {
		retry.Send(true, []byte("GET /stomp HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	} else {
		retry.Send(true, []byte("GET /stomp/info?t=1 HTTP/1.1\r\nHost: h\r\n\r\n"))
	}
	end(retry.Wait(100 * time.Millisecond))
	last := synth.New("10.0.0.3:50000", "10.0.0.9:9").At(6 * time.Second).Syn()
	return writeCapture(t, synth.ByTime(ws.Packets, retry.Packets, last.Packets))
}

// TestReconnectClosedNotInFlight: in flight is a TCP state, not only a
// time: a retry the server closed without an answer (its upgrade request
// or its /info request answered by a RST or a FIN) 2 s before the
// capture's end has its answer: it failed, and the group that never got
// its WebSocket back is WS708 (before: "in flight", no finding, a CI job
// green on a loop that never recovered). Left unanswered with the
// connection still up, the same retry is in flight and no finding.
// -j 1 and -j 2 the same.
func TestReconnectClosedNotInFlight(t *testing.T) {
	for _, c := range []struct {
		name, kind string
		end        func(*synth.Conv)
		inFlight   bool
		outcome    string
	}{
		{"upgrade reset by the server", "upgrade", func(c *synth.Conv) { c.Rst(false) }, false, "no_response"},
		{"upgrade closed by the server (FIN)", "upgrade", func(c *synth.Conv) { c.Fin(false) }, false, "no_response"},
		{"upgrade given up by the client (FIN)", "upgrade", func(c *synth.Conv) { c.Fin(true) }, false, "no_response"},
		{"/info reset by the server", "info", func(c *synth.Conv) { c.Rst(false) }, false, "http_timeout"},
		{"/info closed by the server (FIN both)", "info", func(c *synth.Conv) { c.Fin(false).Fin(true) }, false, "http_timeout"},
		{"upgrade unanswered, connection up", "upgrade", func(*synth.Conv) {}, true, "no_response"},
		{"/info unanswered, connection up", "info", func(*synth.Conv) {}, true, "http_timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := closedRetryCapture(t, c.kind, c.end)
			gs := connsGroups(t, file)
			var found bool
			for _, g := range gs {
				if g.Path != "/stomp" {
					continue
				}
				found = true
				if len(g.Attempts) != 2 {
					t.Fatalf("%d attempts, want 2: %+v", len(g.Attempts), g.Attempts)
				}
				a := g.Attempts[1]
				if a.InFlight != c.inFlight || a.Outcome != c.outcome || (g.InFlight == 1) != c.inFlight || (g.Failed == 1) == c.inFlight || (g.DownAtEnd > 0) == c.inFlight {
					t.Errorf("conns: retry %s in flight %v, group in flight %d failed %d down at end %v; want %s, in flight %v",
						a.Outcome, a.InFlight, g.InFlight, g.Failed, g.DownAtEnd, c.outcome, c.inFlight)
				}
			}
			if !found {
				t.Fatalf("no group /stomp: %+v", gs)
			}
			j1, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS707", "WS708", "WS709")
			want := "h/stomp from 10.0.0.1: 1 attempts after the last WebSocket (conn 1) got none (0 refused, 1 failed)"
			if c.inFlight && len(got) != 0 || !c.inFlight && (len(got) != 1 || got[0].Rule != "WS708" || !strings.HasPrefix(got[0].Detail, want)) {
				t.Errorf("lint: %+v; want %s", got, map[bool]string{true: "none", false: "WS708 " + want}[c.inFlight])
			}
			if j2, _ := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 2); j2 != j1 {
				t.Errorf("-j 2 differs from -j 1:\n%s\n%s", j2, j1)
			}
		})
	}
}

// TestReconnectSlowLoopInFlight: a loop with a 30 s delay (a WebSocket
// the server resets at 1 s, a retry at 31 s whose SYN is never
// answered), the capture cut 15 s after that SYN. With the kernel's SYN
// retransmissions on the wire (1, 3, 7 and 15 s after it, Linux's) the
// connect is still trying at the end: in flight, no finding (before:
// judged from its first SYN, 15 s > 10 s, failed: WS708). With its first
// SYN alone and nothing from it for 15 s it failed: WS708.
func TestReconnectSlowLoopInFlight(t *testing.T) {
	for _, c := range []struct {
		name     string
		retries  []time.Duration
		inFlight bool
	}{
		{"SYN retransmitted to the end", []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, true},
		{"one SYN, then nothing for 15 s", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			const server = "10.0.0.2:8080"
			ws := synth.New("10.0.0.1:40000", server).Open().UpgradeURI("/stomp").Frame(false, wsparse.OpText, []byte("o")).Wait(time.Second).Rst(false)
			retry := synth.New("10.0.0.1:40001", server).At(31 * time.Second).Syn()
			for _, d := range c.retries {
				retry.Wait(d).Syn()
			}
			last := synth.New("10.0.0.3:50000", "10.0.0.9:9").At(46*time.Second + 100*time.Millisecond).Syn()
			file := writeCapture(t, synth.ByTime(ws.Packets, retry.Packets, last.Packets))
			var g *health.Group
			for _, x := range connsGroups(t, file) {
				if x.Path == "/stomp" {
					g = x
				}
			}
			if g == nil || len(g.Attempts) != 2 {
				t.Fatalf("group: %+v", g)
			}
			if a := g.Attempts[1]; a.Outcome != health.OutcomeTimeout || a.InFlight != c.inFlight || (g.DownAtEnd > 0) == c.inFlight {
				t.Errorf("conns: retry %s in flight %v, down at end %v; want timeout, in flight %v", a.Outcome, a.InFlight, g.DownAtEnd, c.inFlight)
			}
			j1, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS707", "WS708", "WS709")
			if c.inFlight && len(got) != 0 || !c.inFlight && (len(got) != 1 || got[0].Rule != "WS708") {
				t.Errorf("lint: %+v; want WS708 %v", got, !c.inFlight)
			}
			if j2, _ := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 2); j2 != j1 {
				t.Errorf("-j 2 differs from -j 1:\n%s\n%s", j2, j1)
			}
		})
	}
}
