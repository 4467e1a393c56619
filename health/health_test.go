package health

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// conv drives a Tracker with synthetic records of one connection.
type conv struct {
	t  *Tracker
	c  *wsparse.Conn
	hs *wsparse.Handshake
}

func newConv(t *Tracker, id int, client string, status int, uri string, startMS int) *conv {
	c := wsparse.NewConn(id, netip.MustParseAddrPort(client), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	hs := &wsparse.Handshake{RequestTS: at(startMS), TS: at(startMS + 1), Method: "GET", URI: uri, Host: "example.test", Status: status}
	t.Handshake(c, hs)
	return &conv{t: t, c: c, hs: hs}
}

func (v *conv) ping(d wsparse.Dir, ms int, payload string) *conv {
	v.t.Frame(v.c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPing, Fin: true}, Dir: d, TS: at(ms), Payload: []byte(payload)})
	return v
}

func (v *conv) pong(d wsparse.Dir, ms int, payload string) *conv {
	v.t.Frame(v.c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPong, Fin: true}, Dir: d, TS: at(ms), Payload: []byte(payload)})
	return v
}

func (v *conv) text(d wsparse.Dir, ms int, s string) *conv {
	v.t.Message(v.c, &wsparse.Message{Dir: d, TS: at(ms), Opcode: wsparse.OpText, Data: []byte(s), Len: uint64(len(s)), Frames: 1})
	return v
}

// end reports the summary: closes are "c2s:CODE:reason@ms" style pairs given
// as CloseInfo values.
func (v *conv) end(ms int, e wsparse.End, cl [2]wsparse.CloseInfo, init wsparse.Dir, a wsparse.Anomalies) *Conn {
	for d := range cl {
		if cl[d].Sent {
			v.t.Frame(v.c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: wsparse.Dir(d), TS: cl[d].TS})
		}
	}
	s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(ms), Handshake: v.hs, Close: cl, Initiator: init, End: e, Anomalies: a}
	if e == wsparse.EndRSTWithoutClose {
		s.TCPRst[wsparse.ServerToClient] = true
	}
	v.t.End(v.c, s)
	for _, c := range v.t.Report().Conns {
		if c.ID == v.c.ID {
			return c
		}
	}
	return nil
}

func closed(ms int, code uint16, reason string) wsparse.CloseInfo {
	return wsparse.CloseInfo{Sent: true, TS: at(ms), Code: code, HasCode: true, Reason: reason}
}

func TestHealthPingMatching(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	cases := []struct {
		name string
		play func(v *conv)
		dir  wsparse.Dir
		want PingStats
	}{
		{"in order, empty payloads", func(v *conv) {
			v.ping(c2s, 100, "").pong(s2c, 110, "").ping(c2s, 200, "").pong(s2c, 230, "")
		}, c2s, PingStats{Pings: 2, Answered: 2, RTTMin: 10 * time.Millisecond, RTTMedian: 10 * time.Millisecond, RTTP95: 30 * time.Millisecond, RTTMax: 30 * time.Millisecond}},
		{"by payload, out of order", func(v *conv) {
			v.ping(c2s, 100, "a").ping(c2s, 150, "b").pong(s2c, 160, "b").pong(s2c, 170, "a")
		}, c2s, PingStats{Pings: 2, Answered: 2, RTTMin: 10 * time.Millisecond, RTTMedian: 10 * time.Millisecond, RTTP95: 70 * time.Millisecond, RTTMax: 70 * time.Millisecond}},
		{"peer stops answering", func(v *conv) {
			v.ping(c2s, 0, "1").pong(s2c, 5, "1").ping(c2s, 500, "2").ping(c2s, 1000, "3").ping(c2s, 1500, "4")
		}, c2s, PingStats{Pings: 4, Answered: 1, Unanswered: 3, UnansweredTail: 3, UnansweredSince: at(500), OverdueTail: 3, RTTMin: 5 * time.Millisecond, RTTMedian: 5 * time.Millisecond, RTTP95: 5 * time.Millisecond, RTTMax: 5 * time.Millisecond}},
		{"one lost in the middle", func(v *conv) {
			v.ping(s2c, 0, "1").ping(s2c, 500, "2").pong(c2s, 510, "2").ping(s2c, 1000, "3").pong(c2s, 1002, "3")
		}, s2c, PingStats{Pings: 3, Answered: 2, Unanswered: 1, RTTMin: 2 * time.Millisecond, RTTMedian: 2 * time.Millisecond, RTTP95: 10 * time.Millisecond, RTTMax: 10 * time.Millisecond}},
		{"unsolicited and mismatched pongs", func(v *conv) {
			v.pong(s2c, 50, "keepalive").ping(c2s, 100, "x").pong(s2c, 120, "y")
		}, c2s, PingStats{Pings: 1, Answered: 1, Mismatched: 1, Unsolicited: 1, RTTMin: 20 * time.Millisecond, RTTMedian: 20 * time.Millisecond, RTTP95: 20 * time.Millisecond, RTTMax: 20 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newConv(New(nil, Options{}), 1, "10.0.0.1:5000", 101, "/ws", 0)
			tc.play(v)
			c := v.end(3000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
			if got := c.Ping[tc.dir]; got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHealthHeartbeatSeries(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	every := func(v *conv, d wsparse.Dir, s string, ms ...int) {
		for _, m := range ms {
			v.text(d, m, s)
		}
	}
	cases := []struct {
		name     string
		opts     Options
		play     func(v *conv)
		endMS    int
		dir      wsparse.Dir
		count    int
		interval time.Duration
		source   string
		missed   int
		gaps     int
		maxGap   time.Duration
		glance   string
	}{
		{"regular", Options{}, func(v *conv) { every(v, c2s, "ping", 1000, 2000, 3000, 4000) },
			4200, c2s, 4, time.Second, "observed", 0, 0, time.Second, "text c2s 1.0s ok"},
		{"one gap of 3.2 s: 2 missed", Options{}, func(v *conv) { every(v, c2s, "ping", 1000, 2000, 3000, 6200, 7200) },
			7300, c2s, 5, time.Second, "observed", 2, 1, 3200 * time.Millisecond, "text c2s 1.0s 2 missed (max gap 3.2s)"},
		{"tolerance 4 accepts it", Options{Tolerance: 4}, func(v *conv) { every(v, c2s, "ping", 1000, 2000, 3000, 6200, 7200) },
			7300, c2s, 5, time.Second, "observed", 0, 0, 3200 * time.Millisecond, "text c2s 1.0s ok"},
		{"pongs stop: trailing gap up to the Close", Options{}, func(v *conv) {
			every(v, c2s, "ping", 1000, 2000, 3000, 4000, 5000, 6000, 7000)
			every(v, s2c, "pong", 1001, 2001, 3001)
		}, 8000, s2c, 3, time.Second, "observed", 4, 1, 4999 * time.Millisecond, "text c2s 1.0s ok; text s2c 1.0s 4 missed (max gap 5.0s, none in the last 5.0s)"},
		{"flag interval", Options{HeartbeatInterval: 10 * time.Second}, func(v *conv) { every(v, c2s, "ping", 10000, 20000, 51000) },
			52000, c2s, 3, 10 * time.Second, "flag", 2, 1, 31 * time.Second, "text c2s 10.0s 2 missed (max gap 31.0s)"},
		{"too few beats to infer", Options{}, func(v *conv) { every(v, c2s, "ping", 1000, 9000) },
			9500, c2s, 2, 0, "", 0, 0, 8 * time.Second, "text c2s 2 beats"},
		{"not a beat: partial match", Options{}, func(v *conv) { every(v, c2s, "pinging", 1000, 2000, 3000) },
			9500, c2s, 0, 0, "", 0, 0, 0, "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.HeartbeatText = regexp.MustCompile(`ping|pong`)
			v := newConv(New(nil, o), 1, "10.0.0.1:5000", 101, "/ws", 0)
			tc.play(v)
			c := v.end(tc.endMS+100, wsparse.EndClean, [2]wsparse.CloseInfo{closed(tc.endMS, 4000, "heartbeat timeout"), closed(tc.endMS+1, 4000, "heartbeat timeout")}, c2s, 0)
			if g := Glance(c); g != tc.glance {
				t.Errorf("glance %q, want %q", g, tc.glance)
			}
			if tc.count == 0 {
				if len(c.Heartbeats) != 0 {
					t.Errorf("series %+v, want none", c.Heartbeats[0])
				}
				return
			}
			var s *Series
			for _, x := range c.Heartbeats {
				if x.Dir == tc.dir && x.Kind == KindText {
					s = x
				}
			}
			if s == nil {
				t.Fatalf("no %s text series", tc.dir)
			}
			if s.Count != tc.count || s.Interval != tc.interval || s.IntervalSource != tc.source || s.Missed != tc.missed || len(s.Gaps) != tc.gaps || s.MaxGap != tc.maxGap {
				t.Errorf("count %d interval %v (%s) missed %d gaps %d max gap %v; want %d %v (%s) %d %d %v",
					s.Count, s.Interval, s.IntervalSource, s.Missed, len(s.Gaps), s.MaxGap, tc.count, tc.interval, tc.source, tc.missed, tc.gaps, tc.maxGap)
			}
		})
	}
}

// TestHealthFlagIntervalOwnBeats: --heartbeat-interval judges the
// application's beats, not a protocol's own timer: SockJS "h" frames every
// 25 s keep their period (before: judged at 10 s, "sockjs s2c: 8 missed").
func TestHealthFlagIntervalOwnBeats(t *testing.T) {
	tr := New(nil, Options{HeartbeatInterval: 10 * time.Second, HeartbeatText: regexp.MustCompile(`ping`)})
	v := newConv(tr, 7, "10.0.0.1:5000", 101, "/stomp/1/2/websocket", 0)
	for ms := 25000; ms <= 100000; ms += 25000 {
		tr.Beat(Beat{Conn: 7, Dir: wsparse.ServerToClient, TS: at(ms), Kind: "sockjs"})
	}
	for ms := 10000; ms <= 100000; ms += 20000 { // every 20 s: 1 missed each time at 10 s
		v.text(wsparse.ClientToServer, ms, "ping")
	}
	c := v.end(101000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
	got := map[string]string{}
	for _, s := range c.Heartbeats {
		got[s.Kind] = fmt.Sprintf("%v %s %d", s.Interval, s.IntervalSource, s.Missed)
	}
	if got["sockjs"] != "25s observed 0" || got[KindText] != "10s flag 4" {
		t.Errorf("series %q, want sockjs 25s observed 0, text 10s flag 4", got)
	}
}

func TestHealthBeatsFromDecoder(t *testing.T) {
	tr := New(nil, Options{})
	v := newConv(tr, 7, "10.0.0.1:5000", 101, "/stomp", 0)
	bs := tr
	bs.Negotiated(Negotiated{Conn: 7, Dir: wsparse.ServerToClient, Kind: "stomp", Interval: time.Second})
	for _, ms := range []int{1000, 2000, 5000} {
		bs.Beat(Beat{Conn: 7, Dir: wsparse.ServerToClient, TS: at(ms), Kind: "stomp"})
	}
	c := v.end(5500, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
	if len(c.Heartbeats) != 1 {
		t.Fatalf("%d series", len(c.Heartbeats))
	}
	s := c.Heartbeats[0]
	if s.Kind != "stomp" || s.IntervalSource != "negotiated" || s.Missed != 2 || s.Gaps[0].Len() != 3*time.Second {
		t.Errorf("%+v", s)
	}
	// Beats for a connection never seen are dropped from the report.
	bs.Beat(Beat{Conn: 99, TS: at(1), Kind: "stomp"})
	if n := len(tr.Report().Conns); n != 1 {
		t.Errorf("%d conns", n)
	}
}

func TestHealthClose(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	none := [2]wsparse.CloseInfo{}
	cases := []struct {
		name    string
		status  int
		end     wsparse.End
		cl      [2]wsparse.CloseInfo
		init    wsparse.Dir
		anom    wsparse.Anomalies
		clean   bool
		text    string
		outcome string
	}{
		{"clean 1000", 101, wsparse.EndClean, [2]wsparse.CloseInfo{closed(10, 1000, "bye"), closed(11, 1000, "bye")}, c2s, 0,
			true, `client 1000 (normal closure) "bye", clean`, OutcomeOK},
		{"server 1013", 101, wsparse.EndClean, [2]wsparse.CloseInfo{closed(11, 1013, ""), closed(10, 1013, "try again later")}, s2c, 0,
			true, `server 1013 (try again later) "try again later", clean`, OutcomeError},
		{"private code", 101, wsparse.EndClean, [2]wsparse.CloseInfo{closed(10, 4000, "heartbeat timeout"), closed(11, 4000, "")}, c2s, 0,
			true, `client 4000 "heartbeat timeout", clean`, OutcomeError},
		{"unanswered", 101, wsparse.EndCloseUnanswered, [2]wsparse.CloseInfo{{}, closed(10, 1001, "")}, s2c, 0,
			false, `server 1001 (going away), never answered`, OutcomeError},
		{"data after close", 101, wsparse.EndClean, [2]wsparse.CloseInfo{closed(10, 1000, ""), closed(11, 1000, "")}, c2s, wsparse.AnomDataAfterClose,
			false, `client 1000 (normal closure), clean, data after Close`, OutcomeError},
		{"rst", 101, wsparse.EndRSTWithoutClose, none, 0, 0, false, "RST from server, no Close", OutcomeError},
		{"fin", 101, wsparse.EndFINWithoutClose, none, 0, 0, false, "FIN from server, no Close", OutcomeError},
		{"open", 101, wsparse.EndOpen, none, 0, 0, false, "open at end of capture", OutcomeOpen},
		{"refused", 403, wsparse.EndNotUpgraded, none, 0, 0, false, "refused 403", OutcomeRefused},
		{"no response", 0, wsparse.EndNotUpgraded, none, 0, 0, false, "upgrade unanswered", OutcomeNoResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newConv(New(nil, Options{}), 1, "10.0.0.1:5000", tc.status, "/ws", 0)
			if tc.end == wsparse.EndFINWithoutClose {
				v.hs.Status = tc.status
			}
			c := v.end(20, tc.end, tc.cl, tc.init, tc.anom)
			if tc.end == wsparse.EndFINWithoutClose {
				c.Close.TCPFin[s2c] = true
			}
			if c.Close.Clean != tc.clean || CloseText(c) != tc.text || outcome(c) != tc.outcome {
				t.Errorf("clean %v %q %s; want %v %q %s", c.Close.Clean, CloseText(c), outcome(c), tc.clean, tc.text, tc.outcome)
			}
		})
	}
}

func TestHealthReconnectGroups(t *testing.T) {
	tr := New(nil, Options{})
	fin := [2]wsparse.CloseInfo{}
	// Five refusals with exponential backoff, then a success; another
	// client and another path form groups of their own.
	start := 0
	for i, d := range []int{0, 100, 200, 400, 800, 1600} {
		start += d
		status := 403
		if i == 5 {
			status = 101
		}
		v := newConv(tr, i+1, "10.0.0.1:"+strconv.Itoa(5000+i), status, "/ws?x=1", start)
		v.end(start+5, wsparse.EndNotUpgraded, fin, 0, 0)
		start += 5
	}
	newConv(tr, 10, "10.0.0.9:1", 101, "/ws", 50).end(60, wsparse.EndOpen, fin, 0, 0)
	newConv(tr, 11, "10.0.0.1:9", 101, "/other", 50).end(60, wsparse.EndOpen, fin, 0, 0)
	r := tr.Report()
	if len(r.Groups) != 3 {
		t.Fatalf("%d groups", len(r.Groups))
	}
	g := r.Groups[0]
	if g.Path != "/ws" || len(g.Attempts) != 6 || g.Refused != 5 || !g.Storm || g.MaxInWindow != 6 || g.Backoff != "exponential" {
		t.Errorf("%+v", g)
	}
	for i, want := range []time.Duration{0, 100, 200, 400, 800, 1600} {
		a := g.Attempts[i]
		if a.HasAfter != (i > 0) || a.After != want*time.Millisecond {
			t.Errorf("attempt %d: after %v (%v), want %v", i, a.After, a.HasAfter, want)
		}
	}
	if r.Groups[1].ClientIP.String() != "10.0.0.9" || r.Groups[2].Path != "/other" {
		t.Errorf("groups %+v %+v", r.Groups[1], r.Groups[2])
	}
}

func TestHealthBackoff(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tc := range []struct {
		d    []time.Duration
		want string
	}{
		{ms(100), ""},
		{ms(100, 200, 400), "exponential"},
		{ms(1000, 1000, 1100, 950), "fixed"},
		{ms(100, 120, 500), "increasing"},
		{ms(500, 100, 900), "random"},
	} {
		if got, _ := backoff(tc.d); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestHealthSplitURI(t *testing.T) {
	for _, tc := range []struct{ uri, path, session string }{
		{"/ws", "/ws", ""},
		{"/chat/websocket", "/chat/websocket", ""},
		{"/stomp/123/abcdef12/websocket", "/stomp/*/*/websocket", "abcdef12"},
		{"/socket.io/?EIO=4&transport=websocket&sid=Zx9a", "/socket.io/", "Zx9a"},
		{"/a/b/websocket", "/a/b/websocket", ""},
	} {
		p, s := splitURI(tc.uri)
		if p != tc.path || s != tc.session {
			t.Errorf("%s: %q %q, want %q %q", tc.uri, p, s, tc.path, tc.session)
		}
	}
}

// recorder counts what a Tracker forwards.
type recorder struct{ n [4]int }

func (r *recorder) Handshake(*wsparse.Conn, *wsparse.Handshake) { r.n[0]++ }
func (r *recorder) Frame(*wsparse.Conn, *wsparse.Frame)         { r.n[1]++ }
func (r *recorder) Message(*wsparse.Conn, *wsparse.Message)     { r.n[2]++ }
func (r *recorder) End(*wsparse.Conn, *wsparse.Summary)         { r.n[3]++ }

// TestHealthPassThrough: a Tracker forwards every record (its JSON
// output is tested in report's TestHealthJSONL).
func TestHealthPassThrough(t *testing.T) {
	rec := &recorder{}
	tr := New(rec, Options{HeartbeatText: regexp.MustCompile("ping")})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	v.ping(wsparse.ClientToServer, 10, "p").pong(wsparse.ServerToClient, 12, "p").text(wsparse.ClientToServer, 20, "ping")
	v.end(30, wsparse.EndClean, [2]wsparse.CloseInfo{closed(25, 1000, ""), closed(26, 1000, "")}, 0, 0)
	if rec.n != [4]int{1, 4, 1, 1} {
		t.Errorf("forwarded %v", rec.n)
	}
}

func TestHealthMidstream(t *testing.T) {
	tr := New(nil, Options{})
	c := wsparse.NewConn(3, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	tr.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPing, Fin: true}, TS: at(10)})
	tr.End(c, &wsparse.Summary{First: at(5), Last: at(20), End: wsparse.EndOpen})
	r := tr.Report()
	if len(r.Conns) != 1 {
		t.Fatalf("%d conns", len(r.Conns))
	}
	x := r.Conns[0]
	if !x.Midstream || !x.Upgraded() || CloseText(x) != "open at end of capture" || outcome(x) != OutcomeOpen || x.Ping[0].Pings != 1 {
		t.Errorf("%+v: %q %s", x, CloseText(x), outcome(x))
	}
}
