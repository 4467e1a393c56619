package wsparse

import (
	"compress/flate"
	"io"
	"strconv"
	"strings"
	"sync"
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
// window across messages under context takeover. The flate reader and the
// output buffer are borrowed from pools for one message at a time: only
// the window (32 KiB at most) stays with the direction.
type inflater struct {
	src    tailReader
	out    []byte // output of the message being reported, until release
	window []byte // last windowSize bytes of output
	noCtx  bool   // the sender resets its context for each message
	lost   bool   // the window is unknown: a gap, a cut message, an error
}

// flateReaders holds idle flate readers: they are costly to make (about
// 40 KiB each) and any one will do after a Reset.
var flateReaders sync.Pool

// tailReader reads a message and then the deflate tail, without copying
// the message; it is an io.ByteReader, so flate does not wrap it in a
// bufio.Reader.
type tailReader struct {
	msg  []byte
	tail int // bytes of deflateTail read
}

func (r *tailReader) Read(p []byte) (int, error) {
	if len(r.msg) > 0 {
		n := copy(p, r.msg)
		r.msg = r.msg[n:]
		return n, nil
	}
	if r.tail == len(deflateTail) {
		return 0, io.EOF
	}
	n := copy(p, deflateTail[r.tail:])
	r.tail += n
	return n, nil
}

func (r *tailReader) ReadByte() (byte, error) {
	if len(r.msg) > 0 {
		b := r.msg[0]
		r.msg = r.msg[1:]
		return b, nil
	}
	if r.tail == len(deflateTail) {
		return 0, io.EOF
	}
	r.tail++
	return deflateTail[r.tail-1], nil
}

// inflate decompresses a whole compressed message. complete is false when
// some of the message's bytes are missing; limit bounds the output. The
// output is valid until release.
func (z *inflater) inflate(msg []byte, complete bool, limit int) ([]byte, Anomalies) {
	if z.lost && !z.noCtx {
		return nil, AnomInflateNoContext
	}
	var dict []byte
	if !z.noCtx {
		dict = z.window
	}
	z.src = tailReader{msg: msg}
	fr, _ := flateReaders.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReaderDict(&z.src, dict)
	} else {
		fr.(flate.Resetter).Reset(&z.src, dict)
	}
	var a Anomalies
	out := grow(z.out[:0], min(4*len(msg)+64, limit+1))
	for {
		if len(out) == cap(out) {
			out = grow(out, 1)
		}
		n, err := fr.Read(out[len(out):min(cap(out), limit+1)])
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
	z.src = tailReader{}
	flateReaders.Put(fr)
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

// release ends the use of the last output: big buffers go back to the pool.
func (z *inflater) release() { z.out = release(z.out) }

// close gives back everything but the flags.
func (z *inflater) close() {
	z.release()
	z.out, z.window = nil, nil
}
