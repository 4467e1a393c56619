package report

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
)

// TestAppendFieldsLinearKeys: distinct keys in sequence (k1000, k1001,
// ...) that share all but a few bytes in the middle, of every length to
// 24 (fieldTab, then maphash), take the steps of any distinct keys: a
// slot each, seldom a neighbour's.
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
		t.Logf("keys of %d bytes: %d steps", size, ops)
		if limit := 3 * n; ops > limit {
			t.Errorf("keys of %d bytes: %d fields took %d steps, more than %d", size, n, ops, limit)
		}
	}
}
