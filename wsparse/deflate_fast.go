package wsparse

import (
	"encoding/binary"
	"math/bits"
)

// maxMatchLength is the longest copy of DEFLATE (RFC 1951 §3.2.5).
const maxMatchLength = 258

// lengthCodes and distCodes give, by symbol (length symbols from 257),
// the base of a copy's length or distance <<8 | its count of extra bits:
// what the switches of huffmanBlock compute.
var lengthCodes [maxNumLit - 257]uint32
var distCodes [maxNumDist]uint32

func init() {
	for v := 257; v < maxNumLit; v++ {
		var length, n int
		switch {
		case v < 265:
			length, n = v-(257-3), 0
		case v < 269:
			length, n = v*2-(265*2-11), 1
		case v < 273:
			length, n = v*4-(269*4-19), 2
		case v < 277:
			length, n = v*8-(273*8-35), 3
		case v < 281:
			length, n = v*16-(277*16-67), 4
		case v < 285:
			length, n = v*32-(281*32-131), 5
		default:
			length, n = 258, 0
		}
		lengthCodes[v-257] = uint32(length<<8 | n)
	}
	for c := range distCodes {
		if c < 4 {
			distCodes[c] = uint32((c + 1) << 8)
			continue
		}
		nb := (c - 2) >> 1
		distCodes[c] = uint32((1<<(nb+1)+1+(c&1)<<nb)<<8 | nb)
	}
}

// huffmanFast decodes the symbols of a Huffman block (huffmanBlock's
// readLiteral) while at least 8 bytes of the input remain in the current
// piece and the history has room for a literal or a copy of any length
// after which it is still not full. It reads the input 8 bytes at a time
// into a 64-bit bit buffer, ahead of what compress/flate reads (one byte at
// a time, when the bits it holds are too few for the next field), and on
// leaving gives the bytes back: the input position, f.b, f.nb and f.roffset
// are then what compress/flate's loop would have at the same symbol
// boundary (see below), so that everything after (the careful loop, a
// stored block's Reads, the end of the message) is unchanged. A symbol
// that is an error (an invalid code, length or distance symbol, a distance
// past the history) is left undecoded, for huffmanBlock's own loop to
// report as compress/flate does. It reports whether it decoded the end of
// the block (and finished it, as huffmanBlock does).
//
// How many bits compress/flate holds: it reads bytes for a field until it
// holds at least need bits (a Huffman code: the longer of the code and the
// decoder's min, which for the literal/length decoder is at least the
// end-of-block code's length; extra bits: their count) and then uses use
// bits of them. By induction on the fields, the bits it holds are the
// fewest, at least 0 and at least d, that are congruent to the bits this
// loop holds modulo 8 (both have consumed the same bits), where d starts
// at the bits held on entry and each field makes it max(d, need) - use.
func (f *decompressor) huffmanFast() bool {
	r := f.r
	msg, i := r.msg, r.i
	b, nb := uint64(f.b), f.nb
	d := nb
	hl, hd := f.hl, f.hd
	lmin, dmin := uint(hl.min), uint(0)
	if hd != nil {
		dmin = uint(hd.min)
	}
	hist, wr := f.dict.hist, f.dict.wrPos
	full := f.dict.full
	// The state at the start of the symbol being decoded (the input is
	// read only before it).
	sb, snb, sd := b, nb, d
	eob, bail := false, false
	for len(hist)-wr > maxMatchLength {
		if nb < 48 { // 48: the most bits a literal/length and distance take
			if len(msg)-i < 8 {
				break
			}
			b |= binary.LittleEndian.Uint64(msg[i:]) << (nb & 63)
			k := (63 - nb) >> 3
			i += int(k)
			nb += k << 3
		}
		sb, snb, sd = b, nb, d
		chunk, n := hl.lookup(b)
		if n == 0 {
			bail = true
			break
		}
		b >>= n
		nb -= n
		d = max(d, lmin, n) - n
		v := chunk >> huffmanValueShift
		if v < 256 {
			hist[wr] = byte(v)
			wr++
			continue
		}
		if v == endBlockMarker {
			eob = true
			break
		}
		if v >= maxNumLit {
			bail = true
			break
		}
		lc := lengthCodes[v-257]
		ne := uint(lc & 0xff)
		length := int(lc>>8) + int(b&(1<<ne-1))
		b >>= ne
		nb -= ne
		d = max(d, ne) - ne

		var dc uint32
		if hd == nil {
			dc = uint32(bits.Reverse8(uint8(b & 0x1F << 3)))
			b >>= 5
			nb -= 5
			d = max(d, 5) - 5
		} else {
			chunk, n = hd.lookup(b)
			if n == 0 {
				bail = true
				break
			}
			b >>= n
			nb -= n
			d = max(d, dmin, n) - n
			dc = chunk >> huffmanValueShift
		}
		if dc >= maxNumDist {
			bail = true
			break
		}
		dcode := distCodes[dc]
		ne = uint(dcode & 0xff)
		dist := int(dcode>>8) + int(b&(1<<ne-1))
		b >>= ne
		nb -= ne
		d = max(d, ne) - ne
		if dist > wr && (!full || dist > len(hist)) {
			bail = true
			break
		}

		// The copy: within what was written before wr, or (a ring's
		// history wrapping around) by writeCopy.
		if src := wr - dist; src >= 0 {
			end := wr + length
			switch {
			case dist >= length && length <= 16:
				// Short and not overlapping: two loads that may overlap
				// each other, then two stores, all within the copy (the
				// bytes after end may be a ring's history).
				le := binary.LittleEndian
				switch {
				case length >= 8:
					x, y := le.Uint64(hist[src:]), le.Uint64(hist[src+length-8:])
					le.PutUint64(hist[wr:], x)
					le.PutUint64(hist[end-8:], y)
				case length >= 4:
					x, y := le.Uint32(hist[src:]), le.Uint32(hist[src+length-4:])
					le.PutUint32(hist[wr:], x)
					le.PutUint32(hist[end-4:], y)
				default:
					hist[wr], hist[wr+1], hist[wr+2] = hist[src], hist[src+1], hist[src+2]
				}
				wr = end
			case dist >= length:
				copy(hist[wr:end], hist[src:])
				wr = end
			default:
				for wr < end {
					wr += copy(hist[wr:end], hist[src:wr])
				}
			}
		} else {
			f.dict.wrPos = wr
			wr += f.dict.writeCopy(dist, length)
		}
	}
	if bail {
		b, nb, d = sb, snb, sd
	}
	f.giveBack(i, b, nb, d)
	f.dict.wrPos = wr
	if eob {
		f.finishBlock()
	}
	return eob
}

// lookup returns the chunk of the code at the bottom of b and its length
// (0: no code), through the link table for codes longer than
// huffmanChunkBits, as huffSym does.
func (h *huffmanDecoder) lookup(b uint64) (chunk uint32, n uint) {
	chunk = h.chunks[b&(huffmanNumChunks-1)]
	n = uint(chunk & huffmanCountMask)
	if n > huffmanChunkBits {
		chunk = h.links[chunk>>huffmanValueShift][uint32(b>>huffmanChunkBits)&h.linkMask]
		n = uint(chunk & huffmanCountMask)
	}
	return chunk, n
}

// readLengthsFast decodes the code lengths of a dynamic block's
// literal/length and distance codes (readHuffman's loop, with the code
// length code in f.h1) into f.bits from i on, up to n, while at least 8
// bytes of the input remain in the current piece: 8 bytes at a time into
// a 64-bit bit buffer, as huffmanFast does, giving back on leaving the
// bytes compress/flate would not have read yet (see huffmanFast for how
// many bits it holds). A symbol that is an error (an invalid code, a
// repeat of the previous length with none before it, a repeat past n) is
// left undecoded, for readHuffman's own loop to report. It returns where
// it stopped.
func (f *decompressor) readLengthsFast(i, n int) int {
	r := f.r
	msg, p := r.msg, r.i
	b, nb := uint64(f.b), f.nb
	d := nb
	h := &f.h1
	lengths := f.bits[:n]
loop:
	for i < n {
		if nb < 32 { // 32: more than a code (7 bits) and its extra bits (7)
			if len(msg)-p < 8 {
				break
			}
			b |= binary.LittleEndian.Uint64(msg[p:]) << (nb & 63)
			k := (63 - nb) >> 3
			p += int(k)
			nb += k << 3
		}
		chunk, cn := h.lookup(b)
		if cn == 0 {
			break
		}
		x := int(chunk >> huffmanValueShift)
		if x < 16 {
			b >>= cn
			nb -= cn
			d = max(d, cn) - cn
			lengths[i] = x
			i++
			continue
		}
		var rep, v int
		var ne uint
		switch x {
		case 16:
			if i == 0 {
				break loop
			}
			rep, ne, v = 3, 2, lengths[i-1]
		case 17:
			rep, ne = 3, 3
		default: // 18: the code length code has 19 symbols
			rep, ne = 11, 7
		}
		rep += int(b >> cn & (1<<ne - 1))
		if i+rep > n {
			break
		}
		b >>= cn + ne
		nb -= cn + ne
		d = max(d, cn) - cn
		d = max(d, ne) - ne
		for j := i; j < i+rep; j++ {
			lengths[j] = v
		}
		i += rep
	}
	f.giveBack(p, b, nb, d)
	return i
}

// giveBack leaves a fast loop that read the piece up to i into the bit
// buffer b of nb bits, d as huffmanFast counts it: it gives back the whole
// bytes compress/flate would not have read, and keeps in f the bits it
// would hold.
func (f *decompressor) giveBack(i int, b uint64, nb, d uint) {
	held := nb & 7
	if d > held {
		held += (d - held + 7) &^ 7
	}
	i -= int((nb - held) >> 3)
	f.roffset += int64(i - f.r.i)
	f.r.i = i
	f.b, f.nb = uint32(b)&(1<<held-1), held
}
