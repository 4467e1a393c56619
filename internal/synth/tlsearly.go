package synth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// TLSEarly is a TLS 1.3 client's first flight when it resumes a session
// with 0-RTT early data (RFC 8446 §2.3): a ClientHello offering
// early_data (TLS_AES_128_GCM_SHA256), a middlebox ChangeCipherSpec, and
// data sealed under secret (the CLIENT_EARLY_TRAFFIC_SECRET) in records of
// at most rec bytes. The server's answer is the caller's to write, or not.
func TLSEarly(random [32]byte, secret, data []byte, rec int) []byte {
	hello := []byte{3, 3}
	hello = append(hello, random[:]...)
	hello = append(hello, 0)                // legacy_session_id
	hello = append(hello, 0, 2, 0x13, 0x01) // cipher_suites
	hello = append(hello, 1, 0)             // legacy_compression_methods
	exts := []byte{0, 43, 0, 3, 2, 3, 4}    // supported_versions: TLS 1.3
	exts = append(exts, 0, 42, 0, 0)        // early_data
	hello = append(hello, byte(len(exts)>>8), byte(len(exts)))
	hello = append(hello, exts...)
	msg := append([]byte{1, 0, byte(len(hello) >> 8), byte(len(hello))}, hello...)
	out := append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	out = append(out, 20, 3, 3, 0, 1, 1)
	key, iv := expandLabel(secret, "key", 16), expandLabel(secret, "iv", 12)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	for seq := uint64(0); len(data) > 0; seq++ {
		n := min(len(data), rec)
		inner := append(append([]byte(nil), data[:n]...), 23) // application_data
		data = data[n:]
		size := len(inner) + aead.Overhead()
		hdr := []byte{23, 3, 3, byte(size >> 8), byte(size)}
		nonce := append([]byte(nil), iv...)
		for i := range 8 {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
		out = aead.Seal(append(out, hdr...), nonce, inner, hdr)
	}
	return out
}

// TLSEarlyKeyLine is the key log line of TLSEarly's secret.
func TLSEarlyKeyLine(random [32]byte, secret []byte) string {
	return fmt.Sprintf("CLIENT_EARLY_TRAFFIC_SECRET %x %x\n", random, secret)
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with SHA-256 and no context
// (RFC 8446 §7.1).
func expandLabel(secret []byte, label string, n int) []byte {
	label = "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(label))}, label...)
	info = append(info, 0)
	b, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return b
}
