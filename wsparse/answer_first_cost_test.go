package wsparse

import (
	"strings"
	"testing"
)

// TestHeldAnswerLongHeadLinear: a request whose head comes in many
// segments after a held 101 costs bytes linear in its segments. Asking at
// each segment whether the client's bytes open a request copied the head
// so far: up to --max-http-header (64 KiB) a segment, and past it (a long
// head is passed over to its end) the same 64 KiB at every segment, for as
// long as the head went on (200 000 header lines of 19 bytes, one a
// segment, in a 17.8 MB capture: 21.6 CPU s, 0.36 s in the connection's
// order).
func TestHeldAnswerLongHeadLinear(t *testing.T) {
	cost := func(lines int) uint64 {
		line := []byte("X-Pad: aaaaaaaaaa\r\n")
		req := upgradeRequest("")
		start, rest := len("GET /chat HTTP/1.1\r\n"), []byte(req[len("GET /chat HTTP/1.1\r\n"):])
		return allocBytes(func() {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			c.Feed(1, []byte(upgradeResponse("")), testTime)
			c.Feed(0, []byte(req[:start]), testTime)
			for range lines {
				c.Feed(0, line, testTime)
			}
			c.Feed(0, rest, testTime)
			c.Feed(0, frame(true, 0, OpText, testMask, "hello"), testTime)
			c.End(testTime)
			if !strings.Contains(s.lines[0], "answer_before_request") || s.sum.Stats[0].Frames != 1 {
				t.Fatalf("%d lines: the request was not read before the answer\n%s", lines, s)
			}
		})
	}
	small, large := cost(500), cost(16*500)
	t.Logf("bytes allocated: %d for a head of 500 lines, %d for 8 000", small, large)
	if large > 32*small {
		t.Errorf("16 times the head's lines allocated %.0f times the bytes, want <= 32", float64(large)/float64(small))
	}
}

// TestHeldAnswerSegmentsBounded: a held 101 followed by the server's bytes
// in one-byte segments is believed once they and their marks (a time for
// each segment) reach heldAnswerMax, as its bytes alone do: 60 000
// one-byte segments held 1.9 MB of marks for 60 KB of bytes (40 such
// connections at once: peak RSS 107 MB, 32 MB in the connection's order).
func TestHeldAnswerSegmentsBounded(t *testing.T) {
	f := frame(true, 0, OpBinary, nil, strings.Repeat("x", 60000))
	var s *logSink
	n := allocBytes(func() {
		s = &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		for i := range f {
			c.Feed(1, f[i:i+1], testTime)
		}
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.End(testTime)
	})
	t.Logf("bytes allocated: %d", n)
	if n > 8*heldAnswerMax {
		t.Errorf("%d bytes allocated for a 101 and %d bytes in one-byte segments, want <= %d", n, len(f), 8*heldAnswerMax)
	}
	if !strings.Contains(s.lines[0], "request_incomplete") || s.sum.Stats[1].Frames != 1 {
		t.Errorf("the answer was not believed as it stood\n%s", s)
	}
}

// TestHeldAnswerGapOrder: a gap of either side while a 101 is held comes
// after the held bytes, as the capture has them: the records are those of
// a connection whose client was not seen (no hold). Without the release,
// a gap of the server's side went before its held 101 and frames.
func TestHeldAnswerGapOrder(t *testing.T) {
	sf := frame(true, 0, OpText, nil, "HELLO")
	cf := frame(true, 0, OpText, testMask, "hello")
	for side := range 2 {
		run := func(seen bool) string {
			s := &logSink{}
			c := NewShared(Config{}, s).SideSeen(func(*Conn, int) bool { return seen }).NewConn(1, testClient, testServer)
			c.Feed(1, cat([]byte(upgradeResponse("")), sf), testTime)
			c.Gap(side, 10, testTime)
			c.Feed(1, sf, testTime)
			c.Feed(0, cat([]byte(upgradeRequest("")), cf), testTime)
			c.End(testTime)
			return s.String()
		}
		if got, want := run(true), run(false); got != want {
			t.Errorf("gap of side %d while held:\n%s\nwant, as without the hold:\n%s", side, got, want)
		}
	}
}
