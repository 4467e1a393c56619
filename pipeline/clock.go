package pipeline

import (
	"math"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
)

// The capture's clock jumps (README, Limits):
//   - back: a packet more than clockStepBack before the one before it,
//     the health tracker's step back (an NTP step; a merged or
//     concatenated file whose clocks disagree; a tap that stamped one
//     packet wrong);
//   - forward: a packet more than clockJumpFloor after the one before,
//     and more than clockJumpFactor times the largest gap between packets
//     before it (within runs): far past the capture's own gaps.
//
// A run of fewer than clockRunCredible packets between jumps is taken for
// a clock error (a lone packet stamped a year ahead, or an hour behind):
// its end is no capture end.
const (
	clockStepBack    = time.Second
	clockJumpFloor   = time.Hour
	clockJumpFactor  = 100
	clockRunCredible = 4
)

// clockWatch follows the packets' times in reading order (the assembler's
// input: one for every -j, the files merged) and notes the jumps and the
// runs between them (reassembly.Clock). Per packet: a subtraction and two
// comparisons.
type clockWatch struct {
	n      int64 // packets so far
	last   int64 // the last packet's time, Unix nanoseconds
	maxGap int64 // the largest forward gap within runs
	limit  int64 // a packet after it jumps forward: last + the threshold
	run    reassembly.ClockRun
	c      reassembly.Clock
	src    capture.Source // names the file of a jump (capture.Current); nil: none
}

func (w *clockWatch) packet(ts time.Time) {
	ns := ts.UnixNano()
	w.n++
	if w.n == 1 {
		w.run = reassembly.ClockRun{From: 1, Lo: ts, Hi: ts}
	} else if d := ns - w.last; d < -int64(clockStepBack) || ns > w.limit {
		w.jump(ts, d)
	} else if d > w.maxGap {
		w.maxGap = d
	}
	w.last = ns
	w.limit = satAdd(ns, max(int64(clockJumpFloor), satMul(w.maxGap, clockJumpFactor)))
	r := &w.run
	r.Packets++
	r.End = ts
	if ts.Before(r.Lo) {
		r.Lo = ts
	}
	if ts.After(r.Hi) {
		r.Hi = ts
	}
}

// jump notes a jump of d to the packet at ts, and starts a run with it
// (past MaxClockRuns, the run goes on).
func (w *clockWatch) jump(ts time.Time, d int64) {
	if len(w.c.Jumps) < reassembly.MaxClockJumps {
		j := reassembly.ClockJump{Packet: w.n, At: ts, By: time.Duration(d)}
		if d > 0 {
			j.Gap = time.Duration(w.maxGap)
		}
		if w.src != nil {
			j.File = capture.Current(w.src)
		}
		w.c.Jumps = append(w.c.Jumps, j)
	} else {
		w.c.JumpsMore++
	}
	if len(w.c.Runs) < reassembly.MaxClockRuns-1 {
		w.c.Runs = append(w.c.Runs, w.run)
		w.run = reassembly.ClockRun{From: w.n, Lo: ts, Hi: ts}
	}
}

// clock returns what the packets' times did.
func (w *clockWatch) clock() reassembly.Clock {
	c := w.c
	if w.n > 0 {
		c.Runs = append(c.Runs[:len(c.Runs):len(c.Runs)], w.run)
		c.Last = w.run.End
	}
	if len(c.Runs) > 1 && anyCredible(&c) {
		for i := range c.Runs {
			c.Runs[i].Judged = c.Runs[i].Packets >= clockRunCredible
		}
	}
	return c
}

func satAdd(a, b int64) int64 {
	if a > 0 && b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, k int64) int64 {
	if a > math.MaxInt64/k {
		return math.MaxInt64
	}
	return a * k
}

// clockEnd is the end to which a connection still open at the end of
// the input, its own end being own, is judged: the end of the last
// credible run (clockRunCredible packets or more) whose times hold own;
// when none does (its last packet was in a run taken for a clock error),
// the end of the last credible run. Without a jump, the last packet's
// time, as ever; when every run is short, too.
func clockEnd(c *reassembly.Clock, own time.Time) time.Time {
	if len(c.Runs) <= 1 || !anyCredible(c) {
		return c.Last
	}
	for i := len(c.Runs) - 1; i >= 0; i-- {
		r := &c.Runs[i]
		if r.Judged && !own.Before(r.Lo) && !own.After(r.Hi) {
			return r.End
		}
	}
	for i := len(c.Runs) - 1; ; i-- {
		if r := &c.Runs[i]; r.Judged {
			return r.End
		}
	}
}

func anyCredible(c *reassembly.Clock) bool {
	for _, r := range c.Runs {
		if r.Packets >= clockRunCredible {
			return true
		}
	}
	return false
}
