package diff

import (
	"math/rand/v2"
	"testing"
)

// TestOpenTable: puts, gets and deletes in random order agree with a map.
func TestOpenTable(t *testing.T) {
	var tab openTable
	ref := map[int]int32{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 200_000 {
		id := r.IntN(5000)
		if r.IntN(4) == 0 {
			id = r.IntN(1<<20) << 32 // an HTTP/2 stream's
		}
		if _, ok := ref[id]; ok && r.IntN(2) == 0 {
			tab.del(id)
			delete(ref, id)
		} else if !ok {
			tab.put(id, int32(step))
			ref[id] = int32(step)
		}
		if step%1000 == 0 {
			for id, ord := range ref {
				if got, ok := tab.get(id); !ok || got != ord {
					t.Fatalf("step %d: get(%d) = %d, %v; want %d", step, id, got, ok, ord)
				}
			}
		}
	}
	if tab.n != len(ref) {
		t.Fatalf("n %d, want %d", tab.n, len(ref))
	}
	for id := range 5000 {
		_, want := ref[id]
		if _, ok := tab.get(id); ok != want {
			t.Fatalf("get(%d) present %v, want %v", id, ok, want)
		}
	}
}
