package tlsdec

import (
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
)

// TLS 1.3 records cut by lost bytes: the length of their plaintext. Its
// padding, zeros after the content type (RFC 8446 §5.4), is inside the
// encryption; AES-GCM and ChaCha20-Poly1305 encrypt with a counter mode,
// so the captured tail of a record decrypts without the bytes lost before
// it (unauthenticated: it only counts, it is never passed on). Until
// session 36 the padding counted as plaintext lost, and the WebSocket
// decoder was told of that many bytes.

// plainLen is the length of a cut record's plaintext: exact when the
// content type byte is in the captured tail (body[from:]), else the
// longest it can be.
func (c *aead13) plainLen(body []byte, from int, seq uint64) (int, bool, bool) {
	ct := len(body) - c.aead.Overhead() // the inner plaintext: content, type, padding
	if ct < 1 {
		return 0, true, true
	}
	if from >= ct {
		return ct - 1, false, true
	}
	c.tail = append(c.tail[:0], body[from:ct]...)
	c.xorKeyStream(c.tail, from, seq)
	for i := len(c.tail) - 1; i >= 0; i-- {
		if c.tail[i] != 0 {
			return from + i, true, true
		}
	}
	return max(from-1, 0), false, true // (the type byte is among the lost)
}

// xorKeyStream decrypts b, the inner plaintext's bytes from offset off on,
// of the record with sequence number seq.
func (c *aead13) xorKeyStream(b []byte, off int, seq uint64) {
	nonce := c.iv
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	if c.block == nil {
		// ChaCha20-Poly1305 (RFC 8439 §2.8): block 0 makes the Poly1305
		// key, the plaintext starts at block 1.
		s, err := chacha20.NewUnauthenticatedCipher(c.key, nonce[:])
		if err != nil {
			return
		}
		s.SetCounter(uint32(1 + off/64))
		var skip [64]byte
		s.XORKeyStream(skip[:off%64], skip[:off%64])
		s.XORKeyStream(b, b)
		return
	}
	// GCM (NIST SP 800-38D): counter block nonce || 32-bit counter, 1 for
	// the tag, the plaintext from 2.
	var ctr, ks [16]byte
	copy(ctr[:], nonce[:])
	for i := 0; i < len(b); {
		pos := off + i
		binary.BigEndian.PutUint32(ctr[12:], uint32(2+pos/16))
		c.block.Encrypt(ks[:], ctr[:])
		for j := pos % 16; j < 16 && i < len(b); j, i = j+1, i+1 {
			b[i] ^= ks[j]
		}
	}
}
