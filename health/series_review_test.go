package health

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// Review of the fit that chains beats by index over pooled scratch
// (be1b8cb, 001fdcd): inputs the callers do not give today but the
// reference handles (duplicate and unsorted times, one or two beats,
// spans at the edge of a Duration, a monotonic reading on one beat only,
// periods that are no rhythm), ties, more timers than maxTimers, series
// past the pool's bound, and fits on several goroutines at once.

// checkFitAll holds fitTimers, fitTimersStats and chainBeats (on periods)
// to the reference on beats, whatever their order.
func checkFitAll(t *testing.T, name string, beats []time.Time, tol float64, periods ...time.Duration) {
	t.Helper()
	in := slices.Clone(beats)
	f, ref := fitTimers(beats, tol), refFitTimers(beats, tol)
	if d := sameFit(f, ref); d != "" {
		t.Fatalf("%s: fitTimers (tolerance %v, %d beats %v): %s", name, tol, len(beats), beats, d)
	}
	if st, ok := fitTimersStats(beats, tol); ok != (ref != nil) || ok && st != f.fitStats {
		t.Fatalf("%s: fitTimersStats %v %+v, fitTimers %+v", name, ok, st, f)
	}
	ft := getFitter(beats)
	got := slices.Clone(ft.candidatePeriods())
	putFitter(ft)
	if want := refCandidatePeriods(beats); !slices.Equal(got, want) {
		t.Fatalf("%s: candidatePeriods %v, reference %v (beats %v)", name, got, want, beats)
	}
	for _, p := range periods {
		if d := sameFit(chainBeats(beats, p, tol), refChainBeats(beats, p, tol)); d != "" {
			t.Fatalf("%s: chainBeats(period %v, tolerance %v, beats %v): %s", name, p, tol, beats, d)
		}
	}
	if !slices.Equal(in, beats) {
		t.Fatalf("%s: the beats changed", name)
	}
}

func offsAt(base time.Time, offs ...time.Duration) []time.Time {
	out := make([]time.Time, len(offs))
	for i, d := range offs {
		out[i] = base.Add(d)
	}
	return out
}

// TestFitTimersReviewOddInputs: inputs outside "sorted, distinct, captured
// times" give what the reference gives.
func TestFitTimersReviewOddInputs(t *testing.T) {
	base := time.Unix(1_700_000_000, 123).UTC()
	s := time.Second
	periods := []time.Duration{s, 10 * s, 3 * s / 2, time.Millisecond, 1, 0, -s, math.MaxInt64, math.MinInt64}
	cases := map[string][]time.Time{
		"none":      nil,
		"one":       offsAt(base, 0),
		"two":       offsAt(base, 0, s),
		"same x3":   offsAt(base, 0, 0, 0),
		"duplicate": offsAt(base, 0, s, s, 2*s, 3*s, 3*s, 3*s, 4*s, 5*s, 6*s),
		"dup pairs": offsAt(base, 0, 0, 10*s, 10*s, 20*s, 20*s, 30*s, 30*s, 40*s, 40*s),
		"reversed":  offsAt(base, 9*s, 8*s, 7*s, 6*s, 5*s, 4*s, 3*s, 2*s, s, 0),
		"one back":  offsAt(base, 0, s, 2*s, 3*s, 2500*time.Millisecond, 4*s, 5*s, 6*s),
		"last back": offsAt(base, 0, 10*s, 20*s, 30*s, 40*s, 50*s, -s),
		"grid ties": offsAt(base, 0, 5*s, 10*s, 10*s+5*s/2, 15*s, 20*s, 20*s+5*s/2, 25*s, 30*s, 30*s+5*s/2, 35*s, 40*s),
		// spans at and past a Duration
		"span max-1":  offsAt(base, 0, s, 2*s, 3*s, math.MaxInt64-s, math.MaxInt64-1),
		"span max":    offsAt(base, 0, s, 2*s, 3*s, math.MaxInt64),
		"span past":   append(offsAt(base, 0, s, 2*s, 3*s), base.Add(math.MaxInt64).Add(math.MaxInt64)),
		"mid past":    append(append(offsAt(base, 0, s, 2*s), base.Add(math.MaxInt64).Add(math.MaxInt64)), base.Add(4*s)),
		"before past": append([]time.Time{base.Add(math.MinInt64).Add(math.MinInt64)}, offsAt(base, 0, s, 2*s, 3*s)...),
		"year 1":      {{}, time.Time{}.Add(s), time.Time{}.Add(2 * s), time.Time{}.Add(3 * s)},
		"huge gaps":   offsAt(base, 0, math.MaxInt64/4, math.MaxInt64/2, 3*(math.MaxInt64/4), math.MaxInt64-7),
	}
	// one monotonic reading: Sub then reads the wall clock of all
	now := time.Now()
	mono := []time.Time{now}
	for i := 1; i < 12; i++ {
		mono = append(mono, now.Round(0).Add(time.Duration(i)*s+time.Duration(i%3)*time.Millisecond))
	}
	cases["mono first"] = mono
	last := offsAt(now.Round(0), 0, s, 2*s, 3*s, 4*s, 5*s)
	last = append(last, now.Add(6*s))
	cases["mono last"] = last
	// monotonic readings that disagree with the wall clock
	skew := []time.Time{}
	for i := 0; i < 10; i++ {
		b := now.Add(time.Duration(i) * 2 * s)
		if i%2 == 1 {
			b = b.Add(-10 * s).Round(0).Add(10 * s) // wall only
		}
		skew = append(skew, b)
	}
	cases["mono mixed"] = skew
	// mixed locations
	loc := offsAt(base, 0, 2*s, 4*s, 6*s, 8*s, 10*s, 12*s)
	for i := range loc {
		loc[i] = loc[i].In(time.FixedZone(fmt.Sprint(i), 3600*i))
	}
	cases["locations"] = loc
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, tol := range []float64{1.5, 1.1, 2} {
			checkFitAll(t, n, cases[n], tol, periods...)
		}
	}
}

// adversarialBeats returns beats of shapes that provoke ties and limits:
// offsets from a small alphabet of gaps (equal residuals between timers,
// equal bucket counts), more timers than maxTimers, periods and their
// multiples, and spans near a Duration; maybe unsorted or with repeats.
func adversarialBeats(rng *rand.Rand) []time.Time {
	base := time.Unix(rng.Int64N(4e9)-2e9, rng.Int64N(1e9))
	if rng.IntN(4) == 0 {
		base = base.In(time.FixedZone("z", rng.IntN(50000)))
	}
	var offs []time.Duration
	switch rng.IntN(5) {
	case 0: // a small alphabet of gaps
		unit := time.Duration(1+rng.IntN(40)) * 50 * time.Millisecond
		alpha := []time.Duration{unit, 2 * unit, unit / 2, unit * 11 / 10, unit * 9 / 10, 3 * unit}[:1+rng.IntN(6)]
		var d time.Duration
		for i := 3 + rng.IntN(60); i > 0; i-- {
			d += alpha[rng.IntN(len(alpha))]
			offs = append(offs, d)
		}
	case 1: // many timers of one period, on a grid of phases
		period := time.Duration(1+rng.IntN(30)) * time.Second
		timers := 1 + rng.IntN(maxTimers+3)
		n := 3 + rng.IntN(20)
		for k := 0; k < timers; k++ {
			phase := period * time.Duration(rng.IntN(16)) / 16
			for i := 0; i < n; i++ {
				if rng.IntN(6) > 0 {
					offs = append(offs, phase+time.Duration(i)*period)
				}
			}
		}
	case 2: // a period and its multiples (2 timers of 2p look like p)
		p := time.Duration(200+rng.IntN(20000)) * time.Millisecond
		m := []time.Duration{1, 2, 3, 4}
		var d time.Duration
		for i := 3 + rng.IntN(50); i > 0; i-- {
			d += p * m[rng.IntN(len(m))]
			offs = append(offs, d+time.Duration(rng.IntN(3)-1))
		}
	case 3: // spans near a Duration: a few gaps of a quarter of one
		var d time.Duration
		for i := 3 + rng.IntN(12); i > 0; i-- {
			if rng.IntN(3) == 0 {
				d += time.Duration(rng.Int64N(math.MaxInt64 / 4))
			} else {
				d += time.Duration(rng.IntN(5)+1) * time.Second
			}
			offs = append(offs, d)
		}
	case 4: // exact period, ties between every timer's residuals
		p := time.Duration(1+rng.IntN(10)) * time.Second
		for i := 3 + rng.IntN(40); i > 0; i-- {
			offs = append(offs, time.Duration(i)*p, time.Duration(i)*p+p/2)
		}
	}
	beats := offsAt(base, offs...)
	switch rng.IntN(6) {
	case 0: // as generated (maybe unsorted, maybe repeated)
	case 1: // repeats kept
		slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
	default:
		slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
		beats = slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
	}
	return beats
}

// TestFitTimersReviewAdversarial: random series of adversarial shapes.
func TestFitTimersReviewAdversarial(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2026))
	n := 1000
	if testing.Short() {
		n = 500
	}
	for i := 0; i < n; i++ {
		beats := adversarialBeats(rng)
		tol := []float64{1.5, 1.25, 2, 1.1}[rng.IntN(4)]
		periods := []time.Duration{time.Duration(rng.Int64N(int64(30*time.Second)) + 1)}
		if len(beats) > 1 {
			periods = append(periods, beats[1].Sub(beats[0]), beats[len(beats)-1].Sub(beats[0])/3)
		}
		checkFitAll(t, fmt.Sprintf("adversarial %d", i), beats, tol, periods...)
	}
}

// TestFitTimersReviewBigSeries: a series past maxFitterKept (not returned
// to the pool) between small ones, and one past candidateBeats with
// several timers.
func TestFitTimersReviewBigSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Unix(1_700_000_000, 0).UTC()
	small := offsAt(base, 0, 10*time.Second, 20*time.Second, 25*time.Second, 30*time.Second, 40*time.Second, 50*time.Second)
	var big []time.Time
	for i := 0; i < maxFitterKept+3000; i++ {
		for k := 0; k < 2; k++ {
			big = append(big, base.Add(time.Duration(i)*5*time.Second+time.Duration(k)*1300*time.Millisecond+time.Duration(rng.NormFloat64()*2e6)))
		}
	}
	slices.SortFunc(big, func(a, b time.Time) int { return a.Compare(b) })
	checkFitAll(t, "small", small, 1.5, 10*time.Second)
	checkFitAll(t, "big", big, 1.5, 5*time.Second, 2500*time.Millisecond)
	checkFitAll(t, "small after big", small, 1.5, 10*time.Second)
	checkFitAll(t, "big again", big[:len(big)-777], 1.25, 5*time.Second)
}

// TestFitTimersReviewConcurrent: fits on several goroutines at once (the
// workers of -j N) share the pool of scratch; each result is the
// reference's, and stays it after the others have fitted (nothing it
// returns is scratch another fit overwrites). Run with -race.
func TestFitTimersReviewConcurrent(t *testing.T) {
	const workers, each = 4, 150
	type job struct {
		beats []time.Time
		tol   float64
		p     time.Duration
	}
	rng := rand.New(rand.NewPCG(9, 9))
	jobs := make([][]job, workers)
	for w := range jobs {
		for i := 0; i < each; i++ {
			var b []time.Time
			if i%2 == 0 {
				b = randomBeats(rng)
			} else {
				b = adversarialBeats(rng)
			}
			p := time.Duration(rng.Int64N(int64(20*time.Second)) + 1)
			jobs[w] = append(jobs[w], job{b, []float64{1.5, 1.25, 2}[rng.IntN(3)], p})
		}
	}
	type result struct {
		fit, chain *timerFit
		st         fitStats
		ok         bool
	}
	results := make([][]result, workers)
	var wg sync.WaitGroup
	for w := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range jobs[w] {
				var r result
				r.fit = fitTimers(j.beats, j.tol)
				r.st, r.ok = fitTimersStats(j.beats, j.tol)
				r.chain = chainBeats(j.beats, j.p, j.tol)
				results[w] = append(results[w], r)
			}
		}()
	}
	wg.Wait()
	for w := range jobs {
		for i, j := range jobs[w] {
			r := results[w][i]
			ref := refFitTimers(j.beats, j.tol)
			if d := sameFit(r.fit, ref); d != "" {
				t.Fatalf("worker %d series %d: fitTimers: %s", w, i, d)
			}
			if r.ok != (ref != nil) || r.ok && r.st != r.fit.fitStats {
				t.Fatalf("worker %d series %d: fitTimersStats %v %+v", w, i, r.ok, r.st)
			}
			if d := sameFit(r.chain, refChainBeats(j.beats, j.p, j.tol)); d != "" {
				t.Fatalf("worker %d series %d: chainBeats(%v): %s", w, i, j.p, d)
			}
		}
	}
}
