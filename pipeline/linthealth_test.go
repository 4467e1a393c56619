package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
)

// lintFinding is a line of lint's jsonl.
type lintFinding struct {
	Rule   string    `json:"rule"`
	Conn   int       `json:"conn"`
	Dir    string    `json:"dir"`
	TS     time.Time `json:"ts"`
	T      float64   `json:"t"`
	Detail string    `json:"detail"`
}

// lintJSONL lints file with -j jobs and returns its jsonl and the
// findings of the heartbeat rules (WS7xx).
func lintJSONL(t *testing.T, file string, jobs int) (string, []lintFinding) {
	t.Helper()
	var o, e bytes.Buffer
	err := RunLint(&LintOptions{Out: &o, Format: "jsonl", FailOn: "none", HealthFlags: DefaultHealthFlags(),
		Input: Input{Err: &e, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}, []string{file})
	if err != nil {
		t.Fatalf("%s: %v\n%s", file, err, e.String())
	}
	var hb []lintFinding
	for _, l := range strings.Split(strings.TrimSpace(o.String()), "\n") {
		var f lintFinding
		if l == "" {
			continue // no findings
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if strings.HasPrefix(f.Rule, "WS7") {
			hb = append(hb, f)
		}
	}
	return o.String(), hb
}

// TestLintHeartbeatStopped: gen__hb-stopped (testdata/gen/hb-stopped.js),
// the server of one STOMP session SIGSTOPped, the capture running on:
// lint says its heart-beats stopped (WS701), from the last beat the
// client received (the manifest's s2c_last_beat) to the capture's end, a
// beat every 2 s missed, open at capture end; nothing of the healthy
// session. Before, lint said nothing of either. -j 1 and 2 the same.
func TestLintHeartbeatStopped(t *testing.T) {
	const file = "../testdata/pcaps/gen__hb-stopped.pcap"
	raw, err := os.ReadFile("../testdata/pcaps/gen__hb-stopped.expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Conns map[string]struct {
			ServerPort int `json:"server_port"`
			Summary    struct {
				S2CLast float64 `json:"s2c_last_beat"`
			} `json:"summary"`
		} `json:"conns"`
		Quiet       float64 `json:"quiet"`
		CaptureStop float64 `json:"capture_stop"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	epoch := func(s float64) time.Time { return time.UnixMilli(int64(math.Round(s * 1000))) }
	out, hb := lintJSONL(t, file, 1)
	if out2, _ := lintJSONL(t, file, 2); out2 != out {
		t.Errorf("-j 2 differs from -j 1:\n%s\n%s", out2, out)
	}
	// The stopped session's connection number, from conns.
	conns, _ := connsJSONL(t, file, 1)
	stoppedConn := 0
	for _, l := range strings.Split(strings.TrimSpace(conns), "\n") {
		var c struct {
			Type, Server string
			Conn         int
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.Type == "conn" && strings.HasSuffix(c.Server, ":"+strconv.Itoa(exp.Conns["stopped"].ServerPort)) {
			stoppedConn = c.Conn
		}
	}
	if len(hb) != 1 {
		t.Fatalf("heartbeat findings %+v, want one", hb)
	}
	f, last := hb[0], epoch(exp.Conns["stopped"].Summary.S2CLast)
	// The capture's end is the healthy session's last packet, at most
	// 2.1 s before it was quietened, before tcpdump stopped.
	lo, hi := int(epoch(exp.Quiet).Add(-2100*time.Millisecond).Sub(last)/(2*time.Second)), int(epoch(exp.CaptureStop).Sub(last)/(2*time.Second))
	var missed int
	fmt.Sscanf(strings.TrimPrefix(f.Detail, "stomp heart-beat s2c 2.0s: "), "%d missed", &missed)
	if f.Rule != "WS701" || f.Conn != stoppedConn || f.Dir != "s2c" || f.TS.Sub(last).Abs() > 50*time.Millisecond ||
		missed < lo || missed > hi || !strings.HasSuffix(f.Detail, ", open at capture end)") {
		t.Errorf("%+v: want WS701 on conn %d s2c from the last beat %v, %d-%d missed, open at capture end", f, stoppedConn, last, lo, hi)
	}
}

// TestLintHeartbeatsHealthy: healthy real captures (the user's stack,
// Socket.IO and Engine.IO on WebSockets, v3 and v4, RabbitMQ's STOMP,
// GraphQL, MQTT, the reconnect loop) give no heartbeat finding, but
// the reconnect loops' two timers (WS705); the two whose peer did not answer pings give
// WS703 as their manifests and tshark say. -j 1 and 2 the same.
func TestLintHeartbeatsHealthy(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string // rule, dir, seconds after the first packet: detail
	}{
		{"gen__app-sockjs-stomp", nil},
		{"gen__seed-sockjs-stomp", nil},
		// The second connection's two timers (TestLintSeedTimers).
		{"gen__seed-sockjs-stomp-twotimers", []string{"WS705 c2s 110.132706: stomp SEND ping c2s 10.0s: 2 timers (offset 1.1s), 8 beats in 31.1s: 2 beats each period on one connection"}},
		{"gen__seed-browser", nil},
		{"gen__seed-browser-twotimers", []string{"WS705 c2s 110.156729: stomp SEND ping c2s 10.0s: 2 timers (offset 1.4s), 8 beats in 31.4s: 2 beats each period on one connection"}},
		{"gen__reconnect-fork", nil},
		{"gen__health-stomp", nil},
		{"gen__app-socketio-ws", nil},
		{"gen__app-socketio-upgrade", nil},
		{"gen__engineio-upgrade", nil},
		{"gen__engineio-v3-upgrade", nil},
		{"gen__engineio-stall", nil}, // long-polling: WS603's
		{"gen__app-stomp-rabbitmq-deflate", nil},
		{"gen__app-graphql-transport-ws", nil},
		{"gen__app-mqtt-v5-mosquitto", nil},
		{"zeek__reply-ping-separate", nil},
		// The server answers the first 6 pings, not the 4 after (manifest),
		// from the 7th (tshark: hb-7 at 3.512339, 3.5 s after the request).
		{"gen__health-ws-ping", []string{"WS703 c2s 3.512339: the last 4 of 10 pings by the client unanswered since 3.5s into the connection: the server stopped answering"}},
		// tshark: 6 pings by the client, no pong.
		{"zeek__wstunnel-ssh", []string{"WS703 c2s 16.934698: 6 of 6 pings by the client unanswered: the server answered none in 25.0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := "../testdata/pcaps/" + tc.name + ".pcap"
			out, hb := lintJSONL(t, file, 1)
			if out2, _ := lintJSONL(t, file, 2); out2 != out {
				t.Errorf("-j 2 differs from -j 1:\n%s\n%s", out2, out)
			}
			var got []string
			for _, f := range hb {
				got = append(got, f.Rule+" "+f.Dir+" "+strconv.FormatFloat(f.T, 'f', 6, 64)+": "+f.Detail)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestLintHeartbeatsFiltered: a filter picks the records linted and the
// connections whose heartbeats are judged, not the records judged: a
// connection's verdict is made of all its pings, pongs and beats, as
// without the filter. Before, -Y 'dir == "c2s"' dropped the server's
// pongs from the tracker, and lint said the server of gen__health-ws-ping
// answered none of the 10 pings (it answered 6); --dir s2c dropped the
// pings and lint said nothing; a filter on text messages the same.
func TestLintHeartbeatsFiltered(t *testing.T) {
	for _, tc := range []struct {
		file string
		want string
	}{
		{"gen__health-ws-ping", "WS703 1 c2s: the last 4 of 10 pings by the client unanswered since 3.5s into the connection: the server stopped answering"},
		{"gen__hb-stopped", ""}, // as unfiltered: below
	} {
		file := "../testdata/pcaps/" + tc.file + ".pcap"
		_, all := lintJSONL(t, file, 1)
		str := func(hb []lintFinding) string {
			var s []string
			for _, f := range hb {
				s = append(s, f.Rule+" "+strconv.Itoa(f.Conn)+" "+f.Dir+": "+f.Detail)
			}
			return strings.Join(s, "\n")
		}
		want := str(all)
		if tc.want != "" && want != tc.want {
			t.Fatalf("%s unfiltered: %s, want %s", tc.file, want, tc.want)
		}
		for _, fl := range []filter.Flags{
			{Expr: `dir == "c2s"`},
			{Dirs: []string{"s2c"}},
			{Expr: `opcode == 1`},
			{Conns: []int{all[0].Conn}},
		} {
			var o, e bytes.Buffer
			err := RunLint(&LintOptions{Out: &o, Format: "jsonl", FailOn: "none", HealthFlags: DefaultHealthFlags(), Filter: fl,
				Input: Input{Err: &e, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}, []string{file})
			if err != nil {
				t.Fatalf("%s %+v: %v\n%s", tc.file, fl, err, e.String())
			}
			var got []lintFinding
			for _, l := range strings.Split(strings.TrimSpace(o.String()), "\n") {
				var f lintFinding
				if l != "" && json.Unmarshal([]byte(l), &f) == nil && strings.HasPrefix(f.Rule, "WS7") {
					got = append(got, f)
				}
			}
			if str(got) != want {
				t.Errorf("%s %+v:\n%s\nwant, as unfiltered,\n%s", tc.file, fl, str(got), want)
			}
		}
	}
}
