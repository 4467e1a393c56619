package text

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestEscapedMatchesReference: AppendEscaped and AppendEscapedExact give,
// for printable ASCII taken on a fast path, what the rune-by-rune rule
// gives (referenceEscaped, the code before the fast path), at every width,
// for text mixing ASCII, backslashes, controls, multi-byte, unsafe and
// invalid runes.
func TestEscapedMatchesReference(t *testing.T) {
	pieces := []string{"a", "Z", " ", "~", "\\", "\n", "\t", "\x00", "\x7f", "é", "€", "\u202e", "\u200b", "\U000e0041", "😀", "\xff", "\xc3", "{\"k\":1}", "…"}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 3000; n++ {
		var p []byte
		for k := r.IntN(12); k > 0; k-- {
			p = append(p, pieces[r.IntN(len(pieces))]...)
		}
		checkEscaped(t, p, r.IntN(40))
	}
}

func FuzzEscaped(f *testing.F) {
	f.Add([]byte("hello\\ \x1b[31m \u202e"), 10)
	f.Fuzz(func(t *testing.T, p []byte, width int) {
		checkEscaped(t, p, width%200)
	})
}

func checkEscaped(t *testing.T, p []byte, width int) {
	t.Helper()
	for _, exact := range []bool{false, true} {
		for _, isText := range []bool{true, false} {
			if exact && !isText {
				continue
			}
			var got []byte
			if exact {
				got = AppendEscapedExact([]byte("x"), p, width)
			} else {
				got = AppendEscaped([]byte("x"), p, width, isText)
			}
			want := referenceEscaped([]byte("x"), p, width, isText, exact)
			if string(got) != string(want) {
				t.Fatalf("%q width %d exact %v text %v: got %q, want %q", p, width, exact, isText, got, want)
			}
		}
	}
}

func referenceEscaped(b []byte, p []byte, width int, text, exact bool) []byte {
	if !text || !MostlyPrintable(p) {
		return AppendHexPreview(b, p, width)
	}
	n := 0
	for i := 0; i < len(p); {
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

// TestPrintableRun: the run of printable ASCII found eight bytes at a time
// is the one found byte by byte, with and without backslashes, for each
// byte value in each place of a word among printable neighbours, and for
// random bytes (mostly printable, and not) of every length up to 40.
func TestPrintableRun(t *testing.T) {
	byBytes := func(p []byte, noBackslash bool) int {
		for i, c := range p {
			if c < 0x20 || c > 0x7e || c == '\\' && noBackslash {
				return i
			}
		}
		return len(p)
	}
	check := func(p []byte) {
		t.Helper()
		for _, nb := range []bool{false, true} {
			if got, want := PrintableRun(p, nb), byBytes(p, nb); got != want {
				t.Fatalf("%q noBackslash %v: %d, want %d", p, nb, got, want)
			}
		}
	}
	for c := 0; c < 256; c++ {
		for place := 0; place < 17; place++ {
			for _, fill := range []byte{0x20, 0x7e, 'a', '\\' + 1, '\\' - 1} {
				p := make([]byte, 17)
				for i := range p {
					p[i] = fill
				}
				p[place] = byte(c)
				check(p)
			}
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		p := make([]byte, r.IntN(41))
		for i := range p {
			p[i] = byte(r.Uint32())
			if r.IntN(8) != 0 {
				p[i] = byte(0x20 + r.IntN(0x5f))
			}
		}
		check(p)
	}
}

// BenchmarkAppendEscapedPreview: the table's preview (60 columns) of a
// 16 KiB JSON payload of printable ASCII. Scanning the run only as far
// as the width needs took it from 3.9-6.1 us to 0.35-0.44 us; what is left
// is MostlyPrintable's utf8.Valid over the whole payload (text or hex).
func BenchmarkAppendEscapedPreview(b *testing.B) {
	p := make([]byte, 0, 16<<10)
	for len(p) < 16<<10-20 {
		p = append(p, `{"k":"value","n":12},`...)
	}
	var out []byte
	for b.Loop() {
		out = AppendEscaped(out[:0], p, 60, true)
	}
}
