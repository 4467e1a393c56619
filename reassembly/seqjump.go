// A side whose sequence numbers jump past a largest window: a capture gap
// of more than 1 GiB, told from another connection mixed in (foreign).

package reassembly

import (
	"time"

	"github.com/google/gopacket/layers"
)

// seqJump follows, by side, the segments of another sequence space that
// may be the side's own after a capture gap of more than a largest window
// (rotated files missing in the middle of a large transfer), not another
// connection's: the side's segments come in it while acknowledging the
// peer's own space, the peer's acknowledge into it, and none of the side's
// old space comes meanwhile. Another connection mixed in has numbers of
// its own on both sides (both outside, 3 times in 4 for random initial
// numbers), and the first connection's segments keep coming between its
// own. Until session 37 the rest of the side after such a gap was taken
// for another connection's: skipped, not decoded (seq_space_mixed).
type seqJump struct {
	shift [2]uint32 // added to the side's first number: the spaces taken on
	cand  [2]jumpCand
	mixed bool    // a segment outside both sides' spaces: another connection is mixed in
	taken [2]bool // a side's space taken on once: never again (no flip back)
	other bool    // a segment taken for another connection's that was no candidate's
	// The spaces before the jump taken on, by side (its and its peer's,
	// when that moved): where each side's end was (from), its shift then
	// (fromShift), and the bytes the jump was counted lost (lost). A
	// segment of the old spaces after it shows the jump was no capture
	// gap (takeBack).
	from, fromShift [2]uint32
	fromOn          [2]bool
	lost            int
	jumpSide        int
}

// jumpCand is a side's candidate space.
type jumpCand struct {
	on     bool
	lo, hi uint32 // the numbers its segments reach
	segs   int    // the side's segments in it, acknowledging the peer's space
	acks   int    // the peer's segments, at its own end, acknowledging into it
	// The peer's numbers those reach, from its end (plo): skipped until
	// the candidate is taken on, then passed over in the peer's space too.
	plo, phi uint32
}

// jumpSegs and jumpAcks are what takes a candidate space on: two of the
// side's segments and one of the peer's (session 36's review's case has three
// frames each way after the gap).
const jumpSegs, jumpAcks = 2, 1

// base is the number side sd's space starts from: its first, moved by
// the jumps taken on.
func (s *stream) base(sd int) uint32 {
	if s.rare == nil || s.rare.jump == nil {
		return s.firstSeq[sd]
	}
	return s.firstSeq[sd] + s.rare.jump.shift[sd]
}

// own notes a segment of side sd in the connection's spaces: a candidate
// of that side is not its own (the old space goes on).
func (j *seqJump) own(sd int) {
	if j.cand[sd].on {
		j.cand[sd], j.other = jumpCand{}, true
	}
}

// jumped looks at a segment of side sd that foreign took for another
// connection's and reports whether it is, after all, in a space taken on
// now as the connection's (the jump told as lost, at ts). A candidate is
// taken on at the side's segment or the peer's that completes it; its
// segments before are skipped, and the side's number after them goes on
// from its end (a segment that completes it is the first decoded).
func (s *stream) jumped(sd int, tcp *layers.TCP, ts time.Time) bool {
	if s.rare == nil || s.rare.jump == nil {
		s.more().jump = &seqJump{}
	}
	j := s.rare.jump
	o := sd ^ 1
	if s.oldSpace(sd, tcp) {
		s.takeBack()
		return !s.foreign(sd, tcp)
	}
	if j.mixed || !tcp.ACK || tcp.SYN || !s.firstSet[o] || !s.firstSet[sd] {
		j.other = true
		return false
	}
	seqOut, ackOut := s.outside(sd, tcp.Seq), s.outside(o, tcp.Ack)
	switch {
	case seqOut && ackOut:
		j.mixed, j.other = true, true
		j.cand = [2]jumpCand{}
		return false
	case seqOut:
		c := &j.cand[sd]
		if j.taken[sd] {
			j.other = true
			return false
		}
		if !c.on || uint64(tcp.Seq-c.lo) > uint64(c.hi-c.lo)+maxWindow {
			if c.on {
				j.other = true
			}
			*c = jumpCand{on: true, lo: tcp.Seq, hi: tcp.Seq}
		}
		if c.segs+1 >= jumpSegs && c.acks >= jumpAcks && !s.fin[sd] {
			s.takeOn(sd, ts)
			return !s.foreign(sd, tcp)
		}
		if end := tcp.Seq + uint32(len(tcp.Payload)); int32(end-c.hi) > 0 {
			c.hi = end
		}
		c.segs++
		return false
	}
	// ackOut: acknowledging into the peer's candidate (or the first
	// sign of one: the peer's next number, where its next segment starts),
	// from the side's own end: another connection's numbers on this side
	// would have to fall within lateWindow of it.
	c := &j.cand[o]
	if d := tcp.Seq - s.end[sd]; d > lateWindow && d < 1<<32-lateWindow {
		j.other = true
		return false
	}
	switch {
	case !c.on && !j.taken[o]:
		*c = jumpCand{on: true, lo: tcp.Ack, hi: tcp.Ack}
	case !c.on || uint64(tcp.Ack-c.lo) > uint64(c.hi-c.lo)+maxWindow:
		j.other = true
		return false
	}
	if c.acks == 0 {
		c.plo, c.phi = tcp.Seq, tcp.Seq
	}
	if c.phi == tcp.Seq {
		c.phi += uint32(len(tcp.Payload))
	}
	if c.acks++; c.segs >= jumpSegs && c.acks >= jumpAcks && !s.fin[o] {
		s.takeOn(o, ts)
		return !s.foreign(sd, tcp)
	}
	return false
}

// takeOn takes side x's candidate space on as its own: its numbers go on
// for gopacket from the side's end, and the bytes between the end and the
// candidate's first segment are lost (modulo 4 GiB: a longer gap is not
// known), counted in lost_bytes; the candidate's segments so far stay
// skipped.
func (s *stream) takeOn(x int, ts time.Time) {
	j := s.rare.jump
	c := j.cand[x]
	j.cand[x], j.taken[x] = jumpCand{}, true
	lost := int(c.lo - s.end[x])
	for y := range j.from {
		j.from[y], j.fromShift[y], j.fromOn[y] = s.end[y], j.shift[y], true
	}
	j.lost, j.jumpSide = lost, x
	j.shift[x] += c.hi - s.end[x]
	s.end[x] = c.hi
	if p := x ^ 1; c.acks > 0 && c.plo == s.end[p] && !s.fin[p] {
		// The peer's segments skipped meanwhile: passed over, as they
		// were counted (skipped), not left as a hole.
		j.shift[p] += c.phi - c.plo
		s.end[p] = c.phi
	}
	switch {
	case s.tlsLayer() != nil:
		s.tlsLayer().Gap(x, lost, ts)
	case s.h2Layer() != nil:
		s.h2Layer().Gap(x, lost, ts)
	default:
		s.decoder().GapUnsure(x, lost, ts)
	}
	s.decoder().SeqJump(!j.other)
}

// oldSpace reports whether a segment of side sd, taken for another
// connection's, lies in the spaces the connection had before a jump it
// took on: the jumped side's segment there, acknowledging its peer's
// space, or its peer's segment acknowledging into it, either with bytes
// past its side's end at the jump or, without bytes, at it (not a copy of
// older ones). A capture gap ends
// the old space; segments of it after the jump show that the new space
// was another's mixed in (or forged: two segments of the side and one of
// its peer's, on a quiet connection, would else take the conversation
// over, its own segments skipped as another's from then on).
func (s *stream) oldSpace(sd int, tcp *layers.TCP) bool {
	j := s.rare.jump
	x := j.jumpSide
	if !j.fromOn[x] || !tcp.ACK || tcp.SYN {
		return false
	}
	o := x ^ 1
	if n := uint32(len(tcp.Payload)); n == 0 && tcp.Seq != j.from[sd] || n > 0 && int32(tcp.Seq+n-j.from[sd]) <= 0 {
		return false // not past the side's old end: a stale copy, no sign
	}
	if sd == x {
		return !s.outsideOf(x, tcp.Seq, s.firstSeq[x]+j.fromShift[x], j.from[x]) &&
			!s.outsideOf(o, tcp.Ack, s.firstSeq[o]+j.fromShift[o], max(j.from[o], s.end[o]))
	}
	return !s.outside(sd, tcp.Seq) && !s.outsideOf(x, tcp.Ack, s.firstSeq[x]+j.fromShift[x], j.from[x])
}

// takeBack goes back to the spaces the connection had before the jump it
// took on (oldSpace): each side's old end goes on for gopacket from where
// it is now, the jump is no loss (the decoder's lost count given back)
// and the new space's segments were another connection's
// (seq_space_mixed, not seq_space_jump). What was decoded of them stays.
func (s *stream) takeBack() {
	j := s.rare.jump
	for y := range j.from {
		if j.fromOn[y] {
			j.shift[y] += j.from[y] - s.end[y]
			s.end[y] = j.from[y]
		}
	}
	j.fromOn = [2]bool{}
	s.decoder().SeqJumpBack(j.jumpSide, j.lost)
}
