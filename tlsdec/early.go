package tlsdec

import (
	"encoding/hex"
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
}

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
		// Under the handshake keys: the early data is over.
		e.on, e.cipher = false, nil
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
		c.info.AppBytes[side] += int64(len(plain))
		c.early.passed += int64(len(plain))
		if len(plain) > 0 && c.out != nil {
			c.out(side, plain, ts)
		}
	case typeHandshake:
		// EndOfEarlyData: the handshake keys follow.
		if len(plain) > 0 && plain[0] == hsEndOfEarlyData {
			c.early.on, c.early.cipher = false, nil
		}
	}
	if c.info.Error == "" {
		c.info.Decrypted = true
	}
}

// earlyAnswer notes, at the server's EncryptedExtensions, early data the
// server did not accept that was passed on as the client sent it.
func (c *Conn) earlyAnswer(accepted bool) {
	if c.early.passed > 0 && (!accepted || c.helloRetry) {
		c.fail("the server rejected the client's 0-RTT early data: %d bytes passed on as sent", c.early.passed)
	}
}
