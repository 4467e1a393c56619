package wsparse

import (
	"math/bits"
	"sync"
)

// Payload, message and inflate buffers come from size-classed pools and go
// back after the record that used them has been handed to the sink, once
// they are larger than keepCap: a connection that carried one big message
// does not keep its high-water buffer for the rest of its life, and
// connections share the big buffers instead of each growing its own.
//
// sync.Pool drops what it holds over two garbage collections, so the pools
// are bounded by what is in use between collections.

// keepCap is the buffer size a direction may keep between frames.
const keepCap = 64 << 10

// Size classes are powers of two from minClass to maxClass bytes.
const (
	minClassBits = 16 // 64 KiB
	maxClassBits = 25 // 32 MiB
)

var bufPools [maxClassBits - minClassBits + 1]sync.Pool

// classOf returns the pool index for a buffer of capacity n (the largest
// class not above n), or -1.
func classOf(n int) int {
	if n < 1<<minClassBits {
		return -1
	}
	b := bits.Len(uint(n)) - 1 // floor(log2 n)
	if b > maxClassBits {
		return -1
	}
	return b - minClassBits
}

// getBuf returns an empty buffer with room for at least n bytes.
func getBuf(n int) []byte {
	if n < 1<<minClassBits {
		return make([]byte, 0, n)
	}
	b := bits.Len(uint(n - 1)) // ceil(log2 n)
	if b > maxClassBits {
		return make([]byte, 0, n)
	}
	if p, ok := bufPools[b-minClassBits].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<b)
}

// putBuf gives a buffer back for reuse.
func putBuf(b []byte) {
	if i := classOf(cap(b)); i >= 0 {
		b = b[:0]
		bufPools[i].Put(&b)
	}
}

// release returns b to the pools when it grew past keepCap, and reports
// what the caller should keep (b emptied, or nil).
func release(b []byte) []byte {
	if cap(b) > keepCap {
		putBuf(b)
		return nil
	}
	return b[:0]
}

// grow makes room for n more bytes in b, taking a bigger buffer from the
// pools (and returning the old one) instead of doubling.
func grow(b []byte, n int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	want := max(len(b)+n, 2*cap(b), 512)
	nb := append(getBuf(want), b...)
	putBuf(b)
	return nb
}
