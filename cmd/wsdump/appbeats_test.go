package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// beatEvent is one WebSocket message of a synthetic session, at ms after
// the connection opened.
type beatEvent struct {
	ms         int
	fromClient bool
	data       string
}

// sockjsStompConv writes the user's stack (stompjs over SockJS) on one
// connection from client, opened at startMS after the first: the open
// frame, CONNECT, CONNECTED, SUBSCRIBE, then events; it ends with a RST
// from the server (killed) when rst, else with Close frames and FINs at
// endMS.
func sockjsStompConv(client string, startMS, endMS int, rst bool, events []beatEvent) *synth.Conv {
	c := synth.New(client, "192.0.2.2:8080").Wait(time.Duration(startMS) * time.Millisecond).Open()
	c.Send(true, []byte("GET /stomp/512/c3po4r2d/websocket HTTP/1.1\r\nHost: app.test:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	now := 5 // ms: the packets so far, 1 ms apart
	all := append([]beatEvent{
		{10, false, "o"},
		{20, true, `["CONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n\u0000"]`},
		{30, false, `a["CONNECTED\nversion:1.1\nheart-beat:0,0\n\n\u0000"]`},
		{40, true, `["SUBSCRIBE\nid:sub-0\ndestination:/some/destination\n\n\u0000"]`},
	}, events...)
	slices.SortStableFunc(all, func(a, b beatEvent) int { return a.ms - b.ms })
	at := func(ms int) {
		if ms > now {
			c.Wait(time.Duration(ms-now) * time.Millisecond)
			now = ms
		}
	}
	for _, e := range all {
		at(e.ms)
		c.Frame(e.fromClient, wsparse.OpText, []byte(e.data))
		now++
	}
	at(endMS)
	if rst {
		return c.Rst(false)
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
	c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	return c.Fin(false).Fin(true)
}

// pings returns the SEND "ping" beats (stompClient.send("ping")) of a
// setInterval timer: n beats period ms apart from first, but the ones
// withheld (indices).
func pings(first, period, n int, withheld ...int) []beatEvent {
	var out []beatEvent
	for i := range n {
		if !slices.Contains(withheld, i) {
			out = append(out, beatEvent{first + i*period, true, `["SEND\ndestination:ping\n\n\u0000"]`})
		}
	}
	return out
}

// seedCapture is the seed scenario, synthesised: a first connection with
// one 10 s timer, killed by the server (RST), and a second one, after the
// reconnect, with two timers 1.1 s apart (the first never cleared) and
// three beats withheld. SockJS h frames every 25 s on both.
func seedCapture(t *testing.T) string {
	t.Helper()
	h := func(from, to int) (out []beatEvent) {
		for ms := from; ms < to; ms += 25000 {
			out = append(out, beatEvent{ms, false, "h"})
		}
		return out
	}
	c1 := sockjsStompConv("192.0.2.1:40001", 0, 65000, true, append(pings(10050, 10000, 6), h(25000, 65000)...))
	c2 := sockjsStompConv("192.0.2.1:40002", 80000, 125000, false,
		slices.Concat(pings(8920, 10000, 12, 3, 7), pings(10020, 10000, 12, 5), h(25000, 125000)))
	return writeSynth(t, 0, c1, c2)
}

// TestSeedSyntheticConns: on the seed scenario, wsdump conns with no flag
// names the application heartbeat (STOMP SEND to "ping", every 10 s),
// reports 0 missed on the first connection, tells the two timers of the
// second apart and counts the 3 beats withheld; with -j 1 and -j 2 alike.
func TestSeedSyntheticConns(t *testing.T) {
	f := seedCapture(t)
	want := []string{"stomp SEND ping 10.0s ok", "stomp SEND ping 10.0s 3 missed (max gap 20.0s), 2 timers (offset 1.1s)"}
	var outs []string
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", f, "-j", j, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		outs = append(outs, out)
		var n int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Type      string
				Heartbeat struct {
					Glance string
					Series []struct {
						Kind, Proto, Key, Dir string
						Count, Missed, Timers int
						Interval              *float64
						TimerOffsets          []float64 `json:"timer_offsets"`
					}
				}
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Type != "conn" {
				continue
			}
			if n >= len(want) {
				t.Fatalf("more than %d conns:\n%s", len(want), out)
			}
			items := strings.Split(r.Heartbeat.Glance, "; ")
			if items[0] != want[n] {
				t.Errorf("-j %s conn %d: glance %q, want %q first", j, n+1, r.Heartbeat.Glance, want[n])
			}
			var app int
			for _, s := range r.Heartbeat.Series {
				if s.Kind != "app" {
					continue
				}
				app++
				if s.Proto != "stomp" || s.Key != "SEND ping" || s.Dir != "c2s" || s.Interval == nil || *s.Interval < 9.99 || *s.Interval > 10.01 {
					t.Errorf("-j %s conn %d: series %+v", j, n+1, s)
				}
				if n == 1 && (s.Count != 21 || s.Missed != 3 || s.Timers != 2 || len(s.TimerOffsets) != 1 || s.TimerOffsets[0] != 1.1) {
					t.Errorf("-j %s conn 2: %d beats, %d missed, %d timers %v; want 21, 3, 2 [1.1]", j, s.Count, s.Missed, s.Timers, s.TimerOffsets)
				}
			}
			if app != 1 {
				t.Errorf("-j %s conn %d: %d application heartbeats, want 1: %q", j, n+1, app, r.Heartbeat.Glance)
			}
			n++
		}
		if n != len(want) {
			t.Errorf("-j %s: %d conns", j, n)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("-j 1 and -j 2 differ:\n%s\n%s", outs[0], outs[1])
	}
}

// TestHeartbeatTextInner: --heartbeat-text 'ping|pong', the form the help
// suggests for this stack, names the STOMP SEND to "ping" inside the
// SockJS array: the beats are the user's series (kind text), judged as
// the application heartbeat would be, and not found twice.
func TestHeartbeatTextInner(t *testing.T) {
	f := seedCapture(t)
	for _, j := range []string{"1", "2"} {
		out, errs, code := runConnsCmd(t, "-r", f, "-j", j, "--heartbeat-text", "ping|pong")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"text c2s 10.0s ok", "text c2s 10.0s 3 missed (max gap 20.0s), 2 timers (offset 1.1s)"} {
			if !strings.Contains(out, want) {
				t.Errorf("-j %s: no %q in\n%s", j, want, out)
			}
		}
		if strings.Contains(out, "SEND ping") {
			t.Errorf("-j %s: the beats named by --heartbeat-text are found again:\n%s", j, out)
		}
	}
}

// TestAppBeatsRealCaptures: on the recorded captures, the application
// heartbeats found without a flag are the text-ping generator's "ping"
// (every second, 9 sent) and its "pong" (5 answered, then none: missed
// up to the Close), the seed's SEND "ping" and the periodic Socket.IO
// events of the Engine.IO stall, and nothing on the others: no
// request/response, subscription data, MQTT publish or Socket.IO event
// is taken for one.
func TestAppBeatsRealCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__*.pcap"))
	want := map[string][]string{
		"gen__health-text-ping.pcap": {"c2s text ping 9 beats 1.0s 0 missed", "s2c text pong 5 beats 1.0s 4 missed"},
		// Engine.IO polling then upgrade: this test reads the WebSocket
		// alone (connsReport, no fallback decoding), where the server's
		// "news" (every 1.5 s) goes on after the upgrade; the whole
		// session, polling included: TestFallbackEngineIOCaptures.
		"gen__engineio-upgrade.pcap":    {"s2c socketio news 5 beats 1.5s 0 missed"},
		"gen__engineio-v3-upgrade.pcap": {"s2c socketio news 5 beats 1.5s 0 missed"},
		// The client emits "status" every 4 s, the server "news" every 3 s
		// (after the stall, one late "news" puts that series off); 120
		// short load connections have none.
		"gen__engineio-stall.pcap": {"c2s socketio status 7 beats 4.0s 0 missed", "c2s socketio status 4 beats 4.0s 0 missed",
			"s2c socketio news 4 beats 3.0s 0 missed"},
		"gen__seed-sockjs-stomp.pcap": {"c2s stomp SEND ping 5 beats 10.0s 0 missed", "c2s stomp SEND ping 4 beats 10.0s 0 missed"},
		"gen__seed-sockjs-stomp-twotimers.pcap": {"c2s stomp SEND ping 5 beats 10.0s 3 missed",
			"c2s stomp SEND ping 8 beats 10.0s 0 missed"},
		// The same seed code in headless Chromium.
		"gen__seed-browser.pcap": {"c2s stomp SEND ping 5 beats 10.0s 0 missed", "c2s stomp SEND ping 4 beats 10.0s 0 missed"},
		"gen__seed-browser-twotimers.pcap": {"c2s stomp SEND ping 5 beats 10.0s 3 missed",
			"c2s stomp SEND ping 8 beats 10.0s 0 missed"},
	}
	checked := 0
	for _, f := range files {
		name := filepath.Base(f)
		if !slices.ContainsFunc([]string{"gen__app-", "gen__health-", "gen__engineio-", "gen__load-", "gen__seed-"},
			func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		checked++
		r := connsReport(t, f, health.Options{})
		var got []string
		for _, c := range r.Conns {
			for _, s := range c.Heartbeats {
				if s.Kind == "app" {
					got = append(got, fmt.Sprintf("%s %s %s %d beats %s %d missed", s.Dir, s.Proto, s.Key, s.Count, report.Dur(s.Interval), s.Missed))
				}
			}
		}
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s: %q, want %q", name, got, want[name])
		}
	}
	if checked < 15 {
		t.Errorf("%d captures checked", checked)
	}
}

// seedExpect is what the seed generators (testdata/gen/seed-sockjs-stomp.js,
// seed-browser.js) wrote of a run: the heartbeat it sent, its
// WebSocket connections, and each beat sent or withheld (the time and the
// timer that sent it).
type seedExpect struct {
	Scenario  string
	Heartbeat struct {
		Key, Dir string
		Interval float64
	}
	Conns []struct {
		Index int
		Start float64
		End   float64
	}
	Beats []struct {
		Conn  int
		Key   string
		Time  float64
		Timer int
	}
	Withheld []struct {
		Conn int
		Time float64
	}
}

// TestSeedCaptures compares what wsdump conns reports with no flag on the
// recorded seed captures (stompjs 2.3.3 over sockjs-client, SEND "ping"
// every 10 s, the server killed and restarted; the variant whose timer is
// never cleared and which withholds beats) with what the generator did:
// per WebSocket connection, one application heartbeat keyed "SEND ping"
// with the generator's interval, as many beats as it sent, as many timers
// as sent them, and as many missed as it withheld (0 where none).
func TestSeedCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__seed-*.expect.json"))
	if len(files) != 4 {
		t.Fatalf("%d gen__seed-* captures, want 4", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".expect.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			var want seedExpect
			readExpect(t, f, &want)
			if want.Heartbeat.Key == "" || want.Heartbeat.Interval <= 0 || len(want.Conns) == 0 {
				t.Fatalf("expect file without heartbeat or connections: %s", f)
			}
			r := connsReport(t, base+".pcap", health.Options{})
			var ws []*health.Conn
			for _, c := range r.Conns {
				if c.Upgraded() {
					ws = append(ws, c)
				}
			}
			if len(ws) != len(want.Conns) {
				t.Fatalf("%d WebSocket connections, the generator opened %d", len(ws), len(want.Conns))
			}
			for i, c := range ws {
				beats, timers := 0, map[int]bool{}
				for _, x := range want.Beats {
					if x.Conn == want.Conns[i].Index && x.Key == want.Heartbeat.Key {
						beats++
						timers[x.Timer] = true
					}
				}
				withheld := 0
				for _, x := range want.Withheld {
					if x.Conn == want.Conns[i].Index {
						withheld++
					}
				}
				var app []*health.Series
				for _, s := range c.Heartbeats {
					if s.Kind == health.KindApp {
						app = append(app, s)
					}
				}
				t.Logf("conn %d: %s", c.ID, report.Glance(c))
				if len(app) != 1 {
					t.Errorf("conn %d: %d application heartbeats (%q), want 1", c.ID, len(app), report.Glance(c))
					continue
				}
				s := app[0]
				iv := secs(want.Heartbeat.Interval)
				if s.Proto+" "+s.Key != "stomp "+want.Heartbeat.Key || s.Dir.String() != want.Heartbeat.Dir ||
					(s.Interval-iv).Abs() > iv/100 || s.Count != beats || s.Missed != withheld || max(s.Timers, 1) != len(timers) {
					t.Errorf("conn %d: %s %q %s: %d beats every %v, %d missed, %d timers; the generator: %s %d beats every %v, %d withheld, %d timers",
						c.ID, s.Proto, s.Key, s.Dir, s.Count, s.Interval, s.Missed, s.Timers, want.Heartbeat.Key, beats, iv, withheld, len(timers))
				}
				if !strings.HasPrefix(report.Glance(c), "stomp SEND ping "+report.Dur(s.Interval)) {
					t.Errorf("conn %d: glance %q", c.ID, report.Glance(c))
				}
			}
		})
	}
}
