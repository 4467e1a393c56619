package report

import (
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
// written into b by index, b growing only when what fits at the longest
// is not one byte more (the reference it must agree with byte for byte,
// its first version, is legacyAppendJSON in jsonstring_test.go).
func appendJSON(b []byte, s string, mode jsonEscape) []byte {
	plain := &jsonPlain[mode]
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
			c := s[i]
			if plain[c] {
				out[p] = c
				p++
				i++
				continue
			}
			if c < utf8.RuneSelf {
				i++
				out[p] = '\\'
				switch {
				case c == '"' || c == '\\':
					out[p+1] = c
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
				// C1 controls (the 8-bit CSI), bidi overrides, line
				// separators: the same string, safe to print.
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
		b = out[:p]
	}
	return append(b, '"')
}

// putU writes r as \uXXXX at out[p:] and returns the index after it.
func putU(out []byte, p int, r rune) int {
	out[p], out[p+1], out[p+2], out[p+3], out[p+4], out[p+5] = '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf]
	return p + 6
}
