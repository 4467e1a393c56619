// Out-of-order copies: bytes held past a hole and a later segment over
// them are taken as Linux takes them, whichever copy gopacket would keep.

package reassembly

import (
	"bytes"
	"slices"
	"sort"

	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"
)

// heldCopies keeps, by side, a copy of the bytes that came past a hole
// (held out of order), as the receiver holds them. gopacket keeps the
// last copy of such bytes (a later segment over them replaces them, or
// the part it overlaps); Linux keeps the first, unless the later segment
// starts before the earlier, or at its start and goes on past it
// (tcp_data_queue_ofo; Windows keeps the first always), and tshark
// decodes as Linux does. So a later segment over held bytes gets their
// copy put back in its payload, where Linux keeps them, before gopacket
// takes it (or replaces the copy, where Linux takes the segment), and
// other bytes there are a retransmission_conflict: an overlap of any
// part is compared, where the segment ring compares only whole segments.
// Bytes passed on in order are kept first by gopacket as by every
// receiver (it trims what comes again). Only connections with a hole
// hold copies; a segment in order with none held costs one comparison.
type heldCopies struct {
	seg  [2][]heldSeg // by side: disjoint ranges past the bytes passed on, in order
	pos  [2]uint32    // by side: the next sequence number passed on, where on
	on   [2]bool
	size int // bytes held (with heldOverhead a range), in Assembler.oooHeld too
}

// heldSeg is a held range, and the segment its bytes came with (org,
// orgEnd), which Linux compares a later one with: a range is a piece of
// that segment when other ranges were held before it.
type heldSeg struct {
	seq         uint32
	b           []byte
	org, orgEnd uint32
}

// MaxHeldCopies bounds the copies an Assembler holds in all its connections
// (gopacket holds the bytes themselves up to --max-reorder-total): past
// it, segments past a hole are not copied, and an overlap of them is
// compared only as the segment ring compares.
const MaxHeldCopies = 8 << 20

// MaxHeldRanges bounds a side's held ranges (each insertion moves those
// after it), as gopacket's pages are bounded by connection; heldOverhead
// is what a range costs besides its bytes.
const (
	MaxHeldRanges = 4096
	heldOverhead  = 48
)

func (s *stream) copies() *heldCopies {
	if s.rare == nil {
		return nil
	}
	return s.rare.copies
}

// overCopies puts back, in a segment of side sd (its sequence number
// rebased), the bytes held out of order that it overlaps where Linux
// keeps them (and takes its bytes into the copy where Linux takes them),
// and reports whether its bytes there were others; a segment past the
// next sequence number gopacket expects (nextSeq) is copied.
func (s *stream) overCopies(sd int, tcp *layers.TCP, nextSeq tcpasm.Sequence) bool {
	n := len(tcp.Payload)
	if n == 0 || nextSeq < 0 {
		return false
	}
	next, seq := uint32(nextSeq), tcp.Seq
	h := s.copies()
	if h == nil {
		if int32(seq-next) <= 0 {
			return false // in order, or old, and nothing held
		}
		if s.a.oooHeld+n+heldOverhead > MaxHeldCopies {
			s.a.stats.HeldCopyLimit++
			return false
		}
		h = &heldCopies{}
		s.more().copies = h
	}
	h.pos[sd], h.on[sd] = next, true
	h.prune(s.a, sd)
	end := seq + uint32(n)
	org, orgEnd := seq, end // the segment Linux holds its bytes in
	if int32(seq-next) > 0 {
		org = h.coalesce(sd, seq, end)
	}
	conflict := false
	var p []byte // the payload with first copies put back
	for i := h.find(sd, seq); i < len(h.seg[sd]); i++ {
		e := h.seg[sd][i]
		if int32(e.seq-end) >= 0 {
			break
		}
		lo, hi := later(seq, e.seq), earlier(end, e.seq+uint32(len(e.b)))
		first, now := e.b[lo-e.seq:hi-e.seq], tcp.Payload[lo-seq:hi-seq]
		differ := !bytes.Equal(first, now)
		conflict = conflict || differ
		if int32(seq-e.org) < 0 || seq == e.org && int32(end-e.orgEnd) > 0 {
			// Linux takes the later segment here, as gopacket does: the
			// copy held is now its bytes, and they came with it (even
			// the same bytes: what it is compared with next).
			copy(first, now)
			i = h.retake(s.a, sd, i, lo, hi, org, orgEnd)
			continue
		}
		if !differ {
			continue
		}
		if p == nil {
			p = append([]byte(nil), tcp.Payload...)
		}
		copy(p[lo-seq:], first)
	}
	if p != nil {
		tcp.Payload = p
	}
	if int32(seq-next) > 0 {
		h.add(s.a, sd, seq, tcp.Payload, org, orgEnd)
	}
	if h.size == 0 {
		s.dropCopies()
	}
	return conflict
}

// add copies the bytes of a segment past the bytes passed on that no
// held range has yet, each piece between held ranges a range of its own
// (held bytes are never copied again), and joins the ranges that hold
// its bytes (join). A side holds at most MaxHeldRanges.
func (h *heldCopies) add(a *Assembler, sd int, seq uint32, payload []byte, org, orgEnd uint32) {
	h.join(a, sd, seq, payload, org, orgEnd) // first: room for the bytes between
	h.fill(a, sd, seq, payload, org, orgEnd)
	h.join(a, sd, seq, payload, org, orgEnd)
}

// coalesce returns the start of the segment Linux holds a segment of
// side sd past the hole in: the held one it starts at the end of, when
// no held byte is at its start (tcp_ooo_try_coalesce appends it to
// that one, which then ends where it does), or its own.
func (h *heldCopies) coalesce(sd int, seq, end uint32) uint32 {
	seg := h.seg[sd]
	i := h.find(sd, seq)
	if i == 0 || i < len(seg) && int32(seg[i].seq-seq) <= 0 {
		return seq
	}
	prev := seg[i-1]
	if prev.seq+uint32(len(prev.b)) != seq || prev.orgEnd != seq {
		return seq
	}
	for k := i - 1; k >= 0 && int32(seg[k].seq-prev.org) >= 0; k-- {
		if seg[k].org == prev.org && seg[k].orgEnd == seq {
			seg[k].orgEnd = end
		}
	}
	return prev.org
}

// join makes the ranges of side sd whose bytes came with the segment
// [seq, seq+len(payload)), with none between them of another, one range
// of its bytes (those between them held by none too), as Linux drops the
// segments a later one covers: a later segment over them then meets one
// range, not each it covered.
func (h *heldCopies) join(a *Assembler, sd int, seq uint32, payload []byte, org, orgEnd uint32) {
	end := seq + uint32(len(payload))
	seg := h.seg[sd]
	mine := func(e heldSeg) bool { return e.org == org && e.orgEnd == orgEnd }
	// between: the bytes from one range's end to the next's start are
	// the segment's (or none).
	between := func(x, y heldSeg) bool {
		xEnd := x.seq + uint32(len(x.b))
		return xEnd == y.seq || int32(xEnd-seq) >= 0 && int32(y.seq-end) <= 0
	}
	w := h.find(sd, org)
	for r := w; r < len(seg); {
		if int32(seg[r].seq-end) >= 0 {
			w += copy(seg[w:], seg[r:])
			break
		}
		m := r + 1
		for m < len(seg) && mine(seg[r]) && mine(seg[m]) && between(seg[m-1], seg[m]) {
			m++
		}
		if m-r > 1 {
			lo, hi := seg[r].seq, seg[m-1].seq+uint32(len(seg[m-1].b))
			held := 0
			for _, e := range seg[r:m] {
				held += len(e.b)
			}
			added := int(hi-lo) - held - (m-r-1)*heldOverhead
			if a.oooHeld+added <= MaxHeldCopies {
				// Appended to the first range's bytes: a segment that
				// coalesces with the one before it (each of a run past a
				// hole) adds its own bytes, not all of the run's again.
				b := seg[r].b
				for k, e := range seg[r+1 : m] {
					if at := seg[r+k].seq + uint32(len(seg[r+k].b)); at != e.seq {
						b = append(b, payload[at-seq:e.seq-seq]...)
					}
					b = append(b, e.b...)
				}
				seg[w] = heldSeg{lo, b, org, orgEnd}
				h.size += added
				a.oooHeld += added
				w, r = w+1, m
				continue
			}
		}
		w += copy(seg[w:], seg[r:m])
		r = m
	}
	clear(seg[w:])
	h.seg[sd] = seg[:w]
}

// fill copies the bytes of a segment that no held range has, each piece
// between held ranges a range of its own.
func (h *heldCopies) fill(a *Assembler, sd int, seq uint32, payload []byte, org, orgEnd uint32) {
	seg := h.seg[sd]
	end := seq + uint32(len(payload))
	i := h.find(sd, seq)
	at := seq
	for at != end {
		stop := end // the next held range's start, or the segment's end
		if i < len(seg) && int32(seg[i].seq-end) < 0 {
			stop = seg[i].seq
		}
		if int32(stop-at) > 0 {
			n := int(stop - at)
			if a.oooHeld+n+heldOverhead > MaxHeldCopies || len(seg) >= MaxHeldRanges {
				a.stats.HeldCopyLimit++
				break
			}
			b := append([]byte(nil), payload[at-seq:stop-seq]...)
			seg = slices.Insert(seg, i, heldSeg{at, b, org, orgEnd})
			h.size += n + heldOverhead
			a.oooHeld += n + heldOverhead
			i++
		}
		if stop == end {
			break
		}
		at = later(at, seg[i].seq+uint32(len(seg[i].b)))
		if int32(at-end) > 0 {
			at = end
		}
		i++
	}
	h.seg[sd] = seg
}

// retake notes that bytes [lo, hi) of side sd's range i came with the
// segment [seq, end), splitting the range where they are a part of it,
// and returns the index of its last piece. At MaxHeldRanges, the range
// is not split, and only a range taken whole changes its segment.
func (h *heldCopies) retake(a *Assembler, sd, i int, lo, hi, seq, end uint32) int {
	e := h.seg[sd][i]
	eEnd := e.seq + uint32(len(e.b))
	var pieces []heldSeg
	if lo != e.seq {
		pieces = append(pieces, heldSeg{e.seq, e.b[: lo-e.seq : lo-e.seq], e.org, e.orgEnd})
	}
	// (Their capacity ends where they do: join appends to a range.)
	pieces = append(pieces, heldSeg{lo, e.b[lo-e.seq : hi-e.seq : hi-e.seq], seq, end})
	if hi != eEnd {
		pieces = append(pieces, heldSeg{hi, e.b[hi-e.seq:], e.org, e.orgEnd})
	}
	if len(pieces) == 1 {
		h.seg[sd][i] = pieces[0]
		return i
	}
	if len(h.seg[sd])+len(pieces)-1 > MaxHeldRanges {
		a.stats.HeldCopyLimit++
		return i
	}
	h.seg[sd] = slices.Replace(h.seg[sd], i, i+1, pieces...)
	n := (len(pieces) - 1) * heldOverhead
	h.size += n
	a.oooHeld += n
	return i + len(pieces) - 1
}

// find returns the index of the first held range of side sd that ends
// past seq (the ranges are in order and disjoint).
func (h *heldCopies) find(sd int, seq uint32) int {
	seg := h.seg[sd]
	return sort.Search(len(seg), func(i int) bool { return int32(seg[i].seq+uint32(len(seg[i].b))-seq) > 0 })
}

// prune drops what side sd has passed on.
func (h *heldCopies) prune(a *Assembler, sd int) {
	if !h.on[sd] {
		return
	}
	pos := h.pos[sd]
	seg := h.seg[sd]
	k := h.find(sd, pos)
	for _, e := range seg[:k] {
		h.size -= len(e.b) + heldOverhead
		a.oooHeld -= len(e.b) + heldOverhead
	}
	seg = seg[k:]
	if len(seg) > 0 && int32(pos-seg[0].seq) > 0 {
		n := int(pos - seg[0].seq)
		h.size -= n
		a.oooHeld -= n
		seg[0] = heldSeg{pos, seg[0].b[n:], seg[0].org, seg[0].orgEnd}
	}
	if len(seg) == 0 {
		seg = nil
	}
	h.seg[sd] = seg
}

// copiesPassed moves side sd's position on by what gopacket passed on
// (skip, -1 when unknown, and length bytes) and drops the copies behind
// it.
func (s *stream) copiesPassed(sd, skip, length int) {
	h := s.copies()
	if h == nil {
		return
	}
	if skip < 0 {
		h.on[sd] = false // known again at the side's next segment
		return
	}
	h.pos[sd] += uint32(skip + length)
	h.prune(s.a, sd)
	if h.size == 0 {
		s.dropCopies()
	}
}

// dropCopies lets go of the copies (the connection ended, or holds none).
func (s *stream) dropCopies() {
	h := s.copies()
	if h == nil {
		return
	}
	s.a.oooHeld -= h.size
	s.rare.copies = nil
	if *s.rare == (streamRare{}) {
		s.rare = nil
	}
}

// earlier and later return the earlier and the later of two sequence
// numbers (they wrap at 2^32).
func earlier(a, b uint32) uint32 {
	if int32(a-b) <= 0 {
		return a
	}
	return b
}

func later(a, b uint32) uint32 {
	if int32(a-b) >= 0 {
		return a
	}
	return b
}
