package wsparse

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// compressor produces permessage-deflate payloads as a sender would: one
// flate stream for the connection (context takeover) or one per message.
type compressor struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func (c *compressor) message(t *testing.T, s string, takeover bool) string {
	t.Helper()
	if c.w == nil || !takeover {
		c.buf.Reset()
		c.w, _ = flate.NewWriter(&c.buf, flate.BestCompression)
	}
	start := c.buf.Len()
	c.w.Write([]byte(s))
	c.w.Flush()
	out := c.buf.Bytes()[start:]
	if !bytes.HasSuffix(out, deflateTail) {
		t.Fatal("flush did not end with the sync marker")
	}
	return string(out[:len(out)-4]) // RFC 7692 §7.2.1: drop the tail
}

func TestParseDeflate(t *testing.T) {
	cases := map[string]DeflateParams{
		"permessage-deflate": {},
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover":   {ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		"permessage-deflate; server_max_window_bits=10; client_max_window_bits=\"12\"": {ServerMaxWindowBits: 10, ClientMaxWindowBits: 12},
		"permessage-deflate;client_max_window_bits":                                    {},
	}
	for ext, want := range cases {
		if got := parseDeflate(ext); got != want {
			t.Errorf("%q: got %+v, want %+v", ext, got, want)
		}
	}
}

func deflateExchange(t *testing.T, respExt string, server []byte, cfg Config) []string {
	t.Helper()
	s := run([]byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")),
		cat([]byte(upgradeResponse("Sec-WebSocket-Extensions: "+respExt+"\r\n")), server), cfg)
	return s.lines
}

func messages(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "M ") {
			out = append(out, l)
		}
	}
	return out
}

func TestInflateContextTakeover(t *testing.T) {
	var z compressor
	texts := []string{"hello hello hello", "hello again, hello hello", strings.Repeat("abc", 5000), "abcabcabc hello"}
	var server []byte
	for i, s := range texts {
		p := z.message(t, s, true)
		if i == 1 {
			// Fragmented compressed message: RSV1 on the first frame only.
			server = cat(server, frame(false, 4, OpText, nil, p[:3]), frame(true, 0, OpContinuation, nil, p[3:]))
			continue
		}
		server = cat(server, frame(true, 4, OpText, nil, p))
	}
	server = cat(server, frame(true, 0, OpText, nil, "plain")) // mixed: uncompressed
	msgs := messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	want := append(append([]string{}, texts...), "plain")
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages:\n%s", len(msgs), strings.Join(msgs, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(msgs[i], "data="+short([]byte(w))+" ") || !strings.HasSuffix(msgs[i], "anomalies=") {
			t.Errorf("message %d: %s, want %q", i, msgs[i], w)
		}
	}
}

func TestInflateNoContextTakeover(t *testing.T) {
	var z compressor
	var server []byte
	for _, s := range []string{"one one one", "two two two", "one one one"} {
		server = cat(server, frame(true, 4, OpBinary, nil, z.message(t, s, false)))
	}
	msgs := messages(deflateExchange(t, "permessage-deflate; server_no_context_takeover", server, Config{}))
	for i, w := range []string{"one one one", "two two two", "one one one"} {
		if !strings.Contains(msgs[i], "data="+hexOf(w)) {
			t.Errorf("message %d: %s", i, msgs[i])
		}
	}
	// The same bytes under context takeover (as the server did not
	// declare no_context_takeover) still inflate: resetting is the
	// sender's choice, and an empty window is never wrong for it.
	msgs = messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	if len(msgs) != 3 || strings.Contains(strings.Join(msgs, ""), "inflate") {
		t.Errorf("takeover reading of reset streams:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestInflateBomb(t *testing.T) {
	// One sender's compressor: the bomb, then messages that may refer back.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	var msgs [][]byte
	message := func(parts ...[]byte) {
		at := buf.Len()
		for _, p := range parts {
			w.Write(p)
		}
		w.Flush()
		msgs = append(msgs, bytes.Clone(buf.Bytes()[at:buf.Len()-4]))
	}
	zeros := make([]byte, 1<<20)
	bomb := make([][]byte, 64) // 64 MiB of zeros in about 64 KiB
	for i := range bomb {
		bomb[i] = zeros
	}
	message(bomb...)
	message([]byte("after"))
	message([]byte("after after"))
	message(zeros[:1000])
	server := cat(frame(true, 4, OpBinary, nil, string(msgs[0])), frame(true, 4, OpText, nil, string(msgs[1])),
		frame(true, 4, OpText, nil, string(msgs[2])), frame(true, 4, OpBinary, nil, string(msgs[3])))
	// Stopped by a ratio under the default (which deflate cannot reach).
	got := messages(deflateExchange(t, "permessage-deflate", server, Config{MaxMessage: 1 << 20, MaxInflateRatio: 200}))
	if len(got) != 4 {
		t.Fatalf("got:\n%s", strings.Join(got, "\n"))
	}
	if !strings.Contains(got[0], "len=1048576 ") || !strings.Contains(got[0], "message_truncated") || !strings.Contains(got[0], "inflate_limit") {
		t.Errorf("bomb: %s", got[0])
	}
	// The window after a cut message is unknown: messages that refer only
	// to what follows it inflate ("after" as literals, then "after after"
	// referring to it); zeros that reach back into the bomb are not
	// inflated into garbage.
	if !strings.HasSuffix(got[1], "len=5 data="+hexOf("after")+" compressed=true anomalies=") {
		t.Errorf("after the bomb: %s", got[1])
	}
	if !strings.HasSuffix(got[2], "data="+hexOf("after after")+" compressed=true anomalies=") {
		t.Errorf("referring to the message after the bomb: %s", got[2])
	}
	if !strings.Contains(got[3], "inflate_context_unknown") {
		t.Errorf("referring to the bomb: %s", got[3])
	}
}

func TestInflateRecoversAfterReset(t *testing.T) {
	// With no context takeover a lost window does not matter: the next
	// message starts afresh.
	var z compressor
	server := cat(frame(true, 4, OpText, nil, "\xff\xff\xff garbage"), frame(true, 4, OpText, nil, z.message(t, "fine", false)))
	msgs := messages(deflateExchange(t, "permessage-deflate; server_no_context_takeover", server, Config{}))
	if len(msgs) != 2 || !strings.Contains(msgs[0], "inflate_failed") || !strings.Contains(msgs[1], "data="+hexOf("fine")+" compressed=true anomalies=") {
		t.Errorf("got:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestInflatedTextUTF8(t *testing.T) {
	var z compressor
	server := frame(true, 4, OpText, nil, z.message(t, "bad \xff text", true))
	msgs := messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0], "anomalies=invalid_utf8") {
		t.Errorf("got:\n%s", strings.Join(msgs, "\n"))
	}
}

// refInflater is the plainest inflater: a new flate reader per message
// over an io.MultiReader, the window cut back to windowSize after every
// message, emptied when lost. The inflater (pooled readers, tailReader,
// window with slack) must match it exactly: output, anomalies, window.
type refInflater struct {
	window []byte
	noCtx  bool
	lost   bool // the window holds only what was inflated since a loss
}

func (z *refInflater) inflate(msg []byte, complete bool, limit int) ([]byte, Anomalies) {
	var dict []byte
	if !z.noCtx {
		dict = z.window
	}
	src := &refSource{msg: msg, noTail: !complete, endAt: -1}
	fr := flate.NewReaderDict(src, dict)
	var a Anomalies
	var out []byte
	whole := false
	buf := make([]byte, 1000) // a size unlike the inflater's reads
	for {
		n, err := fr.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			whole = true
			break
		}
		if err == io.ErrUnexpectedEOF {
			whole = complete && (src.endAt == len(msg) || len(msg) == 0)
			if complete && !whole {
				a |= AnomInflateFailed
			}
			break
		}
		if err != nil {
			if z.lost && !z.noCtx {
				a |= AnomInflateNoContext
			} else {
				a |= AnomInflateFailed
			}
			break
		}
	}
	switch {
	case z.noCtx:
	case !whole:
		z.window, z.lost = nil, true
	default:
		z.window = append(z.window, out...)
		z.window = z.window[max(len(z.window)-windowSize, 0):]
		z.lost = z.lost && len(z.window) < windowSize
	}
	if len(out) > limit {
		out = out[:limit]
		a |= AnomInflateLimit | AnomMessageTruncated
	}
	return out, a
}

// refSource gives flate a message and, where RFC 7692 §7.2.1 has the
// sender cut a sync flush, the tail: as the four-byte LEN and NLEN read of
// a stored block, which flate makes right after the ReadByte of the block
// header (stored data is read by Read after Read).
type refSource struct {
	msg      []byte
	i        int
	byteLast bool // the last read was a ReadByte
	noTail   bool
	tail     bool
	endAt    int // where an empty stored block ended, -1: none
}

func (r *refSource) ReadByte() (byte, error) {
	if r.i == len(r.msg) {
		return 0, io.EOF
	}
	r.byteLast = true
	r.i++
	return r.msg[r.i-1], nil
}

func (r *refSource) Read(p []byte) (int, error) {
	afterByte := r.byteLast
	r.byteLast = false
	if r.i == len(r.msg) {
		if afterByte && len(p) == 4 && !r.tail && !r.noTail {
			r.tail, r.endAt = true, r.i
			return copy(p, deflateTail), nil
		}
		return 0, io.EOF
	}
	n := copy(p, r.msg[r.i:])
	r.i += n
	if afterByte && len(p) == 4 && n == 4 && bytes.Equal(p, deflateTail) {
		r.endAt = r.i
	}
	return n, nil
}

// history returns the window in order: its last windowSize bytes, or the
// ring from its oldest byte.
func (z *inflater) history() []byte {
	if z.ring {
		return append(bytes.Clone(z.window[z.wr:]), z.window[:z.wr]...)
	}
	return z.window[max(len(z.window)-windowSize, 0):]
}

// sameInflate inflates msgs with an inflater and the reference, and
// checks that they match.
func sameInflate(t *testing.T, msgs [][]byte, noCtx bool, limit int) {
	t.Helper()
	z, ref := &inflater{noCtx: noCtx}, &refInflater{noCtx: noCtx}
	for i, m := range msgs {
		got, ga := z.inflate(m, true, limit)
		want, wa := ref.inflate(m, true, limit)
		if ga != wa || !bytes.Equal(got, want) {
			t.Fatalf("message %d of %d: got %d bytes, %v; want %d bytes, %v", i, len(msgs), len(got), ga, len(want), wa)
		}
		w := z.history()
		if z.lost != ref.lost || !z.lost && !bytes.Equal(w, ref.window) {
			t.Fatalf("message %d: window differs (lost %v, want %v)", i, z.lost, ref.lost)
		}
		z.release()
	}
}

// TestInflateMatchesReference compares the inflater with refInflater over
// message sequences, valid and damaged, past the window and the limit.
func TestInflateMatchesReference(t *testing.T) {
	t.Parallel()
	plain := jsonMessages(300)
	big := bytes.Join(plain, nil) // about 140 KiB, past the window
	withBig := append(append(append([][]byte{}, plain[:100]...), big, big[:70000]), plain[100:]...)
	for _, takeover := range []bool{true, false} {
		msgs := deflateMessages(t, withBig, takeover, flate.DefaultCompression)
		sameInflate(t, msgs, !takeover, 16<<20)
		sameInflate(t, msgs, false, 5000) // cut by the limit
		// Damaged messages: flipped bits, cuts, garbage. 40 rounds (300
		// took 16 s of the suite); FuzzInflate, whose corpus go test
		// replays, compares the same way.
		r := rand.New(rand.NewPCG(3, 4))
		for k := 0; k < 40; k++ {
			d := make([][]byte, len(msgs))
			for i, m := range msgs {
				m = bytes.Clone(m)
				switch r.IntN(8) {
				case 0:
					if len(m) > 0 {
						m[r.IntN(len(m))] ^= 1 << r.IntN(8)
					}
				case 1:
					m = m[:r.IntN(len(m)+1)]
				case 2:
					m = append(m, byte(r.IntN(256)))
				}
				d[i] = m
			}
			sameInflate(t, d, !takeover, 16<<20)
		}
	}
}

// TestInflateIndependentOfHistory checks that a message inflates the same
// whatever the pooled flate reader inflated before, for another direction
// maybe: here a damaged block (found by FuzzInflate) that declares no
// distance codes and then uses one. compress/flate zeroes its Huffman
// tables on Reset; klauspost/compress/flate v1.20.4 keeps them, and
// inflated it to 124 bytes without an error after most of these messages.
func TestInflateIndependentOfHistory(t *testing.T) {
	bad := []byte("\xc4\xc0\x81\x10\x00\x00\x00\x83Z\x95y\xed\xf2\xd7\b\xa3#")
	want, wa := new(refInflater).inflate(bad, true, 1<<16)
	if wa != AnomInflateFailed {
		t.Fatalf("reference: %d bytes, %v", len(want), wa)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for k := 0; k < 50; k++ {
		data := make([]byte, 1+r.IntN(3000))
		alpha := 2 + r.IntN(250)
		for i := range data {
			data[i] = byte(r.IntN(alpha))
		}
		level := r.IntN(12) - 2
		z := &inflater{noCtx: true}
		z.inflate(deflateMessages(t, [][]byte{data}, false, level)[0], true, 1<<16)
		got, ga := z.inflate(bad, true, 1<<16)
		if ga != wa || !bytes.Equal(got, want) {
			t.Fatalf("after a message of %d bytes at level %d: %d bytes, %v; want %d bytes, %v", len(data), level, len(got), ga, len(want), wa)
		}
	}
}

// TestInflateWindow checks that the window slides right across output
// sizes, and stays within windowSize.
func TestInflateWindow(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	var z inflater
	var all []byte
	for i := 0; i < 3000; i++ {
		var n int
		switch r.IntN(10) {
		case 0:
			n = 0
		case 1:
			n = r.IntN(3 * windowSize)
		default:
			n = r.IntN(1500)
		}
		out := make([]byte, n)
		for j := range out {
			out[j] = byte(r.Uint32())
		}
		z.keep(out)
		all = append(all, out...)
		want := all[max(len(all)-windowSize, 0):]
		if got := z.window[max(len(z.window)-windowSize, 0):]; !bytes.Equal(got, want) {
			t.Fatalf("after %d outputs: window differs", i)
		}
		if cap(z.window) > windowSize {
			t.Fatalf("window capacity %d", cap(z.window))
		}
	}
}

// FuzzInflate inflates a message twice (the second time after the window
// of the first under context takeover), checks the limit and compares
// with refInflater.
func FuzzInflate(f *testing.F) {
	var z compressor
	t := &testing.T{}
	f.Add([]byte(z.message(t, "hello hello", true)), false)
	f.Add([]byte{0xff, 0x00, 0x12}, true)
	f.Fuzz(func(t *testing.T, msg []byte, noCtx bool) {
		in, ref := &inflater{noCtx: noCtx}, &refInflater{noCtx: noCtx}
		for i := 0; i < 2; i++ {
			out, a := in.inflate(msg, true, 1<<16)
			if len(out) > 1<<16 {
				t.Fatalf("output over the limit: %d", len(out))
			}
			want, wa := ref.inflate(msg, true, 1<<16)
			if a != wa || !bytes.Equal(out, want) {
				t.Fatalf("inflation %d: got %d bytes, %v; want %d bytes, %v", i, len(out), a, len(want), wa)
			}
		}
	})
}

// FuzzInflateValid cuts data into messages, compresses them as a sender
// would (with or without context takeover, at any level) and checks that
// the inflater matches refInflater, under a small limit too.
func FuzzInflateValid(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,2,3]}{"a":2,"b":[1,2,3]}{"a":3}`), uint64(1))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 9000), uint64(0x1234567))
	var writers [12]*flate.Writer // by level+2: NewWriter costs about 1 MB
	var buf bytes.Buffer
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed>>32))
		takeover := r.IntN(2) == 0
		level := r.IntN(12) - 2 // HuffmanOnly to BestCompression
		limit := 16 << 20
		if r.IntN(4) == 0 {
			limit = r.IntN(4096)
		}
		w := writers[level+2]
		if w == nil {
			w, _ = flate.NewWriter(&buf, level)
			writers[level+2] = w
		}
		w.Reset(&buf)
		var msgs [][]byte
		for len(data) > 0 {
			n := min(len(data), 1+r.IntN(2*len(data)))
			if !takeover {
				w.Reset(&buf)
			}
			buf.Reset()
			w.Write(data[:n])
			w.Flush()
			msgs = append(msgs, bytes.Clone(bytes.TrimSuffix(buf.Bytes(), deflateTail)))
			data = data[n:]
		}
		sameInflate(t, msgs, !takeover && r.IntN(2) == 0, limit)
	})
}

// TestInflateAfterGap: a gap that loses whole compressed messages at a
// frame boundary loses the window with them. The message after it that
// refers into the lost one is not inflated against the stale window
// (garbage without an anomaly, before the fix); messages that refer only
// to what came after the gap inflate to what was sent.
func TestInflateAfterGap(t *testing.T) {
	var z compressor
	var filler strings.Builder
	for i := 0; filler.Len() < 4000; i++ {
		fmt.Fprintf(&filler, "record %d of the first message; ", i*7919%10007)
	}
	texts := []string{filler.String(), "xyzzy plugh, lost with the gap", "xyzzy plugh!",
		"quux frobnicate", "quux frobnicate twice: quux frobnicate", "quux frobnicate thrice"}
	var frames [][]byte
	for _, s := range texts {
		frames = append(frames, frame(true, 4, OpText, nil, z.message(t, s, true)))
	}
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate\r\n")), testTime)
	c.Feed(1, []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate\r\n")), testTime)
	c.Feed(1, frames[0], testTime)
	c.Gap(1, len(frames[1]), testTime)
	for _, f := range frames[2:] {
		c.Feed(1, f, testTime)
	}
	c.End(testTime)
	got := messages(s.lines)
	inflated := 0
	for _, m := range got[1:] {
		if strings.Contains(m, "inflate_context_unknown") {
			continue
		}
		ok := false
		for _, want := range texts[2:] {
			ok = ok || strings.Contains(m, " data="+hexOf(want)+" ")
		}
		if !ok {
			t.Errorf("inflated to something that was not sent: %s", m)
		}
		inflated++
	}
	if !strings.Contains(strings.Join(got, "\n"), "data="+hexOf("quux frobnicate thrice")) || inflated < 2 {
		t.Errorf("the messages that refer only to what followed the gap were not inflated:\n%s", strings.Join(got, "\n"))
	}
}

// TestDeflateParamsInvalid: RFC 7692 §7's rules on permessage-deflate
// parameters, in the offer and in the response; a break is
// deflate_params_invalid on the handshake.
func TestDeflateParamsInvalid(t *testing.T) {
	const pmd = "permessage-deflate"
	cases := []struct {
		offer, resp string
		invalid     bool
	}{
		{pmd, pmd, false},
		{pmd + "; client_max_window_bits", pmd + "; client_max_window_bits=10", false},
		{pmd + "; client_max_window_bits", pmd, false},
		{pmd + "; server_max_window_bits=10", pmd + "; server_max_window_bits=9", false},
		{pmd + "; server_max_window_bits=\"12\"", pmd + "; server_max_window_bits=12", false},
		{pmd + "; server_no_context_takeover; client_no_context_takeover", pmd + "; server_no_context_takeover", false},
		{pmd + "; server_max_window_bits=8, " + pmd, pmd, false}, // the second offer is answered
		{pmd + ";", pmd, false},
		// Window bits 8 to 15, no leading zero, with a value.
		{pmd, pmd + "; server_max_window_bits=1", true},
		{pmd, pmd + "; server_max_window_bits=99", true},
		{pmd, pmd + "; server_max_window_bits=-9", true},
		{pmd, pmd + "; server_max_window_bits=16", true},
		{pmd, pmd + "; server_max_window_bits=09", true},
		{pmd, pmd + "; server_max_window_bits", true},
		{pmd + "; server_max_window_bits=7", pmd, true},
		{pmd + "; client_max_window_bits=99", pmd, true},
		// client_max_window_bits: valueless in an offer only, and in the
		// response only when offered, no larger than offered.
		{pmd + "; client_max_window_bits", pmd + "; client_max_window_bits", true},
		{pmd, pmd + "; client_max_window_bits=10", true},
		{pmd + "; client_max_window_bits=9", pmd + "; client_max_window_bits=10", true},
		// No duplicates, no unknown parameters, no values on the flags.
		{pmd, pmd + "; server_max_window_bits=10; server_max_window_bits=10", true},
		{pmd + "; client_no_context_takeover; client_no_context_takeover", pmd, true},
		{pmd + "; x_window=10", pmd, true},
		{pmd, pmd + "; mystery", true},
		{pmd, pmd + "; server_no_context_takeover=1", true},
		// The server must honour what the client asked of it.
		{pmd + "; server_no_context_takeover", pmd, true},
		{pmd + "; server_max_window_bits=10", pmd, true},
		{pmd + "; server_max_window_bits=10", pmd + "; server_max_window_bits=11", true},
	}
	for _, tc := range cases {
		s := run([]byte(upgradeRequest("Sec-WebSocket-Extensions: "+tc.offer+"\r\n")),
			[]byte(upgradeResponse("Sec-WebSocket-Extensions: "+tc.resp+"\r\n")), Config{})
		got := len(s.lines) > 0 && strings.Contains(s.lines[0], "deflate_params_invalid")
		if got != tc.invalid || len(s.lines) == 0 || !strings.Contains(s.lines[0], "deflate=true") {
			t.Errorf("offer %q, response %q: %v, want invalid %v", tc.offer, tc.resp, s.lines, tc.invalid)
		}
	}
}

// FuzzInflateMatchesFlate: the decompressor (compress/flate's, copied to
// read from a *tailReader directly) gives what compress/flate gives over
// the same input, preset window and read sizes, valid or damaged: every
// Read's count, bytes and error (the same error value, its offset
// included), and the same reads from the tailReader (where the input
// ended, whether the tail was given). A Reset reader is compared too, after
// it inflated something else, one over the message in pieces (as a
// streamed message comes), and one over a whole window kept in place
// (resetRing), on their output and error (where the ring's Reads return
// differs).
func FuzzInflateMatchesFlate(f *testing.F) {
	var z compressor
	t := &testing.T{}
	f.Add([]byte(z.message(t, "hello hello", true)), []byte("hello"), uint16(7), true)
	f.Add([]byte(z.message(t, "hello hello, hello", true)), []byte{}, uint16(4), false)
	f.Add([]byte{0xff, 0x00, 0x12}, []byte{}, uint16(1), true)
	f.Add([]byte("\xc4\xc0\x81\x10\x00\x00\x00\x83Z\x95y\xed\xf2\xd7\b\xa3#"), []byte("x"), uint16(100), true)
	for _, m := range deflateMessages(f, jsonMessages(3), true, flate.BestSpeed) {
		f.Add(m, []byte("{}"), uint16(300), true)
	}
	var used decompressor // Reset after inflating the message before
	var split decompressor
	// The read buffers, for every input (the inputs of one process run one
	// after another): three new ones each cleared 384 KiB an input.
	a, b, c := make([]byte, 1<<17), make([]byte, 1<<17), make([]byte, 1<<17)
	f.Fuzz(func(t *testing.T, msg, dict []byte, sizes uint16, complete bool) {
		mine, theirs := tailReader{msg: msg, noTail: !complete, endedAt: -1}, tailReader{msg: msg, noTail: !complete, endedAt: -1}
		var fresh decompressor
		fresh.Reset(&mine, dict)
		tail2 := tailReader{msg: msg, noTail: !complete, endedAt: -1}
		used.Reset(&tail2, dict)
		ref := flate.NewReaderDict(&theirs, dict)
		total := 0
		for i := 0; ; i++ {
			n := 1 + int(sizes>>(i%16)&0xff)*37%(1<<17) // read sizes that vary
			if i%5 == 4 {
				n = 1 << 17
			}
			gotN, gotErr := fresh.Read(a[:n])
			usedN, usedErr := used.Read(c[:n])
			wantN, wantErr := ref.Read(b[:n])
			if gotN != wantN || !bytes.Equal(a[:gotN], b[:wantN]) || !reflect.DeepEqual(gotErr, wantErr) {
				t.Fatalf("read %d of %d bytes: got %d, %v; want %d, %v", i, n, gotN, gotErr, wantN, wantErr)
			}
			if usedN != wantN || !bytes.Equal(c[:usedN], b[:wantN]) || !reflect.DeepEqual(usedErr, wantErr) {
				t.Fatalf("reset reader: read %d of %d bytes: got %d, %v; want %d, %v", i, n, usedN, usedErr, wantN, wantErr)
			}
			if mine.pos() != theirs.pos() || mine.endedAt != theirs.endedAt || mine.tailGiven != theirs.tailGiven || mine.lastRead != theirs.lastRead {
				t.Fatalf("read %d: input at %d (ended at %d, tail %v), want %d (%d, %v)", i, mine.pos(), mine.endedAt, mine.tailGiven, theirs.pos(), theirs.endedAt, theirs.tailGiven)
			}
			if total += wantN; wantErr != nil || total > 4<<20 {
				break
			}
		}
		// In pieces, as a streamed message comes (startStream): cut at
		// places sizes and the length choose, a byte to a few hundred
		// long, empty ones too, so that pieces end inside codes and the
		// 8-byte reads of huffmanFast stop short of a piece's end. The
		// same output and error (its offset included), the input read to
		// the same place.
		pr := rand.New(rand.NewPCG(uint64(sizes), uint64(len(msg))))
		rest := msg
		inParts := tailReader{noTail: !complete, endedAt: -1, next: func() []byte {
			if len(rest) == 0 {
				return nil
			}
			n := pr.IntN(24)
			if pr.IntN(4) == 0 {
				n = pr.IntN(400)
			}
			p := rest[:min(n, len(rest))]
			rest = rest[len(p):]
			return p
		}}
		inWhole := tailReader{msg: msg, noTail: !complete, endedAt: -1}
		split.Reset(&inParts, dict)
		got, gotErr := readSome(&split, sizes)
		want, wantErr := readSome(flate.NewReaderDict(&inWhole, dict), sizes)
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) || inParts.pos() != inWhole.pos() || inParts.endedAt != inWhole.endedAt {
			t.Fatalf("in pieces: got %d bytes, %v, input at %d (ended at %d); want %d, %v, %d (%d)", len(got), gotErr, inParts.pos(), inParts.endedAt, len(want), wantErr, inWhole.pos(), inWhole.endedAt)
		}

		// With a whole window kept in place (resetRing, rotated anywhere):
		// the same output and error, the same reads, and the ring holds
		// the window after.
		hist := make([]byte, windowSize)
		for i := range hist {
			hist[i] = byte(i * 7)
			if len(dict) > 0 {
				hist[i] = dict[i%len(dict)] ^ byte(i>>9)
			}
		}
		wr := int(sizes) % windowSize
		ring := append(bytes.Clone(hist[windowSize-wr:]), hist[:windowSize-wr]...)
		inRing, inRef := tailReader{msg: msg, noTail: !complete, endedAt: -1}, tailReader{msg: msg, noTail: !complete, endedAt: -1}
		used.resetRing(&inRing, ring, wr)
		got, gotErr = readSome(&used, sizes)
		want, wantErr = readSome(flate.NewReaderDict(&inRef, hist), sizes)
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("ring at %d: got %d bytes, %v; want %d, %v", wr, len(got), gotErr, len(want), wantErr)
		}
		if inRing.pos() != inRef.pos() || inRing.endedAt != inRef.endedAt || inRing.tailGiven != inRef.tailGiven {
			t.Fatalf("ring at %d: input at %d (ended at %d, tail %v), want %d (%d, %v)", wr, inRing.pos(), inRing.endedAt, inRing.tailGiven, inRef.pos(), inRef.endedAt, inRef.tailGiven)
		}
		if wantErr == io.EOF || wantErr == io.ErrUnexpectedEOF {
			p := used.ringPos()
			all := append(hist, want...)
			if !bytes.Equal(append(bytes.Clone(ring[p:]), ring[:p]...), all[len(all)-windowSize:]) {
				t.Fatalf("ring at %d: window after differs", wr)
			}
		}
		used.dict.hist = nil
	})
}

// readSome reads r to its first error or past 4 MiB, in reads of sizes
// that vary with sizes.
func readSome(r io.Reader, sizes uint16) ([]byte, error) {
	var out []byte
	bp := readBufs.Get().(*[1 << 17]byte)
	defer readBufs.Put(bp)
	buf := bp[:]
	for i := 0; len(out) <= 4<<20; i++ {
		n, err := r.Read(buf[:1+int(sizes>>(i%16)&0xff)*37%(1<<17)])
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
