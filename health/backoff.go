package health

import (
	"math"
	"slices"
	"time"
)

// inFlight marks the attempts in flight when the capture ended
// (Attempt.InFlight). Without the capture's end (Tracker.CaptureEnd not
// called) none is.
func inFlight(as []Attempt, o Options) {
	if len(as) == 0 || o.captureEnd.IsZero() && o.endOf == nil {
		return
	}
	latest := as[len(as)-1].Start // attempts are in order of start
	for i := len(as) - 1; i >= 0; i-- {
		a := &as[i]
		if latest.After(a.End) {
			continue // a later attempt followed it
		}
		switch a.Outcome {
		case OutcomeTimeout, OutcomeNoResponse, OutcomeHTTPTimeout:
			if a.tcpEnded {
				continue // closed unanswered (a FIN or RST): that is its answer
			}
		case OutcomeHTTPOnly: // answered: its upgrade may be on its way
		default:
			continue
		}
		end := o.captureEnd
		if o.endOf != nil {
			end = o.endOf(a.End)
		}
		// A connect never answered is judged from its last SYN: the
		// kernel's retransmissions (1, 3, 7, 15, 31 s after the first on
		// Linux) say the client is still trying, whatever its loop's delay.
		from := a.Start
		if a.Outcome == OutcomeTimeout && a.End.After(from) {
			from = a.End
		}
		a.InFlight = !end.IsZero() && end.Sub(from) <= inFlightWindow
	}
}

// backoff classifies the delays between retries: their rhythm, and for a
// fixed one its interval (the median).
func backoff(d []time.Duration) (string, time.Duration) {
	if len(d) < 2 {
		return "", 0
	}
	if iv, ok := fixed(d); ok {
		return "fixed", iv
	}
	if iv, ok := fixed(d[1:]); ok && len(d) >= 3 {
		// The first retry after a drop often comes at once, the timer after.
		return "fixed", iv
	}
	// Exponential: each 1.3-3 × the one before (a randomised factor of 2
	// included), then possibly held at a cap.
	grow, capped := 0, false
	exp, inc := true, true
	for i := 1; i < len(d); i++ {
		r := float64(d[i]) / math.Max(float64(d[i-1]), 1)
		switch {
		case !capped && r >= 1.3 && r <= 3:
			grow++
		case grow >= 2 && r >= 0.8 && r <= 1.25:
			capped = true
		default:
			exp = false
		}
		inc = inc && r >= 1
	}
	switch {
	case exp && grow >= 1:
		return "exponential", 0
	case inc:
		return "increasing", 0
	}
	return "random", 0
}

// fixed reports whether delays are all within 25 % (and 5 ms) of their
// median, and the median.
func fixed(d []time.Duration) (time.Duration, bool) {
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	med := sorted[len(sorted)/2]
	slack := float64(med)/4 + float64(5*time.Millisecond) // timers and connects add a few ms
	return med, !slices.ContainsFunc(d, func(x time.Duration) bool { return math.Abs(float64(x-med)) > slack })
}
