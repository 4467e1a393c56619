package report

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestBase64MatchesStdlib compares appendBase64 with encoding/base64 for
// every length up to 300 (every tail of the 48- and 6-byte loops, several
// turns of each), random and extreme bytes, appended to a non-empty buffer.
func TestBase64MatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		for _, fill := range []func(int) byte{
			func(int) byte { return byte(r.Uint32()) },
			func(int) byte { return 0 },
			func(int) byte { return 0xff },
			func(i int) byte { return byte(i) },
		} {
			p := make([]byte, n)
			for i := range p {
				p[i] = fill(i)
			}
			got := string(appendBase64([]byte("x"), p))
			want := `x"` + base64.StdEncoding.EncodeToString(p) + `"`
			if got != want {
				t.Fatalf("len %d: got %s, want %s", n, got, want)
			}
		}
	}
}

func FuzzBase64(f *testing.F) {
	f.Add([]byte("hello, world"))
	for _, n := range []int{49, 50, 97, 200} { // into the 48-byte loop
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i*131 + n)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := string(appendBase64(nil, p)), `"`+base64.StdEncoding.EncodeToString(p)+`"`; got != want {
			t.Fatalf("%x: got %s, want %s", p, got, want)
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	for _, n := range []int{100, 1000, 16 << 10} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		buf := make([]byte, 0, 2*n+16)
		b.Run(fmt.Sprintf("%dB/wsdump", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				buf = appendBase64(buf[:0], p)
			}
		})
		b.Run(fmt.Sprintf("%dB/stdlib", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				buf = base64.StdEncoding.AppendEncode(buf[:0], p)
			}
		})
	}
}
