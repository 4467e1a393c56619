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

// windowSlack is the room a direction's window has past windowSize (see
// keep): 40 KiB in all, the capacity that appending each message's output
// and cutting the window back to windowSize used to grow it to anyway.
const windowSlack = 8 << 10

// deflateTail is appended to every compressed message (RFC 7692 §7.2.2).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflater decompresses one direction's messages, carrying the sliding
// window across messages under context takeover. The flate reader and the
// output buffer are borrowed from pools for one message at a time: only
// the window (40 KiB at most, see keep) stays with the direction.
//
// The reader is compress/flate's. klauspost/compress/flate inflates faster
// (about a fifth less CPU on messages of tens of KiB, a seventh on small
// ones: BenchmarkInflate*), but its Reset keeps the Huffman tables of the
// last block it decoded, and a damaged block that declares an empty tree
// decodes with them: with readers pooled across connections, what such a
// message inflates to would depend on what the reader inflated before
// (TestInflateIndependentOfHistory), and runs with different -j differ.
type inflater struct {
	src    tailReader
	out    []byte // output of the message being reported, until release
	window []byte // output; its last windowSize bytes are the window
	noCtx  bool   // the sender resets its context for each message
	lost   bool   // the window is known in part only: a gap, a cut message, an error
}

// flateReaders holds idle flate readers: they are costly to make (about
// 40 KiB each) and any one will do after a Reset (which zeroes the Huffman
// tables and copies in the dictionary).
var flateReaders sync.Pool

// tailReader reads a message and then the deflate tail, without copying
// the message; it is an io.ByteReader, so flate does not wrap it in a
// bufio.Reader. flate calls ReadByte through an interface for every input
// byte whatever the reader (a *bytes.Reader or a *bufio.Reader is no
// better), so ReadByte is kept to a compare, a load and a store.
type tailReader struct {
	msg []byte
	i   int // bytes read, of msg and then of deflateTail
}

func (r *tailReader) Read(p []byte) (int, error) {
	if r.i < len(r.msg) {
		n := copy(p, r.msg[r.i:])
		r.i += n
		return n, nil
	}
	t := r.i - len(r.msg)
	if t == len(deflateTail) {
		return 0, io.EOF
	}
	n := copy(p, deflateTail[t:])
	r.i += n
	return n, nil
}

func (r *tailReader) ReadByte() (byte, error) {
	if i := r.i; i < len(r.msg) {
		r.i = i + 1
		return r.msg[i], nil
	}
	t := r.i - len(r.msg)
	if t == len(deflateTail) {
		return 0, io.EOF
	}
	r.i++
	return deflateTail[t], nil
}

// inflate decompresses a whole compressed message. complete is false when
// some of the message's bytes are missing; limit bounds the output. The
// output is valid until release.
//
// After a loss (a gap, a cut or failed message, or a capture that starts
// mid-connection) the window is known only from the messages inflated
// since, which are its most recent bytes: a message whose back-references
// all stay within them inflates to exactly what was sent, and one that
// reaches further fails (flate checks every distance against the history
// it has) and is reported as inflate_context_unknown, never as garbage.
// Once 32 KiB are known again, the window is whole.
func (z *inflater) inflate(msg []byte, complete bool, limit int) ([]byte, Anomalies) {
	var dict []byte
	if !z.noCtx {
		dict = z.window[max(len(z.window)-windowSize, 0):]
	}
	partial := z.lost && !z.noCtx // the window is known in part
	z.src = tailReader{msg: msg}
	fr, _ := flateReaders.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReaderDict(&z.src, dict)
	} else {
		fr.(flate.Resetter).Reset(&z.src, dict)
	}
	var a Anomalies
	ok := complete
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
			ok = false
			break
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break // the end of the input, after the sync flush
		}
		if err != nil {
			if partial {
				a |= AnomInflateNoContext // most likely a reference into what is not known
			} else {
				a |= AnomInflateFailed
			}
			ok = false
			break
		}
	}
	z.src = tailReader{}
	flateReaders.Put(fr)
	z.out = out
	switch {
	case z.noCtx:
	case !ok:
		z.forget()
	default:
		z.keep(out)
		if z.lost && len(z.window) >= windowSize {
			z.lost = false
		}
	}
	return out, a
}

// forget drops the window: what follows in the stream is unknown, and later
// messages can rely only on what is inflated after this.
func (z *inflater) forget() {
	z.lost = true
	z.window = z.window[:0]
}

// keep appends a message's output to the window. The window grows up to
// windowSize+windowSlack bytes, then slides (moves the bytes still needed
// to the front) once per windowSlack bytes of small messages instead of at
// each message.
func (z *inflater) keep(out []byte) {
	if len(out) >= windowSize {
		out = out[len(out)-windowSize:]
	}
	w := z.window
	if n := len(w) + len(out); n > windowSize+windowSlack {
		w = w[:copy(w, w[n-windowSize:])]
	}
	if len(w)+len(out) > cap(w) {
		c := min(max(2*cap(w), len(w)+len(out), 512), windowSize+windowSlack)
		w = append(make([]byte, 0, c), w...)
	}
	z.window = append(w, out...)
}

// release ends the use of the last output: big buffers go back to the pool.
func (z *inflater) release() { z.out = release(z.out) }

// close gives back everything but the flags.
func (z *inflater) close() {
	z.release()
	z.out, z.window = nil, nil
}
