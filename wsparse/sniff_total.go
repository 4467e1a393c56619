package wsparse

import (
	"maps"
	"time"
)

// The bytes the searches for frame boundaries keep, all the connections of
// a Shared together (Config.MaxSniffTotal): each search keeps up to
// MaxSniff, and a capture of many connections searched at once (no
// handshake, or gaps) held MaxSniff times their number.

// DefaultMaxSniffTotal is the default of Config.MaxSniffTotal: 256
// directions each keeping MaxSniff at once (128 for each of two -j
// workers, which divide it). Searches end within a few frames on
// WebSocket bytes; what keeps MaxSniff is a direction of random or other
// protocol's bytes, or one in a frame longer than it after a gap.
const DefaultMaxSniffTotal = 64 << 20

// windowMin is the fewest bytes a search keeps: a frame header and the
// payload bytes checked after it, on either side of the last byte. A
// search cut by the total keeps only these.
const windowMin = SniffWindowMin

// SniffWindowMin is windowMin, for the notice of a cut search.
const SniffWindowMin = 2 * (MaxHeaderLen + sniffCheck)

// held is a search's share of the total of its Shared's searches.
type held struct {
	total    *int // the Shared's sniffHeld; nil: not counted (tests)
	totalMax int  // Config.MaxSniffTotal
	counted  int  // bytes counted in *total: the capacity of buf
	// cut: keeping the bytes of a full window would have passed the
	// total: the window is windowMin from then on, and the bytes that
	// leave it are counted as skipped when the search ends, as those
	// that leave a full window are.
	cut bool
}

// cutOver cuts the search whose bytes would take the total past its
// maximum.
func (s *sniffer) cutOver() {
	if s.total != nil && !s.cut && *s.total-s.counted+cap(s.buf) > s.totalMax {
		s.cut = true
	}
}

// recount brings the search's bytes in the total up to date, after a
// cut search gives back the buffer it grew to hold a large feed.
func (s *sniffer) recount() {
	if s.total == nil {
		return
	}
	if s.cut && cap(s.buf) > 4*windowMin {
		s.buf = append(make([]byte, 0, windowMin), s.buf...)
	}
	*s.total += cap(s.buf) - s.counted
	s.counted = cap(s.buf)
}

// newSniff starts the search of a side, counted in the Shared's total.
func (c *Conn) newSniff(h *half, want int8, minimum int, lenient bool) {
	h.dropSniff()
	h.sniff = newSniffer(want, minimum, lenient, c.cfg.MaxSniff)
	h.sniff.total, h.sniff.totalMax = &c.sniffHeld, c.cfg.MaxSniffTotal
}

// dropSniff ends the search of a side: its bytes leave the total.
func (h *half) dropSniff() {
	if s := h.sniff; s != nil {
		if s.total != nil {
			*s.total -= s.counted
			s.counted = 0
		}
		h.sniff = nil
	}
}

// trimSniff trims a search's bytes to its window, and counts the side
// when the total cuts it (LimitHits.SniffTotal).
func (c *Conn) trimSniff(s *sniffer) {
	was := s.cut
	s.trim()
	if s.cut && !was {
		c.hit().SniffTotal++
	}
}

// gapSniff is sniffer.gap, counting the side when the total cuts it; the
// lost bytes are stamped with ts.
func (c *Conn) gapSniff(s *sniffer, n int, ts time.Time) {
	was := s.cut
	s.gap(n)
	s.stamp(ts)
	if s.cut && !was {
		c.hit().SniffTotal++
	}
}

// candsKept is the room for candidates a search keeps between feeds
// whatever it holds.
const candsKept = 256

// shrinkCands gives back the room for candidates a feed grew (up to
// sniffMaxCands and a quarter, ~700 KB with the index of at, for a
// 64 KiB feed of payload bytes) once a few are left alive: kept, every
// search held it, outside MaxSniffTotal (512 searches of random bytes:
// 319 MB of candidates' room for 7 875 alive). The map is made again
// too: Go's maps do not shrink.
func (s *sniffer) shrinkCands() {
	if c := cap(s.cands); c <= candsKept || c <= 4*len(s.cands) {
		return
	}
	s.cands = append(make([]cand, 0, max(candsKept, 2*len(s.cands))), s.cands...)
	at := make(map[chainKey]int, len(s.at))
	maps.Copy(at, s.at)
	s.at = at
}
