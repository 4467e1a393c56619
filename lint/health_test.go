package lint

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestHealthRules: each heartbeat rule from the health verdicts of one
// connection (health.Conn in, findings out), and the verdicts that give
// none: series whose interval was only inferred, a ping crossing the
// Close, a fallback session's Engine.IO beats (WS603's), a promised
// direction kept alive by frames.
func TestHealthRules(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	stomp := func(d wsparse.Dir, count, missed int, gaps ...health.Gap) *health.Series {
		return &health.Series{Kind: "stomp", Dir: d, Count: count, Interval: 2 * time.Second, IntervalSource: "negotiated",
			First: at(1), Last: at(9), MaxGap: 36300 * time.Millisecond, MaxGapAt: at(9), Missed: missed, Gaps: gaps}
	}
	stopped := health.Gap{From: at(9), To: at(45.3), Missed: 18, Trailing: true, Open: true}
	cases := []struct {
		name string
		conn health.Conn
		want []string // "RULE DIR TS: detail"
	}{
		{"stomp heart-beats stopped, open at capture end", health.Conn{Heartbeats: []*health.Series{stomp(s2c, 4, 18, stopped)}},
			[]string{"WS701 s2c 9: stomp heart-beat s2c 2.0s: 18 missed (max gap 36.3s, none in the last 36.3s, open at capture end)"}},
		{"stomp heart-beats late in the middle", health.Conn{Heartbeats: []*health.Series{
			stomp(c2s, 20, 3, health.Gap{From: at(10), To: at(18), Missed: 3})}},
			[]string{"WS701 c2s 10: stomp heart-beat c2s 2.0s: 3 missed (max gap 36.3s)"}},
		{"stomp heart-beats negotiated, never sent", health.Conn{Heartbeats: []*health.Series{
			{Kind: "stomp", Dir: c2s, Interval: 10 * time.Second, IntervalSource: "negotiated", MaxGap: 55 * time.Second, MaxGapAt: at(1), Missed: 5,
				Gaps: []health.Gap{{From: at(1), To: at(56), Missed: 5, Trailing: true}}}}},
			[]string{"WS702 c2s 1: stomp heart-beat c2s 10.0s: 5 missed (none in 55.0s since negotiated)"}},
		{"stomp heart-beats promised, frames on time", health.Conn{Heartbeats: []*health.Series{
			{Kind: "stomp", Dir: c2s, Interval: 10 * time.Second, IntervalSource: "negotiated", MaxGap: 55 * time.Second}}}, nil},
		{"stomp heart-beats ok", health.Conn{Heartbeats: []*health.Series{stomp(s2c, 22, 0)}}, nil},
		{"the peer stopped answering pings", health.Conn{Start: at(0.1),
			Ping:       [2]health.PingStats{{Pings: 10, Answered: 6, Unanswered: 4, UnansweredTail: 4, UnansweredSince: at(3.1), OverdueTail: 4}},
			Heartbeats: []*health.Series{{Kind: health.KindWSPing, Dir: c2s, Count: 10, First: at(0.5), Last: at(5)}}},
			[]string{"WS703 c2s 3.1: the last 4 of 10 pings by the client unanswered since 3.0s into the connection: the server stopped answering"}},
		{"the peer stopped answering, the last ping too close to the end to count", health.Conn{Start: at(0.1),
			Ping: [2]health.PingStats{{Pings: 10, Answered: 7, Unanswered: 3, UnansweredTail: 3, UnansweredSince: at(3.1), OverdueTail: 2}}},
			[]string{"WS703 c2s 3.1: the last 3 of 10 pings by the client unanswered since 3.0s into the connection: the server stopped answering"}},
		{"the peer never answered", health.Conn{
			Ping:       [2]health.PingStats{1: {Pings: 6, Unanswered: 6, UnansweredTail: 6, UnansweredSince: at(17), OverdueTail: 6}},
			Heartbeats: []*health.Series{{Kind: health.KindWSPing, Dir: s2c, Count: 6, First: at(17), Last: at(42)}}},
			[]string{"WS703 s2c 17: 6 of 6 pings by the server unanswered: the client answered none in 25.0s"}},
		{"one ping crossing the Close", health.Conn{
			Ping:       [2]health.PingStats{{Pings: 1, Unanswered: 1, UnansweredTail: 1, UnansweredSince: at(5), OverdueTail: 0}},
			Heartbeats: []*health.Series{{Kind: health.KindWSPing, Dir: c2s, Count: 1, First: at(5), Last: at(5)}}}, nil},
		{"a burst of 2 pings just before the end: no time to answer", health.Conn{
			Ping:       [2]health.PingStats{{Pings: 7, Answered: 5, Unanswered: 2, UnansweredTail: 2, UnansweredSince: at(4.8), OverdueTail: 0}},
			Heartbeats: []*health.Series{{Kind: health.KindWSPing, Dir: c2s, Count: 7, First: at(0), Last: at(4.9)}}}, nil},
		{"2 unanswered, only 1 of them with time to answer", health.Conn{
			Ping: [2]health.PingStats{{Pings: 7, Answered: 5, Unanswered: 2, UnansweredTail: 2, UnansweredSince: at(3), OverdueTail: 1}}}, nil},
		{"a ping lost in the middle, answered after", health.Conn{
			Ping: [2]health.PingStats{{Pings: 10, Answered: 8, Unanswered: 2, UnansweredTail: 0}}}, nil},
		{"engine.io pings stopped on a WebSocket", health.Conn{Heartbeats: []*health.Series{
			{Kind: "engineio", Dir: s2c, Count: 4, Interval: 5 * time.Second, IntervalSource: "negotiated", Timeout: 25 * time.Second,
				MaxGap: 35 * time.Second, MaxGapAt: at(20), Missed: 7, Gaps: []health.Gap{{From: at(20), To: at(55), Missed: 7, Trailing: true}}}}},
			[]string{"WS704 s2c 20: engineio s2c 5.0s: 7 missed (max gap 35.0s, none in the last 35.0s, over pingInterval + pingTimeout 25.0s)"}},
		{"engine.io over HTTP long-polling: WS603's", health.Conn{Transport: "polling", Heartbeats: []*health.Series{
			{Kind: "engineio", Dir: s2c, Count: 4, Interval: 5 * time.Second, IntervalSource: "negotiated", MaxGap: 35 * time.Second, Missed: 6,
				Gaps: []health.Gap{{From: at(20), To: at(55), Missed: 6}}}}}, nil},
		{"two timers of an application heartbeat", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindApp, Proto: "stomp", Key: "SEND ping", Dir: c2s, Count: 8, First: at(11), Last: at(42.1), Interval: 10 * time.Second,
				IntervalSource: "observed", Timers: 2, TimerOffsets: []time.Duration{1100 * time.Millisecond}}}},
			[]string{"WS705 c2s 11: stomp SEND ping c2s 10.0s: 2 timers (offset 1.1s), 8 beats in 31.1s: 2 beats each period on one connection"}},
		{"three timers, a key with a terminal escape", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindApp, Proto: "text", Key: "hb\x1b[2J", Dir: s2c, Count: 12, First: at(1), Last: at(6.5), Interval: time.Second,
				IntervalSource: "observed", Timers: 3, TimerOffsets: []time.Duration{200 * time.Millisecond, 500 * time.Millisecond}}}},
			[]string{"WS705 s2c 1: text hb\\x1b[2J s2c 1.0s: 3 timers (offset 200ms, 500ms), 12 beats in 5.5s: 3 beats each period on one connection"}},
		{"one timer: none", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindApp, Proto: "stomp", Key: "SEND ping", Dir: c2s, Count: 8, Interval: 10 * time.Second, IntervalSource: "observed", Timers: 1}}}, nil},
		{"a text heartbeat, its interval declared, 3 missed", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindText, Dir: c2s, Count: 5, First: at(10), Last: at(70), Interval: 10 * time.Second, IntervalSource: "flag",
				MaxGap: 40 * time.Second, MaxGapAt: at(20), Missed: 3, Gaps: []health.Gap{{From: at(20), To: at(60), Missed: 3}}}}},
			[]string{"WS706 c2s 20: text c2s 10.0s (--heartbeat-interval): 3 missed (max gap 40.0s)"}},
		{"pings, their interval declared, stopped", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindWSPing, Dir: c2s, Count: 5, First: at(1), Last: at(5), Interval: time.Second, IntervalSource: "flag",
				MaxGap: 5 * time.Second, MaxGapAt: at(5), Missed: 5, Gaps: []health.Gap{{From: at(5), To: at(10), Missed: 5, Trailing: true}}}}},
			[]string{"WS706 c2s 5: ws-ping c2s 1.0s (--heartbeat-interval): 5 missed (max gap 5.0s, none in the last 5.0s)"}},
		{"unsolicited pongs, their interval declared, stopped", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindWSPong, Dir: s2c, Count: 3, First: at(1), Last: at(3), Interval: time.Second, IntervalSource: "flag",
				MaxGap: 3 * time.Second, MaxGapAt: at(3), Missed: 3, Gaps: []health.Gap{{From: at(3), To: at(6), Missed: 3, Trailing: true}}}}},
			[]string{"WS706 s2c 3: ws-pong s2c 1.0s (--heartbeat-interval): 3 missed (max gap 3.0s, none in the last 3.0s)"}},
		{"pongs that answer pings, their interval declared: WS703's", health.Conn{
			Ping: [2]health.PingStats{{Pings: 5, Answered: 3, Unanswered: 2, UnansweredTail: 2}},
			Heartbeats: []*health.Series{{Kind: health.KindWSPong, Dir: s2c, Count: 3, First: at(1), Last: at(3), Interval: time.Second, IntervalSource: "flag",
				MaxGap: 2 * time.Second, Missed: 1, Gaps: []health.Gap{{From: at(3), To: at(5), Missed: 1, Trailing: true}}}}}, nil},
		{"inferred intervals: an application ping, SockJS h, a text beat", health.Conn{Heartbeats: []*health.Series{
			{Kind: health.KindApp, Proto: "stomp", Key: "SEND ping", Dir: c2s, Count: 9, Interval: 10 * time.Second, IntervalSource: "observed", Missed: 3},
			{Kind: "sockjs", Dir: s2c, Count: 4, Interval: 25 * time.Second, IntervalSource: "observed", Missed: 1},
			{Kind: health.KindText, Dir: s2c, Count: 4, Interval: time.Second, IntervalSource: "observed", Missed: 4},
			{Kind: health.KindWSPong, Dir: s2c, Count: 4, Interval: time.Second, IntervalSource: "observed", Missed: 4},
		}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			c := tc.conn
			c.ID, c.Status = 3, 101
			l.Health(&c)
			var got []string
			for _, f := range l.Findings() {
				if f.Conn != 3 || f.Record != "connection" || f.Rule.On != "connection" || f.Rule.Severity != Warning {
					t.Errorf("%+v: want a warning on connection 3", f)
				}
				got = append(got, f.Rule.ID+" "+f.Dir+" "+strings.TrimSuffix(f.TS.Sub(t0).String(), "s")+": "+f.Detail)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestHealthDeclaredApp: --heartbeat-interval (DeclareInterval) reaches
// the application heartbeats health finds by itself, whose interval stays
// their own ("observed"): the seed's stomp SEND ping every 10 s that
// missed 3 beats is heartbeat-missed when the user declared 10 s, as for
// a text --heartbeat-text names; not without the flag, not when its own
// period is another (a 30 s series when 10 s is declared: some other
// rhythm of the application), and a SockJS h or an inferred text stays
// unlinted. Before, --heartbeat-interval 10s left the SEND ping unlinted.
func TestHealthDeclaredApp(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	c2s := wsparse.ClientToServer
	send := func(interval time.Duration) *health.Series {
		return &health.Series{Kind: health.KindApp, Proto: "stomp", Key: "SEND ping", Dir: c2s, Count: 5, First: at(10), Last: at(70),
			Interval: interval, IntervalSource: "observed", Timers: 1, MaxGap: 4 * interval, MaxGapAt: at(20), Missed: 3,
			Gaps: []health.Gap{{From: at(20), To: at(20).Add(4 * interval), Missed: 3}}}
	}
	const ws706 = "WS706 c2s 20: stomp SEND ping c2s 10.0s (--heartbeat-interval): 3 missed (max gap 40.0s)"
	cases := []struct {
		name     string
		declared time.Duration
		s        *health.Series
		want     string
	}{
		{"SEND ping 10 s, none declared", 0, send(10002 * time.Millisecond), ""},
		{"SEND ping 10 s, 10 s declared", 10 * time.Second, send(10002 * time.Millisecond), ws706},
		{"SEND ping 10.4 s, 10 s declared", 10 * time.Second, send(10400 * time.Millisecond),
			"WS706 c2s 20: stomp SEND ping c2s 10.4s (--heartbeat-interval): 3 missed (max gap 41.6s)"},
		{"SEND ping 10.6 s, 10 s declared: another rhythm", 10 * time.Second, send(10600 * time.Millisecond), ""},
		{"a 30 s series, 10 s declared", 10 * time.Second, send(30 * time.Second), ""},
		{"SockJS h 10 s, 10 s declared", 10 * time.Second, &health.Series{Kind: "sockjs", Dir: c2s, Count: 5, Interval: 10 * time.Second,
			IntervalSource: "observed", Missed: 3, Gaps: []health.Gap{{From: at(20), To: at(60), Missed: 3}}}, ""},
		{"an inferred text 10 s, 10 s declared", 10 * time.Second, &health.Series{Kind: health.KindText, Dir: c2s, Count: 5, Interval: 10 * time.Second,
			IntervalSource: "observed", Missed: 3, Gaps: []health.Gap{{From: at(20), To: at(60), Missed: 3}}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			l.DeclareInterval(tc.declared)
			l.Health(&health.Conn{ID: 3, Status: 101, Heartbeats: []*health.Series{tc.s}})
			var got []string
			for _, f := range l.Findings() {
				got = append(got, f.Rule.ID+" "+f.Dir+" "+strings.TrimSuffix(f.TS.Sub(t0).String(), "s")+": "+f.Detail)
			}
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHealthNamesTenant: a heartbeat finding on a connection that came
// encapsulated names its encap after WHERE, as the linter's other
// findings on a connection do (Finding.Encap); a plain one none. Before,
// WS701-WS706 on a VLAN 20 connection said only its number.
func TestHealthNamesTenant(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, encap := range []string{"vlan:20", ""} {
		l := New()
		c := health.Conn{ID: 3, Status: 101, Encap: encap, Heartbeats: []*health.Series{{Kind: "stomp", Dir: wsparse.ServerToClient, Count: 4,
			Interval: 2 * time.Second, IntervalSource: "negotiated", First: t0, Last: t0.Add(8 * time.Second), MaxGap: 36 * time.Second,
			MaxGapAt: t0.Add(8 * time.Second), Missed: 18, Gaps: []health.Gap{{From: t0.Add(8 * time.Second), To: t0.Add(44 * time.Second), Missed: 18, Trailing: true, Open: true}}}}}
		l.Health(&c)
		fs := l.Findings()
		if len(fs) != 1 || fs[0].Encap() != encap {
			t.Errorf("encap %q: %+v, want one finding in %q", encap, fs, encap)
		}
	}
}
