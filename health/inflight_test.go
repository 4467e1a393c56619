package health

import (
	"testing"
	"time"
)

// TestInFlight: an attempt still unanswered at the capture's end is in
// flight when it started (a connect: its last SYN was sent) at most
// inFlightWindow before it and no later
// attempt followed it; an answered one, an older one, one a retry
// followed, or any without the capture's end is not.
func TestInFlight(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	att := func(start, end float64, outcome string) Attempt {
		return Attempt{Start: at(start), End: at(end), Outcome: outcome}
	}
	cases := []struct {
		name string
		end  float64 // the capture's end; < 0: not known
		as   []Attempt
		want []bool
	}{
		{"a SYN at the end", 100, []Attempt{att(0, 1, OutcomeConnRefused), att(99, 99, OutcomeTimeout)}, []bool{false, true}},
		{"a SYN 10s before the end", 100, []Attempt{att(90, 99, OutcomeTimeout)}, []bool{true}},
		{"a SYN 11s before the end, not sent again: failed", 100, []Attempt{att(89, 89, OutcomeTimeout)}, []bool{false}},
		{"a SYN 11s before the end, sent again 1s before it: still trying", 100, []Attempt{att(89, 99, OutcomeTimeout)}, []bool{true}},
		{"an upgrade 11s before the end, its last byte 1s before it: failed", 100, []Attempt{att(89, 99, OutcomeNoResponse)}, []bool{false}},
		{"an upgrade unanswered, an /info answered and no upgrade yet, an /info unanswered", 100,
			[]Attempt{att(95, 96, OutcomeNoResponse), att(95.5, 96, OutcomeHTTPOnly), att(95.6, 96, OutcomeHTTPTimeout)}, []bool{true, true, true}},
		{"followed by a later attempt", 100, []Attempt{att(91, 92, OutcomeTimeout), att(95, 95, OutcomeConnRefused)}, []bool{false, false}},
		{"answered: refused, error, open", 100, []Attempt{att(95, 95, OutcomeConnRefused), att(96, 97, OutcomeRefused), att(97, 98, OutcomeError), att(98, 100, OutcomeOpen)},
			[]bool{false, false, false, false}},
		{"the capture's end not known", -1, []Attempt{att(99, 99, OutcomeTimeout)}, []bool{false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o Options
			if c.end >= 0 {
				o.captureEnd = at(c.end)
			}
			inFlight(c.as, o)
			for i, a := range c.as {
				if a.InFlight != c.want[i] {
					t.Errorf("attempt %d (%s at %s): in flight %v, want %v", i, a.Outcome, a.Start.Sub(t0), a.InFlight, c.want[i])
				}
			}
		})
	}
	// With a clock that jumped: the end of the run of packets holding it.
	as := []Attempt{att(5, 5, OutcomeTimeout)}
	inFlight(as, Options{endOf: func(own time.Time) time.Time { return own.Add(time.Second) }})
	if !as[0].InFlight {
		t.Error("endOf: not in flight")
	}
}
