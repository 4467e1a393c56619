package wsparse

// A 101 captured before any byte of its request. A server cannot answer
// what it has not received, so this is the capture's order, not the
// connection's: a tap or packet broker that merges the two directions of
// a link, capture queues timestamped apart, captures merged whose clocks
// differ. The answer, and what its side sends after it, wait in the order
// they came for the client's bytes: if they open a request, it is read
// first and the answer after it; if not (the request was sent before the
// capture began, or lost), the answer is believed as it was before
// (request_incomplete). Until session 35 the answer was always believed at
// once and the request, when it came, read as frames: a handful of bogus
// frames, and every client frame after them misread (tshark, reading the
// packets in the capture's order, shows no WebSocket at all).

import "time"

const (
	// heldAnswerMax bounds the memory held for the server (the 101 and
	// what follows it: its bytes, and heldMarkSize for each segment's
	// mark) and heldAnswerFor the capture time: past either, the request
	// is not coming and the answer is believed as it stands. The bytes
	// count in Config.MaxPendingTotal with the clients' held before
	// upgrades: past it, a 101 is believed at once.
	heldAnswerMax = 64 << 10
	heldAnswerFor = time.Second
	heldMarkSize  = 32 // a heldMark on 64-bit platforms
)

// holdState is whether a connection held a 101 for its request: once
// only.
type holdState uint8

const (
	holdNone  holdState = iota
	holdDone            // held, then believed as it stood
	holdAsked           // held, then read after its request
)

// anomaly is what the handshake says of it.
func (s holdState) anomaly() Anomalies {
	if s == holdAsked {
		return AnomAnswerBeforeRequest
	}
	return 0
}

// feedHTTP decodes a side that speaks HTTP: its heads, or around a held
// answer.
func (c *Conn) feedHTTP(side int, data []byte, ts time.Time) []byte {
	if c.ex != nil && c.ex.held != nil {
		return c.feedAroundHeld(side, data, ts)
	}
	return c.feedHeads(side, data, ts)
}

// heldAnswer is a 101 waiting for its request: its side's bytes from the
// 101's head on, and where each Feed's bytes start with its time.
type heldAnswer struct {
	side    int
	data    []byte
	marks   []heldMark
	request bool // the client's bytes open a request (httpStart)
}

type heldMark struct {
	at int
	ts time.Time
}

// holdAnswer holds a parsed 101 to websocket (head, then rest of its
// bytes) when the client side has sent nothing the connection waits on:
// no request unanswered, no head begun, nothing else held.
func (c *Conn) holdAnswer(side int, head *httpHead, hd, rest []byte, ts time.Time) bool {
	if head.status != 101 || !head.hasToken("Upgrade", "websocket") || c.hasHS() || int(c.clientSide) == side || c.reqBad {
		return false
	}
	ex := c.exchange()
	if ex.hold != holdNone || len(ex.reqs) > 0 || ex.cutReq != nil {
		return false
	}
	if c.sideSeen != nil && !c.sideSeen(c, 1-side) {
		return false // a capture filter kept one direction (src port 80): no request comes
	}
	client := &c.half[1-side]
	if client.mode != modeHTTP || client.httpHalf != nil && (len(client.buf) > 0 || client.long || client.body != bodyNone) {
		return false
	}
	n := len(hd) + len(rest)
	if n > heldAnswerMax || n > c.pendingRoom() {
		return false
	}
	ex.hold = holdDone
	c.clientSide = int8(1 - side)
	c.pendingHeld += n // in the bytes held before upgrades (MaxPendingTotal)
	data := make([]byte, 0, n)
	ex.held = &heldAnswer{side: side, data: append(append(data, hd...), rest...), marks: []heldMark{{0, ts}}}
	c.answers = append(c.answers, c)
	return true
}

// ExpireAnswers believes the 101s held for their requests longer than
// heldAnswerFor of capture time at now: the caller's clock, the time of
// any packet of the capture or a tick, so that a 101 followed by silence
// on both sides is decided on time, its records coming then. Until
// session 37 the bound was checked only when the server sent more, and
// such a 101 waited for its connection's end, its records after later
// connections' ones.
func (sh *Shared) ExpireAnswers(now time.Time) {
	keep := sh.answers[:0]
	for _, c := range sh.answers {
		switch {
		case c.ended || c.ex == nil || c.ex.held == nil: // decided already
		case c.requestBegun():
			// Its request began within the second: its head's end
			// decides (feedAroundHeld), or the server's bytes past the
			// second, or the connection's end.
		case now.Sub(c.ex.held.marks[0].ts) > heldAnswerFor:
			c.releaseAnswer(false)
		default:
			keep = append(keep, c)
		}
	}
	clear(sh.answers[len(keep):])
	sh.answers = keep
}

// requestBegun reports whether the client's bytes since the 101 was held
// begin a request, or may (too few to tell). Until a review in session 37
// ExpireAnswers believed such a 101 at the flush past its second, the
// head's first bytes then left and the rest of the request read as
// frames, where until session 37 the head's end read it as asked.
func (c *Conn) requestBegun() bool {
	held := c.ex.held
	h := &c.half[held.side^1]
	return held.request || h.mode == modeHTTP && h.httpHalf != nil && len(h.buf) > 0
}

// feedAroundHeld takes a side's bytes while a 101 is held: the server's
// are added to it; the client's are read first if they open a request,
// and the answer after them.
func (c *Conn) feedAroundHeld(side int, data []byte, ts time.Time) []byte {
	held := c.ex.held
	if side == held.side {
		if len(held.data)+len(data)+heldMarkSize*(len(held.marks)+1) <= heldAnswerMax && len(data) <= c.pendingRoom() && ts.Sub(held.marks[0].ts) <= heldAnswerFor {
			held.marks = append(held.marks, heldMark{len(held.data), ts})
			held.data = append(held.data, data...)
			c.pendingHeld += len(data)
			return nil
		}
		// Past a bound: the request is not coming (or the process holds
		// enough), the answer is believed and these bytes read after it.
		c.releaseAnswer(false)
		return data
	}
	if !held.request {
		// Whether the client's bytes open a request is decided within
		// their first few KiB (httpStart): asked again of a head begun
		// only until then, as copying the head at each of its segments
		// cost 64 KiB (--max-http-header) a segment past it.
		b := data
		if h := &c.half[side]; h.httpHalf != nil && len(h.buf) > 0 {
			b = append(h.buf[:len(h.buf):len(h.buf)], data...)
		}
		switch httpStart(b) {
		case -1:
			// No request: the answer is believed first, as it stood.
			c.releaseAnswer(false)
			return data
		case 1:
			held.request = true
		}
	}
	rest := c.feedHeads(side, data, ts)
	if h := &c.half[side]; h.mode == modeHTTP && len(c.ex.reqs) == 0 && h.body == bodyNone {
		return rest // a head begun: the answer waits for its end
	}
	c.releaseAnswer(true)
	return rest
}

// releaseAnswer feeds the held answer's bytes as they came; after the
// request when asked is set (the handshake says the capture's order).
func (c *Conn) releaseAnswer(asked bool) {
	held := c.ex.held
	c.ex.held = nil
	c.pendingHeld -= len(held.data)
	if asked {
		c.ex.hold = holdAsked
		c.sum.Anomalies |= AnomAnswerBeforeRequest
	}
	for i, m := range held.marks {
		end := len(held.data)
		if i+1 < len(held.marks) {
			end = held.marks[i+1].at
		}
		c.feed(held.side, held.data[m.at:end], m.ts)
	}
}

// releaseHeld believes a held answer before the connection goes on with
// anything but a side's bytes: a gap, a FIN or RST, its end.
func (c *Conn) releaseHeld() {
	if c.ex != nil && c.ex.held != nil {
		c.releaseAnswer(false)
	}
}
