package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
)

// seedExpect is what the seed generators (testdata/gen/seed-*.js) wrote
// of the tries of the reconnect loop: when each started, how it went.
type seedExpect struct {
	Tries []struct {
		Try       int     `json:"try"`
		Time      float64 `json:"time"`
		Connected float64 `json:"connected"`
		Errors    []struct {
			Error  string `json:"error"`
			GaveUp bool   `json:"gave_up"`
		} `json:"errors"`
	} `json:"tries"`
	TCP []struct {
		Try     int     `json:"try"`
		Time    float64 `json:"time"`
		Kind    string  `json:"kind"`
		Outcome string  `json:"outcome"`
	} `json:"tcp"`
}

func readSeedExpect(t *testing.T, name string) seedExpect {
	t.Helper()
	raw, err := os.ReadFile("../testdata/pcaps/" + name + ".expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var e seedExpect
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func epoch(f float64) time.Time {
	s, frac := math.Modf(f)
	return time.Unix(int64(s), int64(frac*1e9))
}

// TestLintReconnectCaptures: real captures of clients reconnecting, each
// against what its generator recorded (testdata/gen/README.md, the
// expect.json): gen__health-reconnect's 6 attempts, 3 refused 403, 2
// upgraded and closed 1013, then one that stayed, 100 ms doubling to
// 1.6 s, are a storm (WS707, from its first retry); the seed captures'
// loop (the /info refused 5 times 3.0 s apart, then recovered) and
// gen__reconnect-fork's 7 tries are none by default, and none is left
// unrecovered; gen__reconnect-dead (the server killed, never back: every
// try after the WebSocket refused, the seed gives up) is WS708 from its
// first refused try, with as many refused as the generator saw. Given
// --storm-attempts 4, the seed's 5 refused tries 3 s apart are a storm
// (lint takes the flag, and sees the refused connects). A healthy
// capture gives neither. -j 1 and -j 2 the same.
func TestLintReconnectCaptures(t *testing.T) {
	def := DefaultHealthFlags()
	four := def
	four.StormAttempts = 4
	cases := []struct {
		name  string
		flags HealthFlags
		check func(t *testing.T, got []lintFinding)
	}{
		{"gen__health-reconnect", def, func(t *testing.T, got []lintFinding) {
			if len(got) != 1 || got[0].Rule != "WS707" || got[0].Conn != 2 || math.Abs(got[0].T-0.107) > 0.01 ||
				!strings.Contains(got[0].Detail, ": 6 attempts of its retry loop within 10.0s, 6 in all (3 refused, 0 failed, 2 ended in error), backoff exponential") {
				t.Errorf("got %+v, want one WS707 on conn 2 at its start (the first retry, 100 ms after the first 403): 6 attempts, 3 refused, 2 errors", got)
			}
		}},
		{"gen__reconnect-fork", def, func(t *testing.T, got []lintFinding) {
			if len(got) != 0 {
				t.Errorf("got %+v, want none (7 tries, the last wave connected)", got)
			}
		}},
		{"gen__ws-node-basic", def, func(t *testing.T, got []lintFinding) {
			if len(got) != 0 {
				t.Errorf("got %+v, want none", got)
			}
		}},
	}
	for _, name := range []string{"gen__seed-sockjs-stomp", "gen__seed-sockjs-stomp-twotimers", "gen__seed-browser", "gen__seed-browser-twotimers"} {
		cases = append(cases, struct {
			name  string
			flags HealthFlags
			check func(t *testing.T, got []lintFinding)
		}{name, def, func(t *testing.T, got []lintFinding) {
			if len(got) != 0 {
				t.Errorf("got %+v, want none: 5 refused 3 s apart (4 in 10 s), then recovered", got)
			}
		}}, struct {
			name  string
			flags HealthFlags
			check func(t *testing.T, got []lintFinding)
		}{name, four, func(t *testing.T, got []lintFinding) {
			e := readSeedExpect(t, name)
			refused := 0
			for _, tr := range e.Tries {
				if tr.Connected == 0 {
					refused++
				}
			}
			var firstRetry time.Time // the first try after the loss: its refused connect
			for _, c := range e.TCP {
				if c.Try == 2 && firstRetry.IsZero() {
					firstRetry = epoch(c.Time)
				}
			}
			want := fmt.Sprintf(": 4 attempts of its retry loop within 10.0s, %d in all (%d refused, 0 failed, 1 ended in error), backoff fixed 3.0s", refused+2, refused)
			if refused != 5 || len(got) != 1 || got[0].Rule != "WS707" || !strings.Contains(got[0].Detail, want) || got[0].TS.Sub(firstRetry).Abs() > 50*time.Millisecond {
				t.Errorf("--storm-attempts 4: got %+v, want one WS707 %q at the first retry (%s)", got, want, firstRetry)
			}
		}})
	}
	cases = append(cases, struct {
		name  string
		flags HealthFlags
		check func(t *testing.T, got []lintFinding)
	}{"gen__reconnect-dead", def, func(t *testing.T, got []lintFinding) {
		e := readSeedExpect(t, "gen__reconnect-dead")
		var first time.Time
		refused, gaveUp := 0, false
		for _, tr := range e.Tries[1:] {
			if tr.Connected != 0 {
				t.Fatalf("try %d connected: the server never came back", tr.Try)
			}
			refused++
			for _, er := range tr.Errors {
				gaveUp = gaveUp || er.GaveUp
			}
		}
		for _, c := range e.TCP {
			if c.Try == 2 && first.IsZero() {
				first = epoch(c.Time)
			}
		}
		want := fmt.Sprintf(": %d attempts after the last WebSocket (conn 2) got none (%d refused, 0 failed)", refused, refused)
		if !gaveUp || refused != 9 || len(got) != 1 || got[0].Rule != "WS708" || !strings.Contains(got[0].Detail, want) ||
			got[0].TS.Sub(first).Abs() > 50*time.Millisecond {
			t.Errorf("got %+v, want one WS708 %q at the first refused try (%s)", got, want, first)
		}
	}})
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s storm-attempts %d", c.name, c.flags.StormAttempts), func(t *testing.T) {
			file := "../testdata/pcaps/" + c.name + ".pcap"
			j1, got := lintWith(t, file, LintOptions{HealthFlags: c.flags}, 1, "WS707", "WS708")
			c.check(t, got)
			if j2, _ := lintWith(t, file, LintOptions{HealthFlags: c.flags}, 2); j2 != j1 {
				t.Errorf("-j 2 differs from -j 1:\n%s\n%s", j2, j1)
			}
		})
	}
}

// TestLintReconnectFilters: a filter never changes a group's verdict
// (the tracker sees every connection); a group is linted when the filter
// shows one of its connections, and not otherwise: --dir s2c and -Y on
// the data frames keep the WebSocket connections' Ends, --host the
// group's, --path another's none. Before, the refused connects of
// gen__reconnect-dead never reached lint's tracker.
func TestLintReconnectFilters(t *testing.T) {
	for _, name := range []string{"gen__health-reconnect", "gen__reconnect-dead"} {
		file := "../testdata/pcaps/" + name + ".pcap"
		_, all := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS707", "WS708")
		if len(all) != 1 {
			t.Fatalf("%s: %+v, want a finding", name, all)
		}
		for _, c := range []struct {
			fl    filter.Flags
			shown bool
		}{
			{filter.Flags{Dirs: []string{"s2c"}}, true},
			{filter.Flags{Expr: `opcode == 1`}, true},
			{filter.Flags{Hosts: []string{"127.0.0.1:*"}}, true},
			{filter.Flags{Paths: []string{"/elsewhere"}}, false},
		} {
			for _, jobs := range []int{1, 2} {
				_, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags(), Filter: c.fl}, jobs, "WS707", "WS708")
				want := all
				if !c.shown {
					want = nil
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s -j %d %+v: %+v, want %+v", name, jobs, c.fl, got, want)
				}
			}
		}
	}
}

// TestLintReconnectPerFile: with --per-file each file's groups are its
// own: the findings of three captures linted together are each file's
// alone.
func TestLintReconnectPerFile(t *testing.T) {
	files := []string{"../testdata/pcaps/gen__health-reconnect.pcap", "../testdata/pcaps/gen__reconnect-dead.pcap", "../testdata/pcaps/gen__seed-browser.pcap"}
	var want strings.Builder
	for _, f := range files {
		out, _ := lintWith(t, f, LintOptions{HealthFlags: DefaultHealthFlags()}, 1)
		want.WriteString(out)
	}
	for _, jobs := range []int{1, 2} {
		var out strings.Builder
		o := LintOptions{HealthFlags: DefaultHealthFlags(), Out: &out, Format: "jsonl", FailOn: "none",
			Input: Input{PerFile: true, Err: io.Discard, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
		if err := RunLint(&o, files); err != nil {
			t.Fatal(err)
		}
		if out.String() != want.String() {
			t.Errorf("--per-file -j %d:\n%s\nwant\n%s", jobs, out.String(), want.String())
		}
		if n := strings.Count(out.String(), `"WS707"`) + strings.Count(out.String(), `"WS708"`); n != 2 {
			t.Errorf("--per-file -j %d: %d reconnect findings, want 2", jobs, n)
		}
	}
}

// TestLintNotWebSocketEnds: lint's decoder ends every connection for the
// reconnect groups (wsparse.Config.EndAll), but the End of one that
// never showed WebSocket reaches the linter only when it is an HTTP/2
// connection not wholly followed, as without EndAll: arkime's capture
// has a plain HTTP connection (97) whose malformed HTTP lint never
// reported, and still does not. Its 4 packets to 10.5.7.1:80, each from
// a port of its own, carry no SYN (URG, RST, FIN, PSH alone): no connect,
// so no WS709 of them.
func TestLintNotWebSocketEnds(t *testing.T) {
	out, _ := lintWith(t, "../testdata/pcaps/arkime__arkime_synthetic.pcap", LintOptions{HealthFlags: DefaultHealthFlags()}, 1)
	if strings.Contains(out, `"detail":"not_websocket"`) || strings.Contains(out, `"conn":97,`) {
		t.Errorf("a finding on a connection that never showed WebSocket:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != 12 {
		t.Errorf("%d findings, want the 12 lint gave before it ended every connection (no WS709: no SYN to 10.5.7.1:80):\n%s", n, out)
	}
}

// TestLintReconnectTenant: a reconnect group's finding names its tenant
// as a connection's does (jsonl encap, `in vxlan:20` after WHERE):
// gen__tenant-reconnect's two clients on 10.9.0.1 with one Host and URL
// in VXLAN 10 and 20, the storm VXLAN 20's (its server down 1.25-2.6 s).
// Before, the finding said only the client IP, Host and URL, the same
// for either tenant's group.
func TestLintReconnectTenant(t *testing.T) {
	for _, jobs := range []int{1, 2} {
		out, got := lintWith(t, "../testdata/pcaps/gen__tenant-reconnect.pcap", LintOptions{HealthFlags: DefaultHealthFlags()}, jobs, "WS707", "WS708")
		if len(got) != 1 || got[0].Rule != "WS707" || got[0].Conn != 5 {
			t.Fatalf("-j %d: %+v, want WS707 on conn 5", jobs, got)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, `"WS707"`) && !strings.Contains(l, `"encap":"vxlan:20"`) {
				t.Errorf("-j %d: %s: want encap vxlan:20", jobs, l)
			}
		}
	}
}

// TestLintConnEndTenant: a connection's end finding (WS302 here) names
// its tenant as its messages' do: gen__tenant-reconnect's conn 3, the
// VXLAN 20 connection its server's death ended with FIN and no Close.
// Before, it said 'conn 3 connection' alone.
func TestLintConnEndTenant(t *testing.T) {
	out, got := lintWith(t, "../testdata/pcaps/gen__tenant-reconnect.pcap", LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS302")
	if len(got) != 1 || got[0].Conn != 3 {
		t.Fatalf("%+v, want WS302 on conn 3", got)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, `"WS302"`) && !strings.Contains(l, `"encap":"vxlan:20"`) {
			t.Errorf("%s: want encap vxlan:20", l)
		}
	}
}
