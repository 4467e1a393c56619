package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
)

// lintWith lints file with options o (its output, input and filter set
// here) and returns its jsonl and the findings of rules (e.g. "WS705").
func lintWith(t *testing.T, file string, o LintOptions, jobs int, rules ...string) (string, []lintFinding) {
	t.Helper()
	var out, e bytes.Buffer
	o.Out, o.Format, o.FailOn = &out, "jsonl", "none"
	o.Input = Input{Err: &e, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}
	if err := RunLint(&o, []string{file}); err != nil {
		t.Fatalf("%s: %v\n%s", file, err, e.String())
	}
	var got []lintFinding
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var f lintFinding
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		for _, r := range rules {
			if f.Rule == r {
				got = append(got, f)
			}
		}
	}
	return out.String(), got
}

// TestLintSeedTimers: the user's code run for real (testdata/gen/
// seed-sockjs-stomp.js in node and in headless Chromium, each with its
// timer cleared on reconnect and not): lint says heartbeat-timers-doubled
// (WS705) of the connections whose manifest has two timers, with their
// beats, from the first of them and with the offset the generator
// measured, and nothing of the others; given the interval and the beat
// (--heartbeat-text ping --heartbeat-interval 10s), heartbeat-missed
// (WS706) of the beats each connection withheld, from the last beat
// before them. Before, lint said neither. -j 1 and 2 the same; a filter,
// --dir s2c or -Y, changes no verdict.
func TestLintSeedTimers(t *testing.T) {
	for _, name := range []string{"gen__seed-sockjs-stomp", "gen__seed-sockjs-stomp-twotimers", "gen__seed-browser", "gen__seed-browser-twotimers"} {
		t.Run(name, func(t *testing.T) {
			file := "../testdata/pcaps/" + name + ".pcap"
			raw, err := os.ReadFile("../testdata/pcaps/" + name + ".expect.json")
			if err != nil {
				t.Fatal(err)
			}
			var exp struct {
				Conns []struct {
					URL string `json:"url"`
				} `json:"conns"`
				Beats []struct {
					Conn int     `json:"conn"`
					Time float64 `json:"time"`
				} `json:"beats"`
				Withheld []struct {
					Conn int     `json:"conn"`
					Time float64 `json:"time"`
				} `json:"withheld"`
				Summary struct {
					Beats    []int   `json:"beats_per_conn"`
					Withheld []int   `json:"withheld_per_conn"`
					Timers   []int   `json:"timers_per_conn"`
					Offset   float64 `json:"timer_offset"`
				} `json:"summary"`
			}
			if err := json.Unmarshal(raw, &exp); err != nil {
				t.Fatal(err)
			}
			epoch := func(s float64) time.Time { return time.UnixMilli(int64(math.Round(s * 1000))) }
			// Each manifest connection's number, from conns, by its URL.
			conns, _ := connsJSONL(t, file, 1)
			num := map[int]int{}
			for _, l := range strings.Split(strings.TrimSpace(conns), "\n") {
				var c struct {
					Type, URI string
					Conn      int
				}
				if err := json.Unmarshal([]byte(l), &c); err != nil {
					t.Fatal(err)
				}
				for i, mc := range exp.Conns {
					if c.Type == "conn" && c.URI != "" && strings.HasSuffix(mc.URL, c.URI) {
						num[i] = c.Conn
					}
				}
			}
			if len(num) != len(exp.Conns) || len(exp.Summary.Timers) != len(exp.Conns) {
				t.Fatalf("connections %v of %d in the manifest", num, len(exp.Conns))
			}
			// want: rule, connection and what the finding counts, with
			// when it begins (within 50 ms) and the timers' offset
			// (within 0.1 s: the wire's, not the client's clock).
			type finding struct {
				rule    string
				conn, n int
				at      time.Time
				off     float64
			}
			var want, wantMissed []finding
			for i := range exp.Conns {
				var first, before time.Time
				for _, b := range exp.Beats {
					if b.Conn != i {
						continue
					}
					if first.IsZero() {
						first = epoch(b.Time)
					}
					for _, w := range exp.Withheld {
						if w.Conn == i && b.Time < w.Time && epoch(b.Time).After(before) {
							before = epoch(b.Time)
						}
					}
				}
				if n := exp.Summary.Timers[i]; n > 1 {
					want = append(want, finding{"WS705", num[i], n, first, exp.Summary.Offset})
				}
				if n := exp.Summary.Withheld[i]; n > 0 {
					wantMissed = append(wantMissed, finding{"WS706", num[i], n, before, 0})
				}
			}
			check := func(what string, got []lintFinding, want []finding) {
				t.Helper()
				ok := len(got) == len(want)
				for i := 0; ok && i < len(got); i++ {
					f, w := got[i], want[i]
					var n, beats int
					var off float64
					if f.Rule == "WS705" {
						_, err := fmt.Sscanf(f.Detail[strings.Index(f.Detail, "10.0s: ")+7:], "%d timers (offset %gs), %d beats", &n, &off, &beats)
						ok = err == nil && beats == exp.Summary.Beats[indexOf(num, f.Conn)] && math.Abs(off-w.off) <= 0.1
					} else {
						_, err := fmt.Sscanf(f.Detail[strings.Index(f.Detail, "): ")+3:], "%d missed", &n)
						ok = err == nil
					}
					ok = ok && f.Rule == w.rule && f.Conn == w.conn && f.Dir == "c2s" && n == w.n && f.TS.Sub(w.at).Abs() <= 50*time.Millisecond
				}
				if !ok {
					t.Errorf("%s: got %+v\nwant %+v", what, got, want)
				}
			}
			for _, jobs := range []int{1, 2} {
				out, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, jobs, "WS705", "WS706")
				check(fmt.Sprintf("-j %d", jobs), got, want)
				if j1, _ := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1); out != j1 {
					t.Errorf("-j %d differs from -j 1:\n%s\n%s", jobs, out, j1)
				}
				declared := DefaultHealthFlags()
				declared.HeartbeatText, declared.HeartbeatInterval = "ping", 10*time.Second
				_, got = lintWith(t, file, LintOptions{HealthFlags: declared}, jobs, "WS706")
				check(fmt.Sprintf("-j %d, the interval declared", jobs), got, wantMissed)
				for _, fl := range []filter.Flags{{Dirs: []string{"s2c"}}, {Expr: `opcode == 1`}} {
					_, fgot := lintWith(t, file, LintOptions{HealthFlags: declared, Filter: fl}, jobs, "WS705", "WS706")
					_, all := lintWith(t, file, LintOptions{HealthFlags: declared}, jobs, "WS705", "WS706")
					if fmt.Sprint(fgot) != fmt.Sprint(all) {
						t.Errorf("-j %d %+v: %+v, want as unfiltered %+v", jobs, fl, fgot, all)
					}
				}
			}
		})
	}
}

// indexOf returns the manifest index of connection number n.
func indexOf(num map[int]int, n int) int {
	for i, c := range num {
		if c == n {
			return i
		}
	}
	return -1
}
