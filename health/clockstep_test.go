package health

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// judgeGapsWalk is judgeGaps as it was, walking the signs of life in
// from..to: the reference.
func (s *Series) judgeGapsWalk(from, to time.Time, trailing bool, alive []time.Time, o Options) {
	late := time.Duration(float64(s.Interval) * o.Tolerance)
	i, _ := slices.BinarySearchFunc(alive, from, func(a, t time.Time) int { return a.Compare(t) })
	for ; i < len(alive) && alive[i].Before(to); i++ {
		if g := alive[i].Sub(from); g > late {
			s.addGap(Gap{From: from, To: alive[i], Missed: max(int(math.Round(float64(g)/float64(s.Interval)))-1, 1)})
		}
		from = alive[i]
	}
	s.lastGap(from, to, trailing, late)
}

// TestJudgeGapsIndexed: the late gaps between signs of life taken from
// the index are those the walk found, in order, truncated alike, over
// many overlapping ranges of one series (its runs cut by clock steps).
func TestJudgeGapsIndexed(t *testing.T) {
	o := Options{Tolerance: 1.5}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var ts []time.Time
		for range r.IntN(60) {
			ts = append(ts, at(r.IntN(200000)))
		}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		got, want := &Series{Interval: 10 * time.Second}, &Series{Interval: 10 * time.Second}
		alive := &lifeSigns{t: ts}
		for range 1 + r.IntN(40) {
			from := at(r.IntN(200000))
			to := from.Add(time.Duration(r.IntN(150000)) * time.Millisecond)
			tr := r.IntN(2) == 0
			got.judgeGaps(from, to, tr, alive, o)
			want.judgeGapsWalk(from, to, tr, ts, o)
		}
		if got.Missed != want.Missed || got.GapsTruncated != want.GapsTruncated || !slices.EqualFunc(got.Gaps, want.Gaps, func(a, b Gap) bool {
			return a.From.Equal(b.From) && a.To.Equal(b.To) && a.Missed == b.Missed && a.Trailing == b.Trailing
		}) {
			t.Fatalf("trial %d: missed %d truncated %v gaps %v, want %d %v %v", trial, got.Missed, got.GapsTruncated, got.Gaps, want.Missed, want.GapsTruncated, want.Gaps)
		}
		if alive.builds > 1 {
			t.Fatalf("trial %d: index built %d times", trial, alive.builds)
		}
	}
}

// TestSteppedSeriesSignsWalkedOnce: 4,000 beats and STOMP frames whose
// clock alternates between two an hour apart (a hostile capture) make
// 2,000 runs, each spanning most of the frames. Judging each run's gap by
// walking the frames in it took 4.2 s (20,000 pairs: 6.4 s of CPU for
// conns on a 4.5 MB capture); the frames are walked once per series.
func TestSteppedSeriesSignsWalkedOnce(t *testing.T) {
	var beats []time.Time
	for i := range 2000 {
		beats = append(beats, at(i*10), at(3600000+i*10))
	}
	bs := &beatSeries{}
	for _, b := range beats {
		bs.add(b)
	}
	alive := &lifeSigns{t: slices.SortedFunc(slices.Values(beats), func(a, b time.Time) int { return a.Compare(b) })}
	neg := Negotiated{Kind: "stomp", Dir: wsparse.ServerToClient, Interval: 10 * time.Second, At: at(0)}
	s := buildSeries(seriesKey{wsparse.ServerToClient, "stomp"}, bs, neg, true, alive, at(3620000), Options{Tolerance: 1.5})
	if s.ClockSteps != 1999 || s.Count != 4000 {
		t.Errorf("%d steps, %d beats, want 1999, 4000", s.ClockSteps, s.Count)
	}
	if alive.builds != 1 {
		t.Errorf("the frames were indexed %d times, want once", alive.builds)
	}
}
