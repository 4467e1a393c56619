package health

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestAnswersStopWithTheAsking: a series of answers (WebSocket pongs,
// Engine.IO's pongs) is judged only while the other side asks. When the
// pinger stops, the answerer is not late: its series missed nothing, and
// the pinger's own series carries the missed beats. An answer the last
// ping did not get stays the pinger's unanswered ping.
func TestAnswersStopWithTheAsking(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	type want struct {
		dir    wsparse.Dir
		kind   string
		missed int
	}
	cases := []struct {
		name string
		play func(v *conv)
		last int // ms, its last byte
		end  int // ms, the connection open at the capture's end then
		want []want
	}{
		{"ws: client pings every 1 s, stops at 5 s, pongs all answered", func(v *conv) {
			for ms := 1000; ms <= 5000; ms += 1000 {
				v.ping(c2s, ms, "").pong(s2c, ms+5, "")
			}
		}, 5005, 20_000, []want{{c2s, KindWSPing, 15}, {s2c, KindWSPong, 0}}},
		{"ws: the pings go on, the pongs stop at 5 s", func(v *conv) {
			for ms := 1000; ms <= 20_000; ms += 1000 {
				v.ping(c2s, ms, "")
				if ms <= 5000 {
					v.pong(s2c, ms+5, "")
				}
			}
		}, 20_000, 20_000, []want{{c2s, KindWSPing, 0}, {s2c, KindWSPong, 14}}},
		// Unsolicited pongs (RFC 6455 §5.5.3) are a heartbeat of their own:
		// one ping of the client does not make them answers due only
		// until it.
		{"ws: one ping, then the server's unsolicited pongs every 1 s stop at 10 s", func(v *conv) {
			v.ping(c2s, 1000, "").pong(s2c, 1005, "")
			for ms := 2000; ms <= 10_000; ms += 1000 {
				v.pong(s2c, ms, "")
			}
		}, 10_000, 30_000, []want{{s2c, KindWSPong, 20}}},
		// Engine.IO v4: the server pings; v3: the client.
		{"engine.io v4: the server pings every 5 s, stops at 25 s", eioPings(s2c, 5), 25_003, 60_000, []want{{c2s, "engineio", 0}, {s2c, "engineio", 7}}},
		{"engine.io v3: the client pings every 5 s, stops at 25 s", eioPings(c2s, 5), 25_003, 60_000, []want{{c2s, "engineio", 7}, {s2c, "engineio", 0}}},
		// The capture lost the server's first ping: the client's pong
		// comes first, and it is still the server that asks (its beats
		// are pings: Beat.Key), the server that stopped.
		{"engine.io v4: the server's first ping lost, the server stops at 25 s", eioPings(s2c, 10), 25_003, 60_000, []want{{c2s, "engineio", 0}, {s2c, "engineio", 7}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(nil, Options{})
			v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
			tc.play(v)
			v.t.End(v.c, &wsparse.Summary{First: v.hs.RequestTS, Last: at(tc.last), Handshake: v.hs, End: wsparse.EndOpen})
			tr.CaptureEnd(at(tc.end))
			c := tr.Report().Conns[0]
			for _, w := range tc.want {
				var s *Series
				for _, x := range c.Heartbeats {
					if x.Dir == w.dir && x.Kind == w.kind {
						s = x
					}
				}
				if s == nil {
					t.Fatalf("no %s %s series in %+v", w.dir, w.kind, c.Heartbeats)
				}
				if s.Missed != w.missed {
					t.Errorf("%s %s: %d missed (gaps %+v), want %d", w.dir, w.kind, s.Missed, s.Gaps, w.missed)
				}
			}
		})
	}
}

// eioPings plays Engine.IO heartbeats every 5 s to 25 s: the pinger's
// pings from the second from on (the capture lost those before), the
// pongs from 5 s, 3 ms after each ping; both directions negotiated.
func eioPings(pinger wsparse.Dir, from int) func(v *conv) {
	return func(v *conv) {
		for s := 5; s <= 25; s += 5 {
			if s >= from {
				v.t.Beat(Beat{Conn: 1, Dir: pinger, TS: at(s * 1000), Kind: "engineio", Key: "ping"})
			}
			v.t.Beat(Beat{Conn: 1, Dir: 1 - pinger, TS: at(s*1000 + 3), Kind: "engineio", Key: "pong"})
		}
		for d := range 2 {
			v.t.Negotiated(Negotiated{Conn: 1, Dir: wsparse.Dir(d), Kind: "engineio", Interval: 5 * time.Second, Timeout: 25 * time.Second})
		}
	}
}
