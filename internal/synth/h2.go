package synth

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/net/http2/hpack"

	"github.com/wsdump/wsdump/wsparse"
)

// H2 writes the HTTP/2 frames of a synthetic connection with hand-made
// frames and x/net's HPACK encoder per direction (the dynamic tables stay in
// step with a decoder's): each method returns one direction's bytes, for
// Conv.Send or a decoder's Feed.
type H2 struct {
	enc [2]*hpack.Encoder
	blk [2]bytes.Buffer
}

// NewH2 returns a writer with empty dynamic tables.
func NewH2() *H2 {
	h := &H2{}
	for i := range h.enc {
		h.enc[i] = hpack.NewEncoder(&h.blk[i])
	}
	return h
}

// frame is one HTTP/2 frame (RFC 9113 §4.1).
func frame(typ, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags}
	b = binary.BigEndian.AppendUint32(b, stream)
	return append(b, payload...)
}

// Frame types and flags (RFC 9113 §6).
const (
	h2Data, h2Headers, h2RST, h2Settings, h2Ping, h2GoAway, h2Window, h2Cont = 0, 1, 3, 4, 6, 7, 8, 9
	h2EndStream, h2EndHeaders, h2Padded, h2Priority                          = 0x1, 0x4, 0x8, 0x20
)

// Preface is the client preface (RFC 9113 §3.4) and its (empty) SETTINGS.
func (h *H2) Preface() []byte {
	return append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), h.Settings(true)...)
}

// Settings is a SETTINGS frame of id, value pairs.
func (h *H2) Settings(fromClient bool, idval ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(idval); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(idval[i]))
		p = binary.BigEndian.AppendUint32(p, idval[i+1])
	}
	return frame(h2Settings, 0, 0, p)
}

// ConnectProtocol is the server's SETTINGS with
// SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 8441 §3).
func (h *H2) ConnectProtocol() []byte { return h.Settings(false, 0x8, 1) }

// Block HPACK-encodes name, value pairs with a direction's encoder.
func (h *H2) Block(fromClient bool, kv ...string) []byte {
	i := side(fromClient)
	h.blk[i].Reset()
	for j := 0; j+1 < len(kv); j += 2 {
		if err := h.enc[i].WriteField(hpack.HeaderField{Name: kv[j], Value: kv[j+1]}); err != nil {
			panic(err)
		}
	}
	return append([]byte(nil), h.blk[i].Bytes()...)
}

func endFlag(end bool) byte {
	if end {
		return h2EndStream
	}
	return 0
}

// Headers is a HEADERS frame with the fields kv (name, value, ...).
func (h *H2) Headers(fromClient bool, stream uint32, end bool, kv ...string) []byte {
	return frame(h2Headers, h2EndHeaders|endFlag(end), stream, h.Block(fromClient, kv...))
}

// HeadersSplit is Headers cut into a HEADERS frame (padded, with a
// priority) and CONTINUATION frames of at most n block bytes each.
func (h *H2) HeadersSplit(fromClient bool, stream uint32, end bool, n int, kv ...string) []byte {
	blk := h.Block(fromClient, kv...)
	first := min(n, len(blk))
	flags := h2Padded | h2Priority | endFlag(end)
	if first == len(blk) {
		flags |= h2EndHeaders
	}
	p := append([]byte{3, 0, 0, 0, 0, 15}, blk[:first]...) // pad length, dependency, weight
	out := frame(byte(h2Headers), byte(flags), stream, append(p, 0, 0, 0))
	for blk = blk[first:]; len(blk) > 0; {
		k := min(n, len(blk))
		var f byte
		if k == len(blk) {
			f = h2EndHeaders
		}
		out = append(out, frame(h2Cont, f, stream, blk[:k])...)
		blk = blk[k:]
	}
	return out
}

// Data is a DATA frame.
func (h *H2) Data(fromClient bool, stream uint32, end bool, p []byte) []byte {
	return frame(h2Data, endFlag(end), stream, p)
}

// DataPadded is a DATA frame with pad bytes of padding.
func (h *H2) DataPadded(fromClient bool, stream uint32, end bool, p []byte, pad int) []byte {
	b := append(append([]byte{byte(pad)}, p...), make([]byte, pad)...)
	return frame(h2Data, h2Padded|endFlag(end), stream, b)
}

// RST is a RST_STREAM frame.
func (h *H2) RST(fromClient bool, stream, code uint32) []byte {
	return frame(h2RST, 0, stream, binary.BigEndian.AppendUint32(nil, code))
}

// GoAway is a GOAWAY frame.
func (h *H2) GoAway(fromClient bool, last, code uint32) []byte {
	p := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, last), code)
	return frame(h2GoAway, 0, 0, append(p, "bye"...))
}

// Ping is a PING frame, which the decoder passes over.
func (h *H2) Ping(fromClient bool) []byte { return frame(h2Ping, 0, 0, make([]byte, 8)) }

// WindowUpdate is a WINDOW_UPDATE frame, which the decoder passes over.
func (h *H2) WindowUpdate(fromClient bool, stream, n uint32) []byte {
	return frame(h2Window, 0, stream, binary.BigEndian.AppendUint32(nil, n))
}

// WSFrame is one unfragmented WebSocket frame, masked from the client.
func WSFrame(fromClient bool, op wsparse.Opcode, payload []byte) []byte {
	h := wsparse.Header{Fin: true, Opcode: op, Length: uint64(len(payload))}
	p := append([]byte(nil), payload...)
	if fromClient {
		h.Masked, h.MaskKey = true, [4]byte{1, 2, 3, 4}
		wsparse.Unmask(h.MaskKey, 0, p)
	}
	return append(wsparse.AppendHeader(nil, h), p...)
}

// ExtendedConnect is the fields of a client's extended CONNECT for a
// WebSocket (RFC 8441 §4), then extra pairs.
func ExtendedConnect(path string, extra ...string) []string {
	return append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", path,
		":authority", "h", "sec-websocket-version", "13"}, extra...)
}
