package health

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// The fit of series.go as it was before it chained beats by index over
// reused scratch (2026-12-05, a3ab41f), kept as the reference that
// TestFitTimersMatchesReference holds the new one to.

// refFit is the beats of one series split into the timers that sent them.
type refFit struct {
	period time.Duration
	chains [][]time.Time // in order of their first beat; chains with too few beats are strays
	timers []int         // indices into chains of the real timers
	extra  int           // beats in no timer
	missed int           // beats missing inside the timers' gaps (not the trailing ones)
	outage int           // of those, the most missing in one gap
	jitter time.Duration // RMS deviation from the period of the timers' on-time intervals
	// resid is the RMS deviation of all the timers' intervals from a
	// whole number of periods; steps counts those intervals, onTime those
	// of one period.
	resid         time.Duration
	steps, onTime int
	cost          int
}

// refChainBeats splits sorted beats into timers of period p. Each beat goes to
// the timer that is due (its last beat at least (1 - dueTolerance) × p
// before) and whose expected time (a whole number of periods after its
// last beat) is closest; with none due, it starts a timer. nil when more
// than maxTimers are needed.
func refChainBeats(beats []time.Time, p time.Duration, tol float64) *refFit {
	f := &refFit{period: p}
	due := time.Duration(float64(p) * (1 - dueTolerance))
	late := time.Duration(float64(p) * tol)
	for _, b := range beats {
		best, bestRes := -1, time.Duration(math.MaxInt64)
		for i, c := range f.chains {
			g := b.Sub(c[len(c)-1])
			if g < due {
				continue
			}
			k := max(1, math.Round(float64(g)/float64(p)))
			if res := (g - time.Duration(k*float64(p))).Abs(); res < bestRes {
				best, bestRes = i, res
			}
		}
		if best < 0 {
			if len(f.chains) == maxTimers {
				return nil
			}
			f.chains = append(f.chains, []time.Time{b})
			continue
		}
		c := f.chains[best]
		if g := b.Sub(c[len(c)-1]); g > late {
			n := max(1, int(math.Round(float64(g)/float64(p)))-1)
			f.missed += n
			f.outage = max(f.outage, n)
		}
		f.chains[best] = append(c, b)
	}
	// A timer has at least 3 beats and a quarter of the longest one's:
	// the others are strays (a beat sent by hand, a retry).
	longest := 0
	for _, c := range f.chains {
		longest = max(longest, len(c))
	}
	var sq, sqAll float64
	for i, c := range f.chains {
		if len(c) < 3 && len(f.chains) > 1 || 4*len(c) < longest {
			f.extra += len(c)
			continue
		}
		f.timers = append(f.timers, i)
		for j := 1; j < len(c); j++ {
			g := c[j].Sub(c[j-1])
			k := max(1, math.Round(float64(g)/float64(p)))
			d := float64(g) - k*float64(p)
			sqAll += d * d
			f.steps++
			if k == 1 {
				sq += d * d
				f.onTime++
			}
		}
	}
	if f.onTime > 0 {
		f.jitter = time.Duration(math.Sqrt(sq / float64(f.onTime)))
	}
	if f.steps > 0 {
		f.resid = time.Duration(math.Sqrt(sqAll / float64(f.steps)))
	}
	// Each timer, each stray and each missing beat is one thing the
	// period leaves unexplained.
	f.cost = len(f.chains) + f.missed
	return f
}

// tooManyMissed reports whether the period leaves more beats missing
// than on time, but for one outage after at least MinBeats intervals on
// time.
func (f *refFit) tooManyMissed() bool {
	return f.missed > f.onTime && (f.onTime < MinBeats || f.missed-f.outage > f.onTime)
}

// plausible reports whether the fit found one timer, or several that keep
// time like timers, and does not need more beats missing than it found on
// time (a period that short is a burst's offset, not a rhythm), but for one
// outage after at least MinBeats intervals on time (a peer that stalled).
func (f *refFit) plausible() bool {
	if f.tooManyMissed() {
		return false
	}
	return len(f.timers) == 1 || len(f.timers) > 1 && maxTimersJitter*f.resid <= f.period
}

// step returns the median on-time interval of the fit's timers (those
// spanning one period): the period the beats themselves keep.
func (f *refFit) step() time.Duration {
	var steps []time.Duration
	for _, i := range f.timers {
		c := f.chains[i]
		for j := 1; j < len(c); j++ {
			if g := c[j].Sub(c[j-1]); math.Round(float64(g)/float64(f.period)) <= 1 {
				steps = append(steps, g)
			}
		}
	}
	if len(steps) == 0 {
		return f.period
	}
	slices.Sort(steps)
	return steps[(len(steps)-1)/2]
}

// refCandidatePeriods returns the likeliest periods of sorted, distinct
// beats: the commonest differences between a beat and the few after it
// (in buckets 10 % wide), at least minObserved.
func refCandidatePeriods(beats []time.Time) []time.Duration {
	m := min(len(beats), candidateBeats)
	type bucket struct {
		n     int
		diffs []time.Duration
	}
	buckets := map[int]*bucket{}
	for i := 0; i < m; i++ {
		for j := i + 1; j < m && j <= i+candidateSpan; j++ {
			d := beats[j].Sub(beats[i])
			if d < minObserved {
				continue
			}
			k := int(math.Floor(math.Log(float64(d)) / math.Log(1.1)))
			b := buckets[k]
			if b == nil {
				b = &bucket{}
				buckets[k] = b
			}
			b.n++
			b.diffs = append(b.diffs, d)
		}
	}
	type cand struct {
		n int
		p time.Duration
	}
	var cands []cand
	for k, b := range buckets {
		left, right := buckets[k-1], buckets[k+1]
		if left != nil && left.n > b.n || right != nil && right.n >= b.n || b.n < 2 {
			continue // not a peak (ties go to the lower bucket)
		}
		var all []time.Duration
		for _, x := range []*bucket{left, b, right} {
			if x != nil {
				all = append(all, x.diffs...)
			}
		}
		slices.Sort(all)
		cands = append(cands, cand{b.n, all[len(all)/2]})
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.p, b.p)) })
	out := make([]time.Duration, 0, maxCandidates+1)
	for i := 0; i < len(cands) && i < maxCandidates; i++ {
		out = append(out, cands[i].p)
	}
	return out
}

// refFitTimers finds the period and the timers of sorted, distinct beats
// (at least MinBeats): of the candidate periods (and the median interval),
// the one that leaves the fewest timers, strays and missing beats. nil
// when no period explains them.
func refFitTimers(beats []time.Time, tol float64) *refFit {
	if len(beats) < MinBeats {
		return nil
	}
	cands := refCandidatePeriods(beats)
	gaps := make([]time.Duration, 0, len(beats)-1)
	for i := 1; i < len(beats); i++ {
		gaps = append(gaps, beats[i].Sub(beats[i-1]))
	}
	slices.Sort(gaps)
	if med := gaps[(len(gaps)-1)/2]; med >= minObserved {
		cands = append(cands, med)
	}
	var best *refFit
	for _, p := range cands {
		f := refChainBeats(beats, p, tol)
		if f == nil || !f.plausible() {
			continue
		}
		if best == nil || f.cost < best.cost || f.cost == best.cost && f.jitter < best.jitter {
			best = f
		}
	}
	if best == nil {
		return nil
	}
	// Chain again on the period the timers keep.
	if p := best.step(); p != best.period {
		if f := refChainBeats(beats, p, tol); f != nil && f.plausible() && f.cost <= best.cost {
			best = f
		}
	}
	return best
}
