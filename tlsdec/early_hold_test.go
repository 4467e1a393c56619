package tlsdec

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestEarlyDataHoldTotal: the early plaintext held until the server's
// answer is counted in a total shared by connections (OnHold, the
// decoders' --max-pending-total): past it, a connection's early data is
// passed on at once, as if accepted, what it held first included, and
// everything counted is given back. Until session 37 only the 256 KiB a
// connection bounded it.
func TestEarlyDataHoldTotal(t *testing.T) {
	const room = 250 // one connection's 200 bytes fit, the next's do not
	held, holds := 0, 0
	hold := func(n int) bool {
		if held+n > room {
			return false
		}
		held += n
		holds++
		return true
	}
	release := func(n int) { held -= n }
	var conns [3]*Conn
	var sessions [3]*session
	var outs [3][]byte
	var sents [3][2][]byte
	for i := range conns {
		s := newSession(0x1301, false)
		s.cr[0] = byte(i)
		s.early, s.logEarly = appData(0, 99, 200), true
		sents[i] = s.build([]int{42})
		c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) {
			if side == 0 {
				outs[i] = append(outs[i], p...)
			}
		})
		c.OnHold(hold, release)
		conns[i], sessions[i] = c, s
		// The client's flight up to its early data (no answer yet).
		for _, ev := range s.evs[:4] {
			c.Feed(ev.side, ev.data, time.Time{})
		}
	}
	if held != 200 || len(outs[0]) != 0 || !bytes.Equal(outs[1], sents[1][0][:200]) || !bytes.Equal(outs[2], sents[2][0][:200]) {
		t.Errorf("held %d, passed on %d/%d/%d bytes: want 200 held (the first), the others' passed on", held, len(outs[0]), len(outs[1]), len(outs[2]))
	}
	for i, c := range conns {
		if in := c.Info(); in.Error != "" {
			t.Errorf("conn %d: %q", i, in.Error)
		}
	}
	// The rest: the servers accept.
	for i, c := range conns {
		for _, ev := range sessions[i].evs[4:] {
			c.Feed(ev.side, ev.data, time.Time{})
		}
		c.End(time.Time{})
		if !bytes.Equal(outs[i], sents[i][0]) || c.Info().Error != "" {
			t.Errorf("conn %d: client out %d of %d, %+v", i, len(outs[i]), len(sents[i][0]), c.Info())
		}
	}
	if held != 0 || holds != 4 {
		t.Errorf("%d bytes still counted after the answers, %d holds (want 4: the first's two records, the others' first, 1 byte)", held, holds)
	}
}

// TestEarlyDataPassedUnanswered: early data passed on before any answer
// (no room in the total) whose answer never comes is said, as when held.
func TestEarlyDataPassedUnanswered(t *testing.T) {
	s := newSession(0x1301, false)
	s.early, s.logEarly = appData(0, 99, 200), true
	s.build([]int{42})
	var out []byte
	c := NewConn(s.keys(), func(side int, p []byte, ts time.Time) { out = append(out, p...) })
	c.OnHold(func(int) bool { return false }, func(int) { t.Error("released what was not held") })
	for _, ev := range s.evs[:4] {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	c.End(time.Time{})
	if in := c.Info(); !bytes.Equal(out, s.early) || !strings.Contains(in.Error, "answer to the client's 0-RTT early data was not seen: 200 bytes passed on") {
		t.Errorf("out %d of %d, %+v", len(out), len(s.early), in)
	}
}
