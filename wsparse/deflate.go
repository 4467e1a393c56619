package wsparse

import (
	"bytes"
	"compress/flate"
	"io"
	"strconv"
	"strings"
)

// DeflateParams are the permessage-deflate parameters the server accepted
// (RFC 7692 §7.1).
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 0 when not given (15 applies)
	ClientMaxWindowBits     int
}

// parseDeflate reads the parameters of a permessage-deflate element of a
// Sec-WebSocket-Extensions response.
func parseDeflate(ext string) (p DeflateParams) {
	params := strings.Split(ext, ";")
	for _, kv := range params[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		bits, _ := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
		switch k {
		case "server_no_context_takeover":
			p.ServerNoContextTakeover = true
		case "client_no_context_takeover":
			p.ClientNoContextTakeover = true
		case "server_max_window_bits":
			p.ServerMaxWindowBits = bits
		case "client_max_window_bits":
			p.ClientMaxWindowBits = bits
		}
	}
	return p
}

// windowSize is the LZ77 window of DEFLATE (RFC 1951): a compressor never
// refers further back, whatever max_window_bits says, so keeping 32 KiB of
// output is always enough.
const windowSize = 32 << 10

// deflateTail is appended to every compressed message (RFC 7692 §7.2.2).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflater decompresses one direction's messages, carrying the sliding
// window across messages under context takeover.
type inflater struct {
	fr     io.ReadCloser // reused: flate readers are costly to make
	src    bytes.Reader
	in     []byte // message plus tail
	out    []byte
	window []byte // last windowSize bytes of output
	noCtx  bool   // the sender resets its context for each message
	lost   bool   // the window is unknown: a gap, a cut message, an error
}

// inflate decompresses a whole compressed message. complete is false when
// some of the message's bytes are missing; limit bounds the output.
func (z *inflater) inflate(msg []byte, complete bool, limit int) ([]byte, Anomalies) {
	if z.lost && !z.noCtx {
		return nil, AnomInflateNoContext
	}
	var dict []byte
	if !z.noCtx {
		dict = z.window
	}
	z.in = append(append(z.in[:0], msg...), deflateTail...)
	z.src.Reset(z.in)
	if z.fr == nil {
		z.fr = flate.NewReaderDict(&z.src, dict)
	} else {
		z.fr.(flate.Resetter).Reset(&z.src, dict)
	}
	var a Anomalies
	out := z.out[:0]
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, err := z.fr.Read(out[len(out):min(cap(out), limit+1)])
		out = out[:len(out)+n]
		if len(out) > limit {
			// A decompression bomb, or just a big message: keep the head.
			out = out[:limit]
			a |= AnomInflateLimit | AnomMessageTruncated
			z.lost = true
			break
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break // the end of the input, after the sync flush
		}
		if err != nil {
			a |= AnomInflateFailed
			z.lost = true
			break
		}
	}
	z.out = out
	if !complete {
		z.lost = true
	}
	if !z.noCtx && !z.lost {
		if len(out) >= windowSize {
			z.window = append(z.window[:0], out[len(out)-windowSize:]...)
		} else {
			z.window = append(z.window, out...)
			if len(z.window) > windowSize {
				z.window = z.window[:copy(z.window, z.window[len(z.window)-windowSize:])]
			}
		}
	}
	return out, a
}
