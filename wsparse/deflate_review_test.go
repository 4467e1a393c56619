package wsparse

import (
	"bytes"
	"compress/flate"
	"io"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"testing"
)

// bitWriter writes DEFLATE's bits, least significant first.
type bitWriter struct {
	out []byte
	b   uint64
	nb  uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.b |= (v & (1<<n - 1)) << w.nb
	w.nb += n
	for w.nb >= 8 {
		w.out = append(w.out, byte(w.b))
		w.b >>= 8
		w.nb -= 8
	}
}

// code writes a Huffman code (most significant bit first).
func (w *bitWriter) code(c uint32, n int) {
	if n == 0 {
		return
	}
	w.bits(uint64(bits.Reverse32(c)>>(32-n)), uint(n))
}

func (w *bitWriter) align() {
	if w.nb > 0 {
		w.bits(0, 8-w.nb)
	}
}

// canonical returns the canonical codes of lengths (over-subscribed or
// incomplete codes too: what a damaged sender would write).
func canonical(lengths []int) []uint32 {
	var count [17]int
	for _, n := range lengths {
		count[n]++
	}
	count[0] = 0
	var next [17]uint32
	c := uint32(0)
	for n := 1; n <= 16; n++ {
		c = (c + uint32(count[n-1])) << 1
		next[n] = c
	}
	codes := make([]uint32, len(lengths))
	for i, n := range lengths {
		if n != 0 {
			codes[i] = next[n]
			next[n]++
		}
	}
	return codes
}

// reviewBlock writes one block of a message: stored, fixed or dynamic,
// the dynamic block's codes from randomLengths (complete, incomplete,
// over-subscribed, degenerate, empty; up to 15 bits, so link tables),
// its code lengths written with repeats (16 at the start, repeats past the
// end some of the time), then symbols: literals, copies (within what was
// written) and the end of the block, with a chance of symbols that have
// no code.
func reviewBlock(r *rand.Rand, w *bitWriter, final bool, written *int) {
	fin := uint64(0)
	if final {
		fin = 1
	}
	typ := r.IntN(5)
	switch typ {
	case 0: // stored
		w.bits(fin, 1)
		w.bits(0, 2)
		w.align()
		n := r.IntN(40)
		if r.IntN(8) == 0 {
			n = 0
		}
		w.out = append(w.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		for range n {
			w.out = append(w.out, byte(r.IntN(256)))
		}
		*written += n
		return
	}
	var lit, dist []int
	if typ == 1 { // fixed
		w.bits(fin, 1)
		w.bits(1, 2)
		lit = make([]int, 288)
		for i := range lit {
			switch {
			case i < 144:
				lit[i] = 8
			case i < 256:
				lit[i] = 9
			case i < 280:
				lit[i] = 7
			default:
				lit[i] = 8
			}
		}
		dist = make([]int, 30)
		for i := range dist {
			dist[i] = 5
		}
	} else {
		w.bits(fin, 1)
		w.bits(2, 2)
		nlit, ndist := 257+r.IntN(30), 1+r.IntN(30)
		if r.IntN(4) == 0 {
			nlit = 286
		}
		lit = randomLengths(r, nlit)
		if r.IntN(3) != 0 && lit[256] == 0 {
			// Mostly a code with an end of block.
			lit = randomLengths(r, nlit)
		}
		if ndist == 1 {
			dist = []int{r.IntN(3)}
		} else {
			dist = randomLengths(r, ndist)
		}
		all := append(append([]int{}, lit...), dist...)
		// The code lengths as symbols of the code length code.
		type sym struct{ s, extra, ne int }
		var syms []sym
		for i := 0; i < len(all); {
			run := 1
			for i+run < len(all) && all[i+run] == all[i] {
				run++
			}
			switch {
			case all[i] == 0 && run >= 11 && r.IntN(3) != 0:
				k := min(run, 138)
				syms = append(syms, sym{18, k - 11, 7})
				i += k
			case all[i] == 0 && run >= 3 && r.IntN(3) != 0:
				k := min(run, 10)
				syms = append(syms, sym{17, k - 3, 3})
				i += k
			case i > 0 && all[i] == all[i-1] && run >= 3 && r.IntN(2) == 0:
				k := min(run, 6)
				syms = append(syms, sym{16, k - 3, 2})
				i += k
			default:
				syms = append(syms, sym{all[i], 0, 0})
				i++
			}
		}
		switch r.IntN(12) {
		case 0: // a repeat of the previous length at the start
			syms = append([]sym{{16, r.IntN(4), 2}}, syms...)
		case 1: // a repeat past the end
			syms = append(syms[:len(syms)-1], sym{18, r.IntN(128), 7})
		case 2: // one too few
			syms = syms[:len(syms)-1]
		}
		// The code length code: over the symbols used, complete, or
		// damaged some of the time.
		used := make([]int, 19)
		for _, s := range syms {
			used[s.s]++
		}
		var cl []int
		for {
			cl = randomLengths(r, 19)
			ok := true
			for i := range cl {
				if cl[i] > 7 || (used[i] > 0 && cl[i] == 0 && r.IntN(20) != 0) {
					ok = false
				}
			}
			if ok {
				break
			}
		}
		nclen := 19
		for nclen > 4 && cl[codeOrder[nclen-1]] == 0 {
			nclen--
		}
		w.bits(uint64(nlit-257), 5)
		w.bits(uint64(ndist-1), 5)
		w.bits(uint64(nclen-4), 4)
		for i := range nclen {
			w.bits(uint64(cl[codeOrder[i]]), 3)
		}
		clc := canonical(cl)
		for _, s := range syms {
			w.code(clc[s.s], cl[s.s])
			w.bits(uint64(s.extra), uint(s.ne))
		}
	}
	litc, distc := canonical(lit), canonical(dist)
	var lits, dists []int
	for i, n := range lit {
		if n != 0 && i != 256 && i < 286 {
			lits = append(lits, i)
		}
	}
	for i, n := range dist {
		if n != 0 && i < 30 {
			dists = append(dists, i)
		}
	}
	for range r.IntN(300) {
		if len(lits) == 0 {
			break
		}
		s := lits[r.IntN(len(lits))]
		if r.IntN(200) == 0 {
			s = r.IntN(len(lit)) // maybe one without a code
		}
		w.code(litc[s], lit[s])
		if s < 256 {
			*written++
			continue
		}
		if s > 256 {
			lc := lengthCodes[min(s, 285)-257]
			w.bits(uint64(r.IntN(1<<(lc&0xff))), uint(lc&0xff))
			*written += int(lc >> 8)
			if len(dists) == 0 {
				continue
			}
			d := dists[r.IntN(len(dists))]
			if *written > 0 && r.IntN(10) != 0 {
				// Mostly a distance within what was written.
				for d = 0; d < len(dist)-1 && int(distCodes[d+1]>>8) <= *written; d++ {
				}
				d = r.IntN(d + 1)
				if dist[d] == 0 {
					d = dists[0]
				}
			}
			w.code(distc[d], dist[d])
			dc := distCodes[d]
			w.bits(uint64(r.IntN(1<<(dc&0xff))), uint(dc&0xff))
		}
	}
	if lit[256] != 0 {
		w.code(litc[256], lit[256])
	}
}

// reviewMessage returns a message of 1 to 4 blocks, maybe without a final
// one (a sync flush, as permessage-deflate sends), maybe with bits flipped.
func reviewMessage(r *rand.Rand) []byte {
	var w bitWriter
	written := 0
	n := 1 + r.IntN(4)
	final := r.IntN(3) == 0
	for i := range n {
		reviewBlock(r, &w, final && i == n-1, &written)
	}
	if !final {
		w.bits(0, 3)
		w.align()
		w.out = append(w.out, 0, 0, 0xff, 0xff)
	}
	w.align()
	m := w.out
	if r.IntN(4) == 0 && len(m) > 0 {
		for range 1 + r.IntN(3) {
			bit := r.IntN(len(m) * 8)
			m[bit/8] ^= 1 << (bit % 8)
		}
	}
	if r.IntN(6) == 0 && len(m) > 0 {
		m = m[:r.IntN(len(m))]
	}
	return m
}

// fillGarbage writes random values into every table of a decoder,
// including the link tables' store beyond what the last init used.
func fillGarbage(r *rand.Rand, h *huffmanDecoder) {
	for i := range h.chunks {
		h.chunks[i] = r.Uint32()
	}
	s := h.store[:cap(h.store)]
	for i := range s {
		s[i] = r.Uint32()
	}
}

// TestReviewInflateMatchesFlate: messages of stored, fixed and dynamic
// blocks with random codes (complete, incomplete, over-subscribed,
// degenerate, empty, up to 15 bits), damaged code length sequences
// (repeats at the start and past the end), bit flips and cuts, inflated by
// one decompressor after another (stale tables and link stores, garbage
// too), with the output of the message before as the dictionary (context
// takeover), whole and in pieces of random sizes: every Read's count,
// bytes, error and the input position equal compress/flate's.
func TestReviewInflateMatchesFlate(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(22, 17))
	var used, split decompressor
	var dict []byte
	// The read buffers, for every message: a new pair each (256 KiB
	// cleared 2000 times) was a third of the test's CPU.
	a, b := make([]byte, 1<<17), make([]byte, 1<<17)
	iters := 2000
	if testing.Short() {
		iters = 1000
	}
	corrupt, ok := 0, 0
	for k := range iters {
		m := reviewMessage(r)
		complete := r.IntN(4) != 0
		sizes := uint16(r.Uint32())
		if r.IntN(5) == 0 {
			fillGarbage(r, &used.h1)
			fillGarbage(r, &used.h2)
		}
		mine, theirs := tailReader{msg: m, noTail: !complete, endedAt: -1}, tailReader{msg: m, noTail: !complete, endedAt: -1}
		used.Reset(&mine, dict)
		ref := flate.NewReaderDict(&theirs, dict)
		var want []byte
		var wantErr error
		for i := 0; ; i++ {
			n := 1 + int(sizes>>(i%16)&0xff)*37%(1<<17)
			gotN, gotErr := used.Read(a[:n])
			wantN, werr := ref.Read(b[:n])
			if gotN != wantN || !bytes.Equal(a[:gotN], b[:wantN]) || !reflect.DeepEqual(gotErr, werr) ||
				mine.pos() != theirs.pos() || mine.endedAt != theirs.endedAt || mine.tailGiven != theirs.tailGiven {
				t.Fatalf("message %d %x, read %d: got %d, %v at %d; want %d, %v at %d", k, m, i, gotN, gotErr, mine.pos(), wantN, werr, theirs.pos())
			}
			want = append(want, b[:wantN]...)
			if werr != nil {
				wantErr = werr
				break
			}
		}
		if _, c := wantErr.(flate.CorruptInputError); c {
			corrupt++
		} else {
			ok++
		}

		// In pieces: a byte to a few dozen, empty ones too; the input
		// position after each Read as compress/flate's over the whole.
		rest := m
		pieceMax := 1 + r.IntN(40)
		inParts := tailReader{noTail: !complete, endedAt: -1, next: func() []byte {
			if len(rest) == 0 {
				return nil
			}
			p := rest[:min(r.IntN(pieceMax+1), len(rest))]
			rest = rest[len(p):]
			return p
		}}
		inWhole := tailReader{msg: m, noTail: !complete, endedAt: -1}
		split.Reset(&inParts, dict)
		ref = flate.NewReaderDict(&inWhole, dict)
		for i := 0; ; i++ {
			n := 1 + int(sizes>>(i%16)&0xff)*37%(1<<17)
			gotN, gotErr := split.Read(a[:n])
			wantN, werr := ref.Read(b[:n])
			if gotN != wantN || !bytes.Equal(a[:gotN], b[:wantN]) || !reflect.DeepEqual(gotErr, werr) ||
				inParts.pos() != inWhole.pos() || inParts.endedAt != inWhole.endedAt {
				t.Fatalf("in pieces: message %d %x, read %d: got %d, %v at %d; want %d, %v at %d", k, m, i, gotN, gotErr, inParts.pos(), wantN, werr, inWhole.pos())
			}
			if werr != nil {
				break
			}
		}
		if wantErr == io.EOF || wantErr == io.ErrUnexpectedEOF {
			dict = append(dict, want...)
			if len(dict) > windowSize {
				dict = dict[len(dict)-windowSize:]
			}
		} else if r.IntN(2) == 0 {
			dict = nil
		}
	}
	t.Logf("%d messages: %d corrupt, %d not", iters, corrupt, ok)
	if corrupt < iters/10 || ok < iters/10 {
		t.Fatalf("%d corrupt, %d not: not a mix", corrupt, ok)
	}
}

// TestReviewHeaderSplitEverywhere: messages of dynamic blocks (a sender's,
// and hostile ones: damaged codes and code length sequences) inflate as
// compress/flate inflates them whole when cut in two at every byte of
// their first 300 (the block headers among them), and in three with a
// piece of one byte there: the same Reads, output, error (its offset
// included) and input position after each Read. A piece ending within 8
// bytes makes readLengthsFast and huffmanFast stop short of it, so the
// careful loops read across the boundary.
func TestReviewHeaderSplitEverywhere(t *testing.T) {
	t.Parallel()
	msgs := deflateMessages(t, jsonMessages(4), false, flate.DefaultCompression)
	msgs = append(msgs, deflateMessages(t, jsonMessages(3), true, flate.BestSpeed)...)
	r := rand.New(rand.NewPCG(5, 6))
	for len(msgs) < 60 {
		if m := reviewMessage(r); len(m) > 20 {
			msgs = append(msgs, m)
		}
	}
	var f decompressor
	a, b := make([]byte, 1<<17), make([]byte, 1<<17)
	for k, m := range msgs {
		complete := k%2 == 0
		for s := 0; s <= min(len(m), 300); s++ {
			for _, cuts := range [][]int{{s}, {s, s + 1}} {
				pieces := [][]byte{}
				prev := 0
				for _, c := range cuts {
					c = min(c, len(m))
					pieces = append(pieces, m[prev:c])
					prev = c
				}
				pieces = append(pieces, m[prev:])
				src := tailReader{noTail: !complete, endedAt: -1, next: func() []byte {
					if len(pieces) == 0 {
						return nil
					}
					p := pieces[0]
					pieces = pieces[1:]
					return p
				}}
				whole := tailReader{msg: m, noTail: !complete, endedAt: -1}
				f.Reset(&src, nil)
				ref := flate.NewReader(&whole)
				for i := 0; ; i++ {
					n := 1 + (i*7919+s)%3000
					gotN, gotErr := f.Read(a[:n])
					wantN, wantErr := ref.Read(b[:n])
					if gotN != wantN || !bytes.Equal(a[:gotN], b[:wantN]) || !reflect.DeepEqual(gotErr, wantErr) ||
						src.pos() != whole.pos() || src.endedAt != whole.endedAt {
						t.Fatalf("message %d %x cut at %v, read %d: got %d, %v at %d; want %d, %v at %d", k, m, cuts, i, gotN, gotErr, src.pos(), wantN, wantErr, whole.pos())
					}
					if wantErr != nil {
						break
					}
				}
			}
		}
	}
}

// TestReviewInflaterHostileSequences: sequences of hostile messages (random
// codes, damaged headers, bit flips, cuts) among a sender's valid ones, so
// that the window becomes whole and a ring, inflated by the inflater (its
// pooled readers hold the tables of other sequences' blocks) as the
// reference inflates them, and the same when each message is streamed in
// pieces (startStream, push, finish).
func TestReviewInflaterHostileSequences(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	valid := deflateMessages(t, jsonMessages(120), true, flate.DefaultCompression)
	plain := jsonMessages(200)
	var bigs [][]byte
	for i := range 3 {
		bigs = append(bigs, deflateMessages(t, [][]byte{bytes.Join(plain[i*50:], nil)[:40<<10]}, false, 1+i*4)...)
	}
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	rings := 0
	for round := range rounds {
		noCtx := round%4 == 3
		whole, streamed := &inflater{noCtx: noCtx}, &inflater{noCtx: noCtx}
		ref := &refInflater{noCtx: noCtx}
		vi := 0
		for k := range 300 {
			var m []byte
			switch {
			case r.IntN(10) == 0:
				// 40 KiB on its own: the window whole after it.
				m = bigs[r.IntN(len(bigs))]
			case r.IntN(1+round%3*4) != 0 && vi < len(valid):
				m, vi = valid[vi], vi+1
			default:
				m = reviewMessage(r)
			}
			complete := r.IntN(8) != 0
			limit := 1 << 20
			if r.IntN(10) == 0 {
				limit = r.IntN(200)
			}
			got := whole.inflateMsg(m, complete, limit, noBudget)
			want, wa := ref.inflate(m, complete, limit)
			if got.a != wa || !bytes.Equal(got.out, want) {
				t.Fatalf("round %d message %d %x: got %d bytes, %v; want %d, %v", round, k, m, len(got.out), got.a, len(want), wa)
			}
			streamed.startStream(limit, noBudget)
			pieceMax := 1 + r.IntN(64)
			for rest := m; len(rest) > 0; {
				p := rest[:min(r.IntN(pieceMax+1), len(rest))]
				rest = rest[len(p):]
				streamed.push(p, noBudget)
			}
			res := streamed.finish(complete, noBudget)
			if res.a != got.a || !bytes.Equal(res.out, got.out) || res.total != got.total || res.whole != got.whole {
				t.Fatalf("round %d message %d %x streamed: got %d bytes, %v; want %d, %v", round, k, m, len(res.out), res.a, len(got.out), got.a)
			}
			if whole.lost != ref.lost || !whole.lost && !bytes.Equal(whole.history(), ref.window) || !bytes.Equal(streamed.history(), whole.history()) {
				t.Fatalf("round %d message %d: windows differ", round, k)
			}
			if whole.ring {
				rings++
			}
			whole.release()
			streamed.release()
		}
	}
	t.Logf("%d messages inflated into a ring", rings)
}
