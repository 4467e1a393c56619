package wsparse

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// spillOp is one step of a connection's capture: bytes of a side, or n of
// them lost (a gap).
type spillOp struct {
	side int
	data []byte
	gap  int
}

// spillFree returns the bytes of the spill file's slots that are free, and
// the file's size in slots (end).
func spillFree() (free, end int64) {
	spills.mu.Lock()
	defer spills.mu.Unlock()
	for cl, fl := range spills.free {
		free += int64(len(fl)) << (cl + spillMinBits)
	}
	return free, spills.end
}

// runSpillOps feeds ops to one connection and returns its records; it
// checks that once the connection ended nothing is counted at rest and
// every slot of the spill file is free again.
func runSpillOps(t *testing.T, ops []spillOp, cfg Config) string {
	t.Helper()
	held := spills.held.Load()
	s := &logSink{}
	c := NewShared(cfg, s).NewConn(1, testClient, testServer)
	for _, op := range ops {
		if op.gap > 0 {
			c.Gap(op.side, op.gap, testTime)
			continue
		}
		c.Feed(op.side, op.data, testTime)
	}
	c.End(testTime)
	if h := spills.held.Load(); h != held {
		t.Errorf("SpillAbove %d: %d bytes counted at rest after the end, were %d", cfg.SpillAbove, h, held)
	}
	if free, end := spillFree(); free != end {
		t.Errorf("SpillAbove %d: %d bytes of slots free of %d after the end", cfg.SpillAbove, free, end)
	}
	return s.String()
}

// sameSpilled checks that ops give the same records with every message at
// rest spilled as with none, and that some were spilled (when want).
func sameSpilled(t *testing.T, name string, ops []spillOp, cfg Config, wantSpilled bool) {
	t.Helper()
	before := Spilled()
	cfg.SpillAbove = 1
	got := runSpillOps(t, ops, cfg)
	n := Spilled() - before
	cfg.SpillAbove = -1
	want := runSpillOps(t, ops, cfg)
	if wantSpilled && n == 0 {
		t.Errorf("%s: nothing spilled", name)
	}
	if got != want {
		g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
		for j := range min(len(g), len(w)) {
			if g[j] != w[j] {
				t.Fatalf("%s: record %d spilled\n%s\nnot spilled\n%s", name, j, g[j], w[j])
			}
		}
		t.Fatalf("%s: %d records spilled, %d not", name, len(g), len(w))
	}
	if err := SpillError(); err != nil {
		t.Fatal(err)
	}
}

// letters returns n random lowercase letters.
func letters(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	return string(b)
}

// deflater compresses messages of one side with context takeover, without
// the tail permessage-deflate drops.
type deflater struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func (d *deflater) msg(s string) string {
	if d.w == nil {
		d.w, _ = flate.NewWriter(&d.buf, flate.BestSpeed)
	}
	d.buf.Reset()
	d.w.Write([]byte(s))
	d.w.Flush()
	return strings.TrimSuffix(d.buf.String(), string(deflateTail))
}

// fragments returns msg as frames of the given sizes (the last takes the
// rest), the first with op and rsv.
func fragments(op Opcode, rsv uint8, key []byte, msg string, sizes ...int) []byte {
	var out []byte
	for i := 0; ; i++ {
		n := len(msg)
		if i < len(sizes) {
			n = min(sizes[i], len(msg))
		}
		fin := i >= len(sizes)
		out = append(out, frame(fin, rsv, op, key, msg[:n])...)
		msg, op, rsv = msg[n:], OpContinuation, 0
		if fin {
			return out
		}
	}
}

func spillUpgrade(ext string) []spillOp {
	return []spillOp{{side: 0, data: []byte(upgradeRequest(ext))}, {side: 1, data: []byte(upgradeResponse(ext))}}
}

// TestSpillHostileSame: hostile and edge cases give the same records
// spilled as not: fragments of one byte and of none, messages at rest of
// the sizes around spillMax and the slot classes, compressed messages that
// start streaming into the inflater after their first fragments were
// spilled, --max-message and --max-payload below a spilled message, gaps
// between and inside the frames of a message at rest, a capture that ends
// inside a frame header, an interrupted message.
func TestSpillHostileSame(t *testing.T) {
	r := rand.New(rand.NewPCG(96, 28))
	const ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"

	// Fragments of one byte and of none, pings between.
	{
		ops := spillUpgrade("")
		var b []byte
		b = append(b, frame(false, 0, OpText, nil, "")...)
		msg := letters(r, 300)
		for i := range len(msg) {
			b = append(b, frame(false, 0, OpContinuation, nil, "")...)
			b = append(b, frame(false, 0, OpContinuation, nil, msg[i:i+1])...)
			if i%7 == 0 {
				b = append(b, frame(true, 0, OpPing, nil, "p")...)
			}
			if i%50 == 0 {
				// Enough bytes at once to be spilled (spillRatio).
				b = append(b, frame(false, 0, OpContinuation, nil, msg[:200])...)
			}
		}
		b = append(b, frame(true, 0, OpContinuation, nil, "")...)
		for i := 0; i < len(b); i += 5 {
			ops = append(ops, spillOp{side: 1, data: b[i:min(i+5, len(b))]})
		}
		sameSpilled(t, "tiny fragments", ops, Config{}, true)
	}

	// At rest at the edges of the slot classes and of spillMax, then one
	// byte more (over spillMax: in memory from then on).
	for _, n := range []int{1, 59, 60, 61, 124, 125, 4092, 4093, spillMax - 1, spillMax, spillMax + 1} {
		ops := spillUpgrade("")
		msg := letters(r, n+2)
		ops = append(ops, spillOp{side: 0, data: fragments(OpBinary, 0, testMask, msg, n, 1)},
			spillOp{side: 1, data: fragments(OpText, 0, nil, msg, n, 1, 0)})
		sameSpilled(t, fmt.Sprint("size ", n), ops, Config{}, n > 1 && n <= spillMax) // 1 byte: not worth a write (spillCost)
	}

	// Compressed: the first fragments kept (and spilled), then too much
	// for --max-message: the message streams into the inflater from its
	// spilled bytes read back; the next message uses the window.
	for _, lim := range []int{700, 1500, 4000} {
		ops := spillUpgrade(ext)
		var d [2]deflater
		for m := range 4 {
			for side := range 2 {
				var key []byte
				if side == 0 {
					key = testMask
				}
				z := d[side].msg(letters(r, 1000+r.IntN(5000)) + strings.Repeat("x", r.IntN(3000)))
				var sizes []int
				for range len(z)/200 + m {
					sizes = append(sizes, 1+r.IntN(400))
				}
				b := fragments(OpText, 4, key, z, sizes...)
				for len(b) > 0 {
					k := min(len(b), 1+r.IntN(300))
					ops = append(ops, spillOp{side: side, data: b[:k]})
					b = b[k:]
				}
			}
		}
		sameSpilled(t, fmt.Sprint("streaming after spill, max-message ", lim), ops, Config{MaxMessage: lim}, true)
	}

	// --max-message and --max-payload below a spilled message.
	for _, cfg := range []Config{{MaxMessage: 100}, {MaxPayload: 50}, {MaxMessage: 100, MaxPayload: 50}, {MaxMessage: 1}} {
		ops := spillUpgrade("")
		msg := letters(r, 400)
		ops = append(ops, spillOp{side: 1, data: fragments(OpText, 0, nil, msg, 30, 30, 30, 80, 0, 90)})
		ops = append(ops, spillOp{side: 0, data: fragments(OpBinary, 0, testMask, msg, 99, 1, 1)})
		sameSpilled(t, fmt.Sprintf("limits %+v", cfg), ops, cfg, true)
	}

	// A gap between the frames of a message at rest, and one inside the
	// payload of its next frame, then frames again.
	{
		msg := letters(r, 900)
		ops := spillUpgrade("")
		ops = append(ops, spillOp{side: 1, data: frame(false, 0, OpText, nil, msg[:100])},
			spillOp{side: 1, gap: 7},
			spillOp{side: 1, data: fragments(OpText, 0, nil, msg, 200, 200)})
		next := frame(false, 0, OpContinuation, nil, msg[:300])
		ops = append(ops, spillOp{side: 0, data: frame(false, 0, OpBinary, testMask, msg[:50])},
			spillOp{side: 0, data: frame(false, 0, OpContinuation, testMask, msg[:60])},
			spillOp{side: 1, data: frame(false, 0, OpBinary, nil, msg[:50])},
			spillOp{side: 1, data: next[:20]}, spillOp{side: 1, gap: 100},
			spillOp{side: 1, data: next[120:]},
			spillOp{side: 1, data: frame(true, 0, OpContinuation, nil, msg[:10])})
		sameSpilled(t, "gaps", ops, Config{}, true)
	}

	// The capture ends inside the header of a message's next frame, and a
	// message at rest is interrupted by another.
	{
		msg := letters(r, 500)
		ops := spillUpgrade("")
		next := frame(true, 0, OpContinuation, testMask, msg[:200])
		ops = append(ops, spillOp{side: 0, data: frame(false, 0, OpText, testMask, msg[:100])},
			spillOp{side: 1, data: frame(false, 0, OpBinary, nil, msg[:100])},
			spillOp{side: 1, data: fragments(OpText, 0, nil, msg, 300)},
			spillOp{side: 0, data: next[:3]})
		sameSpilled(t, "end in a header, interrupted", ops, Config{}, true)
	}
}

// TestSpillRandomSame: random connections (fragments of 0 to 2 000
// bytes, some compressed, pings, gaps, limits, feeds of random lengths)
// give the same records spilled as not.
func TestSpillRandomSame(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 96))
		ext := ""
		if r.IntN(2) == 0 {
			ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		cfg := Config{}
		switch r.IntN(4) {
		case 0:
			cfg.MaxMessage = 1 + r.IntN(3000)
		case 1:
			cfg.MaxPayload = 1 + r.IntN(1000)
		}
		var d [2]deflater
		var stream [2][]byte
		var ops []spillOp
		for range 6 + r.IntN(10) {
			side := r.IntN(2)
			var key []byte
			if side == 0 {
				key = testMask
			}
			msg := letters(r, r.IntN(4000))
			rsv := uint8(0)
			if ext != "" && r.IntN(2) == 0 {
				msg, rsv = d[side].msg(msg), 4
			}
			op := OpText
			for {
				n := min(len(msg), r.IntN(2000))
				if r.IntN(5) == 0 {
					n = 0
				}
				fin := n == len(msg) && r.IntN(3) > 0
				stream[side] = append(stream[side], frame(fin, rsv, op, key, msg[:n])...)
				msg, op, rsv = msg[n:], OpContinuation, 0
				if r.IntN(5) == 0 {
					stream[side] = append(stream[side], frame(true, 0, OpPing, key, "p")...)
				}
				if fin {
					break
				}
			}
		}
		ops = spillUpgrade(ext)
		for len(stream[0])+len(stream[1]) > 0 {
			side := r.IntN(2)
			b := stream[side]
			if len(b) == 0 {
				continue
			}
			n := min(len(b), 1+r.IntN(1500))
			if r.IntN(40) == 0 {
				ops = append(ops, spillOp{side: side, gap: n})
			} else {
				ops = append(ops, spillOp{side: side, data: b[:n]})
			}
			stream[side] = b[n:]
		}
		sameSpilled(t, fmt.Sprint("seed ", seed), ops, cfg, false)
	}
}

// TestSpillNotPerTinyFrame: a message at rest comes back from the spill
// file at every frame of its side, and went back to it at every frame's
// end: a 32 KiB message followed by 1-byte fragments, or by pings, was
// written and read whole for every few bytes of capture (a crafted
// capture of 1.7 MB took 6.2 CPU s, 0.5 without spilling). What is
// written to the file stays a bounded multiple of the bytes decoded.
func TestSpillNotPerTinyFrame(t *testing.T) {
	const first = 32 << 10
	ops := spillUpgrade("")
	in := 0
	add := func(b []byte) {
		ops = append(ops, spillOp{side: 1, data: b})
		in += len(b)
	}
	add(frame(false, 0, OpBinary, nil, strings.Repeat("a", first)))
	for i := range 2000 {
		add(frame(false, 0, OpContinuation, nil, string(rune('a'+i%26))))
		add(frame(true, 0, OpPing, nil, ""))
	}
	add(frame(true, 0, OpContinuation, nil, "z"))
	before := Spilled()
	sameSpilled(t, "tiny frames after 32 KiB", ops, Config{}, true)
	n := Spilled() - before
	// Each message written is over 32 KiB here.
	if written := n * first; written > int64(32*in) {
		t.Errorf("%d messages of over 32 KiB written to the spill file for %d bytes of frames", n, in)
	}
}

// TestSpillNotPerTinyFeed: a frame's payload still coming, fed a byte at
// a time, and a window followed by empty compressed messages, are not
// written and read whole for each byte or each message (spillRatio), and
// the records are the same as not spilled.
func TestSpillNotPerTinyFeed(t *testing.T) {
	const size = 32 << 10
	ops := spillUpgrade("")
	f := frame(true, 0, OpBinary, nil, strings.Repeat("a", size))
	ops = append(ops, spillOp{side: 1, data: f[:size/2]})
	in := size / 2
	for _, b := range f[size/2:] {
		ops = append(ops, spillOp{side: 1, data: []byte{b}})
		in++
	}
	before := Spilled()
	sameSpilled(t, "a payload fed a byte at a time", ops, Config{}, true)
	if n := Spilled() - before; n*size/2 > int64(32*in) {
		t.Errorf("%d payloads of over 16 KiB written to the spill file for %d bytes fed", n, in)
	}

	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	ops = spillUpgrade(ext)
	text := make([]byte, size)
	for i := range text {
		text[i] = 'a' + byte(i*7%26)
	}
	msgs := [][]byte{text}
	for range 2000 {
		msgs = append(msgs, nil)
	}
	in = 0
	for _, z := range deflateMessages(t, msgs, true, flate.BestCompression) {
		b := frame(true, 4, OpText, nil, string(z))
		ops = append(ops, spillOp{side: 1, data: b})
		in += len(b)
	}
	before = Spilled()
	sameSpilled(t, "empty compressed messages after a whole window", ops, Config{}, true)
	if n := Spilled() - before; n*size > int64(32*in) {
		t.Errorf("%d windows of 32 KiB written to the spill file for %d bytes of frames", n, in)
	}
}
