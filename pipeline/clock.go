package pipeline

import (
	"cmp"
	"math"
	"slices"
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
	clockRunCredible = reassembly.ClockRunCredible
)

// clockWatch follows the packets' times in reading order (the assembler's
// input: one for every -j, the files merged) and notes the jumps and the
// runs between them (reassembly.Clock). Per packet: a few comparisons of
// Unix nanoseconds.
type clockWatch struct {
	n      int64     // packets so far
	last   int64     // the last packet's time, clockNanos
	lastTS time.Time // and as it came
	maxGap int64     // the largest forward gap within runs
	thr    int64     // the forward jump's threshold: max(floor, factor × maxGap)
	limit  int64     // a packet after it jumps forward: last + thr
	lo, hi int64     // the current run's earliest and latest times, clockNanos
	loTS   time.Time // and as they came
	hiTS   time.Time
	from   int64 // its first packet
	aside  int64 // packets since from that are not its own (a short run between, set aside)
	prev   int   // the index in c.Runs of the run before the current one
	full   bool  // c.Runs is full, and every run in it credible
	c      reassembly.Clock
	src    capture.Source // names the file of a jump (its Input); nil: none
}

func (w *clockWatch) packet(ts time.Time) {
	ns := clockNanos(ts)
	d := ns - w.last
	if ns > w.limit || d < -int64(clockStepBack) || w.n == 0 {
		w.jump(ts, ns, d)
	} else if d > w.maxGap {
		w.maxGap = d
		w.thr = max(int64(clockJumpFloor), satMul(d, clockJumpFactor))
	}
	w.n++
	w.last, w.lastTS = ns, ts
	w.limit = satAdd(ns, w.thr)
	if ns > w.hi {
		w.hi, w.hiTS = ns, ts
	} else if ns < w.lo {
		w.lo, w.loTS = ns, ts
	} else if ns == clockMax || ns == -clockMax {
		w.beyond(ts)
	}
}

// beyond keeps the run's earliest and latest times past clockMax.
func (w *clockWatch) beyond(ts time.Time) {
	if ts.After(w.hiTS) {
		w.hiTS = ts
	} else if ts.Before(w.loTS) {
		w.loTS = ts
	}
}

// clockMax bounds the watch's nanoseconds: ±2^62 from 1970, 1823 to
// 2116 (pcap's 32-bit seconds end in 2106), so that the difference of
// two never overflows. pcapng's 64-bit timestamps and its if_tsoffset
// reach further, where time.Time's UnixNano overflows: those times are
// taken for the bound (runs keep the times as they came).
const clockMax = 1 << 62

// clockNanos is ts in Unix nanoseconds within ±clockMax.
func clockNanos(ts time.Time) int64 {
	sec := ts.Unix()
	if sec > clockMax/1_000_000_000-1 {
		return clockMax
	}
	if sec < -clockMax/1_000_000_000+1 {
		return -clockMax
	}
	return sec*1e9 + int64(ts.Nanosecond())
}

// jump starts the first run, or notes a jump of d to the packet at ts
// and starts a run with it (past MaxClockRuns, with no short run to drop,
// the run goes on).
func (w *clockWatch) jump(ts time.Time, ns, d int64) {
	if w.n == 0 {
		w.thr = int64(clockJumpFloor)
		w.from, w.lo, w.hi, w.loTS, w.hiTS = 1, ns, ns, ts, ts
		return
	}
	if len(w.c.Jumps) < reassembly.MaxClockJumps {
		// Sub, not d: the times as they came (d is within ±clockMax).
		j := reassembly.ClockJump{Packet: w.n + 1, At: ts, By: ts.Sub(w.lastTS)}
		if j.By == math.MinInt64 {
			j.By = -math.MaxInt64 // saturated: negated, as said, it stays a step back
		}
		if d > 0 {
			j.Gap = time.Duration(w.maxGap)
		}
		if w.src != nil {
			j.File = w.src.Input()
		}
		w.c.Jumps = append(w.c.Jumps, j)
	} else {
		w.c.JumpsMore++
	}
	if n := len(w.c.Runs); n > 0 && w.n-w.from+1-w.aside < clockRunCredible {
		// A short run, and this packet goes on from the run before it as
		// if it had not been: the run before goes on, the short one is
		// set aside (a lone packet stamped wrong in the middle).
		prev := w.c.Runs[w.prev]
		if pe := clockNanos(prev.End); ns >= pe-int64(clockStepBack) && ns <= satAdd(pe, w.thr) {
			short := w.runSoFar()
			w.c.Runs[w.prev] = short
			w.full = false
			w.from, w.lo, w.hi = prev.From, clockNanos(prev.Lo), clockNanos(prev.Hi)
			w.loTS, w.hiTS = prev.Lo, prev.Hi
			// Set aside: what prev had, and every packet since its last
			// (the short run's, and those of runs between it and prev
			// when the short run had itself gone on from one before it:
			// two clocks alternating).
			w.aside = prev.Last - prev.From + 1 - prev.Packets + w.n - prev.Last
			return
		}
	}
	if len(w.c.Runs) < reassembly.MaxClockRuns-1 {
		w.c.Runs = append(w.c.Runs, w.runSoFar())
		w.prev = len(w.c.Runs) - 1
	} else if i := w.shortRun(); i >= 0 {
		// Full: a run too short to be believed makes room, counted (a
		// tap that stamps a packet wrong now and then sets one aside
		// each time). In place: clock puts the runs in order.
		w.c.Runs[i] = w.runSoFar()
		w.c.ShortMore++
		w.prev = i
	} else {
		return // every run kept is credible: this one goes on
	}
	w.from, w.lo, w.hi, w.aside = w.n+1, ns, ns, 0
	w.loTS, w.hiTS = ts, ts
}

// shortRun returns the index of a run kept too short to be believed:
// the one before the current run if it is (at once: a lone packet set
// aside is put there), else the earliest; -1 if none.
func (w *clockWatch) shortRun() int {
	if w.full {
		return -1
	}
	if w.c.Runs[w.prev].Packets < clockRunCredible {
		return w.prev
	}
	i := slices.IndexFunc(w.c.Runs, func(r reassembly.ClockRun) bool { return r.Packets < clockRunCredible })
	w.full = i < 0
	return i
}

// runSoFar is the current run, to the last packet.
func (w *clockWatch) runSoFar() reassembly.ClockRun {
	return reassembly.ClockRun{From: w.from, Last: w.n, Packets: w.n - w.from + 1 - w.aside,
		Lo: w.loTS, Hi: w.hiTS, End: w.lastTS}
}

// clock returns what the packets' times did.
func (w *clockWatch) clock() reassembly.Clock {
	c := w.c
	if w.n > 0 {
		c.Runs = append(c.Runs[:len(c.Runs):len(c.Runs)], w.runSoFar())
		c.Last = w.lastTS
	}
	// In reading order: a run that went on past a short one set aside
	// comes first.
	slices.SortFunc(c.Runs, func(a, b reassembly.ClockRun) int { return cmp.Compare(a.From, b.From) })
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

// endTaker is told the capture's end: a health.Tracker, a Parquet
// dataset's writer.
type endTaker interface {
	CaptureEnd(time.Time)
	CaptureEndOf(func(time.Time) time.Time)
}

// feedToEnd feeds asm (feed), finishes it and tells t the capture's
// end, to which the connections still open then are judged (captureEnd:
// by the clock's runs when it jumped): the one place conns, the Parquet
// heartbeats and lint take it from. A nil t is told nothing. Which ends
// were judged to is said after the limits' notices (the jumps), by
// report.WriteClockEnd.
func feedToEnd(asm Assembler, t endTaker, feed func(Assembler) error) error {
	err := feed(asm)
	asm.Finish()
	if t != nil {
		// After Finish: with -j the records, the open connections' ends
		// among them, reach the tracker on the merge's goroutine.
		captureEnd(t, asm.Stats().Clock)
	}
	return err
}

// captureEnd tells t the end of the input c is the clock of: its last
// packet's time, or, when its clock jumped, each open connection's end
// by the run of packets it ended in (clockEnd).
func captureEnd(t endTaker, c *reassembly.Clock) {
	switch {
	case c == nil || c.Last.IsZero(): // no packet
	case len(c.Runs) <= 1:
		t.CaptureEnd(c.Last)
	default:
		t.CaptureEndOf(func(own time.Time) time.Time { return clockEnd(c, own) })
	}
}
