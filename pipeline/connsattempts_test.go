package pipeline

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/filter"
)

// connsGroupJSON runs conns --format jsonl on file with fl, -j 1 and -j 2
// (the same bytes), and returns its client_group records, each without
// its number (a selection numbers its groups from 1), by server.
func connsGroupJSON(t *testing.T, file string, fl filter.Flags) map[string]string {
	t.Helper()
	var out string
	for _, jobs := range []int{1, 2} {
		var o, e bytes.Buffer
		if err := RunConns(&ConnsOptions{Out: &o, Format: "jsonl", Time: "rel", HealthFlags: DefaultHealthFlags(), Filter: fl,
			Input: Input{Err: &e, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
			t.Fatal(err)
		}
		if jobs == 2 && o.String() != out {
			t.Errorf("%+v: -j 2 differs from -j 1:\n%s\n-j 1:\n%s", fl, o.String(), out)
		}
		out = o.String()
	}
	groups := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(l, `"type":"client_group"`) {
			continue
		}
		var g map[string]any
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatal(err)
		}
		delete(g, "group")
		b, _ := json.Marshal(g)
		groups[g["server"].(string)] = string(b)
	}
	return groups
}

// TestConnsFilterAttempts: conns selects the attempts that never reached
// WebSocket (refused connects, the SockJS /info request) under a filter
// as lint does (filter.Filter.AttemptSelected), so that a filter that
// selects a server's connections shows its reconnect group as the
// unfiltered run does, every field: gen__reconnect-dead (a SockJS
// WebSocket of 127.0.0.1:47365 via its /info request, then 9 refused
// tries) beside another client's loop refused 4 times by 10.0.0.2:8080.
// A filter that selects part of a group's attempts shows those alone
// (--conn of one try, -Y status: an attempt has no status to match).
// Before, a filter left every attempt that never reached WebSocket out:
// --host 127.0.0.1 showed a group of 1 attempt, 10.0.0.2 none.
func TestConnsFilterAttempts(t *testing.T) {
	file := withOtherLoop(t, "gen__reconnect-dead", 60)
	const real, other = "127.0.0.1:47365", "10.0.0.2:8080"
	all := connsGroupJSON(t, file, filter.Flags{})
	if len(all) != 2 || !hasAll(all[real], `"attempts":10`, `"refused":9`) || !hasAll(all[other], `"attempts":4`, `"refused":4`) {
		t.Fatalf("unfiltered: %v", all)
	}
	var realConns []int
	var g struct {
		Timeline []struct {
			Conn int   `json:"conn"`
			Via  []int `json:"via"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(all[real]), &g); err != nil {
		t.Fatal(err)
	}
	for _, a := range g.Timeline {
		realConns = append(realConns, append(a.Via, a.Conn)...)
	}
	for _, c := range []struct {
		fl   filter.Flags
		want []string // the unfiltered groups shown
		part []string // else: the one group shown, of these attempts
	}{
		{fl: filter.Flags{Hosts: []string{"127.0.0.1"}}, want: []string{real}},
		{fl: filter.Flags{Hosts: []string{"10.0.0.2"}}, want: []string{other}},
		{fl: filter.Flags{Hosts: []string{"10.0.0.1"}}, want: []string{other}}, // the client's address
		{fl: filter.Flags{Hosts: []string{"10.0.0.9"}}},
		{fl: filter.Flags{Hosts: []string{"0.0.0.2"}}}, // an address matches exactly
		{fl: filter.Flags{Hosts: []string{"127.0.0.1:47365"}}, want: []string{real}},
		{fl: filter.Flags{Hosts: []string{"127.0.0.1:*"}}, want: []string{real}},
		{fl: filter.Flags{Hosts: []string{"*:47365"}}, want: []string{real}},
		{fl: filter.Flags{Hosts: []string{"*:8080"}}, want: []string{other}},
		{fl: filter.Flags{Hosts: []string{"10.0.0.?"}}, want: []string{other}},
		{fl: filter.Flags{Hosts: []string{"127.0.0.1", "10.0.0.2"}}, want: []string{real, other}},
		{fl: filter.Flags{Conns: realConns}, want: []string{real}},
		{fl: filter.Flags{Conns: []int{realConns[len(realConns)-1]}}, part: []string{`"attempts":1`, `"refused":1`}},
		{fl: filter.Flags{Conns: []int{999}}},
		{fl: filter.Flags{Paths: []string{"/stomp/*"}}, part: []string{`"attempts":1`, `"refused":0`}}, // /info and the WebSocket: one attempt
		{fl: filter.Flags{Expr: `server == "10.0.0.2:8080"`}, want: []string{other}},
		{fl: filter.Flags{Expr: `client startsWith "10."`}, want: []string{other}},
		{fl: filter.Flags{Expr: `server == "127.0.0.1:47365"`}, want: []string{real}},
		{fl: filter.Flags{Expr: `conn == 999`}},
		{fl: filter.Flags{Expr: `status == 101`}, part: []string{`"attempts":1`, `"refused":0`}}, // the WebSocket, no refused try
		{fl: filter.Flags{Hosts: []string{"127.0.0.1"}, Expr: `server == "10.0.0.2:8080"`}},
	} {
		got := connsGroupJSON(t, file, c.fl)
		if c.part != nil {
			if len(got) != 1 || !hasAll(got[real], c.part...) {
				t.Errorf("%+v: %v, want one group of %s", c.fl, got, c.part)
			}
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%+v: %d groups %v, want %v", c.fl, len(got), got, c.want)
		}
		for _, s := range c.want {
			if got[s] != all[s] {
				t.Errorf("%+v: group of %s\n%s\nwant as unfiltered\n%s", c.fl, s, got[s], all[s])
			}
		}
	}
}

func hasAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
