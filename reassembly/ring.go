// The segment ring: each side's last segments, to tell a retransmission
// that carries other bytes than the first copy (gopacket keeps the first
// and drops the overlap without a word).

package reassembly

import "hash/maphash"

// segmentRing remembers the sequence number, length and hash of each
// side's last segments (up to ringSize a side). A segment that repeats an
// earlier one's range, or covers it whole (a retransmission that joins
// several segments, or goes on past one), with other bytes there is a
// conflict. An overlap that covers only part of an earlier segment cannot
// be compared with its hash. Both sides share it, in the order their
// segments came. Its first ringInline entries are held in place, in the
// stream: an open connection's upgrade request and response and a frame
// each way cost no allocation of their own (a slice of 4 entries made for
// every connection was 48 bytes and its 24-byte header, 4.8 MB for
// 100 000); past them all entries move to more, which grows with the
// segments seen.
type segmentRing struct {
	inl  [ringInline]segmentSum // the first entries; unused ones are zero
	more *ringMore              // all entries once past ringInline, or nil
}

// ringMore holds a segmentRing's entries once past ringInline, and for
// each side the range of sequence numbers its entries lie in: a segment
// that starts at or past the end of it (the next segment of a stream in
// order, nearly all of them) can repeat none of them, and is not compared
// with each. The range only grows (it may cover entries gone from the
// ring: it still holds all there are); a side whose entries spread over
// more than maxSpan (sequence numbers wrap at 2^32, a hostile stream jumps
// about) is compared entry by entry, as before the range was kept.
type ringMore struct {
	seg   []segmentSum
	lo    [2]uint32 // a side's entries lie in [lo, hi): valid when spans[side] is
	hi    [2]uint32
	count [2]uint8 // a side's entries in seg (ringSize at most)
	spans [2]bool  // lo and hi hold for that side
	wide  [2]bool  // that side spread past maxSpan: every segment is compared
}

// maxSpan bounds the range a side's entries may spread over for the
// range check (a quarter of the sequence space: no ambiguity in the
// signed differences it takes).
const maxSpan = 1 << 30

// add records a segment of side sd in the range of its side. Offsets are
// taken from lo, unsigned: within maxSpan of it there is no ambiguity, and
// a segment farther from the range either way makes the side wide.
func (m *ringMore) add(sd int, seq, n uint32) {
	m.count[sd]++
	if m.wide[sd] {
		return
	}
	end := seq + n
	if !m.spans[sd] {
		m.lo[sd], m.hi[sd], m.spans[sd] = seq, end, true
		return
	}
	lo, hi := m.lo[sd], m.hi[sd]
	switch {
	case seq-lo <= maxSpan: // at or after lo
		if end-lo > hi-lo {
			hi = end
		}
	case lo-seq <= maxSpan: // before lo
		if end-seq > hi-seq {
			hi = end
		}
		lo = seq
	default:
		m.wide[sd] = true
		return
	}
	if hi-lo > maxSpan {
		m.wide[sd] = true
		return
	}
	m.lo[sd], m.hi[sd] = lo, hi
}

// after reports whether a segment of side sd at seq starts at or past the
// end of every entry of that side: it repeats none.
func (m *ringMore) after(sd int, seq uint32) bool {
	if m.wide[sd] {
		return false
	}
	if !m.spans[sd] {
		return true // no entry of that side
	}
	off := seq - m.lo[sd]
	return off >= m.hi[sd]-m.lo[sd] && off <= maxSpan
}

// segmentSum is 12 bytes: a 32-bit hash of the bytes misses a conflict
// once in 4 billion comparisons (a 64-bit one made the four segments of
// an open connection 64 bytes, not 48). n is never 0 (segments with
// bytes only), which tells a used entry from an unused one.
type segmentSum struct {
	seq uint32
	n   uint32 // the length, and the side in the top bit (sideBit)
	sum uint32
}

const (
	ringSize   = 64
	ringInline = 4
	sideBit    = 1 << 31
)

var segmentSeed = maphash.MakeSeed()

// entries returns the ring's entries, oldest first.
func (r *segmentRing) entries() []segmentSum {
	if r.more != nil {
		return r.more.seg
	}
	n := 0
	for n < ringInline && r.inl[n].n != 0 {
		n++
	}
	return r.inl[:n]
}

// conflict records a segment of side sd (with bytes) and reports whether
// it carries other bytes than an earlier one of that side where it
// repeats it.
func (r *segmentRing) conflict(sd int, seq uint32, payload []byte) bool {
	if len(payload) == 0 {
		return false
	}
	sum := uint32(maphash.Bytes(segmentSeed, payload))
	n := uint32(len(payload))
	tag := uint32(sd) << 31
	e := segmentSum{seq, n&^sideBit | tag, sum}
	if m := r.more; m != nil && m.after(sd, seq) {
		// In order after every entry of its side: nothing to compare.
		m.seg = r.drop(m.seg, sd, int(m.count[sd]))
		m.seg = append(m.seg, e)
		m.add(sd, seq, n)
		return false
	}
	conflict := false
	count := 0
	seg := r.entries()
	for i := range seg {
		e := &seg[i]
		if e.n&sideBit != tag {
			continue
		}
		count++
		en := e.n &^ sideBit
		if e.seq == seq && en == n {
			return e.sum != sum
		}
		// The earlier segment lies inside this one: compare its bytes.
		if off := int64(int32(e.seq - seq)); off >= 0 && off+int64(en) <= int64(n) {
			if uint32(maphash.Bytes(segmentSeed, payload[off:off+int64(en)])) != e.sum {
				conflict = true
			}
		}
	}
	if r.more == nil {
		if len(seg) < ringInline {
			r.inl[len(seg)] = e
			return conflict
		}
		// Past the entries in place: all move to a slice of their own.
		m := &ringMore{seg: make([]segmentSum, ringInline, 2*ringInline)}
		copy(m.seg, r.inl[:])
		for _, x := range m.seg {
			m.add(int(x.n>>31), x.seq, x.n&^sideBit)
		}
		r.inl = [ringInline]segmentSum{}
		r.more = m
	}
	m := r.more
	m.seg = r.drop(m.seg, sd, count)
	m.seg = append(m.seg, e)
	m.add(sd, seq, n)
	return conflict
}

// drop removes the oldest entry of side sd from seg when that side holds
// ringSize (count) already.
func (r *segmentRing) drop(seg []segmentSum, sd int, count int) []segmentSum {
	if count < ringSize {
		return seg
	}
	tag := uint32(sd) << 31
	for i := range seg {
		if seg[i].n&sideBit == tag {
			r.more.count[sd]--
			return append(seg[:i], seg[i+1:]...)
		}
	}
	return seg
}
