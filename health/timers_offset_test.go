package health

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Several timers at any offset, and healthy series that are one timer.
// The beats are a STOMP SEND ping (an application heartbeat: its period
// is its own, found by fitTimers) played through the tracker, as conns
// shows them.

// jitterMS returns a deterministic jitter of at most ±a ms, differing
// with seed.
func jitterMS(a, seed int) func(int) int {
	return func(i int) int { return ((i+seed)*7919+seed*104729)%(2*a+1) - a }
}

// timerSeries plays timers of period ms (their first beats at starts,
// n beats each, ±jit ms) and returns the series and conns' words for it.
func timerSeries(t *testing.T, period, n, jit int, starts ...int) (*Series, string) {
	t.Helper()
	var ms [][]int
	end := 0
	for x, s := range starts {
		b := beatTimes(s, period, n, jitterMS(jit, x+1))
		ms = append(ms, b)
		end = max(end, b[len(b)-1])
	}
	c := playBeats(t, Options{}.WithDefaults(), KindApp, end+period/2, ms...)
	return seriesKind(c, KindApp), Glance(c)
}

// wantTimers checks that s is k timers of period ms at offsets (ms from
// the first timer's first beat, in order) within tolerance ms.
func wantTimers(t *testing.T, name string, s *Series, glance string, period int, offsets []int, tolerance int) {
	t.Helper()
	if s == nil {
		t.Errorf("%s: no heartbeat (%s), want %d timers", name, glance, len(offsets)+1)
		return
	}
	if s.Timers != len(offsets)+1 || (s.Interval-time.Duration(period)*time.Millisecond).Abs() > time.Duration(tolerance)*time.Millisecond {
		t.Errorf("%s: %s (interval %v, %d timers), want %d timers of %d ms", name, glance, s.Interval, s.Timers, len(offsets)+1, period)
		return
	}
	for x, o := range offsets {
		if d := s.TimerOffsets[x] - time.Duration(o)*time.Millisecond; d.Abs() > time.Duration(tolerance)*time.Millisecond {
			t.Errorf("%s: %s: offsets %v, want %v ms", name, glance, s.TimerOffsets, offsets)
			return
		}
	}
}

// TestTimersTwoAnyOffset: two timers of 10 s, the second's offset from
// 0.1 to 9.9 s by 0.1 s, each beat ±50 ms: two timers of 10 s at the
// offset, but within 1/80 of the period (and the jitter) of half of it,
// where the beats are those of one timer of 5 s (see
// TestTimersEvenlySpaced).
func TestTimersTwoAnyOffset(t *testing.T) {
	const period, jit = 10000, 50
	for off := 100; off < period; off += 100 {
		s, g := timerSeries(t, period, 12, jit, 1000, 1000+off)
		name := fmt.Sprintf("offset %d ms", off)
		if d := off - period/2; d >= -period/80-2*jit && d <= period/80+2*jit {
			// Near half the period: one series of about 5 s, or two
			// timers of 10 s at the offset; never anything else.
			if s == nil || s.Timers > 1 && (s.Timers != 2 || (s.TimerOffsets[0]-time.Duration(off)*time.Millisecond).Abs() > 2*jit*time.Millisecond) {
				t.Errorf("%s: %v", name, g)
			}
			continue
		}
		wantTimers(t, name, s, g, period, []int{off}, 2*jit)
	}
}

// TestTimersThree: three timers of 10 s at offsets, ±50 ms.
func TestTimersThree(t *testing.T) {
	for _, offs := range [][2]int{{1100, 3700}, {2000, 7500}, {4000, 8000}, {500, 9000}, {4500, 5500}, {8200, 9400}, {3000, 6000}} {
		s, g := timerSeries(t, 10000, 12, 50, 1000, 1000+offs[0], 1000+offs[1])
		wantTimers(t, fmt.Sprint("offsets ", offs), s, g, 10000, offs[:], 100)
	}
}

// TestTimersEvenlySpaced: two timers of 10 s started together 5 s apart
// send what one timer of 5 s sends: conns says one series of 5 s (it
// cannot tell). When the connection's beats ran at 10 s before the
// second timer started, the two are told apart.
func TestTimersEvenlySpaced(t *testing.T) {
	s, g := timerSeries(t, 10000, 12, 0, 1000, 6000)
	if s == nil || s.Timers > 1 || s.Interval != 5*time.Second {
		t.Errorf("together: %s, want one series of 5 s", g)
	}
	// Five beats of one timer, then the second timer 5 s off.
	c := playBeats(t, Options{}.WithDefaults(), KindApp, 125000, beatTimes(1000, 10000, 12, nil), beatTimes(56000, 10000, 7, nil))
	s = seriesKind(c, KindApp)
	wantTimers(t, "second later", s, Glance(c), 10000, []int{5000}, 0)
}

// TestTimersOneTimerHealthy: series of one timer are one timer: several
// count only when they run at the same time, and beats stretched by a
// hidden tab are missed beats, never more timers.
func TestTimersOneTimerHealthy(t *testing.T) {
	j := func(a int) func(int) int { return jitterMS(a, 3) }
	for _, tc := range []struct {
		name  string
		beats []int
		end   int
		one   bool // must be found (one timer); else found or not, never 2+
	}{
		{"restarted once, ping at restart", sortedBeats(beatTimes(1000, 10000, 4, nil), beatTimes(33000, 10000, 8, nil)), 110000, true},
		{"restarted once, jitter", sortedBeats(beatTimes(1000, 10000, 6, j(30)), beatTimes(57400, 10000, 8, j(30))), 135000, true},
		{"restarted once after a pause", sortedBeats(beatTimes(1000, 10000, 6, nil), beatTimes(84000, 10000, 8, nil)), 160000, false},
		{"restarted twice", sortedBeats(beatTimes(1000, 10000, 4, nil), beatTimes(33000, 10000, 4, nil), beatTimes(75000, 10000, 4, nil)), 115000, false},
		{"hidden tab 1/min, visible again", sortedBeats(beatTimes(1000, 10000, 10, j(30)), beatTimes(120000, 60000, 5, nil), beatTimes(421000, 10000, 10, j(30))), 530000, false},
		{"hidden tab to the end", sortedBeats(beatTimes(1000, 10000, 30, j(30)), beatTimes(360000, 60000, 6, nil)), 700000, false},
		{"hidden first, then visible", sortedBeats(beatTimes(60000, 60000, 6, nil), beatTimes(367300, 10000, 20, j(30))), 580000, false},
		{"visible, hidden 3 min, phase 0.4", sortedBeats(beatTimes(400, 10000, 31, j(20)), beatTimes(360000, 60000, 3, nil), beatTimes(484400, 10000, 10, j(20))), 590000, false},
		{"hidden 2 min", sortedBeats(beatTimes(1000, 10000, 12, j(30)), beatTimes(180000, 60000, 2, nil), beatTimes(251000, 10000, 12, j(30))), 380000, false},
		{"one timer, ±300 ms", beatTimes(1000, 10000, 20, j(300)), 205000, true},
		{"one timer, ping on connect too", sortedBeats([]int{300}, beatTimes(1000, 10000, 20, nil)), 205000, true},
	} {
		c := playBeats(t, Options{}.WithDefaults(), KindApp, tc.end, tc.beats)
		s := seriesKind(c, KindApp)
		switch {
		case s != nil && s.Timers > 1:
			t.Errorf("%s: %s: %d timers, want one", tc.name, Glance(c), s.Timers)
		case tc.one && (s == nil || s.Timers != 1):
			t.Errorf("%s: %s, want one timer", tc.name, Glance(c))
		}
	}
}

// BenchmarkFitTimers1M: the fit of one series of a million beats (two
// timers of 10 s, 4.5 s apart, ±50 ms), as at the end of a connection.
// chain is O(beats × maxTimers) per period tried (the look ahead at most
// maxTimers beats, each O(maxTimers), only for an early beat), with at
// most maxCandidates + 2 periods tried.
func BenchmarkFitTimers1M(b *testing.B) {
	var ms []int
	for x, s := range []int{1000, 5500} {
		ms = append(ms, beatTimes(s, 10000, 500000, jitterMS(50, x+1))...)
	}
	slices.Sort(ms)
	beats := make([]time.Time, len(ms))
	for i, m := range ms {
		beats[i] = at(m)
	}
	b.ResetTimer()
	for range b.N {
		if f, ok := fitTimersStats(beats, 1.5); !ok || f.ntimers != 2 {
			b.Fatalf("%v %+v", ok, f)
		}
	}
}

// TestTimersDeclaredHalf: pings every 5 s with a heartbeat of 10 s
// declared (--heartbeat-interval 10s) are one timer beating twice as
// often, not two timers of 10 s 5 s apart (zeek__wstunnel-ssh and
// gen__hb-stopped were WS705 with the flag); two timers of 10 s, the
// second started later 5 s off, still are.
func TestTimersDeclaredHalf(t *testing.T) {
	o := Options{HeartbeatInterval: 10 * time.Second}.WithDefaults()
	c := playBeats(t, o, KindWSPing, 42000, beatTimes(1000, 5000, 8, nil))
	if s := seriesKind(c, KindWSPing); s == nil || s.Timers > 1 || s.Interval != 10*time.Second {
		t.Errorf("5 s with 10 s declared: %s", Glance(c))
	}
	c = playBeats(t, o, KindWSPing, 125000, beatTimes(1000, 10000, 12, nil), beatTimes(56000, 10000, 7, nil))
	wantTimers(t, "second later, declared", seriesKind(c, KindWSPing), Glance(c), 10000, []int{5000}, 0)
}

// sortedBeats is the beat times of several timers together, in order.
func sortedBeats(parts ...[]int) []int {
	o := slices.Concat(parts...)
	slices.Sort(o)
	return o
}
