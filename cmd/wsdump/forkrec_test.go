package main

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// TestConnsReconnectFork compares wsdump conns with what the client of
// gen__reconnect-fork did (testdata/gen/seed-fork.js: the seed's code,
// stompjs 2.3.3 over sockjs-client 1.6.1, against a sockjs server that
// answers CONNECT with a STOMP ERROR and closes while its broker is
// "down"): stompjs calls the error callback twice for each refused try
// (the ERROR frame, then "Lost connection") and the seed's loop forks,
// 1, 2 then 4 tries at once, the last 4 connected side by side. The
// messages, by SHA-256: TestMessagesMatchManifest. Needs no tool: the
// capture is committed (re-recording: testdata/gen/record.sh reconnect-fork).
func TestConnsReconnectFork(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__reconnect-fork")
	var want struct {
		Retry struct{ Delay float64 }
		Tries []struct {
			Try       int
			Time      float64
			Connected float64
			Errors    []struct {
				Time  float64
				Error string
			}
		}
		Conns []struct {
			Start, Open, End float64
			Lport            uint16
		}
		Beats []struct {
			Conn int
			Kind string
			Time float64
		}
	}
	readExpect(t, base+".expect.json", &want)

	// What the client saw: every try opened a WebSocket; the most open at
	// once; the tries whose error callback ran; the forks (a try whose
	// callback ran twice started two).
	maxOpen := 0
	for _, a := range want.Conns {
		open := 0
		for _, b := range want.Conns {
			if b.Start <= a.Start && a.Start < b.End {
				open++
			}
		}
		maxOpen = max(maxOpen, open)
	}
	errored, forked := 0, 0
	for _, tr := range want.Tries {
		if len(tr.Errors) > 0 {
			errored++
		}
		if len(tr.Errors) == 2 && tr.Errors[0].Error == "ERROR Broker not available." && tr.Errors[1].Error == "Whoops! Lost connection" {
			forked++
		}
	}
	if len(want.Tries) != 7 || len(want.Conns) != 7 || maxOpen != 4 || forked != 3 {
		t.Fatalf("expect.json: %d tries, %d WebSockets, %d open at once, %d forked; the capture was made for 7, 7, 4, 3",
			len(want.Tries), len(want.Conns), maxOpen, forked)
	}

	g := oneGroup(t, base+".pcap")
	if g.Attempts != len(want.Tries) || g.MaxParallel != maxOpen || g.Errors != errored || g.Refused != 0 || g.Storm {
		t.Errorf("group: %d attempts, %d parallel, %d errors, %d refused, storm %v; the client made %d tries, %d open at once, %d errored",
			g.Attempts, g.MaxParallel, g.Errors, g.Refused, g.Storm, len(want.Tries), maxOpen, errored)
	}
	if g.Backoff != "fixed" || math.Abs(g.BackoffInterval-want.Retry.Delay) > 0.1 {
		t.Errorf("backoff %s %.3fs, the client waited %.3fs each time", g.Backoff, g.BackoffInterval, want.Retry.Delay)
	}
	// Each attempt starts (its SockJS /info request) when the client made
	// the try.
	var starts, wantStarts []float64
	for _, e := range g.Timeline {
		starts = append(starts, float64(e.Start.UnixNano())/1e9)
	}
	for _, tr := range want.Tries {
		wantStarts = append(wantStarts, tr.Time)
	}
	slices.Sort(starts)
	slices.Sort(wantStarts)
	if len(starts) != len(wantStarts) {
		t.Fatalf("%d attempts in the timeline, the client opened %d WebSockets", len(starts), len(wantStarts))
	}
	for i := range starts {
		t.Logf("attempt %d: %.3f s after the try", i+1, starts[i]-wantStarts[i])
		if d := starts[i] - wantStarts[i]; d < 0 || d > 0.1 {
			t.Errorf("attempt %d at %.3f, the client made the try at %.3f", i+1, starts[i], wantStarts[i])
		}
	}

	// The STOMP heart-beats each connected session sent (CONNECTED
	// heart-beat:0,10000: the client's only), by its local port.
	r := connsReport(t, base+".pcap", health.Options{})
	byPort := map[uint16]*health.Conn{}
	for _, c := range r.Conns {
		byPort[c.Client.Port()] = c
	}
	for i, c := range want.Conns {
		hc := byPort[c.Lport]
		if hc == nil {
			t.Errorf("WebSocket %d (port %d) not found", i, c.Lport)
			continue
		}
		eol := 0
		for _, b := range want.Beats {
			if b.Conn == i && b.Kind == "stomp-eol" {
				eol++
			}
		}
		got := 0
		for _, s := range hc.Heartbeats {
			if s.Kind == "stomp" {
				got += s.Count
				if s.Missed != 0 || s.Count > 0 && s.Interval != 10*time.Second {
					t.Errorf("WebSocket %d: %s %d beats, %v, %d missed", i, s.Dir, s.Count, s.Interval, s.Missed)
				}
			}
		}
		if got != eol {
			t.Errorf("WebSocket %d (port %d): %d STOMP heart-beats, the client sent %d", i, c.Lport, got, eol)
		}
	}
}
