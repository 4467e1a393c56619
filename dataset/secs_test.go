package dataset

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecsAsJSONL: every seconds column holds the jsonl's six decimals
// (strconv 'f', 6 of the same duration) and no more: an outage of
// 1.520700 s in the jsonl read 1.5207000000000002 in DuckDB.
func TestSecsAsJSONL(t *testing.T) {
	ds := []time.Duration{1520700 * time.Microsecond, 10 * time.Second, 3 * time.Second, 100 * time.Millisecond,
		53100123 * time.Microsecond, -9992 * time.Millisecond, 0, 24 * time.Hour, 1234567891 * time.Nanosecond, 3500 * time.Nanosecond}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		d := time.Duration(r.Int64N(int64(48*time.Hour))) / time.Microsecond * time.Microsecond
		// An offset under the microsecond away from the half, where
		// rounding a float and a Duration may differ.
		ds = append(ds, d, d+time.Duration(r.IntN(400)))
		// A half microsecond: 3 500 ns is 0.000003 in the jsonl.
		ds = append(ds, d+500)
	}
	for _, d := range ds {
		want := strings.TrimRight(strings.TrimRight(strconv.FormatFloat(d.Seconds(), 'f', 6, 64), "0"), ".")
		if got := strconv.FormatFloat(secs(d), 'f', -1, 64); got != want {
			t.Fatalf("%v: %s, want the jsonl's %s", d, got, want)
		}
	}
}
