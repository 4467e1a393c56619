package health

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// Several timers. A heartbeat sent by setInterval whose timer is never
// cleared (the classic reconnect bug: each connect callback starts one
// more) comes in bursts: two or more series of the same period, each with
// its own phase. The gaps between consecutive beats then alternate (1.1 s,
// 8.9 s, 1.1 s, ...) and their median is no interval at all. fitTimers
// finds the period and splits the beats into the timers that sent them, so
// each is judged on its own rhythm.

const (
	// dueTolerance: a timer takes the next beat from (1 - dueTolerance) ×
	// period after its last one; a beat that no timer is due for starts
	// another timer.
	dueTolerance = 0.25
	// maxTimers bounds the timers tried for one period: more means the
	// period is wrong (or there is no rhythm).
	maxTimers = 16
	// candidateBeats and candidateSpan bound the work of finding candidate
	// periods: the differences between each of the first candidateBeats
	// beats and the candidateSpan beats after it.
	candidateBeats = 4096
	candidateSpan  = 8
	maxCandidates  = 6
)

// timerFit is the beats of one series split into the timers that sent them.
type timerFit struct {
	fitStats
	chains [][]time.Time // in order of their first beat; chains with too few beats are strays
	timers []int         // indices into chains of the real timers
}

// fitStats is what a split of beats into timers measures.
type fitStats struct {
	period  time.Duration
	ntimers int
	extra   int           // beats in no timer
	missed  int           // beats missing inside the timers' gaps (not the trailing ones)
	outage  int           // of those, the most missing in one gap
	jitter  time.Duration // RMS deviation from the period of the timers' on-time intervals
	// resid is the RMS deviation of all the timers' intervals from a
	// whole number of periods; steps counts those intervals, onTime those
	// of one period.
	resid         time.Duration
	steps, onTime int
	cost          int
	// even: the timers started together and are evenly spaced, one timer
	// of a shorter period on the wire.
	even bool
}

// beatClock gives the time from one of a series' sorted beats to another,
// by index: the difference of their offsets from the first beat where that
// is their Sub (no monotonic clock readings and a span that fits a
// Duration: captured times), else their Sub.
type beatClock struct {
	t   []time.Time
	off []time.Duration // nil: Sub of t
}

func (c *beatClock) set(beats []time.Time, off []time.Duration) []time.Duration {
	c.t, c.off = beats, nil
	if len(beats) == 0 {
		return off
	}
	first := beats[0]
	if span := beats[len(beats)-1].Sub(first); span == math.MaxInt64 {
		return off // saturated, or too near it
	}
	off = off[:0]
	prev := time.Duration(0)
	for _, b := range beats {
		// Round(0) drops a monotonic reading: with one, Sub may read
		// it rather than the wall clock.
		d := b.Sub(first)
		if b.Round(0) != b || d < prev {
			return off
		}
		off = append(off, d)
		prev = d
	}
	c.off = off
	return off
}

func (c *beatClock) sub(j, i int32) time.Duration {
	if c.off != nil {
		return c.off[j] - c.off[i]
	}
	return c.t[j].Sub(c.t[i])
}

// chaining is one split of a fitter's beats into timers: each chain by
// its first and last beat and its length, each beat linked to the next
// of its chain.
type chaining struct {
	fitStats
	nchains     int
	first, last [maxTimers]int32
	length      [maxTimers]int32
	timers      [maxTimers]int8
	next        []int32 // -1: the last of its chain
}

// fitter is the scratch of fitting one series of beats, reused for each
// period tried and, through fitters, from series to series.
type fitter struct {
	clk       beatClock
	off       []time.Duration
	diffs     []time.Duration
	keys      []int
	runs      []bucketRun
	cands     []candPeriod
	durs      []time.Duration
	cur, best chaining
}

type bucketRun struct{ k, start, end int }

type candPeriod struct {
	n int
	p time.Duration
}

var fitters = sync.Pool{New: func() any { return new(fitter) }}

// maxFitterKept: a fitter that grew for more beats is left to the
// collector rather than kept in the pool.
const maxFitterKept = 1 << 14

func getFitter(beats []time.Time) *fitter {
	ft := fitters.Get().(*fitter)
	ft.off = ft.clk.set(beats, ft.off)
	return ft
}

func putFitter(ft *fitter) {
	ft.clk = beatClock{}
	if cap(ft.off) > maxFitterKept || cap(ft.diffs) > candidateSpan*maxFitterKept ||
		cap(ft.cur.next) > maxFitterKept || cap(ft.best.next) > maxFitterKept {
		return
	}
	fitters.Put(ft)
}

// chainBeats splits sorted beats into timers of period p. Each beat goes to
// the timer that is due (its last beat at least (1 - dueTolerance) × p
// before) and whose expected time (a whole number of periods after its
// last beat) is closest; with none due, it starts a timer. nil when more
// than maxTimers are needed.
func chainBeats(beats []time.Time, p time.Duration, tol float64) *timerFit {
	ft := getFitter(beats)
	defer putFitter(ft)
	if !ft.chain(&ft.cur, p, tol) {
		return nil
	}
	return ft.fit(&ft.cur)
}

// chain splits the fitter's beats into c as chainBeats does; false when
// more than maxTimers are needed.
func (ft *fitter) chain(c *chaining, p time.Duration, tol float64) bool {
	n := int32(len(ft.clk.t))
	c.fitStats = fitStats{period: p}
	c.nchains = 0
	if cap(c.next) < int(n) {
		c.next = make([]int32, n)
	}
	next := c.next[:n]
	c.next = next
	due := time.Duration(float64(p) * (1 - dueTolerance))
	late := time.Duration(float64(p) * tol)
	for b := int32(0); b < n; b++ {
		next[b] = -1
		best := ft.nearest(c, b, p, due, true)
		if best < 0 {
			if c.nchains == maxTimers {
				return false
			}
			c.first[c.nchains], c.last[c.nchains], c.length[c.nchains] = b, b, 1
			c.nchains++
			continue
		}
		if g := ft.clk.sub(b, c.last[best]); g > late {
			m := max(1, int(math.Round(float64(g)/float64(p)))-1)
			c.missed += m
			c.outage = max(c.outage, m)
		}
		next[c.last[best]] = b
		c.last[best] = b
		c.length[best]++
	}
	var shifts [maxTimers]int32 // beats after which a chain goes on in another phase
	nshifts := ft.joinSequential(c, &shifts, p, late)
	// A timer has at least 3 beats and a quarter of the longest one's:
	// the others are strays (a beat sent by hand, a retry).
	longest := 0
	for i := 0; i < c.nchains; i++ {
		longest = max(longest, int(c.length[i]))
	}
	var sq, sqAll float64
	for i := 0; i < c.nchains; i++ {
		if l := int(c.length[i]); l < 3 && c.nchains > 1 || 4*l < longest {
			c.extra += l
			continue
		}
		c.timers[c.ntimers] = int8(i)
		c.ntimers++
		for j := c.first[i]; next[j] >= 0; j = next[j] {
			if slices.Contains(shifts[:nshifts], j) {
				continue // no interval of the rhythm
			}
			g := ft.clk.sub(next[j], j)
			k := max(1, math.Round(float64(g)/float64(p)))
			d := float64(g) - k*float64(p)
			sqAll += d * d
			c.steps++
			if k == 1 {
				sq += d * d
				c.onTime++
			}
		}
	}
	if c.onTime > 0 {
		c.jitter = time.Duration(math.Sqrt(sq / float64(c.onTime)))
	}
	if c.steps > 0 {
		c.resid = time.Duration(math.Sqrt(sqAll / float64(c.steps)))
	}
	c.even = ft.evenlySpaced(c, p)
	// Each timer, each stray and each missing beat is one thing the
	// period leaves unexplained.
	c.cost = c.nchains + c.missed
	return true
}

// nearest returns the chain of c that is due for beat b (its last beat
// at least due before) and whose time (a whole number of periods p after
// its last beat) is closest; -1 when none is due. With look, a chain is
// passed over when b is early and one of the next beats (up to
// maxTimers) is nearer its time and would go to it: that beat is the
// timer's, b another timer's.
func (ft *fitter) nearest(c *chaining, b int32, p, due time.Duration, look bool) int {
	n := int32(len(ft.clk.t))
	best, bestRes := -1, time.Duration(math.MaxInt64)
chains:
	for i := 0; i < c.nchains; i++ {
		g := ft.clk.sub(b, c.last[i])
		if g < due {
			continue
		}
		k := max(1, math.Round(float64(g)/float64(p)))
		d := g - time.Duration(k*float64(p))
		if look && d < 0 {
			for a := b + 1; a < n && a <= b+maxTimers; a++ {
				if ft.clk.sub(a, c.last[i])-time.Duration(k*float64(p)) >= -d {
					break
				}
				if ft.nearest(c, a, p, due, false) == i {
					continue chains
				}
			}
		}
		if res := d.Abs(); res < bestRes {
			best, bestRes = i, res
		}
	}
	return best
}

// minPieceBeats: a timer restarted in another phase is told from beats
// of no rhythm by pieces of at least this many beats.
const minPieceBeats = 4

// joinSequential makes one chain of two chains (minPieceBeats beats or
// more each) of which one ends before the other begins: one timer restarted
// in another phase (several timers are timers that run at once). The
// gap between them counts its missing beats as any; the beats after which
// a chain goes on in another phase go to shifts, their number returned.
func (ft *fitter) joinSequential(c *chaining, shifts *[maxTimers]int32, p, late time.Duration) int {
	ns := 0
	for j := 1; j < c.nchains; j++ {
		if c.length[j] < minPieceBeats {
			continue
		}
		into := -1
		for i := 0; i < j; i++ {
			if c.length[i] >= minPieceBeats && ft.clk.sub(c.first[j], c.last[i]) > 0 &&
				(into < 0 || ft.clk.sub(c.last[i], c.last[into]) > 0) {
				into = i
			}
		}
		if into < 0 {
			continue
		}
		if g := ft.clk.sub(c.first[j], c.last[into]); g > late {
			m := max(1, int(math.Round(float64(g)/float64(p)))-1)
			c.missed += m
			c.outage = max(c.outage, m)
		}
		shifts[ns] = c.last[into]
		ns++
		c.next[c.last[into]] = c.first[j]
		c.last[into] = c.last[j]
		c.length[into] += c.length[j]
		copy(c.first[j:c.nchains], c.first[j+1:c.nchains])
		copy(c.last[j:c.nchains], c.last[j+1:c.nchains])
		copy(c.length[j:c.nchains], c.length[j+1:c.nchains])
		c.nchains--
		j--
	}
	return ns
}

// evenlySpaced reports whether c's timers (two or more) started within a
// period of one another and keep phases evenly spaced (within
// 1/(2 × maxTimersJitter) of the period): on the wire that is one timer
// of the period over their number, which is what it is taken for.
func (ft *fitter) evenlySpaced(c *chaining, p time.Duration) bool {
	k := c.ntimers
	if k < 2 || p <= 0 {
		return false
	}
	var offs [maxTimers]time.Duration
	first := c.first[c.timers[0]]
	for x, i := range c.timers[:k] {
		if ft.clk.sub(c.first[i], first) > p {
			return false // a timer that started later
		}
		offs[x] = ft.clk.sub(c.first[i], first) % p
	}
	slices.Sort(offs[:k])
	for x, o := range offs[:k] {
		if d := o - time.Duration(float64(p)*float64(x)/float64(k)); maxTimersJitter*2*d.Abs() > p {
			return false
		}
	}
	return true
}

// fit returns c's split with its chains of beats.
func (ft *fitter) fit(c *chaining) *timerFit {
	f := &timerFit{fitStats: c.fitStats}
	all := make([]time.Time, len(ft.clk.t))
	f.chains = make([][]time.Time, c.nchains)
	at := 0
	for i := range f.chains {
		ch := all[at : at : at+int(c.length[i])]
		for j := c.first[i]; j >= 0; j = c.next[j] {
			ch = append(ch, ft.clk.t[j])
		}
		f.chains[i] = ch
		at += len(ch)
	}
	f.timers = make([]int, c.ntimers)
	for i := range f.timers {
		f.timers[i] = int(c.timers[i])
	}
	return f
}

// maxTimersJitter: k timers are believed only when their beats keep to
// the period within 1/(k × maxTimersJitter) of it (a 40th of the time
// between their beats). Timers are machines (a browser's setInterval
// keeps to a few milliseconds), while any irregular series splits into k
// "timers" of k times its period that keep to that within some percent.
const maxTimersJitter = 40

// tooManyMissed reports whether the period leaves more beats missing
// than on time, but for one outage after at least MinBeats intervals on
// time.
func (f *fitStats) tooManyMissed() bool {
	return f.missed > f.onTime && (f.onTime < MinBeats || f.missed-f.outage > f.onTime)
}

// plausible reports whether the fit found one timer, or several that keep
// time like timers, and does not need more beats missing than it found on
// time (a period that short is a burst's offset, not a rhythm), but for one
// outage after at least MinBeats intervals on time (a peer that stalled).
func (f *fitStats) plausible() bool {
	if f.tooManyMissed() {
		return false
	}
	return f.ntimers == 1 || f.ntimers > 1 && !f.even && maxTimersJitter*time.Duration(f.ntimers)*f.resid <= f.period
}

// better reports whether split f explains the beats better than g: it
// leaves fewer things unexplained (cost), or as many with less jitter,
// but for a split into more timers that keep time (resid a quarter or
// less) where the fewer leave an irregular rhythm (more than
// 1/maxTimersJitter of their period): their offset is no jitter.
func (f *fitStats) better(g *fitStats) bool {
	if m, l := f, g; m.ntimers != l.ntimers {
		if m.ntimers < l.ntimers {
			m, l = l, m
		}
		if 4*m.resid < l.resid && maxTimersJitter*l.resid > l.period {
			return m == f
		}
	}
	return f.cost < g.cost || f.cost == g.cost && f.jitter < g.jitter
}

// step returns the median on-time interval of c's timers (those spanning
// one period): the period the beats themselves keep.
func (ft *fitter) step(c *chaining) time.Duration {
	steps := ft.durs[:0]
	for _, i := range c.timers[:c.ntimers] {
		for j := c.first[i]; c.next[j] >= 0; j = c.next[j] {
			if g := ft.clk.sub(c.next[j], j); math.Round(float64(g)/float64(c.period)) <= 1 {
				steps = append(steps, g)
			}
		}
	}
	ft.durs = steps
	if len(steps) == 0 {
		return c.period
	}
	slices.Sort(steps)
	return steps[(len(steps)-1)/2]
}

// candidatePeriods returns the likeliest periods of the fitter's sorted,
// distinct beats: the commonest differences between a beat and the few
// after it (in buckets 10 % wide), at least minObserved. The differences
// are sorted by bucket and value, so that a bucket and its neighbours are
// one run.
func (ft *fitter) candidatePeriods() []time.Duration {
	m := int32(min(len(ft.clk.t), candidateBeats))
	ds := ft.diffs[:0]
	for i := int32(0); i < m; i++ {
		for j := i + 1; j < m && j <= i+candidateSpan; j++ {
			if d := ft.clk.sub(j, i); d >= minObserved {
				ds = append(ds, d)
			}
		}
	}
	slices.Sort(ds)
	ks := ft.keys[:0]
	inOrder := true // buckets in the order of the differences
	for x, d := range ds {
		var k int
		if x > 0 && d == ds[x-1] {
			k = ks[x-1]
		} else {
			k = int(math.Floor(math.Log(float64(d)) / math.Log(1.1)))
		}
		if x > 0 && k < ks[x-1] {
			inOrder = false
		}
		ks = append(ks, k)
	}
	ft.diffs, ft.keys = ds, ks
	if !inOrder {
		// math.Log not monotonic at a bucket's edge: sort by bucket.
		type kd struct {
			k int
			d time.Duration
		}
		s := make([]kd, len(ds))
		for x := range ds {
			s[x] = kd{ks[x], ds[x]}
		}
		slices.SortFunc(s, func(a, b kd) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.d, b.d)) })
		for x := range s {
			ks[x], ds[x] = s[x].k, s[x].d
		}
	}
	runs := ft.runs[:0]
	for x := 0; x < len(ks); {
		y := x + 1
		for y < len(ks) && ks[y] == ks[x] {
			y++
		}
		runs = append(runs, bucketRun{ks[x], x, y})
		x = y
	}
	ft.runs = runs
	cands := ft.cands[:0]
	for r, b := range runs {
		n := b.end - b.start
		start, end := b.start, b.end
		if r > 0 && runs[r-1].k == b.k-1 {
			if runs[r-1].end-runs[r-1].start > n {
				continue // not a peak
			}
			start = runs[r-1].start
		}
		if r+1 < len(runs) && runs[r+1].k == b.k+1 {
			if runs[r+1].end-runs[r+1].start >= n {
				continue // not a peak (ties go to the lower bucket)
			}
			end = runs[r+1].end
		}
		if n < 2 {
			continue
		}
		all := ds[start:end]
		if !inOrder {
			all = append(ft.durs[:0], all...)
			slices.Sort(all)
			ft.durs = all
		}
		cands = append(cands, candPeriod{n, all[len(all)/2]})
	}
	slices.SortFunc(cands, func(a, b candPeriod) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.p, b.p)) })
	ft.cands = cands
	out := ft.durs[:0]
	for i := 0; i < len(cands) && i < maxCandidates; i++ {
		out = append(out, cands[i].p)
	}
	ft.durs = out
	return out
}

// fitTimers finds the period and the timers of sorted, distinct beats
// (at least MinBeats): of the candidate periods (and the median interval),
// the one that leaves the fewest timers, strays and missing beats. nil
// when no period explains them.
func fitTimers(beats []time.Time, tol float64) *timerFit {
	if len(beats) < MinBeats {
		return nil
	}
	ft := getFitter(beats)
	defer putFitter(ft)
	if best := ft.fitTimers(tol); best != nil {
		return ft.fit(best)
	}
	return nil
}

// fitTimersStats returns what fitTimers measures, without the chains of
// beats; false where fitTimers returns nil.
func fitTimersStats(beats []time.Time, tol float64) (fitStats, bool) {
	if len(beats) < MinBeats {
		return fitStats{}, false
	}
	ft := getFitter(beats)
	defer putFitter(ft)
	if best := ft.fitTimers(tol); best != nil {
		return best.fitStats, true
	}
	return fitStats{}, false
}

// fitTimers fits the fitter's beats (at least MinBeats) as fitTimers does
// and returns the chosen split, or nil.
func (ft *fitter) fitTimers(tol float64) *chaining {
	beats := ft.clk.t
	// Candidates are copied out of ft.durs, which step reuses.
	var buf [maxCandidates + 1]time.Duration
	cands := append(buf[:0], ft.candidatePeriods()...)
	gaps := ft.durs[:0]
	for i := int32(1); i < int32(len(beats)); i++ {
		gaps = append(gaps, ft.clk.sub(i, i-1))
	}
	slices.Sort(gaps)
	ft.durs = gaps
	if med := gaps[(len(gaps)-1)/2]; med >= minObserved {
		cands = append(cands, med)
	}
	cur, best := &ft.cur, &ft.best
	found := false
	for _, p := range cands {
		if !ft.chain(cur, p, tol) || !cur.plausible() {
			continue
		}
		if !found || cur.better(&best.fitStats) {
			cur, best = best, cur
			found = true
		}
	}
	if !found {
		return nil
	}
	// Chain again on the period the timers keep.
	if p := ft.step(best); p != best.period {
		if ft.chain(cur, p, tol) && cur.plausible() && cur.cost <= best.cost {
			best = cur
		}
	}
	return best
}

// judge fills s's missed beats, gaps, longest gap, mean and jitter from
// the fit's timers, each on its own: a gap is from one beat of a timer to
// its next (or, trailing, to stop).
func (f *timerFit) judge(s *Series, stop time.Time, o Options) {
	s.Extra = f.extra
	s.Timers = len(f.timers)
	s.Missed, s.Gaps, s.GapsTruncated, s.MaxGap, s.MaxGapAt = 0, nil, false, 0, time.Time{}
	first := f.chains[f.timers[0]][0]
	late := time.Duration(float64(f.period) * o.Tolerance)
	var gaps []Gap
	for _, i := range f.timers {
		c := f.chains[i]
		if i != f.timers[0] {
			s.TimerOffsets = append(s.TimerOffsets, c[0].Sub(first)%f.period)
		}
		for j := 1; j < len(c); j++ {
			g := c[j].Sub(c[j-1])
			if g > s.MaxGap {
				s.MaxGap, s.MaxGapAt = g, c[j-1]
			}
			if g > late {
				n := int(math.Round(float64(g)/float64(f.period))) - 1
				gaps = append(gaps, Gap{From: c[j-1], To: c[j], Missed: max(n, 1)})
			}
		}
		last := c[len(c)-1]
		trailing := stop.Sub(last)
		if trailing > s.MaxGap {
			s.MaxGap, s.MaxGapAt = trailing, last
		}
		if trailing > late {
			gaps = append(gaps, Gap{From: last, To: stop, Missed: max(int(trailing/f.period), 1), Trailing: true})
		}
	}
	slices.SortStableFunc(gaps, func(a, b Gap) int { return a.From.Compare(b.From) })
	for _, g := range gaps {
		s.Missed += g.Missed
		if len(s.Gaps) < maxGapsListed {
			s.Gaps = append(s.Gaps, g)
		} else {
			s.GapsTruncated = true
		}
	}
	// The rhythm of the timers, not of the gaps between their beats or
	// across missing ones.
	s.Mean, s.Jitter = f.mean(), f.jitter
}

// mean returns the mean on-time interval of the fit's timers.
func (f *timerFit) mean() time.Duration {
	var sum time.Duration
	n := 0
	for _, i := range f.timers {
		c := f.chains[i]
		for j := 1; j < len(c); j++ {
			if g := c[j].Sub(c[j-1]); math.Round(float64(g)/float64(f.period)) <= 1 {
				sum += g
				n++
			}
		}
	}
	if n == 0 {
		return f.period
	}
	return sum / time.Duration(n)
}
