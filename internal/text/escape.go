// Package text holds the helpers that make text from the traffic safe to
// show, shared by report and the packages below it (lint): one
// terminal-escape rule, and the plural of a count.
package text

import (
	"encoding/binary"
	"math"
	"unicode"
	"unicode/utf8"
)

// AppendEscaped appends a printable rendering of p, at most width display
// characters (then "…"). Text that is valid UTF-8 is shown as text with
// control characters, terminal escapes and bidirectional overrides escaped
// (\n, \t, \x1b, \u202e, \U000e0041); anything that is not text is shown
// as hex. Nothing in the result can move the cursor, change colours or
// reorder a line.
//
// The one escaping rule for a terminal cell: printable text is shown as
// sent, a backslash included; only what a terminal would act on (C0 and C1
// controls, DEL, format and bidirectional characters, line separators,
// invalid UTF-8) is replaced by a backslash escape. A backslash is not
// doubled, so a JSON string's `\n` reads `\n` as the application wrote it,
// not `\\n`; the price is that a `\n` in a cell may be a newline or the two
// characters: the exact bytes are in --format jsonl (base64) or csv.
func AppendEscaped(b []byte, p []byte, width int, text bool) []byte {
	return appendEscapedRule(b, p, width, text, false)
}

// AppendEscapedExact is AppendEscaped with backslashes doubled, so that the
// escaping can be undone: CSV's "escaped" payload encoding.
func AppendEscapedExact(b []byte, p []byte, width int) []byte {
	return appendEscapedRule(b, p, width, true, true)
}

func appendEscapedRule(b []byte, p []byte, width int, text, exact bool) []byte {
	if !text || !MostlyPrintable(p) {
		return AppendHexPreview(b, p, width)
	}
	n := 0
	for i := 0; i < len(p); {
		if c := p[i]; c >= 0x20 && c < 0x7f && (c != '\\' || !exact) {
			// Printable ASCII, as sent: what the cases below give it,
			// a run at a time. The run is looked at up to one byte past
			// what the width has room for: a preview of a long payload
			// costs its width, not its length.
			end := len(p)
			if room := max(width-n, 0); room < end-i {
				end = i + room + 1
			}
			k := PrintableRun(p[i:end], exact)
			if k > width-n {
				return append(append(b, p[i:i+max(width-n, 0)]...), "…"...)
			}
			b = append(b, p[i:i+k]...)
			n += k
			i += k
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		var piece []byte
		var tmp [12]byte
		switch {
		case r == utf8.RuneError && size == 1:
			piece = append(tmp[:0], '\\', 'x', hexDigits[p[i]>>4], hexDigits[p[i]&0xf])
		case r == '\n':
			piece = append(tmp[:0], '\\', 'n')
		case r == '\r':
			piece = append(tmp[:0], '\\', 'r')
		case r == '\t':
			piece = append(tmp[:0], '\\', 't')
		case r == '\\' && exact:
			piece = append(tmp[:0], '\\', '\\')
		case r < 0x20 || r == 0x7f:
			piece = append(tmp[:0], '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		case UnsafeRune(r) && r > 0xffff:
			// Eight digits: four would name another character.
			piece = append(tmp[:0], '\\', 'U')
			for sh := 28; sh >= 0; sh -= 4 {
				piece = append(piece, hexDigits[r>>sh&0xf])
			}
		case UnsafeRune(r):
			piece = append(tmp[:0], '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			piece = p[i : i+size]
		}
		w := 1
		if size == 1 || len(piece) != size {
			w = len(piece)
		}
		if n+w > width {
			return append(b, "…"...)
		}
		b = append(b, piece...)
		n += w
		i += size
	}
	return b
}

// EscapeAll escapes text from the traffic as AppendEscaped does, in full:
// for views that do not cut (the conns table).
func EscapeAll(s string) string {
	return string(AppendEscaped(nil, []byte(s), math.MaxInt, true))
}

// EscapeExact escapes text as EscapeAll does with backslashes doubled (CSV:
// a cell's escapes can be undone).
func EscapeExact(s string) string {
	return string(AppendEscapedExact(nil, []byte(s), math.MaxInt))
}

// PrintableRun returns the length of the printable ASCII (0x20-0x7e) that
// p starts with, backslashes excluded when noBackslash; eight bytes at a
// time while they all are.
func PrintableRun(p []byte, noBackslash bool) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(p); i += 8 {
		v := binary.LittleEndian.Uint64(p[i:])
		// A byte below 0x20 borrows in v - 0x20 with its top bit clear;
		// one above 0x7e is 0x7f (+1 sets the top bit) or has it set; a
		// backslash is a zero byte of v ^ '\\'.
		bad := (v-0x20*ones)&^v | (v + ones) | v
		if noBackslash {
			x := v ^ '\\'*ones
			bad |= (x - ones) &^ x
		}
		if bad&highs != 0 {
			break
		}
	}
	for ; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c > 0x7e || c == '\\' && noBackslash {
			break
		}
	}
	return i
}

// UnsafeRune reports runes that must not reach a terminal raw: C1 controls
// (which include the 8-bit CSI), bidirectional controls, zero-width and
// other format characters, separators that break lines, and non-characters.
func UnsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case unicode.Is(unicode.Cf, r): // format: U+200E/F, U+202A-202E, U+2066-2069, U+061C, ZWJ, BOM...
		return true
	case !unicode.IsPrint(r) && r != ' ':
		return true
	}
	return false
}

// MostlyPrintable decides whether p reads better as text than as hex.
func MostlyPrintable(p []byte) bool {
	if !utf8.Valid(p) {
		bad := 0
		for i := 0; i < len(p); {
			r, size := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && size == 1 {
				bad++
			}
			i += size
		}
		return bad*8 <= len(p)
	}
	return true
}

// AppendHexPreview appends p as hex, cut to width characters.
func AppendHexPreview(b []byte, p []byte, width int) []byte {
	max := width / 2
	for i, c := range p {
		if i >= max {
			return append(b, "…"...)
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

const hexDigits = "0123456789abcdef"
