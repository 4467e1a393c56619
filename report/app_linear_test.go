package report

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/wsdump/wsdump/appproto"
)

// TestAppendFieldsLinear (issue 17): the "fields" object of an App merges
// repeated keys in a number of steps linear in the fields (it compared
// each field with all after it: n²/2 steps for n distinct keys), with the
// output of the reference legacyMarshalJSON. Keys: all distinct, each
// twice, one key n times.
func TestAppendFieldsLinear(t *testing.T) {
	var ops int
	fieldOps = &ops
	defer func() { fieldOps = nil }()
	shapes := []struct {
		name string
		key  func(n, i int) int
	}{
		{"distinct", func(n, i int) int { return i }},
		{"pairs", func(n, i int) int { return i % max(1, n/2) }},
		{"same", func(n, i int) int { return 0 }},
	}
	for _, sh := range shapes {
		for _, n := range []int{5, 100, 3000} {
			a := appproto.App{Protocol: "json", Type: "object"}
			for i := 0; i < n; i++ {
				a.Fields = append(a.Fields, appproto.Field{Key: "k" + strconv.Itoa(sh.key(n, i)), Value: strconv.Itoa(i)})
			}
			ops = 0
			got := AppJSON(a)
			steps := ops
			want, _ := legacyMarshalJSON(a)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %d fields: output differs from the reference:\n%.300s\n%.300s", sh.name, n, got, want)
			}
			t.Logf("%s, %d fields: %d steps", sh.name, n, steps)
			if limit := 3*n + smallFields*smallFields; steps > limit {
				t.Errorf("%s: %d fields took %d steps, more than %d", sh.name, n, steps, limit)
			}
		}
	}
}

// TestAppJSONAllocsFlat (issue 17): writing an App with 3000 fields,
// distinct or in pairs, allocates no more than with 20: the output once,
// sized for it, and no key map, links or growing buffer per object (the
// hash table of the keys is reused).
func TestAppJSONAllocsFlat(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	for _, pairs := range []bool{false, true} {
		allocs := map[int]float64{}
		for _, n := range []int{20, 3000} {
			a := appproto.App{Protocol: "json", Type: "object", Key: "-", Summary: "JSON {…"}
			for i := 0; i < n; i++ {
				k := i
				if pairs {
					k = i % (n / 2)
				}
				a.Fields = append(a.Fields, appproto.Field{Key: "k" + strconv.Itoa(k), Value: `"v` + strconv.Itoa(i) + `"`})
			}
			AppJSON(a) // the first large object grows the table
			allocs[n] = testing.AllocsPerRun(20, func() { AppJSON(a) })
			t.Logf("pairs %v, %d fields: %v allocations", pairs, n, allocs[n])
		}
		if allocs[3000] > allocs[20] {
			t.Errorf("pairs %v: 3000 fields: %v allocations, 20 fields: %v", pairs, allocs[3000], allocs[20])
		}
	}
}
