package wsparse

// Finding frame boundaries in a side's bytes (sniff glue): without a
// handshake, after a gap, or in client bytes held for an answer never seen.

import "time"

// endHeld searches the bytes a client held for an answer that the capture
// does not have (after an upgrade request, or a request cut or rejected)
// for frames, as after a gap, at the end of the connection; what is not
// decoded is counted in skipped_bytes.
func (c *Conn) endHeld(side int, ts time.Time) {
	h := &c.half[side]
	if h.mode != modeAwait {
		return
	}
	pending := h.httpBuf()
	h.dropHTTP()
	if len(pending) == 0 {
		h.mode = modeIgnore
		return
	}
	h.mode = modeSniff
	c.newSniff(h, 1, 1, true)
	c.rare(c.dirOf(side)).Resyncs++
	c.feedSniff(side, pending, ts)
	if h.mode == modeSniff && h.sniff.lock < 0 {
		if i := h.sniff.decide(true); i >= 0 {
			c.acceptChain(side, i, ts)
		}
	}
	if h.mode == modeSniff {
		// No frame boundary found, or the chain's frames left the window.
		c.rare(c.dirOf(side)).SkippedBytes += uint64(h.sniff.searched) // held bytes have no holes
		h.dropSniff()
		h.mode = modeIgnore
	}
}

// startSniff starts looking for WebSocket framing on a side that does not
// speak HTTP, given its first bytes. It reports false where that makes no
// sense: sniffing is off, the other side already speaks HTTP, or the
// stream opens like another protocol (TLS, SSH).
func (c *Conn) startSniff(side int, first []byte, afterGap bool) bool {
	switch {
	case c.cfg.NoSniff && !c.forced:
		return false
	case afterGap:
		// The handshake was cut: frames may well follow.
	case c.hasHS() || c.clientSide >= 0 && !c.forced && !c.ws:
		return false
	}
	if !c.forced && !c.ws && otherProtocol(first) {
		return false
	}
	h := &c.half[side]
	want, minimum := int8(-1), sniffMinFrames
	if o := &c.half[1-side]; o.mode == modeWS && o.masked >= 0 {
		want, minimum = 1-o.masked, 1
	}
	if c.forced {
		want, minimum = -1, 1
	}
	h.mode = modeSniff
	c.newSniff(h, want, minimum, false)
	return true
}

// feedSniff looks for frame boundaries in a side's bytes; once found, the
// side is decoded as WebSocket from there. The search keeps only a window of
// the last bytes: after a gap on a connection known to be WebSocket it goes
// on as far as the data goes (a gap never ends the decoding of a
// direction); without that knowledge it gives up after MaxSniff bytes.
func (c *Conn) feedSniff(side int, data []byte, ts time.Time) {
	h := &c.half[side]
	s := h.sniff
	s.add(data)
	s.stamp(ts)
	if s.lock >= 0 {
		if s.end() >= s.lock {
			c.acceptAt(side, s.lock, ts)
			return
		}
		c.trimSniff(s)
		return
	}
	if i := s.decide(false); i >= 0 {
		c.acceptChain(side, i, ts)
		return
	}
	if s.searched > s.limit && !s.lenient && (s.bounded || !c.hasHS() && !c.ws) && !c.forced {
		if !s.bounded {
			c.hit().Sniff++ // (after a switch to another protocol, upgrade_not_websocket says it)
		}
		c.rare(c.dirOf(side)).SkippedBytes += uint64(s.searched)
		c.ignore(side)
		return
	}
	c.trimSniff(s)
}

// acceptChain decodes a side as WebSocket along the chain s.cands[i]: from
// its start, or from its earliest frame still in the window, or (when even
// its last frame started before the window) from where its frame ends.
func (c *Conn) acceptChain(side, i int, ts time.Time) {
	s := c.half[side].sniff
	ch := &s.cands[i]
	if p := s.replayFrom(ch); p >= 0 {
		c.acceptAt(side, p, ts)
		return
	}
	s.lock = ch.next
	if s.end() >= s.lock {
		c.acceptAt(side, s.lock, ts)
		return
	}
	s.cands, s.want = s.cands[:0], ch.masked // nothing else to follow
	c.trimSniff(s)
}

// acceptAt decodes a side as WebSocket from the frame boundary found at
// offset start of its sniffed bytes (start >= s.base, <= s.end()).
func (c *Conn) acceptAt(side, start int, ts time.Time) {
	h := &c.half[side]
	s := h.sniff
	if start < s.end() {
		masked := s.buf[start-s.base+1]&maskBit != 0
		if start+1 >= s.end() {
			masked = s.want == 1
		}
		if c.clientSide < 0 {
			if masked {
				c.clientSide = int8(side)
			} else {
				c.clientSide = int8(1 - side)
			}
		}
	} else if c.clientSide < 0 && s.want >= 0 {
		c.clientSide = int8(side)
		if s.want == 0 {
			c.clientSide = int8(1 - side)
		}
	}
	c.ws = true
	c.half[side].sniffed = true
	h.mode = modeWS
	h.midStream = true
	buf, base, holes, times := s.buf, s.base, s.holes, s.pieces()
	h.dropSniff()
	c.rare(c.dirOf(side)).SkippedBytes += uint64(start - s.lostBefore(start)) // lost, not skipped
	if c.sum.First.IsZero() {
		c.sum.setFirst(ts)
	}
	// Replay the bytes from the boundary, each piece with its time, holes
	// as gaps.
	c.replay(side, buf, base, start, holes, times, ts)
	// The other side now knows what to expect.
	if o := &c.half[1-side]; o.mode == modeSniff && !c.forced && h.masked >= 0 {
		o.sniff.want, o.sniff.minimum = 1-h.masked, 1
		if i := o.sniff.decide(false); i >= 0 {
			c.acceptChain(1-side, i, ts)
		}
	}
}

// sniffPair takes, at the end of a connection neither of whose sides was
// recognised, two sides that are each nothing but whole frames with content
// that proves them (a connection caught at its closing handshake: one Close
// each way), the client's masked and the server's not.
func (c *Conn) sniffPair(ts time.Time) {
	a, b := &c.half[0], &c.half[1]
	if c.ws || c.hasHS() || a.mode != modeSniff || b.mode != modeSniff {
		return
	}
	ma, okA := a.sniff.pairable()
	mb, okB := b.sniff.pairable()
	if !okA || !okB || ma == mb {
		return
	}
	for side, m := range [2]int8{ma, mb} {
		if m == 1 {
			c.clientSide = int8(side)
		}
		c.half[side].sniff.want = m
	}
	c.half[0].sniffed, c.half[1].sniffed = true, true
	c.acceptAt(0, 0, ts)
	if c.half[1].mode == modeSniff {
		c.acceptAt(1, 0, ts)
	}
}

// otherProtocol recognises the openings of common protocols that are not
// WebSocket, so their connections are dropped at once rather than sniffed.
func otherProtocol(b []byte) bool {
	switch {
	case len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04: // TLS handshake record
		return true
	case len(b) >= 4 && string(b[:4]) == "SSH-":
		return true
	}
	return false
}
