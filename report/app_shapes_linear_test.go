package report

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// TestAppShapesLinear (issue 17): decoding a JSON message as the pipeline
// does (LazyFields) and writing its app object as jsonl does takes work
// linear in the message's bytes whatever its shape: many members, keys in
// pairs, one key repeated, deep nesting, one large object, each at two
// sizes 10x apart. Measured without a clock: the bytes and allocations
// per byte of the message, and the steps of the fields object
// (fieldOps) per member, must not grow with the size.
func TestAppShapesLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes a 10 MB object")
	}
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	large := func(n int) string { // bench/jsongen's large object, n bytes
		var sb strings.Builder
		sb.WriteString(`{"n":1,"items":[`)
		for sb.Len() < n {
			sb.WriteString(shapesChat + ",")
		}
		return sb.String() + shapesChat + `]}`
	}
	deep := func(n int) string { // n levels: {"a":[{"a":[...1...]}]}
		return strings.Repeat(`{"a":[`, n/2) + "1" + strings.Repeat("]}", n/2)
	}
	shapes := []struct {
		name string
		size int // the smaller size; the other is 10x
		make func(n int) string
	}{
		{"distinct", 2000, func(n int) string { return shapeMembers(n, func(i int) int { return i }) }},
		{"pairs", 2000, func(n int) string { return shapeMembers(n, func(i int) int { return i % max(1, n/2) }) }},
		{"one key", 2000, func(n int) string { return shapeMembers(n, func(int) int { return 0 }) }},
		{"nested", 1000, deep}, // 10 000 levels: encoding/json's limit
		{"large object", 1 << 20, large},
	}
	var ops int
	fieldOps = &ops
	defer func() { fieldOps = nil }()
	for _, sh := range shapes {
		var bytesPer, allocsPer, opsPer [2]float64
		for k, n := range []int{sh.size, 10 * sh.size} {
			data := []byte(sh.make(n))
			m := wsparse.Message{Opcode: wsparse.OpText, Data: data, Len: uint64(len(data))}
			s := appproto.New(nil, appproto.JSON)
			s.LazyFields()
			var out []byte
			run := func() {
				for _, a := range s.Message(&m) {
					out = AppendAppJSON(out[:0], a)
				}
			}
			run() // the shared buffers grow to the largest message
			// each run measured alone, the least kept: a run may make a key
			// table again (sync.Pool hands a table back only on the P that
			// put it, and empties at a collection), work in the table's
			// size but not the steady state
			ops = 0
			size := float64(len(data))
			bytesPer[k], allocsPer[k] = math.Inf(1), math.Inf(1)
			const runs = 5
			for range runs {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				run()
				runtime.ReadMemStats(&after)
				bytesPer[k] = min(bytesPer[k], float64(after.TotalAlloc-before.TotalAlloc)/size)
				allocsPer[k] = min(allocsPer[k], float64(after.Mallocs-before.Mallocs)/size)
			}
			opsPer[k] = float64(ops) / runs / size
			t.Logf("%s, %d (%d bytes): %.3f bytes, %.6f allocations, %.4f field steps per byte", sh.name, n, len(data),
				bytesPer[k], allocsPer[k], opsPer[k])
		}
		// per byte at 10x the size: no more than at the size, give or take
		// a small allowance (a buffer's rounding, the fixed allocations of
		// a message spread over more bytes only lower it)
		if bytesPer[1] > 1.1*bytesPer[0]+0.05 || allocsPer[1] > 1.1*allocsPer[0]+1e-5 || opsPer[1] > 1.1*opsPer[0]+0.01 {
			t.Errorf("%s: per byte at 10x the size: %.3f bytes (%.3f at 1x), %.6f allocations (%.6f), %.4f steps (%.4f)",
				sh.name, bytesPer[1], bytesPer[0], allocsPer[1], allocsPer[0], opsPer[1], opsPer[0])
		}
	}
}
