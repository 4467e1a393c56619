package report

import (
	"encoding/binary"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wsdump/wsdump/internal/text"
)

// jsonEscape chooses what the one JSON string writer escapes beyond what
// JSON requires. Both are in the golden files, so both stay.
type jsonEscape uint8

const (
	// jsonTerminal, the jsonl records' own strings: control characters
	// (DEL included) and what a terminal would act on (text.UnsafeRune:
	// C1 controls, bidirectional and format characters, line separators)
	// as \u escapes, so that a record is safe to print; <, > and & as
	// they are; \b and \f as \u0008 and \u000c.
	jsonTerminal jsonEscape = iota
	// jsonMarshal, the "app" objects (AppendAppJSON): exactly as
	// encoding/json.Marshal writes a string: <, > and & escaped for HTML,
	// \b and \f, U+2028 and U+2029 escaped, DEL and other characters as
	// they are.
	jsonMarshal
	// jsonNoHTML, the conns view's records (WriteHealthJSONL): exactly as
	// an encoding/json Encoder with SetEscapeHTML(false) writes a string:
	// jsonMarshal with <, > and & as they are.
	jsonNoHTML
)

// jsonSafe marks, per mode, the ASCII bytes written as they are.
var jsonSafe = func() (t [3][utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[jsonTerminal][c] = c != '"' && c != '\\' && c != 0x7f
		t[jsonMarshal][c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
		t[jsonNoHTML][c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a jsonl record's JSON string (jsonTerminal).
func appendString(b []byte, s string) []byte { return appendJSON(b, s, jsonTerminal) }

// appendJSONString appends s as json.Marshal writes it (jsonMarshal).
func appendJSONString(b []byte, s string) []byte { return appendJSON(b, s, jsonMarshal) }

// jsonPlain marks, per mode, the bytes appendJSON copies as they are
// without looking further: jsonSafe's ASCII bytes (none past ASCII).
var jsonPlain = func() (t [len(jsonSafe)][256]bool) {
	for m := range jsonSafe {
		copy(t[m][:], jsonSafe[m][:])
	}
	return t
}()

// jsonEsc classes, per mode, the bytes appendJSON writes: jsonPlain's
// as they are (0), the quote and the backslash after a backslash
// (jsonQuoted), the others by looking further (jsonOther).
const (
	jsonQuoted = 1
	jsonOther  = 2
)

var jsonEsc = func() (t [len(jsonSafe)][256]uint8) {
	for m := range t {
		for c := range t[m] {
			switch {
			case jsonPlain[m][c]:
			case c == '"' || c == '\\':
				t[m][c] = jsonQuoted
			default:
				t[m][c] = jsonOther
			}
		}
	}
	return t
}()

// jsonPairs holds, per mode, what escapeWords writes for each byte: the
// byte, or a backslash and the byte (jsonQuoted), in the low 16 bits,
// their count above; jsonOtherBit for a jsonOther byte.
const jsonOtherBit = 1 << 31

var jsonPairs = func() (t [len(jsonSafe)][256]uint32) {
	for m := range t {
		for c := range t[m] {
			switch jsonEsc[m][c] {
			case 0:
				t[m][c] = 1<<16 | uint32(c)
			case jsonQuoted:
				t[m][c] = 2<<16 | uint32(c)<<8 | '\\'
			default:
				t[m][c] = jsonOtherBit
			}
		}
	}
	return t
}()

// jsonChunk is the most bytes of s appendJSON escapes for each growth of
// b. Each byte in makes at most 6 out (\u00XX, or \ufffd for a byte that
// is not UTF-8; a rune of 2 to 4 bytes at most 12); a rune that starts in
// a chunk may end 3 bytes past it: jsonSlop bytes of room cover those.
const (
	jsonChunk = 512
	jsonSlop  = 18
)

// appendJSON is the one JSON string writer: s quoted and escaped as mode
// says. Invalid UTF-8 becomes U+FFFD in every mode, as encoding/json does.
// A string of plain bytes is copied at once; otherwise the bytes are
// written into b by index (escapeWords, then one by one what it leaves),
// b growing only when what fits at the longest is not one byte more (the
// reference it must agree with byte for byte, its first version, is
// legacyAppendJSON in jsonstring_test.go).
func appendJSON(b []byte, s string, mode jsonEscape) []byte {
	plain, esc := &jsonPlain[mode], &jsonEsc[mode]
	i := 0
	for i < len(s) && plain[s[i]] {
		i++
	}
	if i == len(s) {
		b = slices.Grow(b, len(s)+2)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '"')
	b = append(b, s[:i]...)
	run := escapeBlock // the bytes written one by one after escapeWords
	for i < len(s) {
		// n: the bytes of s sure to fit in b; b grows only when not one
		// does (a short string whose escapes fit does not grow it), by
		// up to jsonChunk bytes' worth
		n := (cap(b) - len(b) - jsonSlop) / 6
		if n < 1 {
			b = slices.Grow(b, 6*min(len(s)-i, jsonChunk)+jsonSlop)
			n = (cap(b) - len(b) - jsonSlop) / 6
		}
		n = min(n, len(s)-i)
		out := b[:cap(b)]
		p := len(b)
		for end := min(len(s), i+n); i < end; {
			// escapeWords checks the room it needs itself: it may go
			// past end, and the chunk is then measured again
			j := i
			p, i = escapeWords(out, p, s, i, &jsonPairs[mode])
			if i == j {
				// it could not take a block: not for twice as many
				// bytes as last time (text past ASCII, controls)
				run = min(2*run, jsonChunk)
			} else {
				run = escapeBlock
			}
			// the block escapeWords stopped at (one of its bytes
			// jsonOther, or too little room) and the bytes after it
			// up to run, or the last few bytes: one by one
			for stop := min(end, i+run); i < stop; {
				c := s[i]
				if k := esc[c]; k <= jsonQuoted {
					// a plain byte (k 0) or one that a backslash
					// comes before (k 1), written without a branch
					// on which (see escapeWords)
					out[p] = '\\'
					out[p+int(k)] = c
					p += int(k) + 1
					i++
					continue
				}
				if c < utf8.RuneSelf {
					i++
					out[p] = '\\'
					switch {
					case c == '\n':
						out[p+1] = 'n'
					case c == '\r':
						out[p+1] = 'r'
					case c == '\t':
						out[p+1] = 't'
					case c == '\b' && mode != jsonTerminal:
						out[p+1] = 'b'
					case c == '\f' && mode != jsonTerminal:
						out[p+1] = 'f'
					default:
						out[p+1], out[p+2], out[p+3], out[p+4], out[p+5] = 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]
						p += 4
					}
					p += 2
					continue
				}
				r, size := utf8.DecodeRuneInString(s[i:])
				switch {
				case r == utf8.RuneError && size == 1:
					p += copy(out[p:], `\ufffd`)
				case mode != jsonTerminal && (r == '\u2028' || r == '\u2029'),
					mode == jsonTerminal && text.UnsafeRune(r):
					// C1 controls (the 8-bit CSI), bidi overrides,
					// line separators: the same string, safe to print.
					if r > 0xffff {
						r1, r2 := utf16.EncodeRune(r)
						p = putU(out, putU(out, p, r1), r2)
					} else {
						p = putU(out, p, r)
					}
				default:
					p += copy(out[p:], s[i:i+size])
				}
				i += size
			}
		}
		b = out[:p]
	}
	return append(b, '"')
}

// putU writes r as \uXXXX at out[p:] and returns the index after it.
func putU(out []byte, p int, r rune) int {
	out[p], out[p+1], out[p+2], out[p+3], out[p+4], out[p+5] = '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf]
	return p + 6
}

// escapeBlock is how many bytes escapeWords takes at a time; escapeRoom
// the room it needs past p for them (its window's index is a byte, and
// it writes two bytes there).
const (
	escapeBlock = 16
	escapeRoom  = 256 + 2
)

// escapeWords writes s[i:] at out[p:], escapeBlock bytes at a time, as
// appendJSON does byte by byte, while a block holds no jsonOther byte and
// out has room for escapeRoom bytes past p: it returns where it stopped
// in out and s. Each byte is written as two (tab, jsonPairs: a backslash
// and the byte, or the byte and one the next overwrites) and the next
// starts one or two bytes on: no branch on which bytes are quoted (in
// JSON text quotes come every few bytes, and a branch on them is
// mispredicted as often), and a block is kept only if none of its bytes
// was jsonOther. Written out by hand (a loop keeps q and bad on the
// stack), it takes half the CPU of the loop byte by byte on the app
// fields of ws-bench-json-200mb (issue 17).
func escapeWords(out []byte, p int, s string, i int, tab *[256]uint32) (int, int) {
	for ; len(s)-i >= escapeBlock && cap(out)-p >= escapeRoom; i += escapeBlock {
		x := s[i : i+escapeBlock]
		w := (*[escapeRoom]byte)(out[p : p+escapeRoom])
		var q uint8
		var t, bad uint32
		t = tab[x[0]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[1]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[2]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[3]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[4]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[5]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[6]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[7]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[8]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[9]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[10]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[11]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[12]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[13]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[14]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		t = tab[x[15]]
		bad |= t
		binary.LittleEndian.PutUint16(w[q:], uint16(t))
		q += uint8(t >> 16)
		if bad&jsonOtherBit != 0 {
			break
		}
		p += int(q)
	}
	return p, i
}
