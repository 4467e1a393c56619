package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// runConnsCmd runs the conns command (not yet registered on the root
// command) with args and returns stdout, stderr and the exit status.
func runConnsCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errs bytes.Buffer
	cmd := newConnsCmd(nil, &out, &errs)
	cmd.SetArgs(args)
	code := exitCode(cmd.Execute(), &errs)
	return out.String(), errs.String(), code
}

// connsReport runs a capture through the health tracker in-process.
func connsReport(t *testing.T, file string, o health.Options) *health.Report {
	t.Helper()
	src, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tr := health.New(nil, o)
	asm := pipeline.New(pipeline.Apps(pipeline.Tracker(tr), pipeline.TrackerApps(tr, appproto.ModeAuto)), reassembly.Options{}, 1)
	if err := pipeline.Feed(src, asm, pipeline.FeedOptions{Name: file}); err != nil {
		t.Fatal(err)
	}
	asm.Finish()
	return tr.Report()
}

// healthExpectConn is what a generator knows of one connection.
type healthExpectConn struct {
	Status          int
	Subprotocol     string
	End             string
	Initiator       string
	CloseCode       *int           `json:"close_code"`
	CloseReason     *string        `json:"close_reason"`
	TextBeats       map[string]int `json:"text_beats"`
	UnansweredBeats int            `json:"unanswered_beats"`
	Pings           map[string]struct{ Sent, Answered, Unanswered int }
	RSTFrom         string `json:"rst_from"`
}

// healthExpect is a generator's gen__health-*.expect.json: what it knows
// happened (see testdata/gen/health-node.js and health-stomp.js).
type healthExpect struct {
	Scenario      string
	HeartbeatText string  `json:"heartbeat_text"`
	Interval      float64 // seconds
	Conns         []healthExpectConn
	Groups        []struct {
		Attempts, Refused, Errors int
		Outcomes                  []string
		Delays                    []float64
		Backoff                   string
		Storm                     bool
	}
}

func seriesOf(c *health.Conn, kind string, d wsparse.Dir) *health.Series {
	for _, s := range c.Heartbeats {
		if s.Kind == kind && s.Dir == d {
			return s
		}
	}
	return nil
}

func dirOf(name string) wsparse.Dir {
	if name == "s2c" {
		return wsparse.ServerToClient
	}
	return wsparse.ClientToServer
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// TestConnsHealthCaptures checks the tracker's numbers on every
// gen__health-* capture against what its generator says happened.
func TestConnsHealthCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__health-*.expect.json"))
	if len(files) < 5 {
		t.Fatalf("%d expect files, want 5", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".expect.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			var want healthExpect
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			o := health.Options{}
			if want.HeartbeatText != "" {
				o.HeartbeatText = regexp.MustCompile(want.HeartbeatText)
			}
			if want.Scenario == "stomp" {
				o.HeartbeatInterval = secs(want.Interval) // as a user would pass --heartbeat-interval
			}
			r := connsReport(t, base+".pcap", o)
			if len(r.Conns) != len(want.Conns) {
				t.Fatalf("%d conns, want %d", len(r.Conns), len(want.Conns))
			}
			for i, w := range want.Conns {
				checkHealthConn(t, r.Conns[i], w, want.Interval)
			}
			if want.Groups == nil {
				if len(r.Groups) != 1 || len(r.Groups[0].Attempts) != 1 {
					t.Errorf("groups: %+v, want one of one attempt", r.Groups)
				}
				return
			}
			if len(r.Groups) != len(want.Groups) {
				t.Fatalf("%d groups, want %d", len(r.Groups), len(want.Groups))
			}
			for i, w := range want.Groups {
				g := r.Groups[i]
				if len(g.Attempts) != w.Attempts || g.Refused != w.Refused || g.Errors != w.Errors || g.Backoff != w.Backoff || g.Storm != w.Storm {
					t.Errorf("group: %d attempts, %d refused, %d errors, backoff %q, storm %v; want %d %d %d %q %v",
						len(g.Attempts), g.Refused, g.Errors, g.Backoff, g.Storm, w.Attempts, w.Refused, w.Errors, w.Backoff, w.Storm)
				}
				for j, a := range g.Attempts {
					if j < len(w.Outcomes) && a.Outcome != w.Outcomes[j] {
						t.Errorf("attempt %d: %s, want %s", j+1, a.Outcome, w.Outcomes[j])
					}
					if j == 0 {
						continue
					}
					// The client waits the delay after it sees the close; the
					// capture adds the TCP teardown and connect around it.
					d := secs(w.Delays[j-1])
					if !a.HasAfter || a.After < d || a.After > d+100*time.Millisecond {
						t.Errorf("attempt %d: %v after the previous one, want %v (+ <100ms)", j+1, a.After, d)
					}
				}
			}
		})
	}
}

func checkHealthConn(t *testing.T, c *health.Conn, w healthExpectConn, interval float64) {
	t.Helper()
	cl := &c.Close
	if c.Status != w.Status || string(cl.End) != w.End || cl.Initiator != w.Initiator || c.Subprotocol != w.Subprotocol {
		t.Errorf("conn %d: status %d end %s initiator %q proto %q; want %d %s %q %q", c.ID, c.Status, cl.End, cl.Initiator, c.Subprotocol,
			w.Status, w.End, w.Initiator, w.Subprotocol)
	}
	if w.CloseCode != nil {
		f := cl.First()
		if f == nil || int(f.Code) != *w.CloseCode || w.CloseReason != nil && f.Reason != *w.CloseReason {
			t.Errorf("conn %d: first close %+v, want %d %v", c.ID, f, *w.CloseCode, w.CloseReason)
		}
	}
	if w.RSTFrom != "" && !cl.TCPRst[dirOf(map[string]string{"client": "c2s", "server": "s2c"}[w.RSTFrom])] {
		t.Errorf("conn %d: no RST from %s: %+v", c.ID, w.RSTFrom, cl)
	}
	for dir, n := range w.TextBeats {
		s := seriesOf(c, health.KindText, dirOf(dir))
		if s == nil || s.Count != n {
			t.Errorf("conn %d: %s text beats %+v, want %d", c.ID, dir, s, n)
			continue
		}
		if d := s.Interval - secs(interval); d.Abs() > secs(interval)/10 {
			t.Errorf("conn %d: %s interval %v (%s), want %vs", c.ID, dir, s.Interval, s.IntervalSource, interval)
		}
	}
	if len(w.TextBeats) > 0 {
		// The side that stopped answering misses about one beat per
		// unanswered one: the last gap runs to the Close.
		u := w.UnansweredBeats
		s, other := seriesOf(c, health.KindText, wsparse.ServerToClient), seriesOf(c, health.KindText, wsparse.ClientToServer)
		if s.Missed < u || s.Missed > u+1 || u > 0 && !s.Gaps[len(s.Gaps)-1].Trailing || other.Missed != 0 {
			t.Errorf("conn %d: missed s2c %d (gaps %+v), c2s %d; want s2c %d-%d, c2s 0", c.ID, s.Missed, s.Gaps, other.Missed, u, u+1)
		}
		if healthy := u == 0; c.Healthy() != healthy {
			t.Errorf("conn %d: glance %q, healthy should be %v", c.ID, report.Glance(c), healthy)
		}
	}
	for dir, p := range w.Pings {
		got := c.Ping[dirOf(dir)]
		if got.Pings != p.Sent || got.Answered != p.Answered || got.Unanswered != p.Unanswered || got.UnansweredTail != p.Unanswered || got.Mismatched != 0 {
			t.Errorf("conn %d: %s pings %+v, want %+v", c.ID, dir, got, p)
		}
		if got.RTTMin <= 0 || got.RTTMin > got.RTTMedian || got.RTTMedian > got.RTTP95 || got.RTTP95 > got.RTTMax || got.RTTMax > 100*time.Millisecond {
			t.Errorf("conn %d: RTT %v %v %v %v", c.ID, got.RTTMin, got.RTTMedian, got.RTTP95, got.RTTMax)
		}
		s := seriesOf(c, health.KindWSPing, dirOf(dir))
		if d := s.Interval - secs(interval); d.Abs() > secs(interval)/10 || s.Missed != 0 {
			t.Errorf("conn %d: ping series interval %v missed %d, want %vs, 0", c.ID, s.Interval, s.Missed, interval)
		}
		if want := fmt.Sprintf("ws-ping %s %d unanswered", report.Dur(s.Interval), p.Unanswered); p.Unanswered > 0 && report.Glance(c) != want {
			t.Errorf("conn %d: glance %q, want %q", c.ID, report.Glance(c), want)
		}
	}
}

// TestConnsTable is a golden check of the table on the reconnect capture:
// one row per attempt, then the reconnect group.
func TestConnsTable(t *testing.T) {
	out, errs, code := runConnsCmd(t, "-r", "../../testdata/pcaps/gen__health-reconnect.pcap")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := strings.TrimPrefix(connsReconnectTable, "\n")
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	out, _, _ = runConnsCmd(t, "-r", "../../testdata/pcaps/gen__health-text-ping.pcap", "--heartbeat-text", "ping|pong")
	if !strings.Contains(out, `client 4000 "heartbeat timeout", clean  text c2s 1.0s ok; text s2c 1.0s 4 missed (max gap 5.0s, none in the last 5.0s)`) {
		t.Errorf("text-ping row:\n%s", out)
	}
}

const connsReconnectTable = `
CONN  START  DUR     CLIENT           SERVER           URL                               PROTO  C2S F/M/B  S2C F/M/B  CLOSE                                                   HEARTBEAT
1     0.002  1.84ms  127.0.0.1:36312  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      0/0/0      0/0/0      refused 403                                             -
2     0.107  271µs   127.0.0.1:36322  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      0/0/0      0/0/0      refused 403                                             -
3     0.309  271µs   127.0.0.1:36336  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      0/0/0      0/0/0      refused 403                                             -
4     0.711  2.99ms  127.0.0.1:36350  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      1/0/17     1/0/17     server 1013 (try again later) "try again later", clean  -
5     1.521  915µs   127.0.0.1:36354  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      1/0/17     1/0/17     server 1013 (try again later) "try again later", clean  -
6     3.124  302ms   127.0.0.1:36356  127.0.0.1:47430  127.0.0.1:47430/health/reconnect  -      3/2/46     3/2/56     client 1000 (normal closure) "done", clean              -

Reconnect groups (client IP, Host, base URL):
GROUP  CLIENT     URL                               ATTEMPTS  REFUSED  FAILED  ERRORS  OUTAGE  STORM    BACKOFF      CONNS (OUTCOME, DELAY BEFORE)
1      127.0.0.1  127.0.0.1:47430/health/reconnect  6         3        0       2       1.6s    yes (6)  exponential  1 refused 403, 2 refused 403 +103ms, 3 refused 403 +202ms, 4 error +402ms, 5 error +808ms, 6 ok +1.6s
`

func TestConnsUsage(t *testing.T) {
	f := "../../testdata/pcaps/gen__health-rst.pcap"
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 1, "no input"},
		{[]string{"-r", f, "--format", "xml"}, 1, "--format must be one of table, jsonl, csv"}, // csv is accepted since issue 19
		{[]string{"-r", f, "--heartbeat-text", "("}, 1, "--heartbeat-text: error parsing regexp"},
		{[]string{"-r", f, "--tolerance", "0.5"}, 1, "--tolerance must be at least 1"},
		{[]string{"-r", f, "--heartbeat-interval", "-1s"}, 1, "--heartbeat-interval must not be negative"},
		{[]string{"-r", f, "--nope"}, 1, "unknown flag"},
		{[]string{"-r", "nope.pcap"}, 2, "no such file"},
	} {
		_, errs, code := runConnsCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.stderr) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errs, tc.code, tc.stderr)
		}
	}
}

// TestConnsJSONL checks the records of the jsonl output: one conn per
// connection, then the client groups, every line valid JSON.
func TestConnsJSONL(t *testing.T) {
	out, errs, code := runConnsCmd(t, "-r", "../../testdata/pcaps/gen__health-reconnect.pcap", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Type     string
			Conn     int
			Close    *struct{ Summary string }
			Timeline []struct {
				Outcome string
				After   *float64
			}
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		types = append(types, r.Type)
		if r.Type == "client_group" && (len(r.Timeline) != 6 || r.Timeline[0].After != nil || *r.Timeline[5].After < 1.6) {
			t.Errorf("group %s", line)
		}
		if r.Type == "conn" && r.Conn == 4 && r.Close.Summary != `server 1013 (try again later) "try again later", clean` {
			t.Errorf("conn 4: %s", line)
		}
	}
	if got := strings.Join(types, " "); got != "conn conn conn conn conn conn client_group" {
		t.Errorf("records: %s", got)
	}
}

// TestAppHeartbeats checks the application heartbeats of the SockJS/STOMP
// and Socket.IO captures against what the generator's libraries saw
// (NAME.app.tsv rows of type h, HEARTBEAT, ping, pong): the same count per
// protocol and direction, and none missed (the sessions were healthy).
func TestAppHeartbeats(t *testing.T) {
	for _, name := range []string{"gen__app-sockjs-stomp", "gen__app-socketio-ws", "gen__health-stomp"} {
		base := filepath.Join("..", "..", "testdata", "pcaps", name)
		want := map[string]int{}
		if b, err := os.ReadFile(base + ".app.tsv"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				f := strings.Split(l, "\t")
				if len(f) < 3 {
					continue
				}
				switch f[2] {
				case "h", "HEARTBEAT", "ping", "pong":
					if f[2] == "ping" && f[1] == "engineio" && strings.Contains(l, "probe") {
						continue
					}
					want[f[1]+" "+f[0]]++
				}
			}
		}
		rep := connsReport(t, base+".pcap", health.Options{})
		got := map[string]int{}
		for _, c := range rep.Conns {
			for _, s := range c.Heartbeats {
				if strings.HasPrefix(s.Kind, "ws-") {
					continue
				}
				got[s.Kind+" "+s.Dir.String()] += s.Count
				if s.Missed > 0 {
					t.Errorf("%s conn %d: %s %s: %d missed", name, c.ID, s.Kind, s.Dir, s.Missed)
				}
			}
		}
		if len(want) > 0 && !maps.Equal(got, want) {
			t.Errorf("%s: heartbeats %v, generator saw %v", name, got, want)
		}
		if len(got) == 0 {
			t.Errorf("%s: no application heartbeats", name)
		}
		t.Logf("%s: %v", name, got)
	}
}
