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
	even          bool // timers started together, evenly spaced
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
	// nearest: the due chain whose time is closest to beats[x]; with
	// look, not one whose time one of the next maxTimers beats is nearer
	// and goes to.
	var nearest func(x int, look bool) int
	nearest = func(x int, look bool) int {
		best, bestRes := -1, time.Duration(math.MaxInt64)
		for i, c := range f.chains {
			g := beats[x].Sub(c[len(c)-1])
			if g < due {
				continue
			}
			k := max(1, math.Round(float64(g)/float64(p)))
			d := g - time.Duration(k*float64(p))
			taken := false
			for a := x + 1; look && d < 0 && !taken && a < len(beats) && a <= x+maxTimers; a++ {
				if beats[a].Sub(c[len(c)-1])-time.Duration(k*float64(p)) >= -d {
					break
				}
				taken = nearest(a, false) == i
			}
			if taken {
				continue
			}
			if res := d.Abs(); res < bestRes {
				best, bestRes = i, res
			}
		}
		return best
	}
	for x, b := range beats {
		best := nearest(x, true)
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
	// Chains of minPieceBeats beats or more of which one ends before the other
	// begins are one timer restarted in another phase.
	shifts := make([][]int, len(f.chains)) // per chain, where it goes on in another phase
	for j := 1; j < len(f.chains); j++ {
		cj := f.chains[j]
		if len(cj) < minPieceBeats {
			continue
		}
		into := -1
		for i, ci := range f.chains[:j] {
			if len(ci) >= minPieceBeats && cj[0].Sub(last(ci)) > 0 && (into < 0 || last(ci).Sub(last(f.chains[into])) > 0) {
				into = i
			}
		}
		if into < 0 {
			continue
		}
		ci := f.chains[into]
		if g := cj[0].Sub(last(ci)); g > late {
			n := max(1, int(math.Round(float64(g)/float64(p)))-1)
			f.missed += n
			f.outage = max(f.outage, n)
		}
		shifts[into] = append(shifts[into], len(ci)-1)
		f.chains[into] = append(ci, cj...)
		f.chains = slices.Delete(f.chains, j, j+1)
		shifts = slices.Delete(shifts, j, j+1)
		j--
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
			if slices.Contains(shifts[i], j-1) {
				continue
			}
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
	// Timers started within a period of one another at evenly spaced
	// phases are one timer of a shorter period.
	if k := len(f.timers); k > 1 && p > 0 {
		first := f.chains[f.timers[0]][0]
		var offs []time.Duration
		together := true
		for _, i := range f.timers {
			d := f.chains[i][0].Sub(first)
			together = together && d <= p
			offs = append(offs, d%p)
		}
		slices.Sort(offs)
		f.even = together
		for x, o := range offs {
			if d := o - time.Duration(float64(p)*float64(x)/float64(k)); maxTimersJitter*2*d.Abs() > p {
				f.even = false
			}
		}
	}
	// Each timer, each stray and each missing beat is one thing the
	// period leaves unexplained.
	f.cost = len(f.chains) + f.missed
	return f
}

func last(c []time.Time) time.Time { return c[len(c)-1] }

// better: fewer things unexplained, or as many with less jitter, but for
// more timers that keep time where fewer leave an irregular rhythm.
func (f *refFit) better(g *refFit) bool {
	if len(f.timers) != len(g.timers) {
		m, l := f, g
		if len(m.timers) < len(l.timers) {
			m, l = l, m
		}
		if 4*m.resid < l.resid && maxTimersJitter*l.resid > l.period {
			return m == f
		}
	}
	return f.cost < g.cost || f.cost == g.cost && f.jitter < g.jitter
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
	return len(f.timers) == 1 || len(f.timers) > 1 && !f.even && maxTimersJitter*time.Duration(len(f.timers))*f.resid <= f.period
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
		if best == nil || f.better(best) {
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
