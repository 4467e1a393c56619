package report

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
)

// TestKeyWords: link hashes a key of up to 16 bytes read as two words and
// its length; no two keys may read the same, or they would share their
// slot whatever the multipliers. Every key of up to 12 bytes of two
// letters, and random ones of 13 to 16 bytes that differ in one byte.
func TestKeyWords(t *testing.T) {
	type words struct {
		x, y uint64
		n    int
	}
	seen := map[words]string{}
	check := func(s string) {
		x, y := keyWords(s)
		w := words{x, y, len(s)}
		if o, ok := seen[w]; ok && o != s {
			t.Fatalf("keys %q and %q read as the same words %x %x", o, s, x, y)
		}
		seen[w] = s
	}
	for n := 0; n <= 12; n++ {
		for bits := 0; bits < 1<<n; bits++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = "ab"[bits>>i&1]
			}
			check(string(b))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 13; n <= 16; n++ {
		base := make([]byte, n)
		for i := range base {
			base[i] = byte(rng.IntN(256))
		}
		check(string(base))
		for i := range base {
			for _, c := range []byte{0, 'a', 0xff} {
				b := bytes.Clone(base)
				b[i] = c
				check(string(b))
			}
		}
	}
}

// TestAppendFieldsLinearKeys: distinct keys that share all but a few
// bytes in the middle, of every length to 24 (keyWords, then
// maphash), take the steps of any distinct keys: a slot each, seldom
// a neighbour's.
func TestAppendFieldsLinearKeys(t *testing.T) {
	var ops int
	fieldOps = &ops
	defer func() { fieldOps = nil }()
	const n = 3000
	for size := 4; size <= 24; size++ {
		a := appproto.App{Protocol: "json", Type: "object"}
		pad := strings.Repeat("k", (size-4)/2)
		for i := range n {
			key := pad + strconv.Itoa(1000 + i)[:4] + pad + strings.Repeat("x", (size-4)%2)
			a.Fields = append(a.Fields, appproto.Field{Key: key, Value: strconv.Itoa(i)})
		}
		ops = 0
		got := AppJSON(a)
		if want, _ := legacyMarshalJSON(a); !bytes.Equal(got, want) {
			t.Fatalf("keys of %d bytes: output differs from the reference", size)
		}
		if limit := 3 * n; ops > limit {
			t.Errorf("keys of %d bytes: %d fields took %d steps, more than %d", size, n, ops, limit)
		}
	}
}
