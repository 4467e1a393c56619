package wsparse

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

// pieceSink keeps each frame and message with its time, per direction,
// without indexes (a sniffed side numbers from its first frame found).
type pieceSink struct{ lines [2][]string }

func (s *pieceSink) Handshake(*Conn, *Handshake) {}
func (s *pieceSink) End(*Conn, *Summary)         {}
func (s *pieceSink) Frame(_ *Conn, f *Frame) {
	s.lines[f.Dir] = append(s.lines[f.Dir], fmt.Sprintf("F op=%s fin=%v len=%d ts=%s", f.Opcode, f.Fin, f.Length, f.TS.Format(time.StampMicro)))
}
func (s *pieceSink) Message(_ *Conn, m *Message) {
	s.lines[m.Dir] = append(s.lines[m.Dir], fmt.Sprintf("M op=%s frames=%d len=%d ts=%s", m.Opcode, m.Frames, m.Len, m.TS.Format(time.StampMicro)))
}

// feedEvent is a segment of a side (or, gap > 0, bytes lost) at a time.
type feedEvent struct {
	side int
	b    []byte
	gap  int
	at   time.Duration // after testTime
}

func feedEvents(c *Conn, evs []feedEvent) {
	for _, e := range evs {
		if e.gap > 0 {
			c.Gap(e.side, e.gap, testTime.Add(e.at))
			continue
		}
		c.Feed(e.side, e.b, testTime.Add(e.at))
	}
}

// TestSniffFrameTimes: a side whose frame boundaries were found by
// searching (no handshake captured) reports each frame, and each message,
// with the time the same segments give it after a handshake: the time of
// the segment that ended it. Every frame the search found before it
// decided had the time of the segment it decided on.
func TestSniffFrameTimes(t *testing.T) {
	ms := time.Millisecond
	text := func(key []byte, s string) []byte { return frame(true, 0, OpText, key, s) }
	a, b, c, d := text(testMask, "first message"), text(testMask, "second one"), text(testMask, "third message"), text(testMask, "fourth")
	sa, sb := text(nil, "server hello"), text(nil, "server reply")
	frag1, frag2 := frame(false, 0, OpText, testMask, "part one "), frame(true, 0, OpContinuation, testMask, "and two")
	cases := []struct {
		name   string
		evs    []feedEvent
		before []byte // client bytes sent before the capture began: the reference has them
	}{
		{"a frame a segment", []feedEvent{{0, a, 0, 0}, {0, b, 0, 10 * ms}, {0, c, 0, 20 * ms}, {0, d, 0, 30 * ms}}, nil},
		{"heartbeat seconds apart", []feedEvent{{0, a, 0, 0}, {0, b, 0, 10 * time.Second}, {0, c, 0, 20 * time.Second}}, nil},
		{"a frame over two segments: the time of its end", []feedEvent{{0, a[:3], 0, 0}, {0, a[3:], 0, 5 * ms}, {0, b[:9], 0, 10 * ms}, {0, cat(b[9:], c), 0, 20 * ms}}, nil},
		{"two frames in a segment", []feedEvent{{0, cat(a, b), 0, 0}, {0, c, 0, 10 * ms}, {0, d, 0, 20 * ms}}, nil},
		{"begins in a payload", []feedEvent{{0, a[7:], 0, 0}, {0, b, 0, 10 * ms}, {0, c, 0, 20 * ms}, {0, d, 0, 30 * ms}}, a[:7]},
		{"a fragmented message", []feedEvent{{0, frag1, 0, 0}, {0, frag2, 0, 10 * ms}, {0, a, 0, 20 * ms}, {0, b, 0, 30 * ms}, {0, c, 0, 40 * ms}}, nil},
		{"the other side, taken when this one decides", []feedEvent{{1, sa, 0, 0}, {0, a, 0, 5 * ms}, {1, sb, 0, 10 * ms}, {0, b, 0, 15 * ms}, {0, c, 0, 20 * ms}}, nil},
		{"a hole in a payload: the frame ends at the gap's time", []feedEvent{{0, a, 0, 0}, {0, b[:9], 0, 10 * ms}, {0, nil, len(b) - 9, 15 * ms}, {0, c, 0, 20 * ms}, {0, d, 0, 30 * ms}, {0, a, 0, 40 * ms}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := &pieceSink{}
			rc := NewConn(1, testClient, testServer, Config{}, ref)
			rc.Feed(0, []byte(upgradeRequest("")), testTime.Add(-time.Hour))
			rc.Feed(1, []byte(upgradeResponse("")), testTime.Add(-time.Hour))
			if tc.before != nil {
				rc.Feed(0, tc.before, testTime.Add(-time.Hour))
			}
			feedEvents(rc, tc.evs)
			rc.End(testTime.Add(time.Minute))

			got := &pieceSink{}
			gc := NewConn(1, testClient, testServer, Config{}, got)
			feedEvents(gc, tc.evs)
			gc.End(testTime.Add(time.Minute))
			for dir := range got.lines {
				g, w := got.lines[dir], ref.lines[dir]
				if len(g) == 0 && len(w) > 0 {
					t.Errorf("dir %d: nothing found", dir)
					continue
				}
				// Found from a frame boundary on: what it reports is
				// what the decode after a handshake reports last.
				if len(g) > len(w) || !slices.Equal(g, w[len(w)-len(g):]) {
					t.Errorf("dir %d:\n got %s\nwant the end of\n     %s", dir, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
				}
				if dir == 0 && len(g) < 6 {
					t.Errorf("dir %d: only %d records:\n%s", dir, len(g), strings.Join(g, "\n"))
				}
			}
		})
	}
}

// TestSniffTimesBounded: a search keeps the times of its last sniffTimes
// pieces, in at most twice that room, however many it is fed; a frame that
// ended in an older piece gets the time of the oldest piece kept (the
// latest of the times of its bytes that are forgotten).
func TestSniffTimesBounded(t *testing.T) {
	at := func(i int) time.Time { return testTime.Add(time.Duration(i) * time.Millisecond) }
	// Three frames fed a byte at a time, the first long: the search
	// decides at the third's last byte, when the first's end is far back.
	long := frame(true, 0, OpBinary, testMask, strings.Repeat("x", 400))
	b, c := frame(true, 0, OpText, testMask, "second message"), frame(true, 0, OpText, testMask, "third message")
	all := cat(long, b, c)
	got := &pieceSink{}
	conn := NewConn(1, testClient, testServer, Config{}, got)
	for i := range all {
		conn.Feed(0, all[i:i+1], at(i))
	}
	oldest := len(all) - sniffTimes // the first byte whose piece is kept
	want := []time.Time{at(max(len(long)-1, oldest)), at(len(long) + len(b) - 1), at(len(all) - 1)}
	var frames []string
	for _, l := range got.lines[0] {
		if strings.HasPrefix(l, "F ") {
			frames = append(frames, l[strings.Index(l, "ts=")+3:])
		}
	}
	if len(frames) != 3 {
		t.Fatalf("frames %q, want 3", got.lines[0])
	}
	for i, w := range want {
		if frames[i] != w.Format(time.StampMicro) {
			t.Errorf("frame %d at %s, want %s", i+1, frames[i], w.Format(time.StampMicro))
		}
	}

	// Random bytes, a byte a segment: the times kept stay bounded.
	s := newSniffer(-1, sniffMinFrames, false, 1<<20)
	rng := rand.New(rand.NewSource(1))
	one := make([]byte, 1)
	for i := range 20000 {
		rng.Read(one)
		s.add(one)
		s.stamp(at(i))
		if i%1000 == 999 {
			s.decide(false)
			s.trim()
		}
		if n := len(s.pieces()); n > sniffTimes {
			t.Fatalf("after %d pieces: %d times kept", i+1, n)
		}
		if cap(s.times) > 2*sniffTimes {
			t.Fatalf("after %d pieces: room for %d times", i+1, cap(s.times))
		}
	}
	if p := s.pieces(); p[len(p)-1].end != s.end() || !p[len(p)-1].ts.Equal(at(19999)) {
		t.Errorf("last piece %+v, end %d", p[len(p)-1], s.end())
	}
}

// TestSniffFrameTimesChunked: a session without its handshake, cut into
// random pieces each with its own time, reports every frame and message
// with the time the same pieces give it after a handshake. (A side found
// when the other side decided, in the middle of a long frame, may be taken
// from inside its payload, whatever the times: 2 directions of these 80,
// 8 with sessionStreams's binary payload; those are left aside.)
func TestSniffFrameTimesChunked(t *testing.T) {
	missed := 0
	var streams [2][]byte
	for i := range 12 {
		seq := strings.Repeat("7", i)
		streams[0] = cat(streams[0], frame(true, 0, OpText, testMask, `{"op":"publish","seq":`+seq+`}`))
		streams[1] = cat(streams[1], frame(true, 0, OpText, nil, `{"op":"ack","seq":`+seq+`}`))
		if i%4 == 0 {
			streams[0] = cat(streams[0], frame(true, 0, OpPing, testMask, "hb"))
			streams[1] = cat(streams[1], frame(true, 0, OpPong, nil, "hb"))
		}
		if i%5 == 0 {
			streams[1] = cat(streams[1], frame(false, 0, OpText, nil, strings.Repeat("news ", 60)), frame(true, 0, OpContinuation, nil, "tail"))
		}
	}
	for seed := range int64(40) {
		rng := rand.New(rand.NewSource(seed))
		var evs []feedEvent
		rest := streams
		for at := time.Duration(0); len(rest[0])+len(rest[1]) > 0; at += time.Millisecond {
			side := rng.Intn(2)
			if len(rest[side]) == 0 {
				side = 1 - side
			}
			n := min(1+rng.Intn(1+rng.Intn(300)), len(rest[side]))
			evs = append(evs, feedEvent{side, rest[side][:n], 0, at})
			rest[side] = rest[side][n:]
		}
		ref := &pieceSink{}
		rc := NewConn(1, testClient, testServer, Config{}, ref)
		rc.Feed(0, []byte(upgradeRequest("")), testTime.Add(-time.Hour))
		rc.Feed(1, []byte(upgradeResponse("")), testTime.Add(-time.Hour))
		feedEvents(rc, evs)
		rc.End(testTime.Add(time.Hour))
		got := &pieceSink{}
		gc := NewConn(1, testClient, testServer, Config{}, got)
		feedEvents(gc, evs)
		gc.End(testTime.Add(time.Hour))
		for dir := range got.lines {
			g, w := got.lines[dir], ref.lines[dir]
			if !slices.Equal(untimed(g), untimed(w)) {
				// Taken from inside a payload (see above): times aside.
				missed++
				t.Logf("seed %d dir %d: other frames than after a handshake", seed, dir)
				continue
			}
			if !slices.Equal(g, w) {
				t.Errorf("seed %d dir %d (%d pieces):\n got %s\nwant %s", seed, dir, len(evs),
					strings.Join(g, "\n     "), strings.Join(w, "\n     "))
			}
		}
	}
	if missed > 4 {
		t.Errorf("%d of 80 directions decoded otherwise than after a handshake", missed)
	}
}

// untimed drops the times of pieceSink lines.
func untimed(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _, _ = strings.Cut(l, " ts=")
	}
	return out
}

// TestSniffTimesTrimmed: the times a search keeps are those of the pieces
// with bytes still in its window, no more (a piece that ends where the
// window starts is gone) and no fewer, as the window moves.
func TestSniffTimesTrimmed(t *testing.T) {
	at := func(i int) time.Time { return testTime.Add(time.Duration(i) * time.Millisecond) }
	const size = windowMin / 4 // pieces end where the window starts
	s := newSniffer(-1, sniffMinFrames, false, 0)
	rng := rand.New(rand.NewSource(2))
	b := make([]byte, size)
	for i := range 2000 {
		rng.Read(b)
		s.add(b)
		s.stamp(at(i))
		s.decide(false)
		s.trim()
		// Pieces i-n+1 .. i end past the window's start.
		n := 0
		for j := i; j >= 0 && (j+1)*size > s.base && n < sniffTimes; j-- {
			n++
		}
		p := s.pieces()
		if len(p) != n || p[0].end <= s.base || !p[0].ts.Equal(at(i-n+1)) {
			t.Fatalf("after %d pieces, window from %d: %d times kept from %+v, want %d", i+1, s.base, len(p), p[0], n)
		}
	}
	if s.base == 0 {
		t.Fatal("the window never moved")
	}
}
