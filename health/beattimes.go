package health

import (
	"slices"
	"time"
)

// BeatTimes returns the beats of series s of connection conn as Report
// measured them: sorted, beats of one instant (one message) once, the
// beats past the tracker's bound (s.Unmeasured) left out. timer gives,
// for each beat, the timer that sent it (0 .. s.Timers-1, in order of
// their first beat) or -1 for a beat on no timer's rhythm (s.Extra); it
// is nil when the beats were not told apart into timers (s.Timers < 2).
// Both are nil for a series this tracker did not report.
func (t *Tracker) BeatTimes(conn int, s *Series) (beats []time.Time, timer []int) {
	st := t.conns[conn]
	if st == nil || st.beats == nil || s == nil {
		return nil, nil
	}
	b := st.beats
	var bs *beatSeries
	if s.Kind == KindApp {
		if b.app != nil {
			bs = b.app.series[appKey{s.Dir & 1, s.Proto, s.Key}]
		}
	} else {
		bs = b.series[seriesKey{s.Dir, s.Kind}]
	}
	if bs == nil {
		return nil, nil
	}
	beats = bs.times()
	slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
	beats = slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
	if s.Timers < 2 || s.Interval <= 0 {
		return beats, nil
	}
	// The split buildSeries judged: the series' period, chained again.
	f := chainBeats(beats, s.Interval, t.opts.Tolerance)
	if f == nil || len(f.timers) != s.Timers {
		return beats, nil
	}
	of := make(map[int64]int, len(beats))
	for n, i := range f.timers {
		for _, b := range f.chains[i] {
			of[b.UnixNano()] = n
		}
	}
	timer = make([]int, len(beats))
	for i, b := range beats {
		if n, ok := of[b.UnixNano()]; ok {
			timer[i] = n
		} else {
			timer[i] = -1
		}
	}
	return beats, timer
}
