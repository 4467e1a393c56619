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
// per gap (as many again under a TLS 1.2 renegotiation's keys pending),
// each of one record (5+MaxRecord bytes), and no more sequence numbers
// than records of the smallest size fit in the bytes lost. Not
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
	on       bool
	buf      []byte // bytes since the gap
	pos      int    // next offset of buf to try as a header
	lost     int64  // bytes from the start of the record the gap cut to buf[0], the gap's included
	tries    int
	triesNew int     // the tries under a renegotiation's keys pending, bounded apart
	ver      [2]byte // the side's record version
	ts       time.Time
	copy_    []byte // a candidate's body: a failed open overwrites it
	first    int    // the first plaintext byte of the record found (-1: none)
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
		if r.pos >= 5+MaxRecord || r.tries >= maxResyncTries && (d.pending == nil || r.triesNew >= maxResyncTries) {
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
		if seq, next, ok := c.tryResync(side, r.pos, l); ok {
			c.resumeAt(side, r.pos, seq, next, ts)
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

// tryResync tries the sequence numbers the record at buf[at:] may have:
// under the side's keys, and, in TLS 1.2 with a renegotiation's keys
// pending, under those (next: its ChangeCipherSpec was among the records
// lost, and the new keys' sequence numbers start at 0 after it).
func (c *Conn) tryResync(side, at, l int) (seq uint64, next, ok bool) {
	d := &c.dir[side]
	r := &d.resync
	var hdr [5]byte
	copy(hdr[:], r.buf[at:])
	body := r.buf[at+5 : at+5+l]
	// Records lost: at least the one the gap cut, at most as many of the
	// smallest size as the bytes lost hold.
	most := (r.lost + int64(at)) / int64(5+d.cipher.overhead())
	try := func(ciph recordCipher, seq, first, last uint64) bool {
		n := &r.tries
		if ciph != d.cipher {
			n = &r.triesNew
		}
		if seq < first || seq > last || *n >= maxResyncTries {
			return false
		}
		*n++
		r.copy_ = append(r.copy_[:0], body...)
		plain, _, err := ciph.open(hdr, r.copy_, seq)
		r.first = -1
		if err == nil && len(plain) > 0 {
			r.first = int(plain[0]) // a handshake record's first message type, maybe
		}
		return err == nil
	}
	oldFirst, oldLast := d.seq+1, d.seq+uint64(max(most, 1))
	// In TLS 1.2 with a renegotiation's keys pending, the record may be
	// under those (next: its ChangeCipherSpec was among the records lost,
	// the ChangeCipherSpec under the old keys, and the new keys' sequence
	// numbers start at 0 after it). Both are tried in turn, each with its
	// own maxResyncTries, so that bytes lost before the ChangeCipherSpec
	// (more records than the tries) do not spend every try on the old keys
	// (until session 39's review they did, and the side ended), and the
	// old keys keep as many as without a renegotiation.
	pend := d.pending
	if pend == nil || c.version != VersionTLS12 || most < 1 {
		pend = nil
	}
	if seq, ok := d.cipher.explicitSeq(body); ok && try(d.cipher, seq, oldFirst, oldLast) {
		return seq, false, true
	}
	if pend != nil {
		if seq, ok := pend.explicitSeq(body); ok && try(pend, seq, 0, uint64(most-1)) {
			return seq, true, true
		}
	}
	for i := uint64(0); r.tries < maxResyncTries || pend != nil && r.triesNew < maxResyncTries; i++ {
		inOld, inNew := oldFirst+i <= oldLast && r.tries < maxResyncTries, pend != nil && i <= uint64(most-1) && r.triesNew < maxResyncTries
		if !inOld && !inNew {
			break
		}
		if inOld && try(d.cipher, oldFirst+i, oldFirst, oldLast) {
			return oldFirst + i, false, true
		}
		if inNew && try(pend, i, 0, uint64(most-1)) {
			return i, true, true
		}
	}
	return 0, false, false
}

// resumeAt decrypts on from the record found at buf[at:] with sequence
// number seq (next: under the renegotiation's keys pending, its
// ChangeCipherSpec lost). The plaintext of the records lost is told to
// OnLost: the bytes lost less each record's header and overhead (for TLS
// 1.3, an upper bound: the padding of a record lost is not known; in TLS
// 1.2, an upper bound too where a renegotiation's handshake records may be
// among them, as their content type was lost with their headers, and it
// is not application data).
func (c *Conn) resumeAt(side, at int, seq uint64, next bool, ts time.Time) {
	d := &c.dir[side]
	r := &d.resync
	span := r.lost + int64(at)
	c.info.Bytes[side] -= int64(len(r.buf) - at) // counted again as records
	rec := int64(5 + d.cipher.overhead())
	typ := r.buf[at] // in clear
	if next {
		// Lost: the old keys' records up to the ChangeCipherSpec (how
		// many is not known: at least that one, its overhead and byte
		// counted), then the new keys' seq records, the first of them
		// the Finished.
		newRec := int64(5 + d.pending.overhead())
		plain := span - rec - 1 - int64(seq)*newRec
		c.fail("side %d: %d bytes lost, among them its ChangeCipherSpec to renegotiation %d's keys and %d records after it (its Finished first): at most %d bytes of application data, decryption goes on under the new keys", side, span, c.renegCount(), seq, plain)
		if c.lost != nil && plain > 0 {
			c.lost(side, int(plain), false, r.ts)
		}
		d.hs.restart()
		d.cipher, d.pending = d.pending, nil
		if seq > 0 {
			c.t12.verify[side], c.t12.long[side] = nil, 0 // its Finished was lost
		}
	} else {
		lostRecs := seq - d.seq
		plain := span - int64(lostRecs)*rec
		// A renegotiation's handshake records may be among those lost
		// (their plaintext no application data) when one is under way, or
		// the record found is a renegotiation's and does not start one
		// (a client's ClientHello, a server's HelloRequest).
		starts := side == c.info.Client && r.first == hsClientHello || side != c.info.Client && r.first == hsHelloRequest
		reneg := c.version == VersionTLS12 && (c.reneg != nil && (c.reneg.hello || c.reneg.orphan != nil) ||
			(typ == typeHandshake && !starts) || typ == typeChangeCipherSpec)
		switch {
		case reneg:
			c.fail("side %d: %d bytes lost, records lost: %d (at most %d bytes of application data: a renegotiation's handshake records may be among them), decryption goes on", side, span, lostRecs, plain)
		default:
			c.fail("side %d: %d bytes lost, records lost: %d (%d bytes of plaintext%s), decryption goes on", side, span, lostRecs, plain, c.boundNote())
		}
		if c.lost != nil && plain > 0 {
			c.lost(side, int(plain), c.version != VersionTLS13 && !reneg, r.ts)
		}
		if len(d.hs.buf) > 0 || d.hs.skip > 0 {
			// The rest of a handshake message was lost: none is read
			// up to the side's next ChangeCipherSpec.
			d.hs.lost = true
			c.t12.lostHS = c.version == VersionTLS12
		}
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
// the sides that wait for a renegotiation's keys (renegwait.go), tells
// OnLost of the bytes of a side still searching for its records, and
// counts those of a record the end cut (endRecord).
func (c *Conn) End(ts time.Time) {
	c.endEarly()
	c.endWaiting()
	for side := range c.dir {
		if c.dir[side].resync.on {
			c.giveUpResync(side, ts)
		}
		c.endFind(side, ts)
		c.endRecord(side)
	}
	if c.lostStart != [2]int64{} && c.info.Error == "" {
		c.noHello() // (a side that found no record: nothing said it)
	}
}

// endRecord counts in a side's TLS bytes those of a record it had not
// finished when the connection ended (a record is counted when whole: the
// connection's end or the capture's cut it), as a gap counts those of a
// record it cuts: captured, not decoded. A record a gap cut before counts
// the bytes lost in it too, as it does when whole. Until now only a side
// whose records were found again by a chain of headers (findrec.go)
// counted them; any other left them counted nowhere: a ClientHello of 74
// bytes whose last 5 the capture's end cut gave client_bytes 0 of 69.
func (c *Conn) endRecord(side int) {
	d := &c.dir[side]
	if d.dead || d.resync.on || d.find != nil {
		return
	}
	part := d.nhdr
	if d.inBody {
		part = 5 + len(d.body)
	}
	c.info.Bytes[side] += int64(part)
	d.nhdr, d.inBody, d.cut = 0, false, false
}
