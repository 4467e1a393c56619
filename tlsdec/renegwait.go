package tlsdec

import "time"

// A renegotiation across a hole in one direction. The reassembler holds a
// side's bytes behind a hole (2 s of capture time, or to the end of the
// capture) while the other side's go on, so one side's handshake messages
// may come after the other's that answer them: the server's ServerHello
// and ChangeCipherSpec before the client's ClientHello, or the client's
// ChangeCipherSpec before the server's ServerHello. Both sides then ended
// at their ChangeCipherSpecs ("with no renegotiation before it", "before
// the ServerHello"), however short the hole. A ServerHello that comes
// before its ClientHello is kept for it, and a side that changes keys
// before they are known, while they may still come, holds its records (up
// to maxHeldReneg bytes a connection, and within OnHold's total) until
// they are, then decrypts them; if they never are (past the bound, a gap
// on that side, the keys found unknown, the end), it ends as before, its
// held records counted and told lost.

// maxHeldReneg bounds the records a connection holds for keys to come.
const maxHeldReneg = 1 << 18

// heldRecord is a record held until its side's keys are known.
type heldRecord struct {
	hdr  [5]byte
	body []byte
	ts   time.Time
}

// renegWaiting reports whether a side changed keys before they were
// known and holds its records.
func (c *Conn) renegWaiting(side int) bool { return c.reneg != nil && c.reneg.wait[side] }

// waitKeys makes a side that changed keys before they were known wait
// for them, where they may still come: the ClientHello answered is
// known, or the ServerHello that answers one still to come. It reports
// whether the side waits.
func (c *Conn) waitKeys(side int) bool {
	r := c.reneg
	if r.unknown != "" || c.t12.lostHS || !r.hello && r.orphan == nil {
		return false
	}
	r.wait[side] = true
	c.dir[side].cipher = nil // (phase stays phaseApp: record passes its records here)
	return true
}

// holdReneg holds a record of a side waiting for its keys.
func (c *Conn) holdReneg(side int, hdr [5]byte, body []byte, ts time.Time) {
	r := c.reneg
	n := 5 + len(body)
	if r.heldN+n > maxHeldReneg || c.hold != nil && !c.hold(n) {
		c.giveUpWait(side)
		c.record(side, hdr, body, ts) // (counted and told lost with the others)
		return
	}
	r.heldN += n
	r.held[side] = append(r.held[side], heldRecord{hdr, append([]byte(nil), body...), ts})
	if len(r.held[side]) == 1 {
		c.guessReneg(side) // (renegguess.go)
	}
}

// settleWaiting ends the wait of the sides whose keys became known (they
// change to them and decrypt what they held) or were found unknown.
func (c *Conn) settleWaiting() {
	for side := range c.dir {
		d := &c.dir[side]
		switch {
		case !c.renegWaiting(side):
		case d.pending != nil:
			c.reneg.wait[side] = false
			d.cipher, d.pending, d.seq = d.pending, nil, 0
			c.replayHeld(side)
		case c.reneg.unknown != "":
			c.giveUpWait(side)
		}
	}
}

// giveUpWait ends a waiting side as one that changed to keys not known.
func (c *Conn) giveUpWait(side int) {
	c.reneg.wait[side] = false
	c.endRenegSide(side)
	c.replayHeld(side)
}

// replayHeld passes a side's held records on, as they came.
func (c *Conn) replayHeld(side int) {
	r := c.reneg
	held := r.held[side]
	r.held[side] = nil
	for _, h := range held {
		n := 5 + len(h.body)
		r.heldN -= n
		if c.release != nil {
			c.release(n)
		}
		c.record(side, h.hdr, h.body, h.ts)
	}
}

// endWaiting gives up the sides still waiting at the end of the
// connection, or at a gap on that side.
func (c *Conn) endWaiting() {
	for side := range c.dir {
		if c.renegWaiting(side) {
			c.giveUpWait(side)
		}
	}
}
