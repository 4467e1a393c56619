package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/report"
)

// TestEndTimeOneForEveryView (issue 15): a connection's end has one time,
// the packet that ended it (the RST, or the later FIN; read from the
// capture here, not from wsdump), and one duration in every view and
// record: the main view's end row and jsonl conn record, conns (table
// and jsonl), lint's connection finding of its end and follow's end line.
func TestEndTimeOneForEveryView(t *testing.T) {
	for _, name := range []string{"gen__health-rst.pcap", "gen__health-ws-ping.pcap"} {
		t.Run(name, func(t *testing.T) {
			path := "../../testdata/pcaps/" + name
			conns := readTCPStreams(t, path)
			if len(conns) != 1 {
				t.Fatalf("%d TCP connections, want 1", len(conns))
			}
			origin, end := conns[0].start, conns[0].end()
			if end.IsZero() {
				t.Fatal("no RST, no FIN from both sides")
			}
			rel := fmt.Sprintf("%.6f", end.Sub(origin).Seconds())
			abs := end.UTC().Format("2006-01-02T15:04:05.000000000Z")
			t.Logf("ended at %s (%s), last data at %.6f", rel, abs, conns[0].chunks[len(conns[0].chunks)-1].ts.Sub(origin).Seconds())

			// The main view's jsonl and conns' jsonl: ts, last_ts, duration.
			var durs []string
			for _, args := range [][]string{{"-r", path, "--format", "jsonl"}, {"conns", "-r", path, "--format", "jsonl"}} {
				n := 0
				for _, l := range runLines(t, args) {
					var r struct {
						Type     string
						TS       string
						FirstTS  string `json:"first_ts"`
						LastTS   string `json:"last_ts"`
						Duration float64
					}
					if err := json.Unmarshal([]byte(l), &r); err != nil {
						t.Fatal(err)
					}
					if r.Type != "conn" {
						continue
					}
					n++
					first, _ := time.Parse(time.RFC3339Nano, r.FirstTS)
					want := fmt.Sprintf("%.6f", end.Sub(first).Seconds())
					if r.TS != abs || r.LastTS != abs || fmt.Sprintf("%.6f", r.Duration) != want {
						t.Errorf("wsdump %s: conn ts %s, last_ts %s, duration %.6f; want %s, %s, %s", strings.Join(args, " "), r.TS, r.LastTS, r.Duration, abs, abs, want)
					}
					durs = append(durs, r.FirstTS+" "+want)
				}
				if n != 1 {
					t.Errorf("wsdump %s: %d conn records", strings.Join(args, " "), n)
				}
			}
			if len(durs) == 2 && durs[0] != durs[1] {
				t.Errorf("start and duration: main view %s, conns %s", durs[0], durs[1])
			}
			// The main view's table: the end row's time.
			out, _, _ := runWsdump(t, nil, "-r", path)
			if m := regexp.MustCompile(`(?m)^(\S+)\s+1\s+end\s`).FindStringSubmatch(out); m == nil || m[1] != rel {
				t.Errorf("main view end row %q, want at %s:\n%s", m, rel, out)
			}
			// conns' table: DUR.
			out, _, _ = runWsdump(t, nil, "conns", "-r", path)
			if len(durs) > 0 {
				first, _ := time.Parse(time.RFC3339Nano, strings.Fields(durs[0])[0])
				dur := report.Dur(end.Sub(first))
				if f := strings.Fields(strings.Split(out, "\n")[1]); len(f) < 3 || f[2] != dur {
					t.Errorf("conns DUR %q, want %s:\n%s", f, dur, out)
				}
			}
			// lint: the connection finding (WS303 rst-without-close, WS302 fin-without-close).
			n := 0
			for _, l := range runLines(t, []string{"lint", "-r", path, "--format", "jsonl", "--fail-on", "none"}) {
				var r struct {
					Rule, Record, TS string
					T                float64
				}
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatal(err)
				}
				if r.Record != "connection" || strings.HasPrefix(r.Rule, "WS7") {
					continue // a heartbeat finding is timed where the beats went missing (WS703: the pings)
				}
				n++
				if r.TS != abs || fmt.Sprintf("%.6f", r.T) != rel {
					t.Errorf("lint %s at %s (%.6f), want %s (%s)", r.Rule, r.TS, r.T, abs, rel)
				}
			}
			if n == 0 {
				t.Errorf("lint: no connection finding")
			}
			// follow: the end line.
			out, _, _ = runWsdump(t, nil, "follow", "-r", path)
			if !strings.Contains(out, "=== conn 1 end at "+rel+":") {
				t.Errorf("follow: no end at %s:\n%s", rel, out)
			}
		})
	}
}
