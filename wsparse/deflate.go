package wsparse

import (
	"bytes"
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
	_, ext, more := strings.Cut(ext, ";")
	for more {
		var kv string
		kv, ext, more = strings.Cut(ext, ";")
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		// Read only for the window sizes: Atoi makes an error for the
		// empty value of the others.
		bits := func() int { n, _ := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`)); return n }
		switch k {
		case "server_no_context_takeover":
			p.ServerNoContextTakeover = true
		case "client_no_context_takeover":
			p.ClientNoContextTakeover = true
		case "server_max_window_bits":
			p.ServerMaxWindowBits = bits()
		case "client_max_window_bits":
			p.ClientMaxWindowBits = bits()
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
// the window (32 KiB at most, see keep) stays with the direction.
//
// The reader is compress/flate's, copied (deflate_flate.go) to read from
// the tailReader without an interface call per input byte, and to decode
// Huffman blocks in a fast loop that reads the input 8 bytes at a time
// (deflate_fast.go), with the same output and errors, the same bytes read
// when it stops (FuzzInflateMatchesFlate). klauspost/compress/flate
// inflates faster than compress/flate too, but its Reset keeps
// the Huffman tables of the last block it decoded, and a damaged block that
// declares an empty tree decodes with them: with readers pooled across
// connections, what such a message inflates to would depend on what the
// reader inflated before (TestInflateIndependentOfHistory), and runs with
// different -j differ.
//
// Until the window is whole, each message's output is appended to it (see
// keep) and copied into the reader (Reset's dict). From the first message
// after it is whole, the window is a ring of windowSize bytes that the
// reader inflates into directly (resetRing): nothing is copied in or out.
type inflater struct {
	src    tailReader
	out    []byte // output of the message being reported, until release
	window []byte // output; its last windowSize bytes are the window, or the ring
	ring   bool   // window is a ring of windowSize bytes, the oldest at wr
	wr     int
	noCtx  bool // the sender resets its context for each message
	lost   bool // the window is known in part only: a gap, a cut message, an error
	stream *stream

	// The window at rest between messages (spill.go): counted in
	// spills.held, or in the spill file (spillN bytes).
	atRest bool
	spill  spillRef
	spillN int32
}

// inflated is what inflating one message gave.
type inflated struct {
	out   []byte // the output kept, at most the limit; valid until release
	total uint64 // output bytes, kept or not
	whole bool   // inflated to the end of the message: total is its length
	a     Anomalies
}

// flateReaders holds idle decompressors: they are costly to make (about
// 40 KiB each) and any one will do after a Reset (which copies in the
// dictionary; it leaves the Huffman tables, which init writes whole before
// a block uses them).
var flateReaders sync.Pool

// tailReader reads a message and then, only where the message ends as
// RFC 7692 §7.2.1 says (a stored block's header with its LEN and NLEN cut
// off), the deflate tail; it never lets flate read the tail as data, so a
// message cut short inflates to what was sent and nothing more. The
// decompressor (deflate_flate.go) reads it directly: the common case of
// ReadByte, a compare, a load and a store, is written out there.
//
// The message comes whole (next nil) or in chunks from next (streaming).
type tailReader struct {
	msg  []byte
	i    int
	base int           // bytes of the chunks before msg
	next func() []byte // streaming: waits for the next chunk, nil at the end

	noTail    bool // bytes of the message are missing: no tail
	tailGiven bool
	lastRead  int // position after the last Read
	endedAt   int // position where the input ended on a block boundary, -1 if not yet
}

func (r *tailReader) pos() int { return r.base + r.i }

// refill moves to the next chunk, if streaming and there is one.
func (r *tailReader) refill() bool {
	for r.next != nil {
		r.base += len(r.msg)
		r.msg, r.i = r.next(), 0
		if r.msg == nil {
			r.next = nil
			return false
		}
		if len(r.msg) > 0 {
			return true
		}
	}
	return false
}

func (r *tailReader) Read(p []byte) (int, error) {
	for r.i >= len(r.msg) {
		if !r.refill() {
			return r.atEnd(p)
		}
	}
	start := r.pos()
	n := copy(p, r.msg[r.i:])
	r.i += n
	if len(p) == len(deflateTail) {
		// A stored block's LEN and NLEN (io.ReadFull's four bytes) may
		// come in two pieces of a streamed message: read on into the next
		// ones here, so that the tail is seen whole wherever pieces end.
		for n < len(p) && (r.i < len(r.msg) || r.refill()) {
			m := copy(p[n:], r.msg[r.i:])
			r.i += m
			n += m
		}
	}
	if len(p) == len(deflateTail) && n == len(p) && start != r.lastRead && bytes.Equal(p, deflateTail) {
		// An empty stored block (a sync flush) whose LEN and NLEN the
		// sender left on: a block boundary, the end if nothing follows.
		r.endedAt = r.pos()
	}
	r.lastRead = r.pos()
	return n, nil
}

// atEnd answers a Read past the message's bytes. flate reads a stored
// block's LEN and NLEN (four bytes, one Read) right after the block header,
// whose bits come by ReadByte; the data of a stored block comes by Read
// after Read. So only a four-byte Read after a ReadByte is where the
// sender's sync flush was cut off: anything else reading on past the
// message (the tail as stored data, or as Huffman codes) would make up
// bytes that were never sent.
func (r *tailReader) atEnd(p []byte) (int, error) {
	pos := r.pos()
	if r.noTail || r.tailGiven || len(p) != len(deflateTail) || pos == r.lastRead {
		return 0, io.EOF
	}
	r.tailGiven = true
	r.endedAt, r.lastRead = pos, pos
	return copy(p, deflateTail), nil
}

func (r *tailReader) ReadByte() (byte, error) {
	if i := r.i; i < len(r.msg) {
		r.i = i + 1
		return r.msg[i], nil
	}
	return r.readByteNext()
}

// readByteNext is ReadByte at the end of a chunk, kept out of ReadByte so
// that ReadByte inlines into the decompressor.
func (r *tailReader) readByteNext() (byte, error) {
	if r.refill() {
		return r.ReadByte()
	}
	return 0, io.EOF
}

// noBudget is the budget of an inflation without a ratio bound.
const noBudget = ^uint64(0)

// inflate decompresses a whole compressed message with no ratio bound
// (see inflateMsg).
func (z *inflater) inflate(msg []byte, complete bool, limit int) ([]byte, Anomalies) {
	res := z.inflateMsg(msg, complete, limit, noBudget)
	return res.out, res.a
}

// inflateMsg decompresses a whole compressed message. complete is false
// when some of the message's bytes are missing; limit bounds the output
// kept, budget the output inflated (kept or not: past the limit, the output
// is counted and dropped, so that a message's true length is known and the
// window stays whole). The output is valid until release.
//
// After a loss (a gap, a cut or failed message, or a capture that starts
// mid-connection) the window is known only from the messages inflated
// since, which are its most recent bytes: a message whose back-references
// all stay within them inflates to exactly what was sent, and one that
// reaches further fails (flate checks every distance against the history
// it has) and is reported as inflate_context_unknown, never as garbage.
// Once 32 KiB are known again, the window is whole.
func (z *inflater) inflateMsg(msg []byte, complete bool, limit int, budget uint64) inflated {
	fr := z.reader(tailReader{msg: msg, noTail: !complete, endedAt: -1})
	res := z.run(fr, z.partial(), min(4*len(msg)+64, limit), limit, &budget)
	z.src = tailReader{}
	putReader(fr)
	return res
}

// partial reports whether the window is known in part only.
func (z *inflater) partial() bool { return z.lost && !z.noCtx }

// reader returns a pooled flate reader over src, set to the window.
func (z *inflater) reader(src tailReader) *decompressor {
	z.wake(true)
	z.src = src
	fr, _ := flateReaders.Get().(*decompressor)
	if fr == nil {
		fr = new(decompressor)
	}
	switch {
	case z.noCtx:
		fr.Reset(&z.src, nil)
	case z.ring || len(z.window) >= windowSize:
		if !z.ring {
			// The window is whole: from now on it stays in place.
			z.window = z.window[:copy(z.window, z.window[len(z.window)-windowSize:])]
			z.ring, z.wr = true, 0
		}
		fr.resetRing(&z.src, z.window, z.wr)
	default:
		fr.Reset(&z.src, z.window)
	}
	return fr
}

// putReader gives a reader back to the pool, without the ring it may hold.
func putReader(fr *decompressor) {
	fr.dict.hist = nil
	flateReaders.Put(fr)
}

// run reads fr to its end: the first limit bytes into out (room for hint
// at first), the rest counted and dropped but for the last windowSize,
// until the output passes *budget. Then it updates the window. partial
// says the window was known in part only.
func (z *inflater) run(fr *decompressor, partial bool, hint, limit int, budget *uint64) inflated {
	out := grow(z.out[:0], hint)
	var past []byte // output past the limit: at least its last windowSize bytes
	var total uint64
	var err error
	var res inflated
	for {
		// Reads stop one byte past the budget, so that a message stopped
		// there costs the connection no more than that.
		room := int(min(*budget-min(total, *budget), 1<<30)) + 1
		var n int
		if len(out) < limit {
			if len(out) == cap(out) {
				out = grow(out, 1)
			}
			n, err = fr.Read(out[len(out):min(cap(out), limit, len(out)+room)])
			out = out[:len(out)+n]
		} else {
			if past == nil {
				past = getBuf(2 * windowSize)
			}
			if len(past) == cap(past) {
				past = past[:copy(past, past[len(past)-windowSize:])]
			}
			n, err = fr.Read(past[len(past):min(cap(past), len(past)+room)])
			past = past[:len(past)+n]
		}
		total += uint64(n)
		if total > *budget {
			// More output per input byte than --max-inflate-ratio allows:
			// a decompression bomb. Stop here.
			res.a |= AnomInflateRatio
			break
		}
		if err != nil {
			break
		}
	}
	switch {
	case res.a != 0:
	case err == io.EOF:
		res.whole = true // a final block
	case err == io.ErrUnexpectedEOF:
		// The end of the input: the end of the message if the input ended
		// on a block boundary (after the tail, see tailReader).
		complete := !z.src.noTail
		res.whole = complete && (z.src.endedAt == z.src.pos() || z.src.pos() == 0)
		if complete && !res.whole {
			res.a |= AnomInflateFailed // the compressed data stops inside a block
		}
	case partial:
		res.a |= AnomInflateNoContext // most likely a reference into what is not known
	default:
		res.a |= AnomInflateFailed
	}
	if total > uint64(len(out)) {
		// A decompression bomb, or just a big message: the head is kept.
		res.a |= AnomInflateLimit | AnomMessageTruncated
	}
	res.out, res.total = out, total
	z.out = out
	switch {
	case z.noCtx:
	case !res.whole:
		z.forget()
	case z.ring:
		z.wr = fr.ringPos() // the output is in the ring already
	default:
		if len(past) < windowSize {
			z.keep(out)
		}
		z.keep(past)
		if z.lost && len(z.window) >= windowSize {
			z.lost = false
		}
	}
	if past != nil {
		putBuf(past)
	}
	return res
}

// stream inflates a compressed message as its bytes come, for a message too
// big to keep whole on the wire (over --max-message, or a frame over
// --max-payload): flate pulls the bytes on a goroutine of its own, so that
// the message's true length is known and the window stays whole without
// holding its compressed bytes. The handoff is synchronous (push returns
// once the goroutine has used the chunk and waits for the next), so the
// output does not depend on scheduling and chunks may alias the caller's
// buffers.
type stream struct {
	in   chan chunk
	ack  chan struct{}
	done chan struct{}
	// The goroutine's own: the budget as of the last chunk, whether it
	// holds a chunk it has not acknowledged, whether the end came.
	budget      uint64
	held, ended bool
	res         inflated
}

// chunk is what push and finish hand the goroutine.
type chunk struct {
	b             []byte
	budget        uint64
	end, complete bool
}

// streaming reports whether a message is being inflated as it comes.
func (z *inflater) streaming() bool { return z.stream != nil }

// startStream starts inflating a message whose bytes will come by push.
func (z *inflater) startStream(limit int, budget uint64) {
	s := &stream{in: make(chan chunk), ack: make(chan struct{}), done: make(chan struct{}), budget: budget}
	z.stream = s
	partial := z.partial()
	fr := z.reader(tailReader{endedAt: -1, next: func() []byte {
		if s.held {
			s.ack <- struct{}{}
			s.held = false
		}
		c := <-s.in
		s.budget = c.budget
		if c.end {
			s.ended = true
			z.src.noTail = !c.complete
			return nil
		}
		s.held = true
		return c.b
	}})
	go func() {
		defer close(s.done)
		s.res = z.run(fr, partial, 1<<16, limit, &s.budget)
		if s.held {
			s.ack <- struct{}{}
		}
		for !s.ended {
			// Stopped early (an error, the ratio): drop the rest.
			if c := <-s.in; c.end {
				break
			}
			s.ack <- struct{}{}
		}
		z.src = tailReader{}
		putReader(fr)
	}()
}

// push hands the next bytes of the message to the stream.
func (z *inflater) push(b []byte, budget uint64) {
	if len(b) == 0 {
		return
	}
	z.stream.in <- chunk{b: b, budget: budget}
	<-z.stream.ack
}

// finish ends the message; complete is false when bytes of it were lost.
func (z *inflater) finish(complete bool, budget uint64) inflated {
	s := z.stream
	s.in <- chunk{end: true, complete: complete, budget: budget}
	<-s.done
	z.stream = nil
	return s.res
}

// forget drops the window: what follows in the stream is unknown, and later
// messages can rely only on what is inflated after this.
func (z *inflater) forget() {
	z.wake(false)
	z.lost, z.ring = true, false
	z.window = z.window[:0]
}

// keep appends a message's output to the window, at most its last
// windowSize bytes: only until the window is whole, when it becomes a ring
// (see reader). It grows in buffers from the pools, doubling up to
// windowSize.
func (z *inflater) keep(out []byte) {
	if len(out) >= windowSize {
		out = out[len(out)-windowSize:]
	}
	w := z.window
	if n := len(w) + len(out); n > windowSize {
		w = w[:copy(w, w[n-windowSize:])]
	}
	if len(w)+len(out) > cap(w) {
		nw := append(getBuf(min(max(2*cap(w), len(w)+len(out), 512), windowSize)), w...)
		putBuf(w)
		w = nw
	}
	z.window = append(w, out...)
}

// release ends the use of the last output: big buffers go back to the pool.
func (z *inflater) release() { z.out = release(z.out) }

// close gives back everything but the flags.
func (z *inflater) close() {
	if z.stream != nil {
		z.finish(false, 0)
	}
	z.wake(false)
	z.release()
	putBuf(z.window)
	z.out, z.window, z.ring = nil, nil, false
}

// deflateParams is one permessage-deflate element of a
// Sec-WebSocket-Extensions header: its parameters of RFC 7692 (names in
// lower case), with unquoted values ("" for none), and whether it breaks RFC 7692 §7 on its
// own (an unknown or repeated parameter, a value where none is allowed,
// window bits missing or outside 8..15).
type deflateParams struct {
	has     [len(deflateKeys)]bool   // by deflateKeys: the parameter was given
	val     [len(deflateKeys)]string // its unquoted value
	invalid bool
}

// deflateKeys are the parameters of RFC 7692 §7; any other makes an
// element invalid, so only these are kept (in fixed places: checking an
// element allocates nothing).
var deflateKeys = [...]string{"server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"}

const (
	serverNoContextTakeover = iota
	clientNoContextTakeover
	serverMaxWindowBits
	clientMaxWindowBits
)

// param returns the value of parameter i and whether it was given.
func (d *deflateParams) param(i int) (string, bool) { return d.val[i], d.has[i] }

// checkDeflate reads and checks a permessage-deflate element; response
// says it is the server's (where client_max_window_bits needs a value).
func checkDeflate(ext string, response bool) deflateParams {
	var d deflateParams
	_, ext, _ = strings.Cut(ext, ";")
	for more := ext != ""; more; {
		var kv string
		kv, ext, more = strings.Cut(ext, ";")
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, hasValue := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k)) // allocates only for a name not in lower case
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1] // a quoted-string (RFC 6455 §9.1)
		}
		i := -1
		for j, key := range deflateKeys {
			if k == key {
				i = j
			}
		}
		if i < 0 {
			d.invalid = true // §7: only these four
			continue
		}
		if d.has[i] {
			d.invalid = true // §7: no parameter twice
		}
		d.has[i], d.val[i] = true, v
		switch i {
		case serverNoContextTakeover, clientNoContextTakeover:
			d.invalid = d.invalid || hasValue // §7.1.1: no value
		case serverMaxWindowBits:
			d.invalid = d.invalid || !windowBits(v) // §7.1.2.1
		case clientMaxWindowBits:
			// §7.1.2.2: the offer may leave the value out, the response not.
			d.invalid = d.invalid || (hasValue || response) && !windowBits(v)
		}
	}
	return d
}

// windowBits reports whether v is a window size of RFC 7692 §7.1.2: a
// decimal 8 to 15 without leading zeros.
func windowBits(v string) bool {
	return len(v) == 1 && v[0] >= '8' && v[0] <= '9' || len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5'
}

// answers reports whether a valid response element may answer the offer
// element o (RFC 7692 §7.1.1.1, §7.1.2): client_max_window_bits only if
// offered, and then no larger; server_no_context_takeover and
// server_max_window_bits when asked for, the window no larger.
func (r deflateParams) answers(o deflateParams) bool {
	rc, hasRC := r.param(clientMaxWindowBits)
	oc, hasOC := o.param(clientMaxWindowBits)
	if hasRC && (!hasOC || oc != "" && atoi(rc) > atoi(oc)) {
		return false
	}
	if o.has[serverNoContextTakeover] && !r.has[serverNoContextTakeover] {
		return false
	}
	if os, ok := o.param(serverMaxWindowBits); ok {
		rs, ok := r.param(serverMaxWindowBits)
		if !ok || atoi(rs) > atoi(os) {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
