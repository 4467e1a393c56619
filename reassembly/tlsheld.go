// A connection whose first bytes after a loss at its start open no TLS
// record: held while a chain of record headers is searched for in them
// (tlsdec.ChainSearch), then handed to the TLS layer or, when they are no
// TLS, to the decoder as they came.

package reassembly

import (
	"time"
	"unsafe"

	"github.com/wsdump/wsdump/tlsdec"
)

// heldStart is a stream whose first bytes are held undecided: a side that
// lost its first bytes (its TLS hello maybe among them, the loss ending
// inside a record: a flight over several segments, only the first lost)
// sent bytes that open no record. Until now such a connection was not
// taken for TLS at all.
type heldStart struct {
	find   [2]*tlsdec.ChainSearch // by side, for the sides held
	data   []byte                 // the bytes held, both sides', in order
	chunks []heldChunk
	held   int // bytes counted in the hold's bound and the decoders' --max-pending-total: data's and chunks' (heldChunkCost each)
	// copies: by side, the bytes its search keeps of its own (Held), counted
	// in --max-pending-total beside held (not in the hold's bound: a chain
	// is searched in the bytes held). Until a review they were in neither:
	// a held connection took up to about twice its 73 KB.
	copies [2]int
}

type heldChunk struct {
	side  int8
	gap   bool // n bytes lost
	start bool // before the side's first bytes: in lostStart, told to a TLS layer when it is made
	late  bool // came late (flushed from behind a hole: Shared.FeedLate), and is passed on so
	n     int
	ts    time.Time
}

// lateNow reports whether the bytes coming now come late (FeedLate).
func (s *stream) lateNow() bool { return s.a.shared != nil && s.a.shared.Late() }

// maxHeldStart bounds the bytes held undecided: a record header is
// within 5+MaxRecord bytes of the loss's end, and its chain within as
// many records again.
const maxHeldStart = 4 * (5 + tlsdec.MaxRecord)

// heldChunkCost is what a piece held costs beside its bytes (its
// heldChunk), counted with them in the hold's bound and the total: one-byte
// segments would otherwise hold 40 bytes of records for each byte counted.
const heldChunkCost = int(unsafe.Sizeof(heldChunk{}))

// holdCost counts n bytes of a piece held (and its heldChunk) in the
// hold's bound and in --max-pending-total; false: over one of them.
func (s *stream) holdCost(n int) bool {
	h := s.rare.held
	cost := n + heldChunkCost
	if h.held+cost > maxHeldStart || !s.decoder().HoldStart(cost) {
		return false
	}
	h.held += cost
	return true
}

// holdStart begins holding a stream's first bytes (of side sd, which
// lost its start) when they open no TLS record.
func (s *stream) holdStart(sd int, data []byte, ts time.Time) bool {
	if s.resumed || s.rare == nil || s.rare.lostStart[sd] == 0 || len(data) >= 5 && tlsdec.PlausibleHeader(data[:5]) {
		return false
	}
	s.rare.held = &heldStart{}
	s.holdMore(sd, data, ts)
	return true
}

// holdMore takes the bytes of a stream held undecided (consumed: true).
func (s *stream) holdMore(sd int, data []byte, ts time.Time) {
	h := s.rare.held
	f := h.find[sd]
	if f == nil {
		switch {
		case tlsdec.Detect(data) || tlsdec.DetectMidSession(data):
			s.decideHeld(true, ts)
			s.feedTLS(sd, data, ts)
			return
		case s.rare.lostStart[sd] == 0:
			// A side that lost nothing opens with no record: no TLS.
			s.decideHeld(false, ts)
			s.feed(sd, data, ts, "")
			return
		}
		f = &tlsdec.ChainSearch{Limit: 5 + tlsdec.MaxRecord}
		h.find[sd] = f
	}
	if !s.holdCost(len(data)) {
		s.decideHeld(false, ts)
		s.feed(sd, data, ts, "")
		return
	}
	h.data = append(h.data, data...)
	h.chunks = append(h.chunks, heldChunk{side: int8(sd), late: s.lateNow(), n: len(data), ts: ts})
	switch {
	case f.Add(data):
		s.decideHeld(f.Found(), ts)
	case !s.countCopy(sd):
		s.decideHeld(false, ts) // (this piece among the chunks passed on)
	}
}

// countCopy brings a side's search copy's count in --max-pending-total up
// to what it keeps now; false: over the total.
func (s *stream) countCopy(sd int) bool {
	h := s.rare.held
	n := 0
	if f := h.find[sd]; f != nil {
		n = f.Held()
	}
	switch d := n - h.copies[sd]; {
	case d > 0 && !s.decoder().HoldStart(d):
		return false
	case d < 0:
		s.decoder().ReleasePending(-d)
	}
	h.copies[sd] = n
	return true
}

// holdGap takes a gap of a stream held undecided.
func (s *stream) holdGap(sd, n int, ts time.Time) {
	h := s.rare.held
	f := h.find[sd]
	// A side that sent nothing yet lost its start (its hello maybe):
	// the other side's bytes came first and are held.
	h.chunks = append(h.chunks, heldChunk{side: int8(sd), gap: true, start: f == nil, late: s.lateNow(), n: n, ts: ts})
	if f == nil {
		s.rare.lostStart[sd] += n
	} else {
		h.find[sd] = &tlsdec.ChainSearch{Limit: 5 + tlsdec.MaxRecord} // (bytes after a gap: a new search)
		s.countCopy(sd)                                               // (the old one's copy given back)
	}
	if !s.holdCost(0) {
		s.decideHeld(false, ts) // (the gap among the chunks passed on)
	}
}

// endHeld decides a stream still held at its end: TLS if a side's bytes
// end with a chain of headers.
func (s *stream) endHeld(ts time.Time) {
	if s.rare == nil || s.rare.held == nil {
		return
	}
	tls := false
	for _, f := range s.rare.held.find {
		if f != nil && f.Finish() {
			tls = true
		}
	}
	s.decideHeld(tls, ts)
}

// decideHeld ends the holding: the bytes held go, in the order they came,
// at their times and as late as they came, to a TLS layer made now (tls)
// or to the decoder.
func (s *stream) decideHeld(tls bool, ts time.Time) {
	h := s.rare.held
	s.rare.held = nil
	s.decoder().ReleasePending(h.held + h.copies[0] + h.copies[1])
	if tls {
		s.makeTLS(ts)
	}
	p := 0
	if sh := s.a.shared; sh != nil {
		defer sh.FeedLate(sh.Late()) // (as it was for the bytes coming now)
	}
	for _, c := range h.chunks {
		sd := int(c.side)
		if sh := s.a.shared; sh != nil {
			sh.FeedLate(c.late) // (as when it came: a time before Last no step back)
		}
		switch {
		case c.gap && tls && c.start:
			// (told by makeTLS, with lostStart)
		case c.gap && tls:
			s.tlsLayer().Gap(sd, c.n, c.ts)
		case c.gap:
			s.decoder().Gap(sd, c.n, c.ts)
		case tls:
			s.feedTLS(sd, h.data[p:p+c.n], c.ts)
		default:
			s.feed(sd, h.data[p:p+c.n], c.ts, "")
		}
		if !c.gap {
			p += c.n
		}
		if tls && s.tlsLayer() == nil {
			tls = false // given up (feedTLS): the rest to the decoder
		}
	}
}

// makeTLS makes the stream's TLS layer, told of the bytes each side lost
// before its first.
func (s *stream) makeTLS(ts time.Time) {
	s.more().tls = tlsdec.NewConn(s.a.opts.Keys, s.plaintext)
	s.rare.tls.OnLost(s.plaintextLost)
	s.rare.tls.OnHold(s.holdEarly, s.releaseEarly)
	s.rare.tls.SetGuessBudget(&s.a.guess)
	for side, n := range s.rare.lostStart {
		s.rare.tls.Gap(side, n, ts) // its hello among them (tlsdec.HelloLost)
	}
}
