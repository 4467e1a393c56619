package health

import (
	"slices"
	"time"
)

// What the tracker keeps grows with the beats and pings of a capture, which
// a hostile one can make endless (a megabyte of capture is 170 000 empty
// pings). Past these bounds beats and pings are still counted, first and
// last times and round-trip extremes stay exact, and the rest is measured
// on what was kept: the bounds are far above any real heartbeat.
const (
	maxBeatsKept   = 1 << 20 // beat times kept, over all connections (8 MiB: beatSeries.ns)
	maxRTTsKept    = 1 << 20 // ping round trips kept, over all connections (8 MiB)
	maxOutstanding = 256     // unanswered pings remembered per direction
)

// beatSeries is the beats of one kind in one direction.
type beatSeries struct {
	// The beats kept, in arrival order: their times as Unix nanoseconds
	// (packTime: 8 bytes, a time.Time is 24), in UTC or not as utc says;
	// whole (and ns nil) once one does not pack (another location, out
	// of range, the zero time).
	ns    []int64
	utc   bool
	whole []time.Time
	extra int       // beats past maxBeatsKept: counted, not kept
	last  time.Time // the latest of those
}

// add keeps a beat's time.
func (bs *beatSeries) add(ts time.Time) {
	if bs.whole == nil {
		ns, utc, set, ok := packTime(ts)
		if ok && set && (len(bs.ns) == 0 || utc == bs.utc) {
			bs.ns, bs.utc = append(bs.ns, ns), utc
			return
		}
		bs.whole = append(make([]time.Time, 0, len(bs.ns)+1), bs.times()...)
		bs.ns = nil
	}
	bs.whole = append(bs.whole, ts)
}

// kept is how many beats' times are kept.
func (bs *beatSeries) kept() int { return len(bs.ns) + len(bs.whole) }

// times returns the kept beats' times, in arrival order, in a new slice.
func (bs *beatSeries) times() []time.Time {
	if bs.whole != nil {
		return slices.Clone(bs.whole)
	}
	ts := make([]time.Time, len(bs.ns))
	for i, ns := range bs.ns {
		ts[i] = unpackTime(ns, bs.utc, true)
	}
	return ts
}

// first returns the earliest beat kept (false: none kept).
func (bs *beatSeries) first() (time.Time, bool) {
	ts := bs.times()
	if len(ts) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(ts, time.Time.Compare), true
}

// lastBeat returns the latest beat, counted past the bound or kept
// (false: none).
func (bs *beatSeries) lastBeat() (time.Time, bool) {
	ts := bs.times()
	if bs.extra > 0 {
		ts = append(ts, bs.last)
	}
	if len(ts) == 0 {
		return time.Time{}, false
	}
	return slices.MaxFunc(ts, time.Time.Compare), true
}

type pingTrack struct {
	n           int // pings so far
	outstanding []pendingPing
	answered    int             // pongs matched to a ping
	maxAnswered int             // the latest ping (by index) answered
	forgot      pendingPing     // the first forgotten past maxOutstanding after maxAnswered (zero: none)
	graceRTT    time.Duration   // the longest round trip of at most pingRTTJump (the grace's)
	rtts        []time.Duration // kept, up to maxRTTsKept over the tracker
	rttMin      time.Duration
	rttMax      time.Duration
	stats       PingStats
}

type pendingPing struct {
	idx int
	ts  time.Time
	sum uint64 // of the payload (payloadSum)
}

// payloadSum is FNV-1a of a ping's payload (at most 125 bytes): pongs are
// matched by it rather than by a copy of the payload.
func payloadSum(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// beatsAfter counts the beats kept later than ts (0 for a nil series).
func (bs *beatSeries) beatsAfter(ts time.Time) int {
	if bs == nil {
		return 0
	}
	n := 0
	for _, t := range bs.times() {
		if t.After(ts) {
			n++
		}
	}
	if bs.extra > 0 && bs.last.After(ts) {
		n++
	}
	return n
}
