package report

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendSecondsMatchesFloat: the table's relative time, formatted
// from the integer nanoseconds, is strconv's formatting of Seconds for
// every kind of value: exact microseconds, each nanosecond around the
// half-microsecond ties, random values up to and past the 2^20 s bound,
// negative durations and the extremes.
func TestAppendSecondsMatchesFloat(t *testing.T) {
	check := func(d time.Duration) {
		t.Helper()
		got := string(appendSeconds([]byte("x"), d))
		want := string(strconv.AppendFloat([]byte("x"), d.Seconds(), 'f', 6, 64))
		if got != want {
			t.Fatalf("%d ns: got %s, want %s", int64(d), got, want)
		}
	}
	const bound = 1 << 20 * time.Second
	for _, d := range []time.Duration{0, 1, 499, 500, 501, 999, 1000, time.Second - 1, time.Second, bound - 1, bound, bound + 1, -1, -500, 1<<63 - 1, -1 << 63} {
		check(d)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 50000 {
		base := time.Duration(r.Int64N(int64(bound)+int64(time.Hour))) / 1000 * 1000
		for _, off := range []time.Duration{0, 1, 499, 500, 501, 999, time.Duration(r.IntN(1000))} {
			check(base + off)
			check(-(base + off))
		}
		check(time.Duration(r.Int64N(int64(bound) / 1e6))) // small: seconds to minutes
		check(time.Duration(r.Int64N(1 << 62)))            // far past the bound: years
		check(time.Duration(r.Int64N(int64(bound) << 12)))
	}
}
