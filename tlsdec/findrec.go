// A side's records found again by a chain of headers (chain.go) after
// bytes lost inside a record: at its start (its hello lost) or, for a
// side whose records are only counted, after any gap.

package tlsdec

import (
	"fmt"
	"time"
)

// findable reports whether a side whose record framing a gap took may
// find it again by a chain of headers: its records are counted only (no
// keys: a session captured after its handshake or whose hellos were
// lost, or keys failed), so nothing is lost to the plaintext's decoder
// but the record count. A side decrypting finds its records by their tag
// (resync.go); one in its handshake with keys still ends (the handshake's
// messages and the sequence numbers of its records lost are not followed).
func (c *Conn) findable(side int) bool {
	d := &c.dir[side]
	return d.cipher == nil && d.pending == nil && !c.renegOpaque(side) && !c.renegWaiting(side) &&
		(d.phase == phaseOpaque || d.phase == phaseClear && !c.sawHello)
}

// startFind begins a chain search after a gap (part: the cut record's
// bytes captured before it, counted already).
func (c *Conn) startFind(side int) {
	d := &c.dir[side]
	d.nhdr, d.inBody, d.cut = 0, false, false
	d.find = &ChainSearch{}
}

// findGap takes a gap in the middle of a chain search: what was searched
// is not decoded, and the search starts again after the gap.
func (c *Conn) findGap(side int) {
	d := &c.dir[side]
	c.info.Skipped[side] += d.find.Total()
	d.find = &ChainSearch{}
}

// feedFind takes a side's bytes while it searches for a record boundary,
// or the first bytes after its start was lost (findNext): those that open
// a plausible record are read as before; others are searched. It reports
// false when the bytes are for the record layer.
func (c *Conn) feedFind(side int, data []byte, ts time.Time) bool {
	d := &c.dir[side]
	if d.find == nil {
		d.findNext = false
		if len(data) >= 5 && PlausibleHeader(data[:5]) {
			return false // the loss ended at a record's end
		}
		d.find = &ChainSearch{}
	}
	c.info.Bytes[side] += int64(len(data)) // (counted as they come, as a side's bytes not decrypted are)
	if d.find.Add(data) {
		c.foundRecords(side, ts)
	}
	return true
}

// foundRecords reads a side's records from the boundary its search found.
func (c *Conn) foundRecords(side int, ts time.Time) {
	d := &c.dir[side]
	f := d.find
	d.find = nil
	rest := f.Rest()
	c.info.Bytes[side] -= int64(len(rest)) // counted again as records
	c.info.Skipped[side] += f.Start()
	if c.info.Skipped[side] > 0 { // (found at once: the loss ended at a record's end after all)
		c.info.Found[side]++
	}
	c.Feed(side, rest, ts)
}

// endFind ends a side's search at the end of the connection: a chain
// whose last record ends at the side's last byte is taken; else every
// byte searched was not decoded.
func (c *Conn) endFind(side int, ts time.Time) {
	d := &c.dir[side]
	if d.find == nil {
		return
	}
	if d.find.Finish() {
		c.foundRecords(side, ts)
		return
	}
	c.info.Skipped[side] += d.find.Total()
	d.find = nil
}

// foundText says how a side's records were found again, for the error of
// a connection whose hello was lost ("" when none was searched for).
func foundText(skipped [2]int64, found [2]int) string {
	s := ""
	for side := range skipped {
		if skipped[side] == 0 && found[side] == 0 {
			continue
		}
		if s != "" {
			s += "; "
		}
		if found[side] == 0 {
			s += fmt.Sprintf("side %d: no record boundary found in %d bytes searched", side, skipped[side])
			continue
		}
		s += fmt.Sprintf("side %d: records found again by their headers, %d bytes searched and not decoded", side, skipped[side])
	}
	return s
}
