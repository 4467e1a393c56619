package wsparse

import "encoding/binary"

// Unmask XORs b in place with the masking key (RFC 6455 §5.3), starting at
// key phase pos (0-3: the index into key of b's first byte), and returns the
// phase for the byte after b. A payload split across segments is unmasked
// piece by piece by passing the returned phase to the next call. Masking and
// unmasking are the same operation.
func Unmask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) >= 8 {
		// Rotate the key so that its first byte lines up with b[0], then XOR
		// eight bytes at a time. Eight is a multiple of four, so the phase is
		// the same at the start of every word.
		var k [8]byte
		for i := range k {
			k[i] = key[(pos+i)&3]
		}
		k64 := binary.LittleEndian.Uint64(k[:])
		for len(b) >= 32 {
			v0 := binary.LittleEndian.Uint64(b[0:8])
			v1 := binary.LittleEndian.Uint64(b[8:16])
			v2 := binary.LittleEndian.Uint64(b[16:24])
			v3 := binary.LittleEndian.Uint64(b[24:32])
			binary.LittleEndian.PutUint64(b[0:8], v0^k64)
			binary.LittleEndian.PutUint64(b[8:16], v1^k64)
			binary.LittleEndian.PutUint64(b[16:24], v2^k64)
			binary.LittleEndian.PutUint64(b[24:32], v3^k64)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}
