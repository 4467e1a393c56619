package wsparse

import "time"

// The arrival times of the bytes a search for framing keeps: when it finds
// the boundaries it decodes those bytes again, and each piece goes through
// as it came, with its own time, so that a frame gets the time of the
// segment that ended it, as it does when its side's boundaries are known
// from the start (a capture started mid-connection: the frames before the
// search decided all had the time of the segment that decided it, on
// sparse traffic seconds late).

// sniffTimes is the most pieces whose times a search keeps: the bytes of
// older pieces still in its window take the time of the oldest piece kept
// (later than theirs). 256 pieces of 1 448 bytes (Ethernet) cover the
// 256 KiB window; a search on WebSocket bytes decides within a few frames.
const sniffTimes = 256

// piece is one feed (or gap) of a search: the bytes from the end of the
// piece before (or from the window's start) to end arrived at ts.
type piece struct {
	end int
	ts  time.Time
}

// stamp gives the bytes added since the last stamp the time ts. Feeds of
// the same time make one piece.
func (s *sniffer) stamp(ts time.Time) {
	end := s.end()
	t := s.times[s.t0:]
	if n := len(t); n > 0 && t[n-1].end >= end || end <= s.base {
		return
	} else if n > 0 && t[n-1].ts == ts { // (== : the same location too)
		t[n-1].end = end
		return
	}
	if len(t) >= sniffTimes {
		s.t0++ // the oldest piece's bytes take the next one's time
	}
	if len(s.times) == cap(s.times) {
		if s.t0 >= len(s.times)/2 && s.t0 > 0 {
			// Half or more of the room is dropped pieces: move the kept
			// ones down rather than grow.
			s.times = s.times[:copy(s.times, s.times[s.t0:])]
			s.t0 = 0
		} else {
			// At most 2*sniffTimes: full, at least half of it is dropped.
			s.times = append(make([]piece, 0, min(max(2*cap(s.times), 4), 2*sniffTimes)), s.times...)
		}
	}
	s.times = append(s.times, piece{end, ts})
}

// trimTimes drops the pieces that left the window with their bytes.
func (s *sniffer) trimTimes() {
	for s.t0 < len(s.times) && s.times[s.t0].end <= s.base {
		s.t0++
	}
	if s.t0 == len(s.times) {
		s.times, s.t0 = s.times[:0], 0
	}
}

// pieces returns the pieces of the bytes kept, oldest first.
func (s *sniffer) pieces() []piece { return s.times[s.t0:] }

// replay decodes a side's bytes buf (which start at offset base) from
// offset p on, after its search accepted a boundary there: each piece with
// its time (bytes after the last piece with ts), its holes as gaps.
func (c *Conn) replay(side int, buf []byte, base, p int, holes [][2]int, times []piece, ts time.Time) {
	end := base + len(buf)
	for p < end {
		for len(times) > 0 && times[0].end <= p {
			times = times[1:]
		}
		q, t := end, ts
		if len(times) > 0 {
			q, t = min(times[0].end, end), times[0].ts
		}
		for _, hl := range holes {
			if hl[1] <= p || hl[0] >= q {
				continue
			}
			if hl[0] > p {
				c.feed(side, buf[p-base:hl[0]-base], t)
			}
			hq := min(hl[1], q)
			c.gap(side, hq-max(hl[0], p), true, t)
			p = hq
		}
		if p < q {
			c.feed(side, buf[p-base:q-base], t)
		}
		p = q
	}
}
