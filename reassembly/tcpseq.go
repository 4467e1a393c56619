// What a receiving TCP does that gopacket's reassembly does not: the
// wrap of the sequence space, bytes the receiver drops (past a FIN, on a
// RST), and the bytes lost before a FIN.

package reassembly

import (
	"time"

	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"
)

// seqOrigin is where gopacket sees each side's first sequence number:
// its Sequence.Difference is one short across the wrap of the sequence
// space (it adds 2^32-1, not 2^32, when one number is in the last quarter
// and the other in the first), so a retransmission across the wrap gave
// a byte twice and a gap across it was a byte short. Each side's numbers
// are shifted (after Accept has read them as they are) so that the first
// is at 2^30: gopacket meets the wrap only after 3 GiB of that side.
const seqOrigin = 1 << 30

// rebase returns the sequence number gopacket sees for seq of side sd.
func (s *stream) rebase(sd int, seq uint32) uint32 { return seq - s.base(sd) + seqOrigin }

// discarded returns how many of a segment's last bytes its receiver
// drops: all of a RST's (RFC 9293 §3.5.3: at most a diagnostic, never
// the application's; tshark shows them as the reset cause), and those at
// or past the FIN the side sent before (§3.10.7.4: ignored once the FIN
// is in). They were decoded (a RST's) or dropped by gopacket with no
// word (after a FIN; tshark decodes them if they follow in sequence).
// quiet: the segment reaches no further than the FIN's own number, a
// duplicate the receiver acknowledges as before the FIN (a keep-alive's
// byte of garbage, which tshark marks so): not data past the FIN, not
// counted, and not handed on either (past a hole gopacket would queue it).
func (s *stream) discarded(sd int, tcp *layers.TCP) (drop int, quiet bool) {
	n := len(tcp.Payload)
	if n == 0 || tcp.RST {
		return n, false
	}
	if !s.fin[sd] {
		return 0, false
	}
	past := int64(int32(tcp.Seq + uint32(n) - (s.end[sd] - 1))) // end is the FIN's number + 1
	return int(min(max(past, 0), int64(n))), past == 1 && int32(tcp.Seq-(s.end[sd]-1)) <= 0
}

// dropTail takes a segment's last drop bytes off (discarded), counted
// unless quiet.
func (s *stream) dropTail(sd int, tcp *layers.TCP, drop int, quiet bool) {
	if drop > 0 {
		tcp.Payload = tcp.Payload[:len(tcp.Payload)-drop]
		if !quiet {
			s.decoder().Discarded(sd, drop)
		}
	}
}

// finHole is a side's FIN (with no bytes) that came past the bytes
// gopacket had passed on: gopacket drops such a FIN rather than queue it,
// so bytes lost before it (the last segment before the FIN, often a
// Close frame) were never said lost: lost_bytes 0, no word. Numbers are
// gopacket's (rebased).
type finHole struct {
	next, fin [2]uint32 // gopacket's next number when the FIN came, and the FIN's
	got       [2]uint32 // bytes passed on since (holes pushed through included)
	set       [2]bool
}

// noteFin notes a FIN with no bytes of side sd at seq past gopacket's
// next number (negative: the side has not started).
func (s *stream) noteFin(sd int, seq uint32, next tcpasm.Sequence) {
	if next < 0 || int32(seq-uint32(next)) <= 0 {
		return
	}
	r := s.more()
	if r.fin == nil {
		r.fin = &finHole{}
	}
	if h := r.fin; !h.set[sd] {
		h.set[sd], h.next[sd], h.fin[sd] = true, uint32(next), seq
	}
}

// passed counts n bytes of side sd passed on (or pushed through as lost)
// after a FIN noted by noteFin.
func (s *stream) passed(sd, n int) {
	if s.rare != nil && s.rare.fin != nil && s.rare.fin.set[sd] {
		s.rare.fin.got[sd] += uint32(n)
	}
}

// finHoles says, as the connection ends, the bytes before a noted FIN
// that never came: lost, as a hole pushed through would be.
func (s *stream) finHoles(ts time.Time) {
	if s.rare == nil || s.rare.fin == nil {
		return
	}
	h := s.rare.fin
	for sd := range 2 {
		n := int32(h.fin[sd] - h.next[sd] - h.got[sd])
		switch {
		case !h.set[sd] || n <= 0:
		case s.h2Layer() != nil:
			s.h2Layer().Gap(sd, int(n), ts)
		default:
			s.decoder().Gap(sd, int(n), ts)
		}
	}
}

// lateHoles notes, for a side that sent a segment out of order, gopacket's
// next number (kept up to date as bytes are passed on) and the holes it
// passed over (lost_bytes) since: a segment that comes later into one of
// them (a sender may delay one on purpose: a receiving TCP waits and reads
// it in order; or a retransmission after the wait) was dropped by
// gopacket with no word, its bytes still counted lost. Numbers are
// gopacket's (rebased).
type lateHoles struct {
	next  [2]uint32
	on    [2]bool
	holes [2][maxLateHoles][2]uint32 // start, end; end == start: none
	holeWatch
}

// maxLateHoles bounds the holes remembered per side (the latest kept).
const maxLateHoles = 8

// lateCheck looks at a segment of n bytes at seq of side sd, with
// gopacket's next number nextSeq (negative: not known yet): one that comes past next starts the
// watch; bytes in a hole passed over are said to the decoder.
func (s *stream) lateCheck(sd int, seq uint32, n int, nextSeq tcpasm.Sequence) {
	if n == 0 || nextSeq < 0 {
		return
	}
	next := uint32(nextSeq)
	var l *lateHoles
	if s.rare != nil {
		l = s.rare.late
	}
	if l == nil {
		if int32(seq-next) <= 0 {
			return // in order, or old: nothing passed over yet
		}
		l = &lateHoles{}
		s.more().late = l
	}
	l.next[sd], l.on[sd] = next, true
	late := 0
	end := seq + uint32(n)
	for i := range l.holes[sd] {
		h := &l.holes[sd][i]
		a, b := h[0], h[1]
		if a == b || int32(end-a) <= 0 || int32(b-seq) <= 0 {
			continue
		}
		lo, hi := a, b
		if int32(seq-lo) > 0 {
			lo = seq
		}
		if int32(hi-end) > 0 {
			hi = end
		}
		late += int(hi - lo)
		switch {
		case lo == a:
			h[0] = hi // what is left after the segment
		case hi == b:
			h[1] = lo
		default:
			h[1] = lo // the part after it is given up (rare: a segment inside a hole)
		}
	}
	if late > 0 && s.tlsLayer() == nil && s.h2Layer() == nil {
		s.decoder().LateBytes(sd, late)
	}
}

// latePassed follows gopacket's next number of a watched side as bytes
// are passed on, noting a hole pushed through (skip > 0).
func (s *stream) latePassed(sd, skip, length int) {
	if s.rare == nil || s.rare.late == nil || !s.rare.late.on[sd] {
		return
	}
	l := s.rare.late
	if skip > 0 {
		hs := &l.holes[sd]
		copy(hs[1:], hs[:len(hs)-1]) // the oldest is forgotten
		hs[0] = [2]uint32{l.next[sd], l.next[sd] + uint32(skip)}
	}
	l.next[sd] += uint32(max(skip, 0) + length)
}

// maxWindow is the largest window a TCP may offer (RFC 7323 §2.3: 2^30,
// with the largest scale): a side cannot send further than that past the
// bytes its peer acknowledged, nor acknowledge bytes its peer never sent.
const maxWindow = 1 << 30

// foreign reports whether a segment of side sd lies in another sequence
// space than the connection's: its sequence number more than a largest
// window past the side's end or before its first (lateWindow before it
// when that was the side's SYN), or its acknowledgment number so outside
// the peer's. It is another connection's on the same 4-tuple (in the same
// tenant, or told apart only by what is not read as one: MPLS labels,
// outer addresses, the capture interface), mixed in: the jump to it is no
// loss, and gopacket, given it, counted the distance between the two
// spaces lost (across its quarter rule, from below zero: 4 294 967 256
// bytes). A side first seen after its SYN (a capture that starts midway,
// a connection that goes on after eviction) may resend, and its peer
// acknowledge, up to a window of bytes sent before that; a side that sent
// 3 GiB or more (fullSpace, noted by track) holds every number, also
// once its end has wrapped past its first.
func (s *stream) foreign(sd int, tcp *layers.TCP) bool {
	if s.firstSet[sd] && s.outside(sd, tcp.Seq) {
		return true
	}
	o := sd ^ 1
	return tcp.ACK && s.firstSet[o] && s.outside(o, tcp.Ack)
}

// Bits of stream.space, shifted by side.
const (
	synFirst  = 1 << 0 // the side's first segment was its SYN
	fullSpace = 1 << 2 // the side sent 3 GiB or more
	synAck    = 1 << 4 // the side's first segment was a SYN-ACK (with synFirst): the server
	// serverFinFirst (not by side): side 1's FIN came before any FIN of
	// side 0 and any RST, right after its SYN-ACK and acknowledging side
	// 0's SYN alone: no byte either way (stream.noBytesBefore,
	// stream.connect: ConnectClosed).
	serverFinFirst = 1 << 6
	// serverRstFirst (not by side): side 1's RST came before any FIN or
	// RST, right after its SYN-ACK and acknowledging side 0's SYN alone:
	// accepted, then reset (a listener that closes with SO_LINGER 0),
	// no byte either way (stream.connect: ConnectReset).
	serverRstFirst = 1 << 7
)

// outside reports whether x lies more than maxWindow past side sd's end
// or, in the sequence space that starts at its first, more than
// lateWindow (maxWindow unless its first was its SYN) before its first.
func (s *stream) outside(sd int, x uint32) bool {
	return s.outsideOf(sd, x, s.base(sd), s.end[sd])
}

// outsideOf is outside for the side's space from first to end.
func (s *stream) outsideOf(sd int, x, first, end uint32) bool {
	if s.space&(fullSpace<<sd) != 0 {
		return false
	}
	back := uint64(maxWindow)
	if s.space&(synFirst<<sd) != 0 {
		back = lateWindow
	}
	rel, span := uint64(x-first), uint64(end-first)
	return rel > span+maxWindow && rel < 1<<32-back
}
