package wsparse

import (
	"bytes"
	"compress/flate"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// refHuffman is compress/flate's huffmanDecoder.init of Go go1.26.8 as it
// was, on a zeroed decoder: the reference for init's tables.
type refHuffman struct {
	min      int
	chunks   [huffmanNumChunks]uint32
	links    [][]uint32
	linkMask uint32
}

func (h *refHuffman) init(lengths []int) bool {
	var count [maxCodeLen]int
	var min, max int
	for _, n := range lengths {
		if n == 0 {
			continue
		}
		if min == 0 || n < min {
			min = n
		}
		if n > max {
			max = n
		}
		count[n]++
	}
	if max == 0 {
		return true
	}
	code := 0
	var nextcode [maxCodeLen]int
	for i := min; i <= max; i++ {
		code <<= 1
		nextcode[i] = code
		code += count[i]
	}
	if code != 1<<uint(max) && !(code == 1 && max == 1) {
		return false
	}
	h.min = min
	if max > huffmanChunkBits {
		numLinks := 1 << (uint(max) - huffmanChunkBits)
		h.linkMask = uint32(numLinks - 1)
		link := nextcode[huffmanChunkBits+1] >> 1
		h.links = make([][]uint32, huffmanNumChunks-link)
		for j := uint(link); j < huffmanNumChunks; j++ {
			reverse := int(bits.Reverse16(uint16(j)))
			reverse >>= uint(16 - huffmanChunkBits)
			off := j - uint(link)
			h.chunks[reverse] = uint32(off<<huffmanValueShift | (huffmanChunkBits + 1))
			h.links[off] = make([]uint32, numLinks)
		}
	}
	for i, n := range lengths {
		if n == 0 {
			continue
		}
		code := nextcode[n]
		nextcode[n]++
		chunk := uint32(i<<huffmanValueShift | n)
		reverse := int(bits.Reverse16(uint16(code)))
		reverse >>= uint(16 - n)
		if n <= huffmanChunkBits {
			for off := reverse; off < len(h.chunks); off += 1 << uint(n) {
				h.chunks[off] = chunk
			}
		} else {
			j := reverse & (huffmanNumChunks - 1)
			value := h.chunks[j] >> huffmanValueShift
			linktab := h.links[value]
			reverse >>= huffmanChunkBits
			for off := reverse; off < len(linktab); off += 1 << uint(n-huffmanChunkBits) {
				linktab[off] = chunk
			}
		}
	}
	return true
}

// randomLengths returns code lengths of n symbols: those of a complete
// code (a random tree of at most 15 levels), or, some of the time, of a
// code changed by one length (incomplete or over-subscribed), a
// degenerate one (one code of length 1) or an empty one.
func randomLengths(r *rand.Rand, n int) []int {
	lengths := make([]int, n)
	switch r.IntN(10) {
	case 0:
		return lengths // empty
	case 1:
		lengths[r.IntN(n)] = 1 // degenerate
		return lengths
	}
	// Split leaves of a tree at random until it has k leaves.
	k := 2 + r.IntN(n-1)
	leaves := []int{1, 1}
	for len(leaves) < k {
		i := r.IntN(len(leaves))
		if leaves[i] >= 15 {
			if r.IntN(8) == 0 {
				break
			}
			continue
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	for i, l := range r.Perm(n)[:len(leaves)] {
		lengths[l] = leaves[i]
	}
	if r.IntN(6) == 0 {
		i := r.IntN(n)
		lengths[i] = r.IntN(16) // likely no longer complete
	}
	return lengths
}

// TestHuffmanInitMatchesFlate: init builds compress/flate's tables entry
// for entry over random codes (complete ones of up to 15 bits, with and
// without link tables, degenerate, empty; incomplete and over-subscribed
// ones fail both), on a decoder whose tables hold what an earlier init or
// anything else left: init writes every entry it needs, so that Reset
// need not zero them.
func TestHuffmanInitMatchesFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var h huffmanDecoder
	fixedHuffmanDecoderInit()
	var failed, linked, short int
	for i := 0; i < 20000; i++ {
		n := []int{19, 30, 286, 288, 2, 3}[r.IntN(6)]
		lengths := randomLengths(r, n)
		if r.IntN(4) == 0 {
			for j := range h.chunks {
				h.chunks[j] = r.Uint32()
			}
			h.min, h.linkMask = r.IntN(16), r.Uint32()
			for _, l := range h.links {
				for j := range l {
					l[j] = r.Uint32()
				}
			}
		}
		var ref refHuffman
		want := ref.init(lengths)
		got := h.init(lengths)
		if got != want {
			t.Fatalf("lengths %v: init %v, want %v", lengths, got, want)
		}
		if !want {
			failed++
			continue
		}
		if len(ref.links) > 0 {
			linked++
		} else {
			short++
		}
		if h.min != ref.min || h.chunks != ref.chunks || h.linkMask != ref.linkMask || len(h.links) != len(ref.links) {
			t.Fatalf("lengths %v: min %d, mask %d, %d links; want %d, %d, %d; chunks equal %v", lengths, h.min, h.linkMask, len(h.links), ref.min, ref.linkMask, len(ref.links), h.chunks == ref.chunks)
		}
		for j := range ref.links {
			if !slices.Equal(h.links[j], ref.links[j]) {
				t.Fatalf("lengths %v: link table %d differs", lengths, j)
			}
		}
	}
	if failed < 1000 || linked < 1000 || short < 1000 {
		t.Fatalf("%d failed, %d with link tables, %d without: too few of some", failed, linked, short)
	}
	// The fixed code's tables (made by init) are compress/flate's too.
	var bits [288]int
	for i := range bits {
		bits[i] = []int{8, 9, 7, 8}[slices.IndexFunc([]int{144, 256, 280, 288}, func(e int) bool { return i < e })]
	}
	var ref refHuffman
	ref.init(bits[:])
	if fixedHuffmanDecoder.chunks != ref.chunks || fixedHuffmanDecoder.min != ref.min {
		t.Fatal("fixed code's tables differ")
	}
}

// TestResetLeavesHuffmanTables: Reset writes nothing to the Huffman
// decoders' tables (compress/flate zeroes their 4 KiB for each message),
// and a Reset decompressor whose tables hold anything at all inflates each
// message as compress/flate does: init writes every entry a block uses.
func TestResetLeavesHuffmanTables(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	msgs := deflateMessages(t, jsonMessages(20), false, flate.DefaultCompression)
	// One that declares no distance codes and then uses one (see
	// TestInflateIndependentOfHistory), damaged bytes, and messages of
	// fixed codes.
	msgs = append(msgs, []byte("\xc4\xc0\x81\x10\x00\x00\x00\x83Z\x95y\xed\xf2\xd7\b\xa3#"), []byte("\xed\xc0\x01\x01\x00\x00\x00\x40\x90\xff\xaf\x36\x22"))
	msgs = append(msgs, deflateMessages(t, jsonMessages(3), false, flate.HuffmanOnly)...)
	var f decompressor
	for i, m := range msgs {
		for j := range f.h1.chunks {
			f.h1.chunks[j], f.h2.chunks[j] = r.Uint32(), r.Uint32()
		}
		h1, h2 := f.h1.chunks, f.h2.chunks
		src, ref := tailReader{msg: m, endedAt: -1}, tailReader{msg: m, endedAt: -1}
		f.Reset(&src, nil)
		if f.h1.chunks != h1 || f.h2.chunks != h2 {
			t.Fatalf("message %d: Reset wrote to the Huffman tables", i)
		}
		got, gotErr := readSome(&f, 1)
		want, wantErr := readSome(flate.NewReader(&ref), 1)
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) || src.pos() != ref.pos() {
			t.Fatalf("message %d: %d bytes, %v, input at %d; want %d, %v, %d", i, len(got), gotErr, src.pos(), len(want), wantErr, ref.pos())
		}
	}
}

// TestDamagedHeadersMatchFlate: dynamic blocks whose headers (the code
// lengths, read by readLengthsFast) are damaged here and there inflate as
// compress/flate inflates them: the same output, error (its offset
// included) and input position, read whole and in pieces of 1 to 9 bytes.
func TestDamagedHeadersMatchFlate(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	msgs := deflateMessages(t, jsonMessages(40), false, flate.DefaultCompression)
	var f decompressor
	corrupt := 0
	for k := 0; k < 4000; k++ {
		m := bytes.Clone(msgs[r.IntN(len(msgs))])
		for range 1 + r.IntN(3) {
			bit := r.IntN(min(len(m), 80) * 8)
			m[bit/8] ^= 1 << (bit % 8)
		}
		complete := r.IntN(2) == 0
		ref := tailReader{msg: m, noTail: !complete, endedAt: -1}
		want, wantErr := readSome(flate.NewReader(&ref), uint16(k))
		whole := tailReader{msg: m, noTail: !complete, endedAt: -1}
		f.Reset(&whole, nil)
		got, gotErr := readSome(&f, uint16(k))
		if _, ok := wantErr.(flate.CorruptInputError); ok {
			corrupt++
		}
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) || whole.pos() != ref.pos() {
			t.Fatalf("%x: %d bytes, %v, input at %d; want %d, %v, %d", m, len(got), gotErr, whole.pos(), len(want), wantErr, ref.pos())
		}
		rest := m
		parts := tailReader{noTail: !complete, endedAt: -1, next: func() []byte {
			if len(rest) == 0 {
				return nil
			}
			p := rest[:min(1+r.IntN(9), len(rest))]
			rest = rest[len(p):]
			return p
		}}
		f.Reset(&parts, nil)
		got, gotErr = readSome(&f, uint16(k))
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) || parts.pos() != ref.pos() {
			t.Fatalf("in pieces %x: %d bytes, %v, input at %d; want %d, %v, %d", m, len(got), gotErr, parts.pos(), len(want), wantErr, ref.pos())
		}
	}
	if corrupt < 1000 {
		t.Fatalf("only %d of the damaged messages were errors", corrupt)
	}
}
