package wsparse

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Messages over --max-message and messages the capture cut (issue 16,
// case 5): a record says the message's true length when it is known, what
// was kept, why it was cut, and holds no byte that was not sent.

// msgSink keeps a copy of every message.
type msgSink struct{ msgs []Message }

func (s *msgSink) Handshake(*Conn, *Handshake) {}
func (s *msgSink) Frame(*Conn, *Frame)         {}
func (s *msgSink) End(*Conn, *Summary)         {}
func (s *msgSink) Message(c *Conn, m *Message) {
	cp := *m
	cp.Data = bytes.Clone(m.Data)
	s.msgs = append(s.msgs, cp)
}

// cutPayloads are 300 kB messages that compress to more than the 64 KiB
// limit: random letters (Huffman-coded blocks) and random bytes (stored
// blocks, where the deflate tail used to end up in the data).
func cutPayloads() map[string][]byte {
	r := rand.New(rand.NewPCG(16, 5))
	letters := make([]byte, 300000)
	for i := range letters {
		letters[i] = 'a' + byte(r.IntN(26))
	}
	random := make([]byte, 300000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	return map[string][]byte{"letters": letters, "random": random}
}

// cutSender builds one direction's frames: compressed with context
// takeover when z is not nil, masked from the client, split into frames of
// at most fragment bytes (0: one frame).
type cutSender struct {
	z        *flate.Writer
	zbuf     bytes.Buffer
	masked   bool
	fragment int
}

func (s *cutSender) message(t *testing.T, data []byte) []byte {
	t.Helper()
	payload, rsv := data, uint8(0)
	if s.z != nil {
		at := s.zbuf.Len()
		s.z.Write(data)
		s.z.Flush()
		payload = bytes.TrimSuffix(bytes.Clone(s.zbuf.Bytes()[at:]), deflateTail)
		rsv = 4
	}
	var key []byte
	if s.masked {
		key = testMask
	}
	size := s.fragment
	if size == 0 {
		size = len(payload)
	}
	var out []byte
	op := OpBinary
	for first := true; first || len(payload) > 0; first = false {
		n := min(size, len(payload))
		out = append(out, frame(n == len(payload), rsv, op, key, string(payload[:n]))...)
		payload, op, rsv = payload[n:], OpContinuation, 0
	}
	return out
}

const cutLimit = 64 << 10

// feedCut sends the handshake, then the stream of one direction in chunks
// of chunk bytes (0: at once), with a gap of gapLen bytes at gapAt (gapLen
// 0: none).
func feedCut(dir Dir, deflate bool, stream []byte, chunk, gapAt, gapLen int) []Message {
	ext := ""
	if deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	s := &msgSink{}
	c := NewConn(1, testClient, testServer, Config{MaxMessage: cutLimit}, s)
	c.Feed(0, []byte(upgradeRequest(ext)), testTime)
	c.Feed(1, []byte(upgradeResponse(ext)), testTime)
	side := 0
	if dir == ServerToClient {
		side = 1
	}
	feed := func(b []byte) {
		for len(b) > 0 {
			n := len(b)
			if chunk > 0 {
				n = min(n, chunk)
			}
			c.Feed(side, b[:n], testTime)
			b = b[n:]
		}
	}
	if gapLen > 0 {
		feed(stream[:gapAt])
		c.Gap(side, gapLen, testTime)
		feed(stream[gapAt+gapLen:])
	} else {
		feed(stream)
	}
	c.End(testTime)
	return s.msgs
}

func describe(m Message) string {
	return fmt.Sprintf("len=%d unknown=%v kept=%d anomalies=%s", m.Len, m.LenUnknown, len(m.Data), m.Anomalies)
}

// TestCutMessage: a 300 kB message over a 64 KiB --max-message, each way,
// plain and compressed, in one frame and in fragments, fed whole and in
// segments. Its record has the true length, the first 64 KiB, and
// message_truncated; a compressed one is inflated to its end (its bytes
// stream into the inflater past the limit), so the window stays whole and
// the next message, which refers back into it, inflates.
func TestCutMessage(t *testing.T) {
	after := []byte("the message after: ")
	for name, data := range cutPayloads() {
		for _, dir := range []Dir{ClientToServer, ServerToClient} {
			for _, deflate := range []bool{false, true} {
				for _, fragment := range []int{0, 50000} {
					for _, chunk := range []int{0, 1460} {
						t.Run(fmt.Sprintf("%s/%s/deflate=%v/fragment=%d/chunk=%d", name, dir, deflate, fragment, chunk), func(t *testing.T) {
							s := &cutSender{masked: dir == ClientToServer, fragment: fragment}
							if deflate {
								s.z, _ = flate.NewWriter(&s.zbuf, flate.BestSpeed)
							}
							// The second message repeats the end of the first:
							// under context takeover it refers back to it.
							second := append(bytes.Clone(after), data[len(data)-2000:]...)
							stream := cat(s.message(t, data), s.message(t, second))
							msgs := feedCut(dir, deflate, stream, chunk, 0, 0)
							if len(msgs) != 2 {
								t.Fatalf("%d messages", len(msgs))
							}
							m := msgs[0]
							if m.Len != uint64(len(data)) || m.LenUnknown || !bytes.Equal(m.Data, data[:cutLimit]) {
								t.Errorf("cut message: %s; want len=%d kept=%d, the head of what was sent", describe(m), len(data), cutLimit)
							}
							want := AnomMessageTruncated
							if deflate {
								want |= AnomInflateLimit
							}
							if m.Anomalies != want {
								t.Errorf("cut message anomalies %s, want %s", m.Anomalies, want)
							}
							if n := msgs[1]; !bytes.Equal(n.Data, second) || n.Anomalies != 0 || n.Len != uint64(len(second)) {
								t.Errorf("message after the cut one: %s, data %q...", describe(n), n.Data[:min(len(n.Data), 40)])
							}
						})
					}
				}
			}
		}
	}
}

// TestCaptureCutMessage: the capture loses 1 000 bytes inside a message
// (a lost segment, a snap length), before the 64 KiB limit. The record
// says capture_truncated, not message_truncated; a plain message keeps
// its length from the headers and the bytes before the hole, and nothing
// after it (which would not follow on); a compressed one keeps the bytes
// inflated from what came before the hole, never a made-up byte, and its
// inflated length is unknown.
func TestCaptureCutMessage(t *testing.T) {
	for name, data := range cutPayloads() {
		for _, dir := range []Dir{ClientToServer, ServerToClient} {
			for _, deflate := range []bool{false, true} {
				for _, fragment := range []int{0, 5000} {
					t.Run(fmt.Sprintf("%s/%s/deflate=%v/fragment=%d", name, dir, deflate, fragment), func(t *testing.T) {
						s := &cutSender{masked: dir == ClientToServer, fragment: fragment}
						if deflate {
							s.z, _ = flate.NewWriter(&s.zbuf, flate.BestSpeed)
						}
						stream := s.message(t, data)
						// Inside a frame: frames of 5 000 bytes start at 20 016
						// and 20 032 (headers of 4 and 8 bytes).
						msgs := feedCut(dir, deflate, stream, 1460, 20500, 1000)
						if len(msgs) != 1 {
							t.Fatalf("%d messages", len(msgs))
						}
						m := msgs[0]
						if m.Anomalies&AnomCaptureTruncated == 0 || m.Anomalies&(AnomMessageTruncated|AnomInflateLimit) != 0 {
							t.Errorf("anomalies %s, want capture_truncated and no limit", m.Anomalies)
						}
						if !bytes.HasPrefix(data, m.Data) {
							t.Errorf("data kept is not what was sent: %s, ends %x", describe(m), m.Data[max(len(m.Data)-8, 0):])
						}
						if deflate {
							if !m.LenUnknown || m.Len != uint64(len(m.Data)) {
								t.Errorf("compressed: %s, want an unknown length", describe(m))
							}
							if len(m.Data) < 10000 {
								t.Errorf("compressed: only %d bytes inflated before the hole", len(m.Data))
							}
							return
						}
						if m.Len != uint64(len(data)) || m.LenUnknown {
							t.Errorf("plain: %s, want len=%d", describe(m), len(data))
						}
						if len(m.Data) > 20500 || len(m.Data) < 20500-5*MaxHeaderLen {
							t.Errorf("plain: kept %d bytes, want those before the hole at 20 500, less frame headers", len(m.Data))
						}
					})
				}
			}
		}
	}
}

// TestInflateNeverInventsTail: a message cut inside a stored block (by a
// limit on its compressed bytes or by the capture) used to inflate with
// the 00 00 ff ff tail as its last four bytes. However it is cut, the
// output is a prefix of what was sent; a cut marked complete is
// inflate_failed, not a whole message.
func TestInflateNeverInventsTail(t *testing.T) {
	data := cutPayloads()["random"][:100000]
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(data)
	w.Flush()
	msg := bytes.TrimSuffix(buf.Bytes(), deflateTail)
	// (Cut after its first byte, a stored block's header, the message is
	// the empty message of RFC 7692 §7.2.3.6, and whole.)
	for _, cut := range []int{7, 1000, 65530, 65540, len(msg) - 5, len(msg) - 1} {
		for _, complete := range []bool{false, true} {
			z := &inflater{}
			res := z.inflateMsg(msg[:cut], complete, 1<<20, noBudget)
			if !bytes.HasPrefix(data, res.out) || res.whole {
				t.Errorf("cut at %d, complete %v: %d bytes (whole %v), ending %x", cut, complete, len(res.out), res.whole, res.out[max(len(res.out)-4, 0):])
			}
			if complete && res.a&AnomInflateFailed == 0 {
				t.Errorf("cut at %d marked complete: anomalies %s, want inflate_failed", cut, res.a)
			}
		}
	}
	// And the whole message is whole.
	res := (&inflater{}).inflateMsg(msg, true, 1<<20, noBudget)
	if !res.whole || res.a != 0 || !bytes.Equal(res.out, data) {
		t.Errorf("whole message: %d bytes, whole %v, %s", len(res.out), res.whole, res.a)
	}
	// A sender that leaves the tail on is whole too.
	res = (&inflater{}).inflateMsg(buf.Bytes(), true, 1<<20, noBudget)
	if !res.whole || res.a != 0 || !bytes.Equal(res.out, data) {
		t.Errorf("tail left on: %d bytes, whole %v, %s", len(res.out), res.whole, res.a)
	}
	// An empty message and the single 0x00 byte of RFC 7692 §7.2.3.6.
	for _, m := range []string{"", "\x00"} {
		res = (&inflater{}).inflateMsg([]byte(m), true, 1<<20, noBudget)
		if !res.whole || res.a != 0 || len(res.out) != 0 {
			t.Errorf("empty message %q: %d bytes, whole %v, %s", m, len(res.out), res.whole, res.a)
		}
	}
}

// TestStreamedSameAsWhole: a compressed message inflates to the same
// bytes, length, anomalies and window whether it streams into the inflater
// (in chunks of any size) or is inflated whole, damaged messages included.
func TestStreamedSameAsWhole(t *testing.T) {
	data := cutPayloads()["letters"][:80000]
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(data)
	w.Flush()
	good := bytes.TrimSuffix(bytes.Clone(buf.Bytes()), deflateTail)
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 0x55
	for name, msg := range map[string][]byte{"good": good, "damaged": bad, "cut": good[:len(good)/2]} {
		for _, limit := range []int{1000, 1 << 20} {
			for _, chunk := range []int{1, 4, 1000, len(msg)} {
				if chunk == 1 && limit > 1000 {
					continue // slow and no different
				}
				whole := &inflater{}
				want := whole.inflateMsg(msg, true, limit, noBudget)
				wantOut := bytes.Clone(want.out)
				streamed := &inflater{}
				streamed.startStream(limit, noBudget)
				for b := msg; len(b) > 0; b = b[min(chunk, len(b)):] {
					streamed.push(b[:min(chunk, len(b))], noBudget)
				}
				got := streamed.finish(true, noBudget)
				if got.total != want.total || got.whole != want.whole || got.a != want.a || !bytes.Equal(got.out, wantOut) {
					t.Errorf("%s, limit %d, chunks of %d: streamed total %d whole %v %s, whole-message total %d whole %v %s",
						name, limit, chunk, got.total, got.whole, got.a, want.total, want.whole, want.a)
				}
				if !bytes.Equal(streamed.window, whole.window) || streamed.lost != whole.lost {
					t.Errorf("%s, limit %d, chunks of %d: windows differ", name, limit, chunk)
				}
			}
		}
	}
}

// TestInflateRatio: a connection inflates at most MaxInflateRatio bytes
// per frame byte it carried (plus inflateAllowance). A bomb stops there
// (inflate_ratio, counted in LimitHits, length unknown), and the messages
// after it are still decoded: those that do not refer into the bomb
// inflate. Under a ratio the bomb does not reach, it inflates to its end
// and its true length is known.
func TestInflateRatio(t *testing.T) {
	var zbuf bytes.Buffer
	w, _ := flate.NewWriter(&zbuf, flate.BestCompression)
	message := func(data []byte) []byte {
		at := zbuf.Len()
		w.Write(data)
		w.Flush()
		return bytes.TrimSuffix(bytes.Clone(zbuf.Bytes()[at:]), deflateTail)
	}
	zeros := make([]byte, 4<<20)
	bomb := message(zeros) // about 4 KB: a ratio of about 1 000
	reset := func() {
		zbuf.Reset()
		w.Reset(&zbuf) // the messages after do not refer into the bomb
	}
	for _, tc := range []struct {
		ratio   int
		stopped bool
	}{{10, true}, {200, true}, {5000, false}} {
		reset()
		after := message([]byte("after the bomb"))
		server := cat(frame(true, 4, OpBinary, nil, string(bomb)), frame(true, 4, OpText, nil, string(after)))
		s := &msgSink{}
		c := NewConn(1, testClient, testServer, Config{MaxMessage: cutLimit, MaxInflateRatio: tc.ratio}, s)
		c.Feed(0, []byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")), testTime)
		c.Feed(1, []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n")), testTime)
		c.Feed(1, server, testTime)
		hits := c.LimitHits().InflateRatio
		c.End(testTime)
		if len(s.msgs) != 2 {
			t.Fatalf("ratio %d: %d messages", tc.ratio, len(s.msgs))
		}
		b := s.msgs[0]
		if tc.stopped {
			budget := uint64(tc.ratio)*c.fed + inflateAllowance
			if b.Anomalies&AnomInflateRatio == 0 || !b.LenUnknown || hits != 1 {
				t.Errorf("ratio %d: bomb %s, %d hits; want inflate_ratio", tc.ratio, describe(b), hits)
			}
			if c.inflatedBytes() > budget+1 {
				t.Errorf("ratio %d: %d bytes inflated, budget %d", tc.ratio, c.inflatedBytes(), budget)
			}
		} else if b.Anomalies&AnomInflateRatio != 0 || b.LenUnknown || b.Len != uint64(len(zeros)) || hits != 0 {
			t.Errorf("ratio %d: bomb %s, %d hits; want inflated whole", tc.ratio, describe(b), hits)
		}
		if a := s.msgs[1]; string(a.Data) != "after the bomb" || a.Anomalies != 0 {
			t.Errorf("ratio %d: message after the bomb %s %q", tc.ratio, describe(a), a.Data)
		}
	}
}

// TestInflateRatioDefault: the default MaxInflateRatio is never reached by
// one layer of deflate (at most 1 032 bytes out per byte in), so real
// messages that compress very well inflate whole with the default: 2 MB
// of a repeated line of text (about 340:1) and 2 MB of zeros (about
// 1 000:1, the most deflate gives). The work stays bounded: the
// connection inflated no more than the default ratio times its bytes.
func TestInflateRatioDefault(t *testing.T) {
	line := []byte(`{"op":"tick","symbol":"ABC","bid":101.25,"ask":101.5}` + "\n")
	for _, tc := range []struct {
		name string
		data []byte
		min  int // the ratio the message reaches at least
	}{
		{"repeated-text", bytes.Repeat(line, 2<<20/len(line)), 300},
		{"zeros", make([]byte, 2<<20), 1000},
	} {
		var zbuf bytes.Buffer
		w, _ := flate.NewWriter(&zbuf, flate.BestCompression)
		w.Write(tc.data)
		w.Flush()
		z := bytes.TrimSuffix(zbuf.Bytes(), deflateTail)
		if r := len(tc.data) / len(z); r < tc.min {
			t.Fatalf("%s: ratio %d, want at least %d", tc.name, r, tc.min)
		}
		s := &msgSink{}
		c := NewConn(1, testClient, testServer, Config{MaxMessage: 4 << 20}, s)
		ext := "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
		c.Feed(0, []byte(upgradeRequest(ext)), testTime)
		c.Feed(1, []byte(upgradeResponse(ext)), testTime)
		// In segments, as it streams into the inflater.
		for f := frame(true, 4, OpText, nil, string(z)); len(f) > 0; {
			n := min(len(f), 1448)
			c.Feed(1, f[:n], testTime)
			f = f[n:]
		}
		hits := c.LimitHits().InflateRatio
		c.End(testTime)
		if len(s.msgs) != 1 {
			t.Fatalf("%s: %d messages", tc.name, len(s.msgs))
		}
		m := s.msgs[0]
		if m.Anomalies&AnomInflateRatio != 0 || m.LenUnknown || m.Len != uint64(len(tc.data)) || !bytes.Equal(m.Data, tc.data) || hits != 0 {
			t.Errorf("%s (%d:1): %s, %d hits; want inflated whole with the default ratio %d", tc.name, len(tc.data)/len(z), describe(m), hits, DefaultMaxInflateRatio)
		}
		if budget := uint64(DefaultMaxInflateRatio)*c.fed + inflateAllowance; c.inflatedBytes() > budget+1 {
			t.Errorf("%s: %d bytes inflated, over the default budget %d", tc.name, c.inflatedBytes(), budget)
		}
	}
}

// TestStreamedKeptTail: a sender that leaves the sync flush's 00 00 ff ff
// on a message (RFC 7692 §7.2.1 says to remove it; some do not) ends it on
// a block boundary wherever the pieces of a streamed message end: inside
// those four bytes too, where the message came out "inflate_failed", not
// whole.
func TestStreamedKeptTail(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write([]byte("hello, kept tail"))
	w.Flush()
	msg := bytes.Clone(buf.Bytes())
	if !bytes.HasSuffix(msg, deflateTail) {
		t.Fatalf("flush left no tail: % x", msg)
	}
	whole := (&inflater{}).inflateMsg(msg, true, 1<<20, noBudget)
	if !whole.whole || whole.a != 0 || string(whole.out) != "hello, kept tail" {
		t.Fatalf("whole: %q, whole %v, %s", whole.out, whole.whole, whole.a)
	}
	for at := 1; at < len(msg); at++ {
		z := &inflater{}
		z.startStream(1<<20, noBudget)
		z.push(msg[:at], noBudget)
		z.push(msg[at:], noBudget)
		got := z.finish(true, noBudget)
		if !got.whole || got.a != whole.a || !bytes.Equal(got.out, whole.out) {
			t.Errorf("pieces of %d and %d bytes: %q, whole %v, %s; whole message: %q, whole %v, %s",
				at, len(msg)-at, got.out, got.whole, got.a, whole.out, whole.whole, whole.a)
		}
	}
}
