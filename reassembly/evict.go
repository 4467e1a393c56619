// Eviction under MaxConnections: classes and candidates, closing one
// connection in gopacket with synthetic segments, parking WebSocket
// connections, and the ledger that bounds the tombs.

package reassembly

import (
	"cmp"
	"container/list"
	"encoding/binary"
	"slices"
	"time"

	"github.com/google/gopacket"
)

// tombLedger bounds the tombs, the same way in an Assembler and over the
// workers of a Parallel: by whole evictions, oldest first, once more than
// twice MaxConnections tombs were made since the oldest eviction kept.
type tombLedger struct {
	ev    []struct{ pkt, n int64 }
	total int64
}

// add records n tombs made by the eviction at packet pkt and returns the
// packet of the oldest eviction whose tombs are kept.
func (l *tombLedger) add(pkt int64, n, max int) int64 {
	if n > 0 {
		l.ev = append(l.ev, struct{ pkt, n int64 }{pkt, int64(n)})
		l.total += int64(n)
	}
	for len(l.ev) > 1 && l.total > 2*int64(max) {
		l.total -= l.ev[0].n
		l.ev = l.ev[1:]
	}
	if len(l.ev) == 0 {
		return pkt
	}
	return l.ev[0].pkt
}

// keep is how many connections an eviction leaves: a tenth is freed.
func (a *Assembler) keep() int { return a.opts.MaxConnections - a.opts.MaxConnections/10 }

// Eviction classes, evicted in this order.
const (
	classIdle      = iota // finished, late segments of a closed one, or no payload yet (half-open)
	classOther            // payload, but no WebSocket (yet)
	classWebSocket        // an upgrade request or WebSocket framing seen, or TLS: parked when evicted
)

func (s *stream) class() int {
	switch {
	case s.stale || s.rst || s.fin[0] && s.fin[1] || !s.payload:
		return classIdle
	case s.conn != nil && s.conn.IsWebSocket() && !s.conn.Done():
		return classWebSocket
	case s.tlsLayer() != nil && (s.conn == nil || !s.conn.Done()):
		// TLS (a ClientHello seen): its upgrade is not visible until
		// decrypted, and a TLS session cannot be decrypted from its
		// middle: parked with its TLS state like a WebSocket connection.
		return classWebSocket
	}
	return classOther
}

// candidate is a connection ranked for eviction.
type candidate struct {
	class int
	seen  time.Time
	first int64 // index of the packet that opened it: unique, the same with -j
	s     *stream
}

func (x candidate) compare(y candidate) int {
	if x.class != y.class {
		return x.class - y.class
	}
	if c := x.seen.Compare(y.seen); c != 0 {
		return c
	}
	return cmp.Compare(x.first, y.first)
}

// candidates returns the first k connections to evict, in order.
func (a *Assembler) candidates(k int) []candidate {
	c := a.cands[:0]
	for s := range a.live.all() {
		c = append(c, candidate{class: s.class(), seen: s.seenTS(), first: s.first, s: s})
	}
	slices.SortFunc(c, candidate.compare)
	a.cands = c
	return c[:min(max(k, 0), len(c))]
}

// evictStreams evicts the given connections, exactly these: each is
// closed in gopacket (bytes waiting behind holes are pushed through first,
// as gaps) and ended or parked.
// evictAndEndParked evicts the given connections and, first, ends the m
// connections parked longest (parked ones are bounded by MaxConnections),
// then forgets the tombs of evictions before packet cutoff.
func (a *Assembler) evictAndEndParked(c []candidate, m int, cutoff int64) {
	a.evicting = true
	a.hold()
	for ; m > 0 && a.parkQ.Len() > 0; m-- {
		a.endParked(a.parkQ.Front().Value.(*stream))
	}
	for _, x := range c {
		a.closeStream(x.s)
	}
	for k, t := range a.tombs {
		if t.seq < cutoff {
			a.bury(k, t)
		}
	}
	clear(a.cands) // the streams gone
	a.release()
	a.evicting = false
}

// bury forgets a tomb.
func (a *Assembler) bury(k tuple, t tomb) {
	delete(a.tombs, k)
	if a.onGone != nil {
		a.onGone(t.id)
	}
}

// tombFor returns the tomb of a flow key, either way, and the key of its
// side 0.
func (a *Assembler) tombFor(k flowKey) (tomb, flowKey, bool) {
	tk := k.tuple()
	if t, ok := a.tombs[tk]; ok {
		return t, k, true
	}
	t, ok := a.tombs[tk.reverse()]
	return t, k.reverse(), ok
}

// Modes of the synthetic segments of closeStream.
const (
	synNone  = iota
	synProbe // Accept notes the half's next sequence number and drops it
	synPush  // one byte ahead: with a page limit of 1, the first queued page is pushed through
	synClose // a RST at the next sequence number: the half is closed
)

// closeStream ends one connection in gopacket now, which has no call for
// it: synthetic segments first push the bytes it holds out of order
// through (as after a gap), then close each half. ReassemblyComplete
// follows, as for any connection.
func (a *Assembler) closeStream(s *stream) {
	if a.closing != nil || a.live.get(s.gkey().tuple()) != s {
		return
	}
	a.closing = s
	inPacket := a.inPacket
	a.inPacket = false
	limit := a.asm.MaxBufferedPagesPerConnection
	a.asm.MaxBufferedPagesPerConnection = 1
	for gs := 0; gs < 2 && a.live.get(s.gkey().tuple()) == s; gs++ {
		for i := 0; ; i++ {
			a.probed, a.pushed = false, false
			a.synthetic(s, gs, synProbe, 0)
			if !a.probed || a.probeSeq < 0 || i > 1<<20 {
				break
			}
			a.synthetic(s, gs, synPush, uint32(a.probeSeq)+1)
			if !a.pushed {
				break
			}
		}
		seq := uint32(0)
		if a.probed && a.probeSeq >= 0 {
			seq = uint32(a.probeSeq)
		}
		a.synthetic(s, gs, synClose, seq)
	}
	a.asm.MaxBufferedPagesPerConnection = limit
	a.inPacket = inPacket
	a.closing, a.synMode = nil, synNone
}

// synthetic hands gopacket an empty segment of s's gopacket half gs.
func (a *Assembler) synthetic(s *stream, gs, mode int, seq uint32) {
	key := s.gkey()
	if gs == 1 {
		key = key.reverse()
	}
	src, dst := key.tcp.Endpoints()
	h := &a.synHdr
	*h = [20]byte{}
	copy(h[0:2], src.Raw())
	copy(h[2:4], dst.Raw())
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	if mode == synClose {
		h[13] = 0x04 // RST
	}
	if err := a.synTCP.DecodeFromBytes(h[:], gopacket.NilDecodeFeedback); err != nil {
		return
	}
	a.synMode = mode
	a.synCtx = assemblerContext{ts: a.now}
	a.asm.AssembleWithContext(key.net, &a.synTCP, &a.synCtx)
	a.synMode = synNone
}

// parkedFor returns the parked connection of a flow key, either way.
func (a *Assembler) parkedFor(key flowKey) *stream {
	if p := a.parked[key]; p != nil {
		return p
	}
	return a.parked[key.reverse()]
}

// park keeps an evicted WebSocket connection's decoder for when it goes
// on; past MaxConnections parked, the oldest is ended.
func (a *Assembler) park(s *stream) {
	a.stats.Parked++
	a.parked[s.key()] = s
	s.setPark(&parking{at: a.parkQ.PushBack(s), pkt: a.pkt, seen: s.seenTS(), resumeEnd: s.end, resumeSet: s.firstSet})
}

// oldestParked returns the keys of the n connections parked longest
// (Parallel: which to end over all workers).
func (a *Assembler) oldestParked(n int) []candidate {
	var c []candidate
	for e := a.parkQ.Front(); e != nil && len(c) < n; e = e.Next() {
		s := e.Value.(*stream)
		c = append(c, candidate{class: int(s.parked().pkt), seen: s.parked().seen, first: s.first})
	}
	return c
}

func (a *Assembler) unpark(s *stream) {
	delete(a.parked, s.key())
	a.parkQ.Remove(s.parked().at)
	s.parked().at = nil
}

// endParked ends a parked connection for good.
func (a *Assembler) endParked(s *stream) {
	a.unpark(s)
	s.complete(true)
}

// endParkedBefore ends the parked connections idle since before t (Finish
// ends the rest in connection order).
func (a *Assembler) endParkedBefore(t time.Time) {
	for e := a.parkQ.Front(); e != nil; {
		s := e.Value.(*stream)
		e = e.Next()
		if s.seenTS().Before(t) {
			a.unpark(s)
			s.complete(false)
		}
	}
}

// parking is what a parked connection needs to go on where it was.
type parking struct {
	at        *list.Element // in Assembler.parkQ while parked
	resume    [2]bool       // gone on: align the side's next segment to end
	trim      [2]uint32     // bytes to drop from the side's next data (already decoded)
	resumeEnd [2]uint32     // where the decoded bytes ended when it was parked
	resumeSet [2]bool
	pkt       int64 // when it was parked: the packet, and its latest packet's time
	seen      time.Time
}
