package wsparse

import (
	"testing"
	"time"
)

// TestSummaryTCPFirst: a connection's summary says whose TCP end (its
// first RST, else its first FIN) came first when both sides ended at
// different times, and neither when one side or none ended, or both at
// once.
func TestSummaryTCPFirst(t *testing.T) {
	at := func(ms int) time.Time { return testTime.Add(time.Duration(ms) * time.Millisecond) }
	type tcpEnd struct {
		side int
		rst  bool
		ms   int
	}
	for _, tc := range []struct {
		name string
		ends []tcpEnd
		want [2]bool
	}{
		{"none", nil, [2]bool{}},
		{"server only", []tcpEnd{{1, false, 300}}, [2]bool{}},
		{"server FIN, then client FIN", []tcpEnd{{1, false, 300}, {0, false, 301}}, [2]bool{false, true}},
		{"client FIN, then server FIN", []tcpEnd{{0, false, 300}, {1, false, 350}}, [2]bool{true, false}},
		{"server FIN, then client FIN stamped earlier (clock stepped back): packet order", []tcpEnd{{1, false, 300}, {0, false, 250}}, [2]bool{false, true}},
		{"client RST stamped earlier than the server's FIN, after it", []tcpEnd{{1, false, 300}, {0, true, 100}}, [2]bool{false, true}},
		{"both at once", []tcpEnd{{0, false, 300}, {1, false, 300}}, [2]bool{}},
		{"client FIN, server RST, client RST later: RSTs count", []tcpEnd{{0, false, 100}, {1, true, 200}, {0, true, 300}}, [2]bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			c.Feed(0, []byte(upgradeRequest("")), at(0))
			c.Feed(1, []byte(upgradeResponse("")), at(10))
			for _, e := range tc.ends {
				c.TCPEnd(e.side, e.rst, at(e.ms))
			}
			c.End(at(1000))
			if got := s.sum.TCPFirst(); got != tc.want {
				t.Errorf("TCPFirst %v, want %v (ends %v)", got, tc.want, s.sum.TCPEndTS)
			}
		})
	}
}
