package health

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

// realBeatSeries reads testdata/beats-real.bin.gz: the sorted, distinct
// beat series fitTimers was given by `wsdump conns -j 1` on every capture
// of testdata/pcaps and on a fifth of the load capture's connections (all
// of those with 60 beats or more; /work/benchdata/ws-bench-200mb.pcap,
// recorded by bench/gen.sh, 2026-12-05), written by a temporary hook at
// fitTimers' entry that was not kept. Each series: uvarint count, uvarint Unix nanoseconds of the
// first beat, uvarint nanoseconds from each beat to the next.
func realBeatSeries(t testing.TB) [][]time.Time {
	f, err := os.Open("testdata/beats-real.bin.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(z)
	var out [][]time.Time
	for {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			break
		}
		ns, err := binary.ReadUvarint(r)
		if err != nil {
			t.Fatal(err)
		}
		s := []time.Time{time.Unix(0, int64(ns)).UTC()}
		for i := uint64(1); i < n; i++ {
			d, err := binary.ReadUvarint(r)
			if err != nil {
				t.Fatal(err)
			}
			ns += d
			s = append(s, time.Unix(0, int64(ns)).UTC())
		}
		out = append(out, s)
	}
	return out
}

// sameFit reports how fit and the reference's ref differ ("" when not).
func sameFit(f *timerFit, ref *refFit) string {
	switch {
	case f == nil && ref == nil:
		return ""
	case f == nil || ref == nil:
		return fmt.Sprintf("fit %v, reference %v", f != nil, ref != nil)
	}
	got := fmt.Sprint(f.period, f.extra, f.missed, f.outage, f.jitter, f.resid, f.steps, f.onTime, f.cost, f.timers, f.ntimers)
	want := fmt.Sprint(ref.period, ref.extra, ref.missed, ref.outage, ref.jitter, ref.resid, ref.steps, ref.onTime, ref.cost, ref.timers, len(ref.timers))
	if got != want {
		return fmt.Sprintf("fit %s, reference %s", got, want)
	}
	if len(f.chains) != len(ref.chains) {
		return fmt.Sprintf("%d chains, reference %d", len(f.chains), len(ref.chains))
	}
	for i := range f.chains {
		// == and not Equal: the very same times (location, monotonic
		// reading), as judge reports them.
		if !slices.Equal(f.chains[i], ref.chains[i]) {
			return fmt.Sprintf("chain %d: %v, reference %v", i, f.chains[i], ref.chains[i])
		}
	}
	return ""
}

// checkFit holds fitTimers, candidatePeriods and chainBeats (on the
// candidates, the fit's period and a few others) to the reference on
// beats.
func checkFit(t *testing.T, name string, beats []time.Time, rng *rand.Rand) {
	t.Helper()
	tol := []float64{1.5, 1.25, 2, 1.1}[rng.IntN(4)]
	periods := append(refCandidatePeriods(beats), time.Duration(rng.Int64N(int64(20*time.Second))+1), time.Millisecond, 1)
	if len(beats) > 1 {
		periods = append(periods, beats[1].Sub(beats[0]), beats[len(beats)-1].Sub(beats[0])/3)
	}
	periods = slices.DeleteFunc(periods, func(p time.Duration) bool { return p <= 0 })
	checkFitAll(t, name, beats, tol, periods...)
}

// randomBeats returns sorted, distinct beats of one of several shapes:
// timers of one period with jitter, missing beats, outages and strays; a
// period on a whole grid (ties between timers and buckets); uniform noise;
// differences at the edges of candidatePeriods' buckets; long series.
func randomBeats(rng *rand.Rand) []time.Time {
	base := time.Unix(1_700_000_000+rng.Int64N(1e8), rng.Int64N(1e9)).UTC()
	var offs []time.Duration
	shape := rng.IntN(5)
	if rng.IntN(300) == 0 {
		shape = 5
	}
	switch shape {
	case 0, 1: // timers
		period := time.Duration(rng.Int64N(int64(60*time.Second))) + 50*time.Millisecond
		if shape == 1 {
			period = time.Duration(1+rng.IntN(30)) * 500 * time.Millisecond
		}
		timers := 1 + rng.IntN(5)
		n := 2 + rng.IntN(60)
		if rng.IntN(100) == 0 {
			n = 300 + rng.IntN(700)
		}
		jit := []float64{0, 0.001, 0.01, 0.05, 0.2, 0.4}[rng.IntN(6)]
		miss := []float64{0, 0, 0.05, 0.2, 0.5}[rng.IntN(5)]
		for k := 0; k < timers; k++ {
			phase := time.Duration(rng.Int64N(int64(period)))
			if shape == 1 {
				phase = phase.Truncate(100 * time.Millisecond)
			}
			outageAt, outage := rng.IntN(n+1), rng.IntN(4)*rng.IntN(20)
			for i := 0; i < n; i++ {
				if rng.Float64() < miss || i >= outageAt && i < outageAt+outage {
					continue
				}
				d := phase + time.Duration(i)*period
				if jit > 0 {
					d += time.Duration(rng.NormFloat64() * jit * float64(period))
				}
				offs = append(offs, d)
			}
		}
		for s := rng.IntN(4); s > 0; s-- { // strays
			offs = append(offs, time.Duration(rng.Int64N(int64(period)*int64(n)+1)))
		}
	case 2: // uniform noise
		span := time.Duration(rng.Int64N(int64(time.Hour))) + time.Second
		for i := 3 + rng.IntN(80); i > 0; i-- {
			offs = append(offs, time.Duration(rng.Int64N(int64(span))))
		}
	case 3: // differences at the edges of the 10 % buckets
		at := 0
		for i := 3 + rng.IntN(40); i > 0; i-- {
			k := 190 + rng.IntN(80)
			edge := int(math.Pow(1.1, float64(k)))
			at += edge + rng.IntN(5) - 2
			offs = append(offs, time.Duration(at))
		}
	case 4: // a few beats, any spacing
		for i := rng.IntN(8); i > 0; i-- {
			offs = append(offs, time.Duration(rng.Int64N(int64(10*time.Second))))
		}
	case 5: // many beats: past candidateBeats
		period := time.Duration(1+rng.IntN(5)) * time.Second
		for i := 0; i < candidateBeats+rng.IntN(2000); i++ {
			offs = append(offs, time.Duration(i)*period+time.Duration(rng.NormFloat64()*float64(time.Millisecond)))
		}
	}
	beats := make([]time.Time, len(offs))
	for i, d := range offs {
		beats[i] = base.Add(d)
	}
	slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
}

// TestFitTimersMatchesReference: splitting beats into timers by index over
// reused scratch (series.go) gives what the fit before it gave
// (series_ref_test.go), to the last chain and nanosecond, on the real beat
// series of testdata and on random ones; also on times whose Sub is not a
// difference of offsets (monotonic readings, spans past a Duration).
func TestFitTimersMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 5))
	real := realBeatSeries(t)
	if len(real) < 600 {
		t.Fatalf("%d real series", len(real))
	}
	for i, beats := range real {
		checkFit(t, fmt.Sprintf("real series %d", i), beats, rng)
	}
	n := 600
	if testing.Short() {
		n = 500
	}
	for i := 0; i < n; i++ {
		checkFit(t, fmt.Sprintf("random series %d", i), randomBeats(rng), rng)
	}
	// Times Sub reads otherwise: monotonic readings (all or some), other
	// locations, and spans that saturate a Duration.
	now := time.Now()
	for i := 0; i < 300; i++ {
		beats := randomBeats(rng)
		for j := range beats {
			switch i % 3 {
			case 0:
				if rng.IntN(2) == 0 {
					beats[j] = now.Add(beats[j].Sub(beats[0]))
				}
			case 1:
				beats[j] = beats[j].In(time.FixedZone("x", rng.IntN(7200)))
			case 2:
				if j > 0 && rng.IntN(3) == 0 {
					beats[j] = beats[j-1].Add(time.Duration(rng.Int64N(math.MaxInt64)))
				} else if j > 0 {
					beats[j] = beats[j-1].Add(beats[j].Sub(beats[j-1]))
				}
			}
		}
		slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
		beats = slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
		checkFit(t, fmt.Sprintf("odd times %d", i), beats, rng)
	}
}

// TestFitTimersAllocs: fitting a series allocates its result, not scratch
// for each period tried (the fit before: 311 allocations on this one).
func TestFitTimersAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Unix(1_700_000_000, 0).UTC()
	var beats []time.Time
	for i := 0; i < 40; i++ {
		for k := 0; k < 3; k++ {
			beats = append(beats, base.Add(time.Duration(i)*25*time.Second+time.Duration(k)*7*time.Second+time.Duration(rng.IntN(1e6))))
		}
	}
	fitTimers(beats, 1.5) // fill the pool
	if a := testing.AllocsPerRun(50, func() { fitTimers(beats, 1.5) }); a > 4 {
		t.Errorf("%v allocations a fit, want at most 4", a)
	}
}
