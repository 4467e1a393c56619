package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestConnsReconnectLoop: wsdump conns with no flags, on the user's loop
// (synth.SockJSReconnect: a SockJS WebSocket reset by the dying server,
// five connects refused 3 s apart, then /info and a WebSocket 18.5 s after
// the reset), tells the loop in one row and lists every refused attempt
// with its delay.
func TestConnsReconnectLoop(t *testing.T) {
	f := writeSynth(t, 0, &synth.Conv{Packets: synth.SockJSReconnect(5, 3*time.Second, 18500*time.Millisecond)})
	out, errs, code := runConnsCmd(t, "-r", f)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	row := regexp.MustCompile(`(?m)^1 +10\.0\.0\.1 +h/stomp +7 +5 +0 +1 +18\.5s +no +fixed 3\.0s +2 error via 1, ` +
		`3 conn_refused \+3\.0s, 4 conn_refused \+3\.0s, 5 conn_refused \+3\.0s, 6 conn_refused \+3\.0s, 7 conn_refused \+3\.0s, 9 ok via 8 \+3\.5s$`)
	if !row.MatchString(out) {
		t.Errorf("no group row with 7 attempts, 5 refused, outage 18.5s, fixed 3.0s and every refused attempt:\n%s", out)
	}
	g := oneGroup(t, f)
	if g.Attempts != 7 || g.Refused != 5 || g.Outage < 18.49 || g.Outage > 18.51 || g.Backoff != "fixed" || g.BackoffInterval < 2.99 || g.BackoffInterval > 3.01 {
		t.Errorf("client_group %+v", g)
	}
}

// groupRecord is a client_group record of wsdump conns --format jsonl.
type groupRecord struct {
	Host, Path                string
	Attempts, Refused, Failed int
	Errors                    int
	Outage                    float64
	MaxParallel               int `json:"max_parallel"`
	Storm                     bool
	Backoff                   string
	BackoffInterval           float64 `json:"backoff_interval"`
	Timeline                  []struct {
		Conn       int
		Via        []int
		Start      time.Time `json:"start_ts"`
		Outcome    string
		After      *float64
		Retry      bool
		Concurrent bool
	}
}

// connsGroups runs wsdump conns --format jsonl (no other flag) and returns
// its client_group records.
// oneGroup is the only reconnect group of wsdump conns on file.
func oneGroup(t *testing.T, file string) groupRecord {
	t.Helper()
	gs := connsGroups(t, file)
	if len(gs) != 1 {
		t.Fatalf("%d groups, want 1", len(gs))
	}
	return gs[0]
}

// readExpect reads a generator's expect.json into v.
func readExpect(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func connsGroups(t *testing.T, file string) []groupRecord {
	t.Helper()
	out, errs, code := runConnsCmd(t, "-r", file, "--format", "jsonl")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var gs []groupRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, `"type":"client_group"`) {
			var g groupRecord
			if err := json.Unmarshal([]byte(line), &g); err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
	}
	return gs
}

// delayText prints a timeline's delay.
func delayText(f *float64) string {
	if f == nil {
		return "none"
	}
	return strconv.FormatFloat(*f, 'f', 3, 64) + "s"
}

func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// TestConnsSeedCaptures compares wsdump conns (no flags) with what the
// generator's client did (testdata/gen/seed-sockjs-stomp.js: sockjs-client
// + stompjs 2.3.3 against a broker killed and restarted): the group of
// /stomp holds every try (its /info requests, its refused connects, its
// WebSockets), the refused count, each delay, the rhythm and the outage.
// Both generators are run: node (seed-sockjs-stomp.js) and headless
// Chromium (seed-browser.js), each with and without the timer cleared.
func TestConnsSeedCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__seed-*.expect.json"))
	if len(files) != 4 {
		t.Fatalf("%d gen__seed-* captures, want 4", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".expect.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			var want struct {
				Tries []struct{ Time float64 }
				Retry struct {
					Delay  float64
					Rhythm string
				}
				Group struct {
					Lost, Outage float64
					Tries        int
					Refused      int
					Outcomes     []string
					TryTimes     []float64 `json:"try_times"`
					Delays       []float64 // the client's timer, from its error callback to the next try
				}
			}
			readExpect(t, f, &want)
			g := oneGroup(t, base+".pcap")
			if g.Path != "/stomp" || g.Attempts != len(want.Tries) || g.Refused != want.Group.Refused || g.Failed != 0 {
				t.Errorf("group %s: %d attempts, %d refused, %d failed; want /stomp, %d, %d, 0", g.Path, g.Attempts, g.Refused, g.Failed, len(want.Tries), want.Group.Refused)
			}
			if g.Backoff != want.Retry.Rhythm || math.Abs(g.BackoffInterval-want.Retry.Delay) > 0.1 {
				t.Errorf("backoff %s %.3fs, want %s %.1fs", g.Backoff, g.BackoffInterval, want.Retry.Rhythm, want.Retry.Delay)
			}
			if math.Abs(g.Outage-want.Group.Outage) > 0.2 {
				t.Errorf("outage %.3fs, want %.1fs", g.Outage, want.Group.Outage)
			}
			// The tries after the loss, one for one: when, how, the delay.
			var after []int
			for i, a := range g.Timeline {
				if a.Start.After(unixTime(want.Group.Lost)) {
					after = append(after, i)
				}
			}
			if len(after) != want.Group.Tries {
				t.Fatalf("%d attempts after the loss, want %d", len(after), want.Group.Tries)
			}
			// The delay on the wire runs from the end of the attempt before
			// (the lost connection's FIN, a refused connect's RST) to this
			// try's first packet: the client's timer (3 s) plus the time it
			// took the client to see the failure (node: < 15 ms; Chromium:
			// up to 0.13 s), which the capture cannot tell apart.
			for k, i := range after {
				a := g.Timeline[i]
				wantDelay := want.Group.Delays[k]
				if d := a.Start.Sub(unixTime(want.Group.TryTimes[k])); d < 0 || d > 100*time.Millisecond {
					t.Errorf("try %d: starts %v after the client's try", k+1, d)
				}
				refused := want.Group.Outcomes[k] == "refused"
				if refused != (a.Outcome == "conn_refused") || !refused && (len(a.Via) != 1 || a.Outcome == "error") {
					t.Errorf("try %d: %s via %v, want %s", k+1, a.Outcome, a.Via, want.Group.Outcomes[k])
				}
				if a.After == nil || !a.Retry || math.Abs(*a.After-wantDelay) > 0.15 {
					t.Errorf("try %d: delay %s (retry %v), want %.3fs", k+1, delayText(a.After), a.Retry, wantDelay)
				}
			}
		})
	}
}

// TestConnsLoadCapture: a load run (testdata/gen/load-concurrent.js: one
// client, one URL, several connections open at once, each closed with
// 1000) is one group of parallel attempts: no retry, no storm, no
// negative delay.
func TestConnsLoadCapture(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__load-concurrent")
	var want struct {
		Summary struct {
			Conns, Retries int
			Clean1000      int `json:"clean_1000"`
			MaxConcurrent  int `json:"max_concurrent"`
			Storm          bool
		}
	}
	readExpect(t, base+".expect.json", &want)
	g := oneGroup(t, base+".pcap")
	if g.Attempts != want.Summary.Conns || g.Storm != want.Summary.Storm || g.Backoff != "" || g.MaxParallel < 2 || g.MaxParallel > want.Summary.MaxConcurrent {
		t.Errorf("%d attempts, storm %v, backoff %q, %d parallel; want %d, %v, none, 2 to %d",
			g.Attempts, g.Storm, g.Backoff, g.MaxParallel, want.Summary.Conns, want.Summary.Storm, want.Summary.MaxConcurrent)
	}
	ok, retries := 0, 0
	for _, a := range g.Timeline {
		if a.After != nil && *a.After < 0 {
			t.Errorf("conn %d: delay %.3fs", a.Conn, *a.After)
		}
		if a.Retry {
			retries++
		}
		if a.Outcome == "ok" {
			ok++
		}
	}
	if retries != want.Summary.Retries || ok != want.Summary.Clean1000 {
		t.Errorf("%d retries, %d ok; want %d, %d", retries, ok, want.Summary.Retries, want.Summary.Clean1000)
	}
}

// TestConnsEngineIOStall compares wsdump conns (no flags) with what the
// generator's Socket.IO client did (testdata/gen/engineio-stall.js: the
// server stopped, the client's ping timeout, handshake polls that got no
// answer in time, then a new session): the group of /socket.io/ holds
// the first session, every failed attempt at its time, and the new
// session; the outage runs from the client's Close to the new handshake.
// A delay after an attempt that got no answer includes the client's
// connect timeout (the capture does not show when it gave up).
func TestConnsEngineIOStall(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__engineio-stall")
	var want struct {
		ConnectTimeout float64 `json:"connect_timeout"`
		Attempts       []struct {
			Time, Delay float64
			Outcome     string
		}
		Summary struct {
			FailedAttempts int `json:"failed_attempts"`
			Outage         float64
		}
	}
	readExpect(t, base+".expect.json", &want)
	g := oneGroup(t, base+".pcap")
	if g.Path != "/socket.io/" || g.Attempts != len(want.Attempts)+1 || g.Failed != want.Summary.FailedAttempts || math.Abs(g.Outage-want.Summary.Outage) > 0.2 {
		t.Errorf("group %s: %d attempts, %d failed, outage %.3fs; want /socket.io/, %d, %d, %.3fs",
			g.Path, g.Attempts, g.Failed, g.Outage, len(want.Attempts)+1, want.Summary.FailedAttempts, want.Summary.Outage)
	}
	for k, w := range want.Attempts {
		if k+1 >= len(g.Timeline) {
			break
		}
		a := g.Timeline[k+1]
		if d := a.Start.Sub(unixTime(w.Time)); d < 0 || d > 100*time.Millisecond {
			t.Errorf("attempt %d: starts %v after the client's", k+1, d)
		}
		failed := w.Outcome != "connected"
		if failed != strings.HasPrefix(a.Outcome, "http_") || !failed && len(a.Via) != 1 {
			t.Errorf("attempt %d: %s via %v, want %s", k+1, a.Outcome, a.Via, w.Outcome)
		}
		timeout := 0.0
		if k > 0 && want.Attempts[k-1].Outcome == "timeout" {
			timeout = want.ConnectTimeout
		}
		if a.After == nil || *a.After < w.Delay-0.05 || *a.After > w.Delay+timeout+0.2 {
			t.Errorf("attempt %d: delay %s, want %.3fs (+ %.0fs of connect timeout)", k+1, delayText(a.After), w.Delay, timeout)
		}
	}
}
