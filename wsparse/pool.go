package wsparse

import (
	"math/bits"
	"sync"
)

// Payload, message and inflate buffers come from size-classed pools and go
// back as soon as the record that used them has been handed to the sink: a
// direction holds a buffer only while a frame or a message is being
// assembled, so an idle connection holds none (100 000 open connections
// would otherwise keep one or two per direction each), and connections
// share the buffers instead of each keeping its high-water mark.
//
// sync.Pool drops what it holds over two garbage collections, so the pools
// are bounded by what is in use between collections.

// Size classes are powers of two from minClass to maxClass bytes.
const (
	minClassBits = 9  // 512 B
	maxClassBits = 25 // 32 MiB
)

var bufPools [maxClassBits - minClassBits + 1]sync.Pool

// boxes holds empty *[]byte for the pools: putting a slice in a sync.Pool
// takes a pointer, and reusing the pointers that getBuf emptied keeps a
// frame's round trip through the pools free of allocations.
var boxes sync.Pool

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
	b := max(bits.Len(uint(n-1)), minClassBits) // ceil(log2 n)
	if n <= 0 || b > maxClassBits {
		return make([]byte, 0, n)
	}
	if p, ok := bufPools[b-minClassBits].Get().(*[]byte); ok {
		buf := (*p)[:0]
		*p = nil
		boxes.Put(p)
		return buf
	}
	return make([]byte, 0, 1<<b)
}

// putBuf gives a buffer back for reuse.
func putBuf(b []byte) {
	if i := classOf(cap(b)); i >= 0 {
		p, _ := boxes.Get().(*[]byte)
		if p == nil {
			p = new([]byte)
		}
		*p = b[:0]
		bufPools[i].Put(p)
	}
}

// release gives b back to the pools once the record that used it has been
// handed on, and returns what the caller keeps: nothing.
func release(b []byte) []byte {
	putBuf(b)
	return nil
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
