package wsparse

import (
	"testing"
	"time"
)

// TestSummaryDurationSteps: a connection's duration leaves out the steps
// back of the capture's clock, summed, and is never negative.
func TestSummaryDurationSteps(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	ms := time.Millisecond
	for _, c := range []struct {
		name  string
		times []time.Duration // the times of the bytes fed, from t0
		want  time.Duration
		back  time.Duration
	}{
		{"forward", []time.Duration{0, 3 * ms, 7 * ms}, 7 * ms, 0},
		{"one step back", []time.Duration{0, 3 * ms, -10*time.Second + 4*ms, -10*time.Second + 7*ms}, 6 * ms, 10*time.Second - ms},
		{"two steps back", []time.Duration{0, 5 * ms, -time.Second, -time.Second + 2*ms, -2 * time.Second}, 7 * ms, 2*time.Second + 7*ms},
		{"step forward kept", []time.Duration{0, time.Hour, time.Hour + ms}, time.Hour + ms, 0},
		{"one time", []time.Duration{0}, 0, 0},
	} {
		var c2 struct{ sum summary }
		c2.sum.since = noLast
		for _, d := range c.times {
			ts := t0.Add(d)
			if c2.sum.First.IsZero() {
				c2.sum.First = ts
			}
			c2.sum.advance(ts, false)
		}
		s := Summary{First: c2.sum.First, Last: c2.sum.last()}
		if c2.sum.more != nil {
			s.SteppedBack = c2.sum.more.back
		}
		if s.Duration() != c.want || s.SteppedBack != c.back {
			t.Errorf("%s: duration %v stepped back %v, want %v and %v", c.name, s.Duration(), s.SteppedBack, c.want, c.back)
		}
	}
	var far summary
	far.since = noLast
	far.First = t0
	far.advance(t0.AddDate(400, 0, 0), false) // too far for since
	far.advance(t0.Add(time.Second), false)
	if far.more.back != 0 {
		t.Errorf("a Last too far to measure counted a step back of %v", far.more.back)
	}
}
