package tlsdec

import (
	"encoding/hex"
	"fmt"
	"time"
)

// hsEndOfEarlyData ends the client's 0-RTT data (RFC 8446 §4.5).
const hsEndOfEarlyData = 5

// earlyState follows a client's 0-RTT early data (RFC 8446 §2.3): the
// records that follow a ClientHello offering early_data, under the
// CLIENT_EARLY_TRAFFIC_SECRET, until EndOfEarlyData or, when the server
// rejected them, until the first record under the handshake keys.
type earlyState struct {
	on      bool         // the client's application data records may be early data
	tried   bool         // the key log was asked for the early secret
	cipher  recordCipher // nil: no early secret, or none of the suites opened the first record
	seq     uint64
	scratch []byte // a record's copy: a failed open clears what it opened
	passed  int64  // plaintext passed on
	// Until the server's answer (EncryptedExtensions with or without
	// early_data, a HelloRetryRequest, or the client's EndOfEarlyData) the
	// plaintext is held: the server may reject it, and a client then sends
	// its request again after the handshake. Until session 36 it was passed
	// on as sent, so a resent request showed as two.
	held     []heldPlain
	heldN    int
	decided  bool
	accepted bool   // (once decided)
	rejected int64  // plaintext the server rejected: discarded
	rejNote  string // the rejection said, a note Info adds to the error (sayRejected)
	out      bool   // early plaintext is being passed on (Early)
	// bound: passed on before any answer, past maxHeldEarly or the total
	// of OnHold; answered: the server's answer was seen (or the client's
	// EndOfEarlyData, or its first record under the handshake keys).
	bound, answered bool
}

// heldPlain is early plaintext held until the server answers.
type heldPlain struct {
	b  []byte
	ts time.Time
}

// maxHeldEarly bounds the early plaintext held per connection; past it,
// what is held is passed on as if accepted (and said if it was not), as
// past the total of OnHold.
const maxHeldEarly = 1 << 18

// earlyRecord handles a client application data record while early data
// may still come, and reports whether it was early data. Until session 35
// such a record made the client's side opaque, with no word of it, and the
// next one ended its decryption ("authentication failed (wrong key?)").
func (c *Conn) earlyRecord(side int, hdr [5]byte, body []byte, ts time.Time) bool {
	e := &c.early
	if !e.tried {
		e.tried = true
		if sec := c.keys.Lookup(c.clientRandom); sec != nil && sec.ClientEarly != nil {
			e.cipher = earlyCipher(sec.ClientEarly, hdr, body, &e.scratch)
		}
	}
	if e.cipher != nil {
		e.scratch = append(e.scratch[:0], body...)
		plain, inner, err := e.cipher.open(hdr, e.scratch, e.seq)
		if err == nil {
			e.seq++
			c.earlyContent(side, inner, plain, ts)
			return true
		}
		// Under the handshake keys without EndOfEarlyData: the server
		// did not accept the early data (RFC 8446 §4.5).
		e.on, e.cipher = false, nil
		c.earlyDecide(side, false)
		if !e.answered && e.bound {
			c.fail("the server rejected the client's 0-RTT early data: %d bytes passed on as sent", e.passed)
		}
		e.answered = true
		return false
	}
	d := &c.dir[side]
	if d.phase == phaseHandshake && d.cipher != nil {
		e.scratch = append(e.scratch[:0], body...)
		if _, _, err := d.cipher.open(hdr, e.scratch, d.seq); err == nil {
			e.on = false
			return false
		}
	}
	c.fail("side %d: 0-RTT early data not decrypted: the key log has no CLIENT_EARLY_TRAFFIC_SECRET for client random %s",
		side, hex.EncodeToString(c.clientRandom[:]))
	return true
}

// earlyCipher returns the TLS 1.3 suite's cipher that opens the first
// early record with secret: the suite is the resumed session's, which the
// ServerHello, later, only confirms.
func earlyCipher(secret []byte, hdr [5]byte, body []byte, scratch *[]byte) recordCipher {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
		s := suites[id]
		if s == nil || s.hash.Size() != len(secret) {
			continue
		}
		ciph, err := newCipher13(s, secret)
		if err != nil {
			continue
		}
		*scratch = append((*scratch)[:0], body...)
		if _, _, err := ciph.open(hdr, *scratch, 0); err == nil {
			return ciph
		}
	}
	return nil
}

func (c *Conn) earlyContent(side int, inner uint8, plain []byte, ts time.Time) {
	switch inner {
	case typeApplicationData:
		e := &c.early
		switch {
		case len(plain) == 0:
		case e.decided && !e.accepted:
			// Rejected already (the server's answer came before the
			// client's last early records): discarded too. Until session
			// 36's review they were passed on, the tail of a request
			// without its head.
			e.rejected += int64(len(plain))
			c.sayRejected()
		case !e.decided && e.heldN+len(plain) <= maxHeldEarly && c.holdEarly(len(plain)):
			e.held = append(e.held, heldPlain{append([]byte(nil), plain...), ts})
			e.heldN += len(plain)
		default:
			e.bound = e.bound || !e.decided
			c.earlyDecide(side, true) // (past the bound: as if accepted)
			c.passEarly(side, plain, ts)
		}
	case typeHandshake:
		// EndOfEarlyData: the server accepted (RFC 8446 §4.5); the
		// handshake keys follow.
		if len(plain) > 0 && plain[0] == hsEndOfEarlyData {
			c.early.on, c.early.cipher, c.early.answered = false, nil, true
			c.earlyDecide(side, true)
		}
	}
	if !c.failed {
		c.info.Decrypted = true
	}
}

// OnHold sets how the early plaintext held until the server's answer is
// counted in a total shared with other connections (the WebSocket
// decoders' --max-pending-total): hold reports whether n more bytes may be
// held, release gives back n held. Past the total, what is held is passed
// on as if accepted, as past maxHeldEarly. Without it only maxHeldEarly
// bounds them.
func (c *Conn) OnHold(hold func(n int) bool, release func(n int)) {
	c.hold, c.release = hold, release
}

func (c *Conn) holdEarly(n int) bool { return c.hold == nil || c.hold(n) }

func (c *Conn) passEarly(side int, plain []byte, ts time.Time) {
	c.info.AppBytes[side] += int64(len(plain))
	c.early.passed += int64(len(plain))
	if c.out != nil {
		c.early.out = true
		c.out(side, plain, ts)
		c.early.out = false
	}
}

// Early reports whether the plaintext being passed on is 0-RTT early data.
func (c *Conn) Early() bool { return c.early.out }

// earlyDecide passes on the early plaintext held, if the server accepted
// it, else discards and counts it.
func (c *Conn) earlyDecide(side int, accepted bool) {
	e := &c.early
	if e.decided {
		return
	}
	e.decided, e.accepted = true, accepted
	if c.release != nil && e.heldN > 0 {
		c.release(e.heldN)
	}
	held := e.held
	e.held, e.heldN = nil, 0
	for _, h := range held {
		if accepted {
			c.passEarly(side, h.b, h.ts)
		} else {
			e.rejected += int64(len(h.b))
		}
	}
	c.sayRejected()
}

// sayRejected notes the early plaintext discarded so far. It is a note,
// not a failure: the server discarded those bytes too, and what the
// connection carried is decrypted whole (Decrypted stays true; until
// session 40 it was false on such a connection, decrypted to its end).
// Info's error is the note, or a failure's with the note after it: the
// failure is what Decrypted false stands for (until a review the note
// held the error's place and a later failure was not said).
func (c *Conn) sayRejected() {
	e := &c.early
	if e.rejected == 0 {
		return
	}
	e.rejNote = fmt.Sprintf("the server rejected the client's 0-RTT early data: %d bytes discarded (a client sends them again after the handshake)", e.rejected)
}

// earlyAnswer decides, at the server's EncryptedExtensions, on the early
// data held; early data passed on (past maxHeldEarly) that the server did
// not accept is said.
func (c *Conn) earlyAnswer(accepted bool) {
	if c.info.Client < 0 {
		return
	}
	c.early.answered = true
	c.earlyDecide(c.info.Client, accepted && !c.helloRetry)
	if c.early.passed > 0 && (!accepted || c.helloRetry) {
		c.fail("the server rejected the client's 0-RTT early data: %d bytes passed on as sent", c.early.passed)
	}
}

// endEarly passes on early data held when the server's answer was never
// seen, and says so.
func (c *Conn) endEarly() {
	if e := &c.early; e.bound && !e.answered && e.passed > 0 {
		c.fail("the server's answer to the client's 0-RTT early data was not seen: %d bytes passed on as sent", e.passed)
		return
	}
	if c.early.decided || c.early.heldN == 0 || c.info.Client < 0 {
		return
	}
	n := c.early.heldN
	c.earlyDecide(c.info.Client, true)
	c.fail("the server's answer to the client's 0-RTT early data was not seen: %d bytes passed on as sent", n)
}
