// Package h2 de-frames HTTP/2 connections (RFC 9113) far enough to find
// WebSockets carried in extended CONNECT streams (RFC 8441): frames,
// SETTINGS, HPACK header blocks with CONTINUATION, padding, DATA,
// RST_STREAM and GOAWAY. Flow control is not followed (a capture does not
// need it). Each WebSocket stream's DATA bytes go to a wsparse.Conn made by
// wsparse.NewStreamConn; ordinary requests are counted.
//
// Like wsparse, it is push-based: bytes arrive in pieces as reassembly
// hands them on, Feed never blocks, fails or panics, memory is bounded
// (a frame's payload is never held whole), and the bytes it does not
// decode are counted and flagged (h2_malformed).
package h2

import (
	"encoding/binary"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Preface is the client connection preface (RFC 9113 §3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Detect reports whether a side's first bytes start like the client
// preface: "PRI " is enough, no HTTP/1 request uses that method.
func Detect(b []byte) bool {
	n := min(len(b), len(Preface))
	return n >= 4 && string(b[:n]) == Preface[:n]
}

// DetectServer reports whether a side's first bytes start like an HTTP/2
// server's: a SETTINGS frame on stream 0 (RFC 9113 §3.4), which servers
// (node's among them) send before the client's preface arrives. No
// HTTP/1 server speaks first.
func DetectServer(b []byte) bool {
	if len(b) < frameHeaderLen {
		return false
	}
	n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	return n%6 == 0 && n <= 6*64 && b[3] == frameSettings && b[4] == 0 && binary.BigEndian.Uint32(b[5:9]) == 0
}

// MaybeServer reports whether b, a side's first bytes shorter than a
// frame header, could still be the start of a server's SETTINGS frame
// (DetectServer tells once 9 bytes have come).
func MaybeServer(b []byte) bool {
	switch {
	case len(b) == 0 || len(b) >= frameHeaderLen:
		return false
	case len(b) < 3:
		return b[0] == 0 && (len(b) < 2 || b[1] <= 1)
	}
	h := [frameHeaderLen]byte{3: frameSettings}
	copy(h[:], b)
	return DetectServer(h[:])
}

// Frame types (RFC 9113 §6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags (RFC 9113 §6.1, §6.2).
const (
	flagEndStream  = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

// SETTINGS parameters this decoder reads (RFC 9113 §6.5.2, RFC 8441 §3).
const (
	settingHeaderTableSize       = 0x1
	settingEnableConnectProtocol = 0x8
)

const frameHeaderLen = 9 // RFC 9113 §4.1

// maxTable bounds the HPACK dynamic table a side may grow to, whatever its
// peer's SETTINGS_HEADER_TABLE_SIZE says (default 4 096).
const maxTable = 64 << 10

// reader is one direction's de-framing state.
type reader struct {
	side    int
	preface int // bytes of the client preface still to check (client side)
	dead    bool

	hdr  [frameHeaderLen]byte
	hdrN int

	// The frame being read.
	in      bool
	typ     byte
	flags   byte
	stream  uint32
	pre     [6]byte // pad length, then a priority or promised stream
	preN    int
	preLen  int
	content int // content bytes still to come (after pre, before padding)
	pad     int // padding bytes still to come (unknown while pre is read)
	padKnow bool
	body    [8]byte // SETTINGS entry, RST_STREAM code, GOAWAY head
	bodyN   int
	setting [6]byte
	setN    int

	// The header block being read: its stream (0: none open), its first
	// frame's type and END_STREAM flag.
	block      uint32
	blockType  byte
	blockEnd   bool
	dec        *hpack.Decoder
	hpackBad   bool // the dynamic table is lost: header blocks are not decoded
	fields     []hpack.HeaderField
	listSize   int
	listOver   bool
	allowTable uint32
}

// feed de-frames bytes of one direction.
func (c *Conn) feed(r *reader, p []byte, ts time.Time) {
	for len(p) > 0 {
		if r.dead {
			c.skipped(r.side, len(p))
			return
		}
		if r.preface > 0 {
			at := len(Preface) - r.preface
			n := min(len(p), r.preface)
			if string(p[:n]) != Preface[at:at+n] {
				c.skipped(r.side, at) // the preface's bytes seen so far were none
				c.desync(r, ts)
				continue
			}
			r.preface -= n
			p = p[n:]
			continue
		}
		if !r.in {
			n := copy(r.hdr[r.hdrN:], p)
			r.hdrN += n
			p = p[n:]
			if r.hdrN < frameHeaderLen {
				return
			}
			r.hdrN = 0
			c.startFrame(r, ts)
			continue
		}
		p = c.payload(r, p, ts)
	}
}

// startFrame reads a frame header.
func (c *Conn) startFrame(r *reader, ts time.Time) {
	h := r.hdr[:]
	length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	r.typ, r.flags = h[3], h[4]
	r.stream = binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1)
	r.in, r.preN, r.preLen, r.bodyN, r.setN = true, 0, 0, 0, 0
	if r.block != 0 && (r.typ != frameContinuation || r.stream != r.block) {
		// A header block must go on in CONTINUATION frames on its
		// stream (RFC 9113 §6.10): its fields are lost.
		c.flag(wsAnomMalformed)
		r.block = 0
		r.fields, r.listSize, r.listOver = r.fields[:0], 0, false
		if r.dec != nil {
			r.dec.Close()
		}
	}
	if r.flags&flagPadded != 0 && (r.typ == frameData || r.typ == frameHeaders || r.typ == framePushPromise) {
		r.preLen = 1
	}
	switch {
	case r.typ == frameHeaders && r.flags&flagPriority != 0:
		r.preLen += 5
	case r.typ == framePushPromise:
		r.preLen += 4
	}
	r.pad, r.padKnow = 0, r.preLen == 0
	if length < r.preLen {
		c.flag(wsAnomMalformed)
		r.preLen, r.padKnow = 0, true
	}
	r.content = length - r.preLen
	if r.padKnow {
		c.contentStart(r, ts)
	}
	if length == 0 {
		c.endFrame(r, ts)
	}
}

// contentStart is called once a frame's prefix is read: padding is known.
func (c *Conn) contentStart(r *reader, ts time.Time) {
	r.padKnow = true
	if r.preLen > 0 && r.flags&flagPadded != 0 && (r.typ == frameData || r.typ == frameHeaders || r.typ == framePushPromise) {
		r.pad = int(r.pre[0])
		if r.pad > r.content {
			c.flag(wsAnomMalformed) // RFC 9113 §6.1: padding longer than the payload
			r.pad = r.content
		}
		r.content -= r.pad
	}
	switch r.typ {
	case frameHeaders, framePushPromise:
		c.openBlock(r, ts)
	case frameContinuation:
		if r.block == 0 {
			c.flag(wsAnomMalformed) // no header block to continue
		}
	}
}

// payload consumes the current frame's payload bytes and returns the rest.
func (c *Conn) payload(r *reader, p []byte, ts time.Time) []byte {
	for len(p) > 0 && r.in {
		switch {
		case !r.padKnow:
			n := copy(r.pre[r.preN:r.preLen], p)
			r.preN += n
			p = p[n:]
			if r.preN == r.preLen {
				c.contentStart(r, ts)
				if r.content == 0 && r.pad == 0 {
					c.endFrame(r, ts)
				}
			}
		case r.content > 0:
			n := min(len(p), r.content)
			r.content -= n
			c.content(r, p[:n], ts)
			p = p[n:]
			if r.content == 0 && r.pad == 0 {
				c.endFrame(r, ts)
			}
		default:
			n := min(len(p), r.pad)
			r.pad -= n
			p = p[n:]
			if r.pad == 0 {
				c.endFrame(r, ts)
			}
		}
	}
	return p
}

// content handles a piece of a frame's content (its payload without
// prefix and padding).
func (c *Conn) content(r *reader, p []byte, ts time.Time) {
	switch r.typ {
	case frameData:
		c.data(r, p, ts)
	case frameHeaders, framePushPromise, frameContinuation:
		if r.block != 0 {
			c.blockBytes(r, p)
		}
	case frameSettings:
		if r.flags&0x1 != 0 || r.stream != 0 {
			return // an ACK carries nothing; one on a stream is an error the peer handles
		}
		for len(p) > 0 {
			n := copy(r.setting[r.setN:], p)
			r.setN += n
			p = p[n:]
			if r.setN == len(r.setting) {
				r.setN = 0
				c.setting(r, binary.BigEndian.Uint16(r.setting[:2]), binary.BigEndian.Uint32(r.setting[2:]))
			}
		}
	case frameRSTStream, frameGoAway:
		r.bodyN += copy(r.body[r.bodyN:], p)
	}
}

// endFrame acts on a frame whose payload is all read.
func (c *Conn) endFrame(r *reader, ts time.Time) {
	r.in = false
	switch r.typ {
	case frameData:
		if r.flags&flagEndStream != 0 {
			c.endSide(r.stream, r.side, ts)
		}
	case frameHeaders, framePushPromise, frameContinuation:
		if r.block != 0 && r.flags&flagEndHeaders != 0 {
			c.closeBlock(r, ts)
		}
	case frameRSTStream:
		if r.bodyN >= 4 {
			c.reset(r.stream, r.side, binary.BigEndian.Uint32(r.body[:4]), ts)
		} else {
			c.flag(wsAnomMalformed)
		}
	case frameGoAway:
		if r.bodyN >= 8 {
			c.goAway(r.side, binary.BigEndian.Uint32(r.body[4:8]))
		} else {
			c.flag(wsAnomMalformed)
		}
	}
}

// openBlock starts a header block (HEADERS or PUSH_PROMISE).
func (c *Conn) openBlock(r *reader, ts time.Time) {
	r.block, r.blockType, r.blockEnd = r.stream, r.typ, r.flags&flagEndStream != 0
	if r.block == 0 {
		c.flag(wsAnomMalformed) // RFC 9113 §6.2: HEADERS on stream 0
		r.block = 1<<31 - 1     // still decoded: the dynamic table must follow
	}
	r.fields, r.listSize, r.listOver = r.fields[:0], 0, false
	if r.dec != nil {
		r.dec.SetEmitEnabled(true)
	}
}

// blockBytes decodes a piece of a header block.
func (c *Conn) blockBytes(r *reader, p []byte) {
	if r.hpackBad {
		return
	}
	if r.dec == nil {
		if r.allowTable == 0 {
			r.allowTable = 4096
		}
		r.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) {
			r.listSize += int(f.Size())
			if r.listSize > c.cfg.MaxHeaderList {
				r.listOver = true
				r.dec.SetEmitEnabled(false) // decoded still, to keep the table
				return
			}
			r.fields = append(r.fields, f)
		})
		r.dec.SetMaxStringLength(c.cfg.MaxHeaderList)
		r.dec.SetAllowedMaxDynamicTableSize(r.allowTable) // a SETTINGS_HEADER_TABLE_SIZE seen before this first block
	}
	if _, err := r.dec.Write(p); err != nil {
		c.hpackLost(r)
	}
}

// closeBlock ends a header block and acts on its fields.
func (c *Conn) closeBlock(r *reader, ts time.Time) {
	stream, typ, end := r.block, r.blockType, r.blockEnd
	r.block = 0
	if r.hpackBad {
		c.headersLost(stream, r.side, ts)
	} else if r.dec != nil {
		if err := r.dec.Close(); err != nil {
			c.hpackLost(r)
			c.headersLost(stream, r.side, ts)
		} else if typ == frameHeaders {
			c.headers(r, stream, r.fields, ts)
		}
	} else if typ == frameHeaders {
		c.headers(r, stream, nil, ts) // an empty block
	}
	r.fields = r.fields[:0]
	if cap(r.fields) > 64 {
		r.fields = nil // a long list once: not held for the connection's life
	}
	if typ == frameHeaders && end {
		c.endSide(stream, r.side, ts)
	}
}

// hpackLost marks a side's dynamic table lost: its later header blocks
// cannot be decoded (RFC 7541 keeps no resync point).
func (c *Conn) hpackLost(r *reader) {
	if !r.hpackBad {
		r.hpackBad = true
		c.flag(wsAnomMalformed)
	}
}

// desync stops decoding a side: its frame boundaries are lost.
func (c *Conn) desync(r *reader, ts time.Time) {
	r.dead = true
	c.flag(wsAnomMalformed)
	c.lostSide(r.side, ts)
}
