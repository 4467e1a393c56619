package wsparse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGapUnsure: a gap told as at most n bytes (the plaintext of TLS 1.3
// records lost: their padding is not known) that ends inside a payload is
// not counted to: the frame is cut there and the frames after it are
// found by their framing. Here the payload's bytes 40-89 were lost and 60
// told: counted to as an exact gap is, the payload's last 10 bytes were
// read as a frame header and the frames after it misread (a continuation
// with RSV bits and one of a reserved opcode, nobody's, and none of the 8
// sent); now the 8 frames after it come out whole.
func TestGapUnsure(t *testing.T) {
	next := make([]string, 8)
	for i := range next {
		next[i] = fmt.Sprintf("message %d after the gap", i)
	}
	run := func(gap func(c *Conn, side, n int, ts time.Time)) []string {
		s := &logSink{}
		c := NewConn(1, testClient, testServer, Config{}, s)
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		f := frame(true, 0, OpText, nil, strings.Repeat("p", 100)) // header 2 bytes
		c.Feed(1, f[:2+40], testTime)
		gap(c, 1, 60, testTime) // 50 lost (bytes 40-89), 60 told
		c.Feed(1, f[2+90:], testTime)
		for _, m := range next {
			c.Feed(1, frame(true, 0, OpText, nil, m), testTime)
		}
		c.End(testTime.Add(time.Second))
		var got []string
		for _, l := range s.lines {
			if strings.HasPrefix(l, "F s2c") {
				got = append(got, l)
			}
		}
		return got
	}
	whole := func(frames []string) int {
		n := 0
		for _, m := range next {
			for _, l := range frames {
				if strings.HasSuffix(l, fmt.Sprintf("payload=%x anomalies=", m)) {
					n++
					break
				}
			}
		}
		return n
	}
	got := run((*Conn).GapUnsure)
	if n := whole(got); n != len(next) || len(got) != 1+len(next) {
		t.Errorf("GapUnsure: %d of %d frames after the gap whole, %d frames in all, want %d:\n%s", n, len(next), len(got), 1+len(next), strings.Join(got, "\n"))
	}
	if len(got) > 0 && !strings.Contains(got[0], "payload_incomplete") {
		t.Errorf("GapUnsure: the cut frame %q, want payload_incomplete", got[0])
	}
	// Why: the same count taken as exact misreads what follows.
	if exact := run((*Conn).Gap); whole(exact) == len(next) && len(exact) == 1+len(next) {
		t.Errorf("Gap with an overcount decoded every frame; the test shows nothing:\n%s", strings.Join(exact, "\n"))
	}
}
