// Package wsparse decodes WebSocket (RFC 6455) conversations from the two
// byte streams of a connection. It knows nothing about packets: callers feed
// it reassembled bytes and it reports handshakes, frames, messages and the
// connection's end through a Sink.
package wsparse

import "encoding/binary"

// Opcode is the 4-bit frame opcode (RFC 6455 §5.2).
type Opcode uint8

const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether the opcode is a control opcode (RFC 6455 §5.5:
// the most significant opcode bit is set).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsReserved reports whether the opcode is not defined by RFC 6455 (§5.2:
// 0x3-0x7 and 0xB-0xF are reserved).
func (o Opcode) IsReserved() bool {
	return (o >= 0x3 && o <= 0x7) || o >= 0xB
}

var opcodeNames = [16]string{
	"cont", "text", "binary", "rsv-3", "rsv-4", "rsv-5", "rsv-6", "rsv-7",
	"close", "ping", "pong", "rsv-B", "rsv-C", "rsv-D", "rsv-E", "rsv-F",
}

// String returns a short name: cont, text, binary, close, ping, pong, or rsv-X.
func (o Opcode) String() string { return opcodeNames[o&0x0f] }

// Bits of the first two header bytes (RFC 6455 §5.2).
const (
	finBit     = 1 << 7 // RFC 6455 §5.2: final fragment
	rsv1Bit    = 1 << 6 // RFC 6455 §5.2, RFC 7692 §6: "compressed" with permessage-deflate
	rsv2Bit    = 1 << 5 // RFC 6455 §5.2
	rsv3Bit    = 1 << 4 // RFC 6455 §5.2
	opcodeBits = 0x0f   // RFC 6455 §5.2
	maskBit    = 1 << 7 // RFC 6455 §5.2: payload is masked
	len7Bits   = 0x7f   // RFC 6455 §5.2
	len16Code  = 126    // RFC 6455 §5.2: a 16-bit length follows
	len64Code  = 127    // RFC 6455 §5.2: a 64-bit length follows

	// MaxHeaderLen is the longest possible frame header: 2 + 8 + 4 bytes.
	MaxHeaderLen = 14
	// maxControlPayload is the limit on control frame payloads (RFC 6455 §5.5).
	maxControlPayload = 125
)

// Header is a decoded frame header.
type Header struct {
	Fin     bool
	RSV     uint8 // the three RSV bits as one value: RSV1=4, RSV2=2, RSV3=1
	Opcode  Opcode
	Masked  bool
	Len7    uint8  // the 7-bit length field as sent: 126 and 127 announce extended lengths
	Length  uint64 // the payload length
	MaskKey [4]byte
	Size    int // header size in bytes, 2 to 14
}

// ParseHeader decodes the frame header at the start of b. It returns the
// number of header bytes, or 0 when b is too short to hold the whole header
// (the caller needs more bytes; HeaderSize tells how many). It allocates
// nothing and never fails: rule violations are reported by Rules.
func ParseHeader(b []byte) (h Header, n int) {
	if len(b) < 2 {
		return h, 0
	}
	n = HeaderSize(b[0], b[1])
	if len(b) < n {
		return h, 0
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&finBit != 0
	h.RSV = (b0 >> 4) & 0x7
	h.Opcode = Opcode(b0 & opcodeBits)
	h.Masked = b1&maskBit != 0
	h.Len7 = b1 & len7Bits
	p := 2
	switch h.Len7 {
	case len16Code:
		h.Length = uint64(binary.BigEndian.Uint16(b[2:4]))
		p = 4
	case len64Code:
		h.Length = binary.BigEndian.Uint64(b[2:10])
		p = 10
	default:
		h.Length = uint64(h.Len7)
	}
	if h.Masked {
		copy(h.MaskKey[:], b[p:p+4])
	}
	h.Size = n
	return h, n
}

// HeaderSize returns the size of the header whose first two bytes are b0, b1.
func HeaderSize(b0, b1 byte) int {
	n := 2
	switch b1 & len7Bits {
	case len16Code:
		n += 2
	case len64Code:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// Rules returns every RFC 6455 §5 rule that the header breaks on its own,
// without connection context: all of them, not just the first.
func (h *Header) Rules() Anomalies {
	var a Anomalies
	if h.Opcode.IsReserved() {
		a |= AnomReservedOpcode
	}
	if h.Opcode.IsControl() {
		if h.Length > maxControlPayload {
			a |= AnomControlTooLong
		}
		if !h.Fin {
			a |= AnomControlFragmented
		}
	}
	switch h.Len7 {
	case len16Code:
		if h.Length <= 125 {
			a |= AnomNonMinimalLength // RFC 6455 §5.2: "the minimal number of bytes MUST be used"
		}
	case len64Code:
		if h.Length>>63 != 0 {
			a |= AnomLengthMSBSet // RFC 6455 §5.2: "the most significant bit MUST be 0"
		} else if h.Length <= 0xffff {
			a |= AnomNonMinimalLength
		}
	}
	return a
}

// AppendHeader encodes h (using h.Len7 to choose the length encoding when it
// is 126 or 127, so non-minimal encodings can be produced for tests) and
// appends it to b.
func AppendHeader(b []byte, h Header) []byte {
	b0 := h.RSV<<4 | byte(h.Opcode&opcodeBits)
	if h.Fin {
		b0 |= finBit
	}
	var b1 byte
	if h.Masked {
		b1 = maskBit
	}
	code := h.Len7
	if code < len16Code {
		switch {
		case h.Length <= 125:
			code = byte(h.Length)
		case h.Length <= 0xffff:
			code = len16Code
		default:
			code = len64Code
		}
	}
	b = append(b, b0, b1|code)
	switch code {
	case len16Code:
		b = binary.BigEndian.AppendUint16(b, uint16(h.Length))
	case len64Code:
		b = binary.BigEndian.AppendUint64(b, h.Length)
	}
	if h.Masked {
		b = append(b, h.MaskKey[:]...)
	}
	return b
}
