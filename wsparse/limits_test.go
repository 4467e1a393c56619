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
