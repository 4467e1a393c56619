package report

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
)

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Pairs holds, for every 12 bits of input, the two characters of
// standard base64 they encode to, first character in the low byte.
var base64Pairs = func() (t [4096]uint16) {
	for i := range t {
		t[i] = uint16(base64Alphabet[i>>6]) | uint16(base64Alphabet[i&63])<<8
	}
	return t
}()

// appendBase64 appends p in standard base64 (padded), quoted: the same
// output as encoding/base64 (TestBase64MatchesStdlib, FuzzBase64), about
// twice its speed. Payloads are most of what jsonl writes.
func appendBase64(b []byte, p []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(p))
	b = slices.Grow(b, n+2)
	b = append(b, '"')
	out := b[len(b) : len(b)+n]
	done := encodeBase64Words(out, p)
	base64.StdEncoding.Encode(out[done/6*8:], p[done:])
	b = b[:len(b)+n]
	return append(b, '"')
}

// encodeBase64Words encodes the start of p into out six bytes at a time,
// two characters per table lookup, eight words a turn on slices cut as it
// goes (no index is checked), and returns how many bytes of p it encoded:
// a multiple of 6, leaving fewer than 8. It is a function of its own so
// that few values are live and each word stays in a register: written
// inside appendBase64, the loop spilled them to the stack (16 KiB: ~1.3x
// the time, BenchmarkBase64).
func encodeBase64Words(out, p []byte) int {
	t := &base64Pairs
	done := 0
	for len(p) >= 50 && len(out) >= 64 {
		binary.LittleEndian.PutUint64(out[0:8], base64Word(t, binary.BigEndian.Uint64(p[0:8])))
		binary.LittleEndian.PutUint64(out[8:16], base64Word(t, binary.BigEndian.Uint64(p[6:14])))
		binary.LittleEndian.PutUint64(out[16:24], base64Word(t, binary.BigEndian.Uint64(p[12:20])))
		binary.LittleEndian.PutUint64(out[24:32], base64Word(t, binary.BigEndian.Uint64(p[18:26])))
		binary.LittleEndian.PutUint64(out[32:40], base64Word(t, binary.BigEndian.Uint64(p[24:32])))
		binary.LittleEndian.PutUint64(out[40:48], base64Word(t, binary.BigEndian.Uint64(p[30:38])))
		binary.LittleEndian.PutUint64(out[48:56], base64Word(t, binary.BigEndian.Uint64(p[36:44])))
		binary.LittleEndian.PutUint64(out[56:64], base64Word(t, binary.BigEndian.Uint64(p[42:50])))
		p, out = p[48:], out[64:]
		done += 48
	}
	for len(p) >= 8 && len(out) >= 8 {
		binary.LittleEndian.PutUint64(out[0:8], base64Word(t, binary.BigEndian.Uint64(p[0:8])))
		p, out = p[6:], out[8:]
		done += 6
	}
	return done
}

// base64Word encodes the top 48 bits of v as eight characters, the first
// in the low byte.
func base64Word(t *[4096]uint16, v uint64) uint64 {
	return uint64(t[v>>52]) |
		uint64(t[v>>40&0xfff])<<16 |
		uint64(t[v>>28&0xfff])<<32 |
		uint64(t[v>>16&0xfff])<<48
}
