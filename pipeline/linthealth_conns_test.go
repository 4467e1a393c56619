package pipeline

import (
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/lint"
)

// linted is what lint reads of a connection's health (lint.Linter.Health):
// its pings, the series of the kinds it judges, whether it was a
// fallback session.
func linted(c *health.Conn) string { return lintedKinds(c, false) }

// lintedKinds is linted, with the texts --heartbeat-text names when texts.
func lintedKinds(c *health.Conn, texts bool) string {
	v := struct {
		Ping      [2]health.PingStats
		Transport string
		Series    []*health.Series
	}{Ping: c.Ping, Transport: c.Transport}
	for _, s := range c.Heartbeats {
		switch s.Kind {
		case health.KindWSPing, health.KindWSPong, "stomp", "engineio":
			v.Series = append(v.Series, s)
		case health.KindText:
			if texts {
				v.Series = append(v.Series, s)
			}
		case health.KindApp:
			// Lint looks for them in STOMP and Socket.IO messages (and
			// SockJS arrays), not in plain texts and JSON.
			if s.Proto == "stomp" || s.Proto == "socketio" {
				v.Series = append(v.Series, s)
			}
		}
	}
	if v.Ping == [2]health.PingStats{} && v.Series == nil {
		return "" // nothing lint judges
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestLintHealthAsConns: on every committed capture, lint's tracker
// (given every connection, the protocols' beats and the application
// heartbeats of STOMP and Socket.IO) makes the same reconnect groups as
// conns' (every field, every attempt; of those, every group of two
// attempts or more: the lone ones lint cannot judge are not made), and the same health numbers as
// conns' of every connection it judges, -j 1 and -j 2:
// its pings, its series of WebSocket pings and pongs, STOMP and Engine.IO
// heart-beats, STOMP and Socket.IO application heartbeats (their timers
// included); and so the same findings.
func TestLintHealthAsConns(t *testing.T) {
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap")
	more, _ := filepath.Glob("../testdata/pcaps/*.pcapng")
	files = append(files, more...)
	if len(files) < 90 {
		t.Fatalf("%d captures", len(files))
	}
	compared, groups, retryGroups := 0, 0, 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			o := &ConnsOptions{Out: io.Discard, Format: "jsonl", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
				Input: Input{Err: io.Discard, Reads: []string{file}, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			rd, err := o.read(nil, true)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]string{}
			wl := lint.New()
			// lint's tracker makes the groups of two attempts or more
			// alone (health.Tracker.RetryGroupsOnly), and maybe a few
			// others: each as conns', in conns' order.
			var wantGroups []string
			for _, g := range rd.Report.Groups {
				b, err := json.Marshal(g)
				if err != nil {
					t.Fatal(err)
				}
				wantGroups = append(wantGroups, string(b))
				if len(g.Attempts)+g.Unlisted >= 2 {
					retryGroups++
				}
			}
			groups += len(rd.Report.Groups)
			for i := range rd.Report.Len() {
				c := rd.Report.Conn(i)
				if v := linted(c); v != "" {
					want[c.ID] = v
					wl.Health(c)
				}
			}
			compared += len(want)
			for _, jobs := range []int{1, 2} {
				got := map[int]string{}
				in := Input{Err: io.Discard, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}
				l := lint.New()
				var gotGroups []*health.Group
				_, err := in.lintRead([]string{file}, filter.Spec{}, o.health(), l, func(c *health.Conn) {
					if v := linted(c); v != "" {
						got[c.ID] = v
					}
					l.Health(c)
				}, func(g *health.Group) { gotGroups = append(gotGroups, g) })
				if err != nil && rd.ReadErr == nil {
					t.Fatal(err)
				}
				j := 0 // the next of conns' groups
				for _, g := range gotGroups {
					b, _ := json.Marshal(g)
					for j < len(wantGroups) && wantGroups[j] != string(b) {
						if w := rd.Report.Groups[j]; len(w.Attempts)+w.Unlisted >= 2 {
							t.Errorf("-j %d: lint has not conns' group of %d attempts\n%s", jobs, len(w.Attempts)+w.Unlisted, wantGroups[j])
						}
						j++
					}
					if j == len(wantGroups) {
						t.Errorf("-j %d: lint's reconnect group is none of conns' (or out of their order)\n%s", jobs, b)
						break
					}
					j++
				}
				for ; j < len(wantGroups); j++ {
					if w := rd.Report.Groups[j]; len(w.Attempts)+w.Unlisted >= 2 {
						t.Errorf("-j %d: lint has not conns' group of %d attempts\n%s", jobs, len(w.Attempts)+w.Unlisted, wantGroups[j])
					}
				}
				for id, w := range want {
					if got[id] != w {
						t.Errorf("-j %d conn %d: lint\n%s\nconns\n%s", jobs, id, got[id], w)
					}
				}
				for id, g := range got {
					if want[id] == "" {
						t.Errorf("-j %d conn %d: lint\n%s\nconns has nothing", jobs, id, g)
					}
				}
				var hb []lint.Finding
				for _, f := range l.Findings() {
					if f.Rule.ID >= "WS701" && f.Rule.ID <= "WS799" {
						hb = append(hb, f)
					}
				}
				if w := wl.Findings(); !slices.EqualFunc(hb, w, func(a, b lint.Finding) bool { return a.Detail == b.Detail && a.Conn == b.Conn && a.TS.Equal(b.TS) }) {
					t.Errorf("-j %d: lint's heartbeat findings\n%+v\nfrom conns' verdicts\n%+v", jobs, hb, w)
				}
			}
		})
	}
	if groups < 80 || retryGroups < 12 {
		t.Errorf("%d reconnect groups compared, %d of two attempts or more; want 80 and 12 or more", groups, retryGroups)
	}
	t.Logf("%d reconnect groups, %d of two attempts or more", groups, retryGroups)
	if compared < 50 {
		t.Errorf("%d connections with pings or heart-beats compared, want 50 or more", compared)
	}
}
