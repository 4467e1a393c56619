// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the GO-LICENSE file.

// This file is compress/flate's inflate.go of Go go1.26.8 (the Huffman
// tables), with changes marked "wsdump": the overflow link tables are
// reused across inits, not allocated each time, and init builds the same
// tables by code length with table doubling, writing every entry, so that
// nothing is zeroed before it. The decompressor that uses them is in
// deflate_flate.go.

package wsparse

import (
	"math/bits"
	"sync"
)

// Initialize the fixedHuffmanDecoder only once upon first use.
var fixedOnce sync.Once
var fixedHuffmanDecoder huffmanDecoder

// The data structure for decoding Huffman tables is based on that of
// zlib. There is a lookup table of a fixed bit width (huffmanChunkBits),
// For codes smaller than the table width, there are multiple entries
// (each combination of trailing bits has the same value). For codes
// larger than the table width, the table contains a link to an overflow
// table. The width of each entry in the link table is the maximum code
// size minus the chunk width.
//
// Note that you can do a lookup in the table even without all bits
// filled. Since the extra bits are zero, and the DEFLATE Huffman codes
// have the property that shorter codes come before longer ones, the
// bit length estimate in the result is a lower bound on the actual
// number of bits.
//
// See the following:
//	https://github.com/madler/zlib/raw/master/doc/algorithm.txt

// chunk & 15 is number of bits
// chunk >> 4 is value, including table link

const (
	huffmanChunkBits  = 9
	huffmanNumChunks  = 1 << huffmanChunkBits
	huffmanCountMask  = 15
	huffmanValueShift = 4
)

type huffmanDecoder struct {
	min      int                      // the minimum code length
	chunks   [huffmanNumChunks]uint32 // chunks as described above
	links    [][]uint32               // overflow links
	linkMask uint32                   // mask the width of the link table
	store    []uint32                 // wsdump: backing of links, reused
}

// Initialize Huffman decoding tables from array of code lengths.
// Following this function, h is guaranteed to be initialized into a complete
// tree (i.e., neither over-subscribed nor under-subscribed). The exception is a
// degenerate case where the tree has only a single symbol with length 1. Empty
// trees are permitted.
//
// wsdump: the tables are compress/flate's, entry for entry (an empty
// tree's are all zero, a degenerate one's odd entries too:
// TestHuffmanInitMatchesFlate), built another way. compress/flate zeroes
// the decoder and then writes each code of n <= huffmanChunkBits bits at
// every 2^n-th entry, 512 strided stores a table. Here the symbols are
// sorted by code length, and the table is built for the shortest length
// first and doubled (copied onto its upper half) before the codes of each
// next length are placed, up to huffmanChunkBits: one store a code and a
// few copies, and every entry is written, so nothing is zeroed before
// (Reset leaves the tables as they were). What the decoder does with an
// incomplete code's tables does not matter: init returns false, and the
// block is an error before a symbol is decoded with them.
func (h *huffmanDecoder) init(lengths []int) bool {
	// Count number of codes of each length,
	// compute min and max length.
	var count [maxCodeLen]int
	var lo, max int
	for _, n := range lengths {
		if n == 0 {
			continue
		}
		if lo == 0 || n < lo {
			lo = n
		}
		if n > max {
			max = n
		}
		count[n]++
	}

	h.min, h.linkMask, h.links = 0, 0, h.links[:0]

	// Empty tree. The decompressor.huffSym function will fail later if the tree
	// is used. Technically, an empty tree is only valid for the HDIST tree and
	// not the HCLEN and HLIT tree. However, a stream with an empty HCLEN tree
	// is guaranteed to fail since it will attempt to use the tree to decode the
	// codes for the HLIT and HDIST trees. Similarly, an empty HLIT tree is
	// guaranteed to fail later since the compressed data section must be
	// composed of at least one symbol (the end-of-block marker).
	if max == 0 {
		clear(h.chunks[:])
		return true
	}

	code := 0
	var nextcode [maxCodeLen]int
	for i := lo; i <= max; i++ {
		code <<= 1
		nextcode[i] = code
		code += count[i]
	}

	// Check that the coding is complete (i.e., that we've
	// assigned all 2-to-the-max possible bit sequences).
	// Exception: To be compatible with zlib, we also need to
	// accept degenerate single-code codings. See also
	// TestDegenerateHuffmanCoding.
	if code != 1<<uint(max) && !(code == 1 && max == 1) {
		return false
	}
	h.min = lo

	// The symbols by code length, in order within each length (the
	// order of their codes): a counting sort.
	var sorted [maxNumLit + maxNumDist]uint16
	var offs [maxCodeLen + 1]int
	for n := 1; n < maxCodeLen; n++ {
		offs[n+1] = offs[n] + count[n]
	}
	ends := offs
	for i, n := range lengths {
		if n != 0 {
			sorted[ends[n]] = uint16(i)
			ends[n]++
		}
	}

	// The primary table, from the shortest codes up. Entries that no
	// code of the lengths placed so far covers are zero at first (a
	// degenerate code's stay so) and are overwritten later by longer
	// codes or by links.
	top := min(max, huffmanChunkBits)
	first := min(lo, huffmanChunkBits)
	size := 1 << uint(first)
	clear(h.chunks[:size])
	for n := first; n <= top; n++ {
		if n > first {
			copy(h.chunks[size:2*size], h.chunks[:size])
			size *= 2
		}
		c := nextcode[n]
		for _, sym := range sorted[offs[n]:offs[n+1]] {
			reverse := int(bits.Reverse16(uint16(c))) >> uint(16-n)
			h.chunks[reverse] = uint32(int(sym)<<huffmanValueShift | n)
			c++
		}
	}
	for size < huffmanNumChunks {
		copy(h.chunks[size:2*size], h.chunks[:size])
		size *= 2
	}

	if max > huffmanChunkBits {
		numLinks := 1 << (uint(max) - huffmanChunkBits)
		h.linkMask = uint32(numLinks - 1)

		// create link tables
		link := nextcode[huffmanChunkBits+1] >> 1
		// wsdump: the link tables are cut from one store, kept with
		// their headers from one init to the next, instead of allocated
		// each time (a dynamic block costs two inits). It is not zeroed:
		// a complete code writes every entry of every link table (each
		// entry is the rest of a string of max bits, which has exactly
		// one code as a prefix, longer than huffmanChunkBits since its
		// first huffmanChunkBits bits are a proper prefix of codes).
		nl := huffmanNumChunks - link
		if cap(h.links) < nl {
			h.links = make([][]uint32, nl)
		}
		h.links = h.links[:nl]
		if cap(h.store) < nl*numLinks {
			h.store = make([]uint32, nl*numLinks)
		}
		store := h.store[:nl*numLinks]
		for j := uint(link); j < huffmanNumChunks; j++ {
			reverse := int(bits.Reverse16(uint16(j)))
			reverse >>= uint(16 - huffmanChunkBits)
			off := j - uint(link)
			h.chunks[reverse] = uint32(off<<huffmanValueShift | (huffmanChunkBits + 1))
			h.links[off] = store[int(off)*numLinks : int(off+1)*numLinks : int(off+1)*numLinks]
		}

		// The codes longer than huffmanChunkBits, in their link tables.
		for n := huffmanChunkBits + 1; n <= max; n++ {
			c := nextcode[n]
			for _, sym := range sorted[offs[n]:offs[n+1]] {
				reverse := int(bits.Reverse16(uint16(c))) >> uint(16-n)
				c++
				chunk := uint32(int(sym)<<huffmanValueShift | n)
				j := reverse & (huffmanNumChunks - 1)
				linktab := h.links[h.chunks[j]>>huffmanValueShift]
				for off := reverse >> huffmanChunkBits; off < len(linktab); off += 1 << uint(n-huffmanChunkBits) {
					linktab[off] = chunk
				}
			}
		}
	}
	return true
}

func fixedHuffmanDecoderInit() {
	fixedOnce.Do(func() {
		// These come from the RFC section 3.2.6.
		var bits [288]int
		for i := 0; i < 144; i++ {
			bits[i] = 8
		}
		for i := 144; i < 256; i++ {
			bits[i] = 9
		}
		for i := 256; i < 280; i++ {
			bits[i] = 7
		}
		for i := 280; i < 288; i++ {
			bits[i] = 8
		}
		fixedHuffmanDecoder.init(bits[:])
	})
}
