package report

import (
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

// appendJSON is the one JSON string writer: s quoted and escaped as mode
// says. Invalid UTF-8 becomes U+FFFD in both modes, as encoding/json does.
func appendJSON(b []byte, s string, mode jsonEscape) []byte {
	safe := &jsonSafe[mode]
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && mode != jsonTerminal:
				b = append(b, '\\', 'b')
			case c == '\f' && mode != jsonTerminal:
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case mode != jsonTerminal && (r == '\u2028' || r == '\u2029'),
			mode == jsonTerminal && text.UnsafeRune(r):
			// C1 controls (the 8-bit CSI), bidi overrides, line
			// separators: the same string, safe to print.
			b = append(b, s[start:i]...)
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU(appendU(b, r1), r2)
			} else {
				b = appendU(b, r)
			}
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
