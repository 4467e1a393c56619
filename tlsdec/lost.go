// Bytes lost: a record a gap cut, and a side's first bytes lost with its
// TLS hello.

package tlsdec

import (
	"fmt"
	"strings"
	"time"
)

// HelloLost begins the Error of a connection whose TLS hello was among
// the bytes lost at the start of a side (its first segments not
// captured): no key log can decrypt it, as the randoms and the cipher
// suite were in it.
const HelloLost = "TLS hello not captured"

// lostAtStart takes n bytes lost before anything of a side was captured:
// its TLS hello was among them (a ClientHello or ServerHello is a side's
// first message). The side's records are read from the next byte, as
// those of a capture started after the handshake, counted and not
// decrypted, and Info's error says what was lost. False when the side
// has begun.
func (c *Conn) lostAtStart(side, n int) bool {
	d := &c.dir[side]
	if c.info.Bytes[side] != 0 || d.nhdr != 0 || d.inBody || d.dead || d.resync.on || d.phase != phaseClear {
		return false
	}
	c.lostStart[side] += int64(n)
	d.findNext = true // (the loss may end inside a record: findrec.go)
	return true
}

// noHello sets the error of a connection whose records went on without
// the hellos that give their keys: lost with a side's first bytes
// (HelloLost), or not captured at all (NoHandshake).
func (c *Conn) noHello() {
	switch {
	case c.lostStart != [2]int64{}:
		c.fail("%s", c.helloLost())
	case !c.sawHello:
		c.fail("%s", NoHandshake)
	}
}

// noClientHello is the error of a ServerHello with no ClientHello before
// it: HelloLost once a side's first bytes are known lost.
const noClientHello = "no ClientHello seen: client random unknown"

// amendLost brings a HelloLost error up to date: a side's first bytes may
// be found lost after it was set (gopacket hands on a side whose start is
// a hole after the other).
func (c *Conn) amendLost(i *Info) {
	if c.lostStart == [2]int64{} {
		return
	}
	if strings.HasPrefix(i.Error, HelloLost) || i.Error == noClientHello {
		i.Error = c.helloLost()
	}
	if strings.HasPrefix(i.StopError, HelloLost) || i.StopError == noClientHello {
		i.StopError = c.helloLost()
	}
}

// HelloLostFrom is a HelloLost error with the sides numbered from the
// client (the reassembler's side client is side 0): the sides of Info's
// are the reassembler's, whose side 0 is the first seen, the server's
// when the SYN was not captured.
func (c *Conn) HelloLostFrom(client int) string {
	if client == 1 {
		i := &c.info
		return helloLostText([2]int64{c.lostStart[1], c.lostStart[0]}, [2]int64{i.Skipped[1], i.Skipped[0]}, [2]int{i.Found[1], i.Found[0]})
	}
	return c.helloLost()
}

// helloLost says which sides' first bytes were lost, and how their
// records were found again where the loss ended inside one.
func (c *Conn) helloLost() string { return helloLostText(c.lostStart, c.info.Skipped, c.info.Found) }

func helloLostText(lostStart, skipped [2]int64, found [2]int) string {
	var lost []string
	for side, n := range lostStart {
		if n > 0 {
			lost = append(lost, fmt.Sprintf("side %d (%d)", side, n))
		}
	}
	t := fmt.Sprintf("%s: lost with the first bytes of %s, records counted", HelloLost, strings.Join(lost, " and "))
	if f := foundText(skipped, found); f != "" {
		t += " (" + f + ")"
	}
	return t
}

// lostRecord passes over a record that a gap cut: its sequence number is
// spent and its plaintext told to the OnLost function. A record under no
// keys it can open (the side opaque, or a TLS 1.3 ChangeCipherSpec) is
// only counted. A CBC record whose last blocks were lost ends the side as
// a gap past a record does: its padding, up to 256 bytes, is not known,
// and a plaintext length told wrong would put the WebSocket decoder inside
// a payload where a frame header is (it reported frames made of payload
// bytes, without an anomaly).
func (c *Conn) lostRecord(side int, ts time.Time) {
	d := &c.dir[side]
	if d.phase == phaseOpaque || d.cipher == nil || c.version == VersionTLS13 && d.hdr[0] != typeApplicationData {
		return
	}
	if c.version == VersionTLS12 && d.hdr[0] != typeApplicationData {
		c.lostControl12(side) // no application data in it (reneg.go)
		return
	}
	n, exact, ok := d.cipher.plainLen(d.body, d.cutEnd, d.seq)
	if !ok {
		d.dead = true
		c.failStop("side %d: record %d cut by lost bytes at its end, its plaintext's length unknown: TLS records not followed past it", side, c.info.Records[side])
		if c.lost != nil {
			d.deadOn = true
			c.lost(side, 5+d.need, true, ts)
		}
		return
	}
	d.seq++
	bound := ""
	if !exact {
		bound = "at most " // the padding and content type were lost too
	}
	c.fail("side %d: record %d cut by lost bytes: %s%d bytes of plaintext lost, decryption goes on", side, c.info.Records[side], bound, n)
	if c.lost != nil && n > 0 {
		c.lost(side, n, exact, ts)
	}
}
