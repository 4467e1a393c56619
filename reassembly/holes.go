// Holes: waiting behind a hole as the receiving TCP does.
//
// Bytes that come past a hole are held (gopacket's pages, within its page
// limits) until the hole is filled, as the receiver holds them. What the
// other side says of the hole decides how long:
//   - it acknowledged bytes past the hole's start: the receiver got them
//     and the capture missed them (capture loss). They will never be
//     seen: the hole is pushed through, lost, once GapTimeout (2 s) old,
//     as before: not at once, as a capture can show an ACK before the
//     data it acknowledges (two capture points, each direction mirrored
//     apart, files merged with clocks apart, loopback's reordering), and
//     the bytes would then come late.
//   - it sent segments since the hole opened, none acknowledging past it
//     (duplicate ACKs): the network lost them and the sender will
//     retransmit them, after backoff. The hole waits up to
//     Options.LateWait of capture time, then is pushed through, lost.
//   - it said nothing since (a capture of one direction, or a quiet
//     peer): nothing tells, and the hole waits GapTimeout, as before.

package reassembly

import "time"

// holeWatch is what a side's holes need (in lateHoles, which exists once
// a segment came past a hole).
type holeWatch struct {
	ack    [2]uint32    // the furthest acknowledgment of side sd's bytes by its peer (rebased)
	ackSet [2]bool      // ack[sd] is known
	since  [2]time.Time // when side sd's oldest hole still waited on was noticed (zero: none)
	peer   [2]time.Time // when side sd's peer last sent a segment
	listed bool         // in Assembler.holey
	// The holes side sd opened, oldest first: the number of the first
	// byte seen past each and when (Unix ns), as gopacket times its pages;
	// runEnd is where the latest segment past gopacket's next ended (one
	// that goes on from it opens no hole).
	opened [2][maxLateHoles]struct {
		seq uint32
		at  int64
	}
	nOpened [2]int
	runEnd  [2]uint32
}

// watchHoles notes what a segment of side sd at the (rebased) seq, with
// gopacket's next number next, tells of holes: one past next opens a hole
// of sd; its acknowledgment number says what the peer holds of the other
// side's. Only streams that had a hole pay for it.
func (s *stream) watchHoles(sd int, seq uint32, n int, ack uint32, hasAck bool, next int64, ts time.Time) {
	if s.rare == nil || s.rare.late == nil {
		return
	}
	l := s.rare.late
	if n > 0 && next >= 0 && int32(seq-uint32(next)) > 0 {
		if l.since[sd].IsZero() {
			l.since[sd] = ts
		}
		k := l.nOpened[sd]
		if seq != l.runEnd[sd] && k < maxLateHoles && (k == 0 || int32(seq-l.opened[sd][k-1].seq) > 0) {
			l.opened[sd][k].seq, l.opened[sd][k].at = seq, ts.UnixNano()
			l.nOpened[sd]++
		}
		l.runEnd[sd] = seq + uint32(n)
		if !l.listed {
			l.listed = true
			s.a.holey = append(s.a.holey, s)
		}
	}
	o := 1 - sd
	l.peer[o] = ts
	if hasAck && s.firstSet[o] {
		// The furthest: an earlier ACK coming after a later one (two
		// capture points, loopback) does not take back what the peer
		// holds; one more than a window behind is a new space (seqjump).
		a := s.rebase(o, ack)
		if d := int32(a - l.ack[o]); !l.ackSet[o] || d > 0 || d < -maxWindow {
			l.ack[o], l.ackSet[o] = a, true
		}
	}
}

// pushHoles pushes through, at packet time now, the holes that will not
// be filled (see the top of this file); the others wait, up to LateWait
// (flush's FlushWithOptions).
func (a *Assembler) pushHoles(now time.Time) {
	keep := a.holey[:0]
	for _, s := range a.holey {
		l := s.rare.late
		if !s.ended && !s.stale && a.closing == nil && a.live.get(s.gkey().tuple()) == s && a.pushStream(s, l, now) {
			keep = append(keep, s)
			continue
		}
		l.listed = false
	}
	clear(a.holey[len(keep):])
	a.holey = keep
}

// pushStream pushes s's holes that will not be filled, and reports
// whether either side still holds bytes past a hole.
func (a *Assembler) pushStream(s *stream, l *lateHoles, now time.Time) bool {
	waiting := false
	a.closing = s
	limit := a.asm.MaxBufferedPagesPerConnection
	a.asm.MaxBufferedPagesPerConnection = 1 // a synthetic segment pushes the first queued page
	for gs := range 2 {
		sd := gs ^ int(s.flip)
		for i := 0; ; i++ {
			a.probed = false
			a.synthetic(s, gs, synProbe, 0)
			if !a.probed || a.probeSeq < 0 || !s.firstSet[sd] {
				l.since[sd] = time.Time{}
				break
			}
			next := uint32(a.probeSeq)
			if int32(s.rebase(sd, s.end[sd])-next) <= 0 {
				l.since[sd] = time.Time{} // nothing held
				l.nOpened[sd] = 0
				break
			}
			l.timeHole(sd, next)
			acked := l.ackSet[sd] && int32(l.ack[sd]-next) > 0
			quiet := !l.peer[sd].After(l.since[sd])
			if i > 1<<20 || !(acked || quiet) || now.Sub(l.since[sd]) < a.opts.GapTimeout {
				waiting = true
				break
			}
			a.pushed = false
			a.synthetic(s, gs, synPush, next+1)
			if !a.pushed {
				waiting = true
				break
			}
			// The hole after (if any) is timed by when the bytes past it
			// came (timeHole), or from now if that was not kept.
			l.since[sd] = now
		}
	}
	a.asm.MaxBufferedPagesPerConnection = limit
	a.closing, a.synMode = nil, synNone
	return waiting
}

// timeHole times side sd's hole at gopacket's next number next by the
// first bytes seen past it, forgetting the holes filled or pushed through.
func (l *holeWatch) timeHole(sd int, next uint32) {
	o := l.opened[sd][:l.nOpened[sd]]
	i := 0
	for i < len(o) && int32(o[i].seq-next) <= 0 {
		i++
	}
	l.nOpened[sd] = copy(o, o[i:])
	if l.nOpened[sd] > 0 {
		l.since[sd] = time.Unix(0, o[0].at)
	}
}
