package health

import (
	"cmp"
	"strings"
	"testing"
	"time"
)

// TestTimersKnownByConstruction: series whose split is known by how they
// were made, checked on conns' series directly (not against the
// reference, which is the fitter written again the same way).
func TestTimersKnownByConstruction(t *testing.T) {
	drift := func(start, period, n, perBeat int) []int {
		var o []int
		at := start
		for i := range n {
			o = append(o, at)
			at += period + i*perBeat/n
		}
		return o
	}
	for _, tc := range []struct {
		name    string
		beats   []int
		end     int // unused
		timers  int
		period  int // ms, 0: not checked
		offsets []int
	}{
		{"2 timers 10 s at 3 s ±20 ms", sortedBeats(beatTimes(1000, 10000, 15, jitterMS(20, 1)), beatTimes(4000, 10000, 15, jitterMS(20, 2))), 160000, 2, 10000, []int{3000}},
		{"2 timers 30 s at 21 s ±50 ms", sortedBeats(beatTimes(1000, 30000, 12, jitterMS(50, 1)), beatTimes(22000, 30000, 12, jitterMS(50, 2))), 380000, 2, 30000, []int{21000}},
		{"2 timers 10 s at 4.5 s", sortedBeats(beatTimes(1000, 10000, 15, jitterMS(20, 1)), beatTimes(5500, 10000, 15, jitterMS(20, 2))), 0, 2, 10000, []int{4500}},
		{"2 timers 10 s at 8 s", sortedBeats(beatTimes(1000, 10000, 15, jitterMS(20, 1)), beatTimes(9000, 10000, 15, jitterMS(20, 2))), 0, 2, 10000, []int{8000}},
		{"2 timers 10 s at 9.5 s", sortedBeats(beatTimes(1000, 10000, 15, jitterMS(20, 1)), beatTimes(10500, 10000, 15, jitterMS(20, 2))), 0, 2, 10000, []int{9500}},
		{"3 timers 10 s at 2.5, 6 s", sortedBeats(beatTimes(1000, 10000, 15, jitterMS(20, 1)), beatTimes(3500, 10000, 15, jitterMS(20, 2)), beatTimes(7000, 10000, 15, jitterMS(20, 3))), 160000, 3, 10000, []int{2500, 6000}},
		{"4 timers 20 s", sortedBeats(beatTimes(1000, 20000, 12, nil), beatTimes(2300, 20000, 12, nil), beatTimes(9100, 20000, 12, nil), beatTimes(15700, 20000, 12, nil)), 260000, 4, 20000, []int{1300, 8100, 14700}},
		// A restart 1.15-1.85 periods after the last beat (mod the
		// period) makes no series at all, as before the split was
		// rewritten: never 2 timers.
		{"restart once 13.3 s after", sortedBeats(beatTimes(1000, 10000, 8, jitterMS(20, 1)), beatTimes(84300, 10000, 8, jitterMS(20, 2))), 170000, -2, 10000, nil},
		{"2 timers 10 s at 4 s, the second stops", sortedBeats(beatTimes(1000, 10000, 20, jitterMS(20, 1)), beatTimes(5000, 10000, 10, jitterMS(20, 2))), 0, 2, 10000, []int{4000}},
		{"restart once 4+4", sortedBeats(beatTimes(1000, 10000, 4, nil), beatTimes(37700, 10000, 4, nil)), 80000, 1, 10000, nil},
		{"drift +1 ms a beat", drift(1000, 10000, 60, 60), 620000, 1, 0, nil},
		{"missed beats", beatTimes(1000, 10000, 30, jitterMS(30, 1), 5, 9, 15, 16), 310000, 1, 10000, nil},
		{"identical timestamps in pairs", sortedBeats(beatTimes(1000, 10000, 15, nil), beatTimes(1000, 10000, 15, nil)), 160000, -1, 10000, nil},
		{"period 1 s", beatTimes(1000, 1000, 60, jitterMS(5, 1)), 62000, 1, 1000, nil},
		{"2 timers 1 s at 0.3 s", sortedBeats(beatTimes(1000, 1000, 40, jitterMS(2, 1)), beatTimes(1300, 1000, 40, jitterMS(2, 2))), 42000, 2, 1000, []int{300}},
		{"period 5 min", beatTimes(1000, 300000, 12, jitterMS(100, 1)), 3700000, 1, 300000, nil},
		{"2 timers 5 min at 70 s", sortedBeats(beatTimes(1000, 300000, 12, jitterMS(100, 1)), beatTimes(71000, 300000, 12, jitterMS(100, 2))), 3700000, 2, 300000, []int{70000}},
		{"one timer 10 s, 4 beats", beatTimes(1000, 10000, 4, nil), 42000, 1, 10000, nil},
	} {
		// The connection ends half a period after the last beat: no
		// beat is missing but those left out.
		end := tc.beats[len(tc.beats)-1] + cmp.Or(tc.period, 10000)/2
		c := playBeats(t, Options{}.WithDefaults(), KindApp, end, tc.beats)
		s := seriesKind(c, KindApp)
		g := Glance(c)
		if s == nil && tc.timers == -2 {
			continue
		}
		if s == nil {
			t.Errorf("%s: no series: %s", tc.name, g)
			continue
		}
		if tc.timers == -2 && s.Timers > 1 {
			t.Errorf("%s: %s: %d timers, want at most one", tc.name, g, s.Timers)
		}
		if tc.timers < 0 {
			continue
		}
		if s.Timers != tc.timers || tc.period > 0 && (s.Interval-time.Duration(tc.period)*time.Millisecond).Abs() > time.Duration(tc.period/100)*time.Millisecond {
			t.Errorf("%s: %s: %d timers of %v, want %d of %d ms", tc.name, g, s.Timers, s.Interval, tc.timers, tc.period)
			continue
		}
		// 4 beats left out; a stopped timer's beats up to the end.
		want := map[bool]int{true: 4}[strings.HasPrefix(tc.name, "missed")] + map[bool]int{true: 10}[strings.HasSuffix(tc.name, "stops")]
		if s.Missed != want {
			t.Errorf("%s: %s: %d missed, want %d", tc.name, g, s.Missed, want)
		}
		for x, o := range tc.offsets {
			if d := s.TimerOffsets[x] - time.Duration(o)*time.Millisecond; d.Abs() > 150*time.Millisecond {
				t.Errorf("%s: offsets %v, want %v", tc.name, s.TimerOffsets, tc.offsets)
			}
		}
	}
}
