package wsparse

import (
	"strings"
	"testing"
	"time"
)

// timesSink keeps the times a connection reports.
type timesSink struct {
	msgTS []time.Time
	reqTS time.Time // the summary's handshake's
}

func (s *timesSink) Handshake(*Conn, *Handshake) {}
func (s *timesSink) Frame(*Conn, *Frame)         {}
func (s *timesSink) Message(_ *Conn, m *Message) { s.msgTS = append(s.msgTS, m.TS) }
func (s *timesSink) End(_ *Conn, sum *Summary)   { s.reqTS = sum.Handshake.RequestTS }

// TestTimesKeptExactly: an open message keeps its TS, and the kept
// handshake its RequestTS, as the time since the connection's First; a
// time that First plus that does not give back exactly (centuries away,
// in another location) is kept whole, and every time is reported as it
// was fed.
func TestTimesKeptExactly(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	far := time.Date(9000, 1, 2, 3, 4, 5, 6, time.UTC)
	cases := []struct {
		name              string
		first, req, frame time.Time
	}{
		{"near", testTime, testTime.Add(time.Millisecond), testTime.Add(time.Second)},
		{"far", testTime, far, far.Add(time.Second)},
		{"other location", testTime, testTime.In(zone), testTime.Add(time.Second).In(zone)},
		{"before First", testTime, testTime.Add(-time.Hour), testTime.Add(-2 * time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &timesSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			req := []byte(upgradeRequest(""))
			c.Feed(0, req[:5], tc.first) // First
			c.Feed(0, req[5:], tc.req)   // RequestTS: the request is whole
			c.Feed(1, []byte(upgradeResponse("")), tc.req)
			c.Feed(1, frame(false, 0, OpText, nil, strings.Repeat("a", 10)), tc.frame)
			c.End(testTime)
			if len(s.msgTS) != 1 || s.msgTS[0] != tc.frame {
				t.Errorf("message TS %v, want %v", s.msgTS, tc.frame)
			}
			if s.reqTS != tc.req {
				t.Errorf("RequestTS %v, want %v", s.reqTS, tc.req)
			}
		})
	}
}
