package pipeline

import (
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/lint"
)

// lintedDeclared is linted with the texts --heartbeat-text names.
func lintedDeclared(c *health.Conn) string { return lintedKinds(c, true) }

// TestLintHealthAsConnsDeclared: TestLintHealthAsConns with the
// heartbeat declared (--heartbeat-text ping --heartbeat-interval 10s, and
// --heartbeat-interval 10s alone), on every committed capture, each file
// of rotated/ and each rotated/ set merged, -j 1 and 2: lint's series
// (the texts named included) are conns', and its heartbeat findings are
// those of conns' verdicts linted with the interval declared
// (lint.Linter.DeclareInterval): with --heartbeat-interval 10s alone the
// seed's stomp SEND ping that missed 3 beats is WS706 in both. Before,
// lint's tracker was not told the declared interval.
func TestLintHealthAsConnsDeclared(t *testing.T) {
	var sets [][]string
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap")
	more, _ := filepath.Glob("../testdata/pcaps/*.pcapng")
	rot, _ := filepath.Glob("../testdata/pcaps/rotated/*/*")
	for _, f := range append(append(files, more...), rot...) {
		sets = append(sets, []string{f})
	}
	for _, d := range []string{"deflate", "load", "seed"} {
		fs, _ := filepath.Glob("../testdata/pcaps/rotated/" + d + "/*")
		sets = append(sets, fs)
	}
	flagsets := []HealthFlags{{HeartbeatText: "ping", HeartbeatInterval: 10 * time.Second, Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
		{HeartbeatInterval: 10 * time.Second, Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second}}
	nf := 0
	for fi, hf := range flagsets {
		for _, names := range sets {
			o := &ConnsOptions{Out: io.Discard, Format: "jsonl", Time: "rel", HealthFlags: hf,
				Input: Input{Err: io.Discard, Reads: names, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			rd, err := o.read(nil, true)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]string{}
			wl := lint.New()
			wl.DeclareInterval(hf.HeartbeatInterval)
			for i := range rd.Report.Len() {
				c := rd.Report.Conn(i)
				if v := lintedDeclared(c); v != "" {
					want[c.ID] = v
					wl.Health(c)
				}
			}
			for _, jobs := range []int{1, 2} {
				got := map[int]string{}
				in := Input{Err: io.Discard, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}
				l := lint.New()
				_, err := in.lintRead(names, filter.Spec{}, o.health(), l, func(c *health.Conn) {
					if v := lintedDeclared(c); v != "" {
						got[c.ID] = v
					}
					l.Health(c)
				}, func(*health.Group) {})
				if err != nil && rd.ReadErr == nil {
					t.Fatal(err)
				}
				for id, w := range want {
					if got[id] != w {
						t.Errorf("flags %d %v -j %d conn %d: lint\n%s\nconns\n%s", fi, names, jobs, id, got[id], w)
					}
				}
				for id, g := range got {
					if want[id] == "" {
						t.Errorf("flags %d %v -j %d conn %d: lint\n%s\nconns has nothing", fi, names, jobs, id, g)
					}
				}
				var hb []lint.Finding
				for _, f := range l.Findings() {
					if f.Rule.ID >= "WS701" && f.Rule.ID <= "WS799" {
						hb = append(hb, f)
					}
				}
				nf += len(hb)
				if w := wl.Findings(); !slices.EqualFunc(hb, w, func(a, b lint.Finding) bool { return a.Detail == b.Detail && a.Conn == b.Conn && a.TS.Equal(b.TS) }) {
					t.Errorf("flags %d %v -j %d: lint's heartbeat findings\n%+v\nfrom conns' verdicts\n%+v", fi, names, jobs, hb, w)
				}
			}
		}
	}
	// 4 seed captures (and rotated/seed merged) with a declared SEND
	// ping that missed beats, 2 with two timers, -j 1 and 2. (A series
	// of 5 s with 10 s declared is one timer of 5 s, not two timers of
	// 10 s half a period apart: gen__hb-stopped, zeek__wstunnel-ssh.)
	if nf < 28 {
		t.Errorf("%d heartbeat findings compared over %d sets, want 28 or more", nf, len(sets))
	}
}
