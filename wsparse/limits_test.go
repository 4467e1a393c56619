package wsparse

import (
	"strings"
	"testing"
)

// TestPendingOverflowResyncs: a client that floods more than MaxPending
// bytes before the 101 loses them, says so (pending_limit), and its frames
// after the 101 are found again rather than decoded from mid-frame.
func TestPendingOverflowResyncs(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxPending: 64}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	var flood []byte
	for i := 0; i < 3; i++ {
		flood = append(flood, frame(true, 0, OpText, testMask, strings.Repeat("x", 30))...)
	}
	c.Feed(0, flood[:92], testTime) // over the limit, mid-frame
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	after := []string{"after the flood", "and again, more", "third message!", "fourth message", "fifth message."}
	c.Feed(0, append(flood[92:], frame(true, 0, OpText, testMask, after[0])...), testTime)
	for _, m := range after[1:] {
		c.Feed(0, frame(true, 0, OpText, testMask, m), testTime)
	}
	c.End(testTime)
	if len(s.lines) == 0 || s.lines[0] != "H status=101 accept_valid=true sub=\"\" ext=\"\" deflate=false anomalies=pending_limit" {
		t.Fatalf("records:\n%s", s)
	}
	// Nothing is decoded from inside the flood; the frames after it are
	// found again (how soon depends on the sniffer's proof rules).
	found := 0
	for _, l := range s.lines {
		if !strings.HasPrefix(l, "F c2s") {
			continue
		}
		ok := false
		for _, m := range after {
			ok = ok || strings.Contains(l, "op=text masked=true key=37fa213d len="+itoa(len(m))+" payload="+hexOf(m)+" anomalies=")
		}
		if !ok {
			t.Errorf("frame decoded from the wrong place: %s", l)
		}
		found++
	}
	if found < 3 {
		t.Errorf("%d of the %d frames after the flood found:\n%s", found, len(after), s)
	}
	if h := c.LimitHits(); h.Pending != 1 {
		t.Errorf("limit hits %+v", h)
	}
}

// TestLimitHitsCounted: limits hit on connections that never show
// WebSocket (no records at all) are still counted.
func TestLimitHitsCounted(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxHTTPHeader: 100}, s)
	c.Feed(0, []byte("GET / HTTP/1.1\r\nX: "+strings.Repeat("a", 200)), testTime)
	c.End(testTime)
	if h := c.LimitHits(); h.HTTPHeader != 1 || len(s.lines) != 0 {
		t.Errorf("limit hits %+v, records %q", h, s.lines)
	}
	c = NewConn(2, testClient, testServer, Config{MaxSniff: 1 << 10}, s)
	for i := 0; i < 10; i++ {
		c.Feed(0, []byte(strings.Repeat("\x00\x7f", 100)), testTime)
	}
	c.End(testTime)
	if h := c.LimitHits(); h.Sniff != 1 {
		t.Errorf("sniff: limit hits %+v", h)
	}
}

// TestPendingTotal: the client bytes held before upgrades are answered
// count, over all the connections of a Shared, against MaxPendingTotal:
// the connection whose bytes would pass it is handled as over MaxPending
// (pending_limit, LimitHits.PendingTotal) and gives its bytes back, as
// does every connection answered or ended, so that the total held is
// what the connections hold.
func TestPendingTotal(t *testing.T) {
	s := &logSink{}
	sh := NewShared(Config{MaxPending: 1000, MaxPendingTotal: 2500}, s)
	var conns []*Conn
	for i := range 4 {
		c := sh.NewConn(i+1, testClient, testServer)
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		conns = append(conns, c)
	}
	flood := []byte(strings.Repeat("x", 400))
	for range 2 { // 800 bytes each, under MaxPending: the third passes the total
		for _, c := range conns {
			c.Feed(0, flood, testTime)
		}
	}
	held := func() (n int) {
		for _, c := range conns {
			n += len(c.half[0].httpBuf())
		}
		return n
	}
	// 1, 2 and 4 hold 800 each; 3, at 400 + 400 over 2 500, gave its 400
	// back.
	if sh.pendingHeld != 2400 || held() != 2400 {
		t.Fatalf("held %d in the total, %d by the connections", sh.pendingHeld, held())
	}
	for i, c := range conns {
		want := LimitHits{}
		if i == 2 {
			want.PendingTotal = 1
		}
		if h := c.LimitHits(); h != want {
			t.Errorf("conn %d: limit hits %+v", c.ID, h)
		}
	}
	conns[0].Feed(1, []byte(upgradeResponse("")), testTime) // answered: its bytes are decoded
	if sh.pendingHeld != 1600 || held() != 1600 {
		t.Fatalf("after a 101: held %d in the total, %d by the connections", sh.pendingHeld, held())
	}
	for _, c := range conns {
		c.End(testTime)
	}
	if sh.pendingHeld != 0 {
		t.Fatalf("after the ends: %d held in the total", sh.pendingHeld)
	}
	if !strings.Contains(s.String(), "anomalies=pending_limit") {
		t.Errorf("no pending_limit:\n%s", s)
	}
}
