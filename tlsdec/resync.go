package tlsdec

import (
	"encoding/binary"
	"time"
)

// Resynchronisation after bytes lost past a record's end (RFC 8446 §5.3,
// RFC 5246 §6.2.3.3). The record framing is found again by a header of
// the side's version carrying application data or an alert (in TLS 1.2,
// a renegotiation's handshake record or ChangeCipherSpec too); the sequence
// number, which the lost records spent, by trying the numbers after the
// last one known on that record: the AEAD tag opens with the right one
// only. Until session 36 the side ended there and its later bytes were
// only counted.
//
// Bounds: a header can only be within the first 5+MaxRecord bytes after
// the gap (the rest of the record it cut); at most maxResyncTries opens
// per gap, each of one record (5+MaxRecord bytes), and no more sequence
// numbers than records of the smallest size fit in the bytes lost. Not
// recovered (the side ends as before, its later bytes counted): CBC
// suites (the plaintext length of a record lost whole is not known: its
// padding is up to 256 bytes), more records lost than maxResyncTries, a
// TLS 1.3 KeyUpdate among the lost records (the next record is under keys
// not tried), and a gap before the handshake's end.

// maxResyncTries bounds the record opens spent finding a side's records
// again after one gap.
const maxResyncTries = 128

// resyncState is a side searching for its records after a gap.
type resyncState struct {
	on    bool
	buf   []byte // bytes since the gap
	pos   int    // next offset of buf to try as a header
	lost  int64  // bytes from the start of the record the gap cut to buf[0], the gap's included
	tries int
	ver   [2]byte // the side's record version
	ts    time.Time
	copy_ []byte // a candidate's body: a failed open overwrites it
}

// resyncable reports whether a side may find its records again after a
// gap past a record's end.
func (c *Conn) resyncable(side int) bool {
	d := &c.dir[side]
	return d.phase == phaseApp && d.cipher != nil && d.cipher.overhead() > 0 && !d.switchApp && !d.keyUpdate
}

// startResync begins the search after n bytes lost with part bytes of
// the current record captured before them.
func (c *Conn) startResync(side int, part, n int, ts time.Time) {
	d := &c.dir[side]
	r := &d.resync
	if !r.on {
		*r = resyncState{on: true, ver: [2]byte{d.hdr[1], d.hdr[2]}, ts: ts}
		r.lost = int64(part)
	} else {
		r.lost += int64(len(r.buf)) // a second gap: what came between is lost too
		r.buf, r.pos = r.buf[:0], 0
	}
	r.lost += int64(n)
	d.nhdr, d.inBody, d.cut = 0, false, false
}

// feedResync takes a side's bytes while it searches for its records.
func (c *Conn) feedResync(side int, data []byte, ts time.Time) {
	d := &c.dir[side]
	r := &d.resync
	c.info.Bytes[side] += int64(len(data))
	r.buf = append(r.buf, data...)
	ov := d.cipher.overhead()
	for ; r.pos+5 <= len(r.buf); r.pos++ {
		if r.pos >= 5+MaxRecord || r.tries >= maxResyncTries {
			c.giveUpResync(side, ts)
			return
		}
		h := r.buf[r.pos : r.pos+5]
		l := int(binary.BigEndian.Uint16(h[3:]))
		if !c.resyncType(h[0]) || h[1] != r.ver[0] || h[2] != r.ver[1] || l < ov || l > MaxRecord {
			continue
		}
		if len(r.buf) < r.pos+5+l {
			return // wait for its body
		}
		if seq, ok := c.tryResync(side, r.pos, l); ok {
			c.resumeAt(side, r.pos, l, seq, ts)
			return
		}
	}
}

// resyncType reports whether a record of type typ may come under the
// side's keys: application data and alerts; in TLS 1.2 a renegotiation's
// handshake records and ChangeCipherSpec too (skipped, a renegotiation
// after the gap was missed, and both sides ended at its switch).
func (c *Conn) resyncType(typ uint8) bool {
	switch typ {
	case typeApplicationData, typeAlert:
		return true
	case typeHandshake, typeChangeCipherSpec:
		return c.version == VersionTLS12
	}
	return false
}

// tryResync tries the sequence numbers the record at buf[at:] may have.
func (c *Conn) tryResync(side, at, l int) (uint64, bool) {
	d := &c.dir[side]
	r := &d.resync
	var hdr [5]byte
	copy(hdr[:], r.buf[at:])
	body := r.buf[at+5 : at+5+l]
	// Records lost: at least the one the gap cut, at most as many of the
	// smallest size as the bytes lost hold.
	most := (r.lost + int64(at)) / int64(5+d.cipher.overhead())
	first, last := d.seq+1, d.seq+uint64(max(most, 1))
	try := func(seq uint64) bool {
		if seq < first || seq > last || r.tries >= maxResyncTries {
			return false
		}
		r.tries++
		r.copy_ = append(r.copy_[:0], body...)
		_, _, err := d.cipher.open(hdr, r.copy_, seq)
		return err == nil
	}
	if seq, ok := d.cipher.explicitSeq(body); ok && try(seq) {
		return seq, true
	}
	for seq := first; seq <= last && r.tries < maxResyncTries; seq++ {
		if try(seq) {
			return seq, true
		}
	}
	return 0, false
}

// resumeAt decrypts on from the record found at buf[at:] with sequence
// number seq. The plaintext of the records lost is told to OnLost: the
// bytes lost less each record's header and overhead (for TLS 1.3, an
// upper bound: the padding of a record lost is not known).
func (c *Conn) resumeAt(side, at, l int, seq uint64, ts time.Time) {
	d := &c.dir[side]
	r := &d.resync
	lostRecs := seq - d.seq
	span := r.lost + int64(at)
	plain := span - int64(lostRecs)*int64(5+d.cipher.overhead())
	c.info.Bytes[side] -= int64(len(r.buf) - at) // counted again as records
	c.fail("side %d: %d bytes lost, records lost: %d (%d bytes of plaintext%s), decryption goes on", side, span, lostRecs, plain, c.boundNote())
	if c.lost != nil && plain > 0 {
		c.lost(side, int(plain), c.version != VersionTLS13, r.ts)
	}
	d.seq = seq
	// The search's buffers go with it: kept, a connection that once lost
	// bytes held up to 2 records' more for its life (72 KB against 40 KB
	// after a gap among 16 KB records; until session 36's review).
	rest := r.buf[at:]
	*r = resyncState{}
	c.Feed(side, rest, ts)
}

// boundNote says that a count of TLS 1.3 plaintext is an upper bound.
func (c *Conn) boundNote() string {
	if c.version == VersionTLS13 {
		return ", at most: padding not known"
	}
	return ""
}

// giveUpResync ends a side whose records were not found again: the bytes
// since the cut record's start and every later byte are told as lost.
func (c *Conn) giveUpResync(side int, ts time.Time) {
	d := &c.dir[side]
	r := &d.resync
	d.dead, d.deadOn = true, true
	c.failStop("side %d: %d bytes lost, TLS records not followed past them", side, r.lost)
	if c.lost != nil {
		c.lost(side, int(r.lost)+len(r.buf), true, r.ts) // (the side ends: nothing to misread)
	} else {
		d.deadOn = false
	}
	*r = resyncState{}
}

// End passes on 0-RTT early data held for an answer that never came, ends
// the sides that wait for a renegotiation's keys (renegwait.go), and
// tells OnLost of the bytes of a side still searching for its records.
func (c *Conn) End(ts time.Time) {
	c.endEarly()
	c.endWaiting()
	for side := range c.dir {
		if c.dir[side].resync.on {
			c.giveUpResync(side, ts)
		}
	}
}
