package health

import (
	"math"
	"time"
)

// A capture's clock can step back: NTP steps the clock of the capturing
// machine, or captures of several machines are merged with one clock
// off. Beats then arrive with times before those of beats that came
// before them. Sorted by time, the beats of both sides of the step
// interleave into intervals no timer kept; in arrival order, the
// interval across the step is negative. Neither is measured: the beats
// are cut into runs at each step, each run judged on its own, and the
// steps counted (Series.ClockSteps).

// clockStepBack is the least step back of the clock that cuts a series:
// a capture's own reordering moves a message's time back by less (a
// multi-queue NIC's by microseconds; a segment lost before the capture
// point and retransmitted puts the messages after it before it, by less
// than the retransmission timeout, and two beats rarely ride in that
// window), and a smaller step changes a gap by less than a second.
const clockStepBack = time.Second

// clockSegments cuts beats, in arrival order, into runs at each step
// back of the clock: nil when there is none (nothing allocated).
func clockSegments(beats []time.Time) [][]time.Time {
	var segs [][]time.Time
	start := 0
	latest := 0 // the latest beat of the current run
	for i := 1; i < len(beats); i++ {
		if beats[latest].Sub(beats[i]) > clockStepBack {
			segs = append(segs, beats[start:i])
			start, latest = i, i
			continue
		}
		if beats[i].After(beats[latest]) {
			latest = i
		}
	}
	if segs == nil {
		return nil
	}
	return append(segs, beats[start:])
}

// buildStepped is buildSeries for beats cut by steps back of the clock
// into runs (clockSegments): each run is measured on its own, the last
// one's trailing gap to stop, and the results summed. The interval, its
// rhythm and timers are those of the run with the most beats.
func buildStepped(k seriesKey, segs [][]time.Time, bs *beatSeries, neg Negotiated, agreed bool, alive *lifeSigns, stop time.Time, o Options) *Series {
	s := &Series{Kind: k.kind, Dir: k.dir, Count: bs.kept() + bs.extra, Unmeasured: bs.extra, ClockSteps: len(segs) - 1}
	var main *Series
	mainLen := 0
	var before time.Time // the latest beat of the runs before
	for i, seg := range segs {
		end := latestOf(seg)
		run := &beatSeries{}
		if i == len(segs)-1 {
			run.extra, run.last = bs.extra, bs.last
			if stop.After(before) {
				end = stop
			} // else the end is on the clock before the step: its trailing gap is unknown
		}
		if l := latestOf(seg); i == 0 || l.After(before) {
			before = l
		}
		n := neg
		if i > 0 {
			// Its first beat is on a clock stepped back since the
			// negotiation: no lead from it (judgeLead) but the first run's.
			n.At = time.Time{}
		}
		r := buildRun(k, seg, run, n, agreed, alive, end, o)
		if i == 0 {
			s.First = r.First
		}
		s.Last = r.Last
		if main == nil || len(seg) > mainLen {
			main, mainLen = r, len(seg)
		}
		s.Missed += r.Missed
		for _, g := range r.Gaps {
			if len(s.Gaps) < maxGapsListed {
				s.Gaps = append(s.Gaps, g)
			} else {
				s.GapsTruncated = true
			}
		}
		s.GapsTruncated = s.GapsTruncated || r.GapsTruncated
		if r.MaxGap > s.MaxGap {
			s.MaxGap, s.MaxGapAt = r.MaxGap, r.MaxGapAt
		}
		s.Extra += r.Extra
	}
	s.Interval, s.IntervalSource, s.Timeout = main.Interval, main.IntervalSource, main.Timeout
	s.Mean, s.Jitter = main.Mean, main.Jitter
	s.Timers, s.TimerOffsets = main.Timers, main.TimerOffsets
	return s
}

// latestOf returns the latest of times (at least one).
func latestOf(ts []time.Time) time.Time {
	l := ts[0]
	for _, t := range ts[1:] {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// lifeSigns are the other signs of life of a direction, in time order
// (t), with the late gaps between consecutive ones indexed once per
// series: judging each run of a series cut by steps of the clock by
// walking the signs in its gaps took O(runs × signs), 4.2 s for 40,000
// beats alternating between two clocks an hour apart.
type lifeSigns struct {
	t []time.Time
	// late holds each j with t[j+1]-t[j] > lateAt, in order; missed[n] is
	// the beats missed in late[:n].
	late           []int
	missed         []int
	lateAt, period time.Duration // of the index; period 0: not built
	builds         int           // of the index (each walks t)
}

// index builds the late gaps of a for the late length and interval given,
// unless built for them.
func (a *lifeSigns) index(late, period time.Duration) {
	if a.period == period && a.lateAt == late {
		return
	}
	a.lateAt, a.period = late, period
	a.builds++
	a.late, a.missed = a.late[:0], append(a.missed[:0], 0)
	for j := 1; j < len(a.t); j++ {
		if g := a.t[j].Sub(a.t[j-1]); g > late {
			a.late = append(a.late, j-1)
			m := max(int(math.Round(float64(g)/float64(period)))-1, 1)
			a.missed = append(a.missed, a.missed[len(a.missed)-1]+m)
		}
	}
}
