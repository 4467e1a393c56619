package wsparse

import (
	"fmt"
	"strings"
	"testing"
)

// TestHTTPHeaderTotal: the bytes of unfinished HTTP heads count, over all
// the connections of a Shared, against MaxHTTPHeaderTotal: the head
// whose bytes would pass it is handled as over MaxHTTPHeader
// (http_header_too_long, LimitHits.HTTPHeaderTotal); a head whole in one
// piece holds nothing and is read whatever the total; every head ended
// or dropped gives its bytes back.
func TestHTTPHeaderTotal(t *testing.T) {
	s := &logSink{}
	sh := NewShared(Config{MaxHTTPHeader: 1000, MaxHTTPHeaderTotal: 2000}, s)
	var conns []*Conn
	for i := range 4 {
		c := sh.NewConn(i+1, testClient, testServer)
		c.Feed(0, []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\n"), testTime)
		conns = append(conns, c)
	}
	pad := func(i int) []byte { return fmt.Appendf(nil, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 240)) }
	for i := range 2 { // ~550 bytes each, under MaxHTTPHeader: the last pass the total
		for _, c := range conns {
			c.Feed(0, pad(i), testTime)
		}
	}
	held, caps := 0, 0
	for _, c := range conns {
		held += len(c.half[0].httpBuf())
		caps += cap(c.half[0].httpBuf())
	}
	if sh.headHeld != caps || held > 2000 {
		t.Fatalf("heads hold %d bytes (capacity %d), %d in the total", held, caps, sh.headHeld)
	}
	cut := 0
	for _, c := range conns {
		if h := c.LimitHits(); h.HTTPHeaderTotal > 0 {
			cut++
		} else if h != (LimitHits{}) {
			t.Errorf("conn %d: limit hits %+v", c.ID, h)
		}
	}
	if cut == 0 || cut == len(conns) { // (the capacities held decide how many)
		t.Errorf("%d of %d heads cut", cut, len(conns))
	}
	whole := sh.NewConn(5, testClient, testServer) // the total is full: a whole head still reads
	whole.Feed(0, []byte(upgradeRequest("")), testTime)
	whole.Feed(1, []byte(upgradeResponse("")), testTime)
	if !whole.hasHS() || whole.LimitHits() != (LimitHits{}) {
		t.Errorf("a whole head with the total full: handshake %v, limit hits %+v", whole.hasHS(), whole.LimitHits())
	}
	for i, c := range append(conns, whole) {
		if i%2 == 0 { // the others end with their heads unfinished
			c.Feed(0, []byte("\r\n"), testTime)
		}
		c.End(testTime)
	}
	if sh.headHeld != 0 {
		t.Fatalf("after the ends: %d held in the total", sh.headHeld)
	}
}
