package report

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wsdump/wsdump/internal/text"
)

// legacyAppendJSON is appendJSON as it was before the chunked writer
// (issue 17): one append per run of plain bytes and per escape. The
// writer must agree with it byte for byte in every mode (jsonNoHTML as the
// conns records had it, checked against encoding/json by
// TestHealthJSONLAsEncoded).
func legacyAppendJSON(b []byte, s string, mode jsonEscape) []byte {
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
				b = legacyAppendU(legacyAppendU(b, r1), r2)
			} else {
				b = legacyAppendU(b, r)
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

func legacyAppendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// sameAsLegacy fails t when appendJSON and legacyAppendJSON write s
// differently, in any mode, after a prefix already in the buffer.
func sameAsLegacy(t *testing.T, s string) {
	t.Helper()
	for _, mode := range []jsonEscape{jsonTerminal, jsonMarshal, jsonNoHTML} {
		got := appendJSON([]byte("x"), s, mode)
		want := legacyAppendJSON([]byte("x"), s, mode)
		if !bytes.Equal(got, want) {
			t.Fatalf("mode %d, %q:\n got %q\nwant %q", mode, s, got, want)
		}
	}
}

// TestAppendJSONLegacy: the chunked writer against the old one on the
// tricky strings, on long strings of every kind of byte with runes and
// escapes across the chunk boundaries, and on random bytes.
func TestAppendJSONLegacy(t *testing.T) {
	for _, s := range jsonTricky {
		sameAsLegacy(t, s)
	}
	pieces := append([]string{"a", "<", "\"", "\x7f", "\x00", "\xff", "é", "\u2028", "\u202e", "\U0001f600", "\u0085", "\xf0\x9f"}, jsonTricky...)
	rng := rand.New(rand.NewPCG(17, 4))
	for range 300 {
		var sb strings.Builder
		n := rng.IntN(3 * jsonChunk)
		for sb.Len() < n {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		sameAsLegacy(t, sb.String())
	}
	for _, p := range pieces { // p across each boundary, at every offset
		for off := jsonChunk - 8; off <= jsonChunk+8; off++ {
			sameAsLegacy(t, strings.Repeat("a", off)+p+strings.Repeat(p, jsonChunk/max(1, len(p))+2))
			sameAsLegacy(t, "\""+strings.Repeat("é", off/2)+p)
		}
	}
	for range 2000 {
		b := make([]byte, rng.IntN(2*jsonChunk+40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		sameAsLegacy(t, string(b))
	}
}

// FuzzAppendJSONLegacy: the chunked writer against the old one on any
// string, in both modes; the seeds start long and hostile.
func FuzzAppendJSONLegacy(f *testing.F) {
	for _, s := range jsonTricky {
		f.Add(s)
		f.Add(strings.Repeat("x", jsonChunk-1) + s + strings.Repeat(s, 40))
	}
	f.Add(strings.Repeat("\xff\"<\u2028", 300))
	f.Fuzz(func(t *testing.T, s string) { sameAsLegacy(t, s) })
}

// jsonTextPieces make strings like JSON text: mostly plain bytes, quotes
// every few, now and then a backslash, and a few bytes that escapeWords
// leaves to escapeOther (HTML characters, controls, DEL, runes past ASCII,
// invalid UTF-8).
var jsonTextPieces = []string{"a", "b", "7", ":", ",", "{", "}", "[", "]", " ", "\"", "\"", "\\", "\\\"",
	"<", ">", "&", "\n", "\x00", "\x7f", "é", "\u2028", "\u202e", "\U0001f600", "\xff", "\xe2\x80"}

// TestAppendJSONWords: escapeWords (sixteen bytes at a time, kept only
// when none needs escapeOther) against the legacy writer, on JSON-like
// text of every length up to a few chunks, in every mode, into buffers
// of every spare capacity around the 258 bytes escapeWords needs, with
// the bytes it cannot take at every offset of its blocks.
func TestAppendJSONWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 30))
	gen := func(n int, others bool) string {
		var sb strings.Builder
		for sb.Len() < n {
			p := jsonTextPieces[rng.IntN(len(jsonTextPieces))]
			if !others && (len(p) > 1 && p != `\"` || p == "<" || p == ">" || p == "&" || p[0] < ' ' || p[0] >= 0x7f) {
				continue
			}
			sb.WriteString(p)
		}
		return sb.String()
	}
	check := func(s string, spare int) {
		t.Helper()
		for _, mode := range []jsonEscape{jsonTerminal, jsonMarshal, jsonNoHTML} {
			b := append(make([]byte, 0, 3+spare), "x\"y"...)
			got := appendJSON(b, s, mode)
			want := legacyAppendJSON([]byte("x\"y"), s, mode)
			if !bytes.Equal(got, want) {
				t.Fatalf("mode %d, spare %d, %q:\n got %q\nwant %q", mode, spare, s, got, want)
			}
		}
	}
	for range 3000 {
		check(gen(rng.IntN(3*jsonChunk), rng.IntN(3) == 0), rng.IntN(600))
	}
	for n := 0; n <= 80; n++ {
		for _, spare := range []int{0, 40, 257, 258, 259, 300, 4096} {
			check(gen(n, false), spare)
		}
	}
	// one byte escapeOther takes, at every offset of the first blocks
	for _, o := range []string{"<", "\x01", "\x7f", "é", "\u2028", "\xff"} {
		for off := 0; off < 40; off++ {
			plain := strings.Repeat(`ab"`, 30)
			check(plain[:off+1]+o+plain, 1000)
		}
	}
}

// jsonShapes are 2000 strings each of four kinds, about 800 bytes long,
// all different (a branch predictor does not learn them): JSON chat
// messages with ASCII text, with Latin accents, with CJK text (as an app
// field's value is written), and STOMP-like header lines (a newline every
// dozen bytes).
func jsonShapes() map[string][]string {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := map[string][]string{
		"json_ascii": {"hello", "world", "the", "and", "data", "value", "stream", "lorem", "ipsum", "dolor", "sit", "amet"},
		"json_latin": {"ça", "va", "très", "bien", "merci", "José", "niño", "über", "straße", "hello", "world", "the", "café", "naïve"},
		"json_cjk":   {"今天", "天气", "很好", "我们", "去", "公园", "吧", "hello", "ok", "王小明", "東京", "日本語"},
		"stomp":      {"MESSAGE", "destination:/queue/a", "content-type:text/plain", "hello", "world", "subscription:1"},
	}
	shapes := map[string][]string{}
	for kind, v := range vocab {
		for range 2000 {
			var sb strings.Builder
			for sb.Len() < 800 {
				if kind == "stomp" {
					sb.WriteString(v[rng.IntN(len(v))] + "\n")
					continue
				}
				sb.WriteString(`{"type":"chat","seq":` + strconv.Itoa(rng.IntN(100000)) + `,"from":"` + v[rng.IntN(len(v))] + `","text":"`)
				for range 1 + rng.IntN(8) {
					sb.WriteString(v[rng.IntN(len(v))] + " ")
				}
				sb.WriteString(`"},`)
			}
			shapes[kind] = append(shapes[kind], sb.String())
		}
	}
	return shapes
}

// BenchmarkAppendJSONShapes (issue 17): appendJSON against the legacy
// writer on jsonShapes, as app fields are written (jsonMarshal). Against
// the byte loop appendJSON had before escapeWords (main 6f6e167, a copy
// of it timed beside it, thread CPU, 2026-12-06) it takes 0.52 the time
// on JSON ASCII, 1.06 on Latin, 1.15 on CJK, 1.30 on STOMP-like lines: a
// block of escapeWords with a byte past ASCII or a control in it is
// written for nothing.
func BenchmarkAppendJSONShapes(b *testing.B) {
	shapes := jsonShapes()
	for _, kind := range []string{"json_ascii", "json_latin", "json_cjk", "stomp"} {
		ss := shapes[kind]
		size := 0
		for _, s := range ss {
			size += len(s)
		}
		for _, w := range []struct {
			name string
			f    func([]byte, string, jsonEscape) []byte
		}{{"appendJSON", appendJSON}, {"legacy", legacyAppendJSON}} {
			b.Run(kind+"/"+w.name, func(b *testing.B) {
				var out []byte
				b.SetBytes(int64(size))
				for b.Loop() {
					for _, s := range ss {
						out = w.f(out[:0], s, jsonMarshal)
					}
				}
			})
		}
	}
}
