package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gen__socketio-restart-browser's expect file
// (testdata/gen/socketio-restart-browser.js): what the page in headless
// Chromium saw, and the server's starts and kill.
type sioRestartExpect struct {
	Server []struct {
		Event string  `json:"event"`
		Time  float64 `json:"time"`
	} `json:"server"`
	Page []struct {
		Type   string  `json:"type"`
		Time   float64 `json:"time"`
		Done   float64 `json:"done"`
		Method string  `json:"method"`
		URL    string  `json:"url"`
		Status int     `json:"status"`
		Code   int     `json:"code"`
		Clean  bool    `json:"clean"`
	} `json:"page"`
	Packets []struct {
		Dir    string  `json:"dir"`
		Type   string  `json:"type"`
		Data   string  `json:"data"`
		Len    int     `json:"len"`
		SHA256 string  `json:"sha256"`
		Time   float64 `json:"time"`
	} `json:"packets"`
}

// sioSession is one Engine.IO session of the expect file, in the page's
// order: its packets per direction ("len sha256") and its beats.
type sioSession struct {
	msgs                map[string][]string
	pings, pongs, stats int
}

// A packet is of the session of the server's life it came in (the page
// reports the first POST of a session before the open packet it answers:
// its XHR listener runs after the client's).
func (ex *sioRestartExpect) sessions() []*sioSession {
	var ss []*sioSession
	for _, p := range ex.Packets {
		life := -1
		for _, e := range ex.Server {
			if e.Event == "start" && e.Time <= p.Time {
				life++
			}
		}
		if life < 0 {
			continue
		}
		for len(ss) <= life {
			ss = append(ss, &sioSession{msgs: map[string][]string{}})
		}
		s := ss[life]
		s.msgs[p.Dir] = append(s.msgs[p.Dir], strconv.Itoa(p.Len)+" "+p.SHA256)
		probe := strings.HasSuffix(p.Data, "probe")
		switch {
		case p.Dir == "s2c" && p.Type == "ping" && !probe:
			s.pings++
		case p.Dir == "c2s" && p.Type == "pong" && !probe:
			s.pongs++
		case strings.HasPrefix(p.Data, `42["status"`):
			s.stats++
		}
	}
	return ss
}

// TestRecordedSocketIORestartBrowser: gen__socketio-restart-browser holds
// socket.io-client 4.8.1 in headless Chromium (polling, then websocket)
// against a socket.io server SIGKILLed mid-session and started again 7 s
// later; the browser's own reconnect attempts in between are refused. The
// questions a user asks of it, each answered as the page and the server
// saw it:
//   - did the heartbeat flow: each session's Engine.IO pings (s2c) and
//     pongs (c2s), probes not counted, and its "status" beats, all ok;
//   - why did it die: the first session ended by the server's FIN, before
//     the client's, with no Close (conns, lint WS302); the second by the
//     page's disconnect (its Close, code 1005 in the browser: none);
//   - how did the reconnects go: one group, the first session (error),
//     one refused connect per failed polling XHR of the page (status 0)
//     at the page's times, then the new session; the outage from the
//     page's WebSocket close to its reconnect's request;
//
// and every Engine.IO packet, session by session (SHA-256), -j 1 and 2.
func TestRecordedSocketIORestartBrowser(t *testing.T) {
	t.Parallel()
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__socketio-restart-browser")
	capFile := base + ".pcap"
	var ex sioRestartExpect
	readExpect(t, base+".expect.json", &ex)
	want := ex.sessions()
	if len(want) != 2 {
		t.Fatalf("expect.json: %d Engine.IO sessions, want 2", len(want))
	}
	var kill float64
	var refused [][2]float64 // the page's polling XHRs refused (status 0): send() and loadend
	var wsClose []float64
	for _, s := range ex.Server {
		if s.Event == "kill" {
			kill = s.Time
		}
	}
	for _, e := range ex.Page {
		switch {
		case e.Type == "xhr" && e.Status == 0:
			refused = append(refused, [2]float64{e.Time, e.Done})
		case e.Type == "ws-close":
			wsClose = append(wsClose, e.Time)
		}
	}
	if kill == 0 || len(refused) == 0 || len(wsClose) != 2 {
		t.Fatalf("expect.json: kill %v, %d refused XHRs, %d WebSocket closes", kill, len(refused), len(wsClose))
	}

	// Messages: session by session, per direction, as the page sent and
	// received them.
	out, errs, code := runShared(t, goldenArgs(capFile, "--format", "jsonl")...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	msgs := map[int]map[string][]string{}
	var conns []int
	var order []string // conn records (ends) and handshakes, in output order
	for _, r := range parseJSONL(t, out) {
		if r.Type == "conn" || r.Type == "handshake" {
			order = append(order, r.Type+" "+strconv.Itoa(r.Conn))
		}
		if r.Type != "message" {
			continue
		}
		if msgs[r.Conn] == nil {
			msgs[r.Conn] = map[string][]string{}
			conns = append(conns, r.Conn)
		}
		data, sum := r.dataSHA256(t)
		msgs[r.Conn][r.Dir] = append(msgs[r.Conn][r.Dir], strconv.Itoa(len(data))+" "+sum)
	}
	if len(conns) != len(want) {
		t.Fatalf("messages on %d conversations %v, want one per Engine.IO session (%d)", len(conns), conns, len(want))
	}
	// In time order: the first session's end before the second's start
	// (it came last, at the capture's end).
	if w := []string{"handshake " + strconv.Itoa(conns[0]), "conn " + strconv.Itoa(conns[0]), "handshake " + strconv.Itoa(conns[1]), "conn " + strconv.Itoa(conns[1])}; !slices.Equal(order, w) {
		t.Errorf("jsonl handshakes and ends %v, want %v", order, w)
	}
	for i, c := range conns {
		for _, d := range []string{"c2s", "s2c"} {
			if g, w := msgs[c][d], want[i].msgs[d]; !slices.Equal(g, w) {
				t.Errorf("session %d (conn %d) %s: %d messages, want %d\n got %v\nwant %v", i+1, c, d, len(g), len(w), g, w)
			}
		}
	}

	for _, j := range []string{"1", "2"} {
		cout, errs, code := runWsdump(t, nil, "conns", "-r", capFile, "-j", j, "--format", "jsonl")
		if code != 0 || errs != "" {
			t.Fatalf("-j %s: exit %d, stderr %q", j, code, errs)
		}
		var groups []sioGroup
		var got []sioConn
		for _, line := range strings.Split(strings.TrimSpace(cout), "\n") {
			var r struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			switch r.Type {
			case "client_group":
				var g sioGroup
				_ = json.Unmarshal([]byte(line), &g)
				groups = append(groups, g)
			case "conn":
				var c sioConn
				_ = json.Unmarshal([]byte(line), &c)
				got = append(got, c)
			}
		}
		// Did the heartbeat flow?
		if len(got) != len(want) {
			t.Fatalf("-j %s: %d conns, want %d", j, len(got), len(want))
		}
		for i, c := range got {
			beats := map[string]int{}
			for _, s := range c.Heartbeat.Series {
				beats[s.Kind+" "+s.Key+" "+s.Dir] = s.Count
			}
			w := want[i]
			if beats["engineio  s2c"] != w.pings || beats["engineio  c2s"] != w.pongs || beats["app status c2s"] != w.stats {
				t.Errorf("-j %s: conn %d beats %v; the page: %d pings, %d pongs, %d status", j, c.Conn, beats, w.pings, w.pongs, w.stats)
			}
			if !strings.Contains(c.Heartbeat.Glance, "engineio s2c 2.0s ok") {
				t.Errorf("-j %s: conn %d heartbeat %q: the server's pings flowed to the end", j, c.Conn, c.Heartbeat.Glance)
			}
		}
		// Why did it die?
		if s := got[0].Close.Summary; s != "FIN from server first, then client, no Close" {
			t.Errorf("-j %s: session 1 ended %q; the server was killed (SIGKILL): its FIN first, no Close", j, s)
		}
		if s := got[1].Close.Summary; s != "client close, no code, clean" {
			t.Errorf("-j %s: session 2 ended %q; the page disconnected (its close event: code 1005, clean)", j, s)
		}
		// How did the reconnects go?
		if len(groups) != 1 {
			t.Fatalf("-j %s: %d reconnect groups, want 1", j, len(groups))
		}
		g := groups[0]
		if g.Attempts != 2+len(refused) || g.Refused != len(refused) || g.Errors != 1 || g.Path != "/socket.io/" {
			t.Errorf("-j %s: group %s: %d attempts, %d refused, %d errors; want %d, %d, 1", j, g.Path, g.Attempts, g.Refused, g.Errors, 2+len(refused), len(refused))
		}
		if len(g.Timeline) != 2+len(refused) {
			t.Fatalf("-j %s: timeline of %d attempts", j, len(g.Timeline))
		}
		tl := g.Timeline
		if tl[0].Outcome != "error" || tl[len(tl)-1].Outcome != "ok" || tl[0].Conn != got[0].Conn || tl[len(tl)-1].Conn != got[1].Conn {
			t.Errorf("-j %s: timeline %+v: the first session then an error, the second ok last", j, tl)
		}
		// Each refused connect's SYN went out between the page's send()
		// and its XHR's loadend; the lost WebSocket's FIN came after the
		// kill and before the page's close event. Bounds, not a tolerance:
		// a loaded machine delays the page's events, never reorders them.
		// The page's times are rounded to the millisecond.
		const ms = 0.001
		for k, at := range refused {
			a := tl[1+k]
			if s := epoch(t, a.Start); a.Outcome != "conn_refused" || s < at[0]-ms || s > at[1]+ms {
				t.Errorf("-j %s: attempt %d %s at %.6f; the page's XHR %d refused, sent at %.3f, ended at %.3f", j, k+2, a.Outcome, s, k+1, at[0], at[1])
			}
		}
		if start, outage := epoch(t, tl[len(tl)-1].Start), tl[len(tl)-1].Outage; outage < start-wsClose[0]-ms || outage > start-kill+ms {
			t.Errorf("-j %s: outage %.3fs; the page's WebSocket closed at %.3f, the server killed at %.3f, reconnect at %.3f", j, outage, wsClose[0], kill, epoch(t, tl[len(tl)-1].Start))
		}
	}

	// lint says the same of the first session's end.
	lout, _, _ := runWsdump(t, nil, "lint", "-r", capFile)
	if !strings.Contains(lout, "WS302 fin-without-close") || !strings.Contains(lout, "FIN from server first, then client") {
		t.Errorf("lint:\n%s\nwant WS302 with the server's FIN first", lout)
	}
}

type sioGroup struct {
	Path     string `json:"path"`
	Attempts int    `json:"attempts"`
	Refused  int    `json:"refused"`
	Errors   int    `json:"errors"`
	Timeline []struct {
		Conn    int     `json:"conn"`
		Outcome string  `json:"outcome"`
		Start   string  `json:"start_ts"`
		Outage  float64 `json:"outage"`
	} `json:"timeline"`
}

type sioConn struct {
	Conn  int `json:"conn"`
	Close struct {
		Summary string `json:"summary"`
	} `json:"close"`
	Heartbeat struct {
		Glance string `json:"glance"`
		Series []struct {
			Kind  string `json:"kind"`
			Key   string `json:"key"`
			Dir   string `json:"dir"`
			Count int    `json:"count"`
		} `json:"series"`
	} `json:"heartbeat"`
}

// epoch is a jsonl time (RFC 3339, nanoseconds) in epoch seconds, as the
// generators' expect files have them.
func epoch(t *testing.T, ts string) float64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("time %q: %v", ts, err)
	}
	return float64(tm.UnixNano()) / 1e9
}
