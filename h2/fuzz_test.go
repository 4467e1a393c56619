package h2

import (
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
)

// Fuzz targets for the HTTP/2 framer and the HPACK path, seeded from the
// synthetic conversations of the tests (their corpus is committed under
// testdata/fuzz). The property is the one that matters for a push
// decoder: whatever the bytes, nothing panics, and the same bytes in any
// split give the same records.

// script encodes chunks as the fuzzers read them: a side byte (odd: the
// client), a length byte, then that many bytes.
func script(chunks []chunk) []byte {
	var b []byte
	for _, ch := range chunks {
		for p := ch.b; len(p) > 0; {
			n := min(len(p), 255)
			side := byte(0)
			if ch.client {
				side = 1
			}
			b = append(append(b, side, byte(n)), p[:n]...)
			p = p[n:]
		}
	}
	return b
}

// unscript decodes a script back into chunks.
func unscript(b []byte) []chunk {
	var out []chunk
	for len(b) >= 2 {
		n := min(int(b[1]), len(b)-2)
		out = append(out, chunk{b[0]&1 == 1, b[2 : 2+n]})
		b = b[2+n:]
	}
	return out
}

// FuzzFeed: a connection driven by a script of both sides' bytes.
func FuzzFeed(f *testing.F) {
	f.Add(script(conversation()), uint8(0))
	f.Add(script(conversation()), uint8(6))
	h := synth.NewH2()
	f.Add(script([]chunk{{true, h.Preface()}, {true, h.HeadersSplit(true, 1, false, 3, synth.ExtendedConnect("/x")...)}}), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		chunks := unscript(b)
		whole := run(chunks, 0)
		if got := run(chunks, int(step)%16+1); got != whole {
			t.Fatalf("split by %d:\n%s\nwhole:\n%s", int(step)%16+1, got, whole)
		}
	})
}

// FuzzHPACK: a header block, valid or not, in a HEADERS frame of an
// extended CONNECT exchange, whole and cut into CONTINUATION frames.
func FuzzHPACK(f *testing.F) {
	h := synth.NewH2()
	f.Add(h.Block(true, synth.ExtendedConnect("/chat", "sec-websocket-extensions", "permessage-deflate")...), uint8(3))
	f.Add(h.Block(true, synth.ExtendedConnect("/chat")...), uint8(1)) // uses the dynamic table of the first
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x82}, uint8(0))                   // a dynamic table size update, then :method GET
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, uint8(2))             // an index past every table
	f.Fuzz(func(t *testing.T, blk []byte, step uint8) {
		n := int(step)%32 + 1
		conv := func(split bool) []chunk {
			h := synth.NewH2()
			req := frame(1, 0x4, 1, blk)
			if split {
				req = nil
				for i := 0; i < len(blk) || i == 0; i += n {
					typ, flags := byte(9), byte(0)
					if i == 0 {
						typ = 1
					}
					if i+n >= len(blk) {
						flags = 0x4
					}
					req = append(req, frame(typ, flags, 1, blk[i:min(i+n, len(blk))])...)
				}
			}
			return []chunk{{true, h.Preface()}, {false, h.ConnectProtocol()}, {true, req},
				{false, h.Headers(false, 1, false, ":status", "200")},
				{false, h.Data(false, 1, false, synth.WSFrame(false, 1, []byte("x")))}}
		}
		if whole, split := run(conv(false), 0), run(conv(true), 0); whole != split {
			t.Fatalf("in CONTINUATIONs of %d:\n%s\nin one HEADERS:\n%s", n, split, whole)
		}
	})
}

// frame is one HTTP/2 frame.
func frame(typ, flags byte, stream uint32, p []byte) []byte {
	n := len(p)
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags, byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}
	return append(b, p...)
}
