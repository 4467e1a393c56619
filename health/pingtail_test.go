package health

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestPingTailOverdue: the unanswered pings after the last answered one,
// since when, and how many of them the peer had time to answer: sent at
// least max(1 s, 4 × the longest round trip) before the first Close, the
// connection's end, or the capture's end when it was still open then.
func TestPingTailOverdue(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	// answered: the client pings every 1 s from 0 to lastMS, each answered
	// rtt ms later.
	answered := func(v *conv, lastMS, rtt int) {
		for ms := 0; ms <= lastMS; ms += 1000 {
			v.ping(c2s, ms, "").pong(s2c, ms+rtt, "")
		}
	}
	cases := []struct {
		name      string
		play      func(v *conv)
		close     int // ms of the client's Close, 0 none
		last      int // ms, the connection's last byte
		open      int // ms of the capture's end with the connection still open, 0 closed
		tail, due int
		since     int // ms, -1 none
	}{
		{"a burst of 2 just before the Close", func(v *conv) {
			answered(v, 4000, 5)
			v.ping(c2s, 4800, "a").ping(c2s, 4900, "b")
		}, 5000, 5010, 0, 2, 0, 4800},
		{"a burst of 2 just before the capture's end", func(v *conv) {
			answered(v, 4000, 5)
			v.ping(c2s, 4800, "a").ping(c2s, 4900, "b")
		}, 0, 4900, 5200, 2, 0, 4800},
		{"the same, judged to a capture's end long after the last byte", func(v *conv) {
			answered(v, 4000, 5)
			v.ping(c2s, 4800, "a").ping(c2s, 4900, "b")
		}, 0, 4900, 60_000, 2, 2, 4800},
		{"a real stop: 8 unanswered, the last one sent just before the FIN", func(v *conv) {
			answered(v, 2000, 5)
			for ms := 3000; ms <= 10_000; ms += 1000 {
				v.ping(c2s, ms, "")
			}
		}, 0, 10_500, 0, 8, 7, 3000},
		{"a slow peer: 4 × its 2 s round trip", func(v *conv) {
			v.ping(c2s, 0, "").pong(s2c, 2000, "").ping(c2s, 10_000, "").ping(c2s, 12_000, "")
		}, 0, 19_000, 0, 2, 1, 10_000},
		{"no round trip seen: the 1 s floor", func(v *conv) {
			v.ping(c2s, 0, "").ping(c2s, 500, "")
		}, 0, 1200, 0, 2, 1, 0},
		{"all answered", func(v *conv) { answered(v, 4000, 5) }, 0, 5000, 0, 0, 0, -1},
		// Past the 256 pings remembered unanswered a direction: the tail
		// began at the first (until a hostile review, the first
		// remembered: 400 s of silence said as 133 s).
		{"400 unanswered, more than are remembered", func(v *conv) {
			answered(v, 2000, 5)
			for ms := 3000; ms < 403_000; ms += 1000 {
				v.ping(c2s, ms, "")
			}
		}, 0, 402_500, 0, 400, 399, 3000},
		{"an answer after a forgetting, then 300 more", func(v *conv) {
			for ms := 0; ms < 300_000; ms += 1000 {
				v.ping(c2s, ms, "")
			}
			v.ping(c2s, 300_000, "x").pong(s2c, 300_005, "x")
			for ms := 301_000; ms < 601_000; ms += 1000 {
				v.ping(c2s, ms, "")
			}
		}, 0, 600_500, 0, 300, 299, 301_000},
		// A round trip over an hour is a clock's jump between the ping and
		// its pong (an NTP step forward, a pong stamped a year ahead): it
		// is no grace for the pings after it (until a hostile review, 4 ×
		// a jump of an hour made the last 4 h's pings owed nothing, and
		// WS703 said nothing of 40 unanswered).
		{"a clock jump of an hour between a ping and its pong", func(v *conv) {
			answered(v, 2000, 5)
			v.ping(c2s, 3000, "j").pong(s2c, 3000+3_601_000, "j")
			for ms := 3_605_000; ms <= 3_644_000; ms += 1000 {
				v.ping(c2s, ms, "")
			}
		}, 0, 3_644_500, 0, 40, 39, 3_605_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(nil, Options{})
			v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
			tc.play(v)
			s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(tc.last), Handshake: v.hs, End: wsparse.EndFINWithoutClose}
			if tc.close > 0 {
				s.Close[c2s] = closed(tc.close, 1000, "")
				s.End = wsparse.EndCloseUnanswered
				tr.Frame(v.c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: c2s, TS: at(tc.close)})
			}
			if tc.open > 0 {
				s.End = wsparse.EndOpen
			}
			tr.End(v.c, s)
			if tc.open > 0 {
				tr.CaptureEnd(at(tc.open))
			}
			p := tr.Report().Conns[0].Ping[c2s]
			var since time.Time
			if tc.since >= 0 {
				since = at(tc.since)
			}
			if p.UnansweredTail != tc.tail || p.OverdueTail != tc.due || !p.UnansweredSince.Equal(since) {
				t.Errorf("tail %d, overdue %d, since %v; want %d, %d, %v", p.UnansweredTail, p.OverdueTail, p.UnansweredSince, tc.tail, tc.due, since)
			}
		})
	}
}
