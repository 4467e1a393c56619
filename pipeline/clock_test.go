package pipeline

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/reassembly"
)

// TestClockWatchRule: where the watch says the clock jumped (README,
// Limits: back more than 1 s; forward more than 1 h and more than 100
// times the largest gap before), and the runs it judges to.
func TestClockWatchRule(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	s := time.Second
	for _, tc := range []struct {
		name  string
		gaps  []time.Duration // between packets, from t0
		jumps []int64         // the packets after a jump
		runs  []int64         // packets per run
	}{
		{"steady", []time.Duration{s, s, s}, nil, []int64{4}},
		{"back 1 s: no step", []time.Duration{s, s, -s, s}, nil, []int64{5}},
		{"back 1.001 s", []time.Duration{s, s, -s - time.Millisecond, s}, []int64{4}, []int64{3, 2}},
		{"forward 1 h: none", []time.Duration{s, time.Hour, s}, nil, []int64{4}},
		{"forward past 1 h", []time.Duration{s, time.Hour + 1, s}, []int64{3}, []int64{2, 2}},
		{"past 1 h, under 100 gaps", []time.Duration{time.Minute, 100 * time.Minute, s}, nil, []int64{4}},
		{"past 100 gaps", []time.Duration{time.Minute, 100*time.Minute + 1, s}, []int64{3}, []int64{2, 2}},
		{"lone ahead, back", []time.Duration{s, s, s, 24 * time.Hour, -24 * time.Hour, s, s, s}, []int64{5, 6}, []int64{8, 1}}, // the run goes on past the lone packet
		{"lone behind, forward", []time.Duration{s, s, s, -24 * time.Hour, 24 * time.Hour, s}, []int64{5, 6}, []int64{6, 1}},
		{"two ahead, back", []time.Duration{s, s, s, 24 * time.Hour, s, -24 * time.Hour, s}, []int64{5, 7}, []int64{6, 2}},
		{"four ahead, back: a run", []time.Duration{s, s, s, 24 * time.Hour, s, s, s, -24 * time.Hour, s}, []int64{5, 9}, []int64{4, 4, 2}},
		{"equal times, then 1 h: none", []time.Duration{0, 0, time.Hour, s}, nil, []int64{5}}, // the largest gap 0: the floor alone
		{"equal times, then past 1 h", []time.Duration{0, 0, time.Hour + 1, s}, []int64{4}, []int64{3, 2}},
		{"200 years ahead", []time.Duration{s, 200 * 365 * 24 * time.Hour, s, s}, []int64{3}, []int64{2, 3}},
	} {
		var w clockWatch
		ts := t0
		w.packet(ts)
		for _, g := range tc.gaps {
			ts = ts.Add(g)
			w.packet(ts)
		}
		c := w.clock()
		var jumps, runs []int64
		for _, j := range c.Jumps {
			jumps = append(jumps, j.Packet)
		}
		for _, r := range c.Runs {
			runs = append(runs, r.Packets)
		}
		if !slices.Equal(jumps, tc.jumps) || !slices.Equal(runs, tc.runs) || !c.Last.Equal(ts) {
			t.Errorf("%s: jumps at %v, runs %v, last %v; want %v, %v, %v", tc.name, jumps, runs, c.Last, tc.jumps, tc.runs, ts)
		}
	}
}

// TestClockWatchBounded: a capture whose clock jumps forward at every
// packet, or every 4 packets, lists MaxClockJumps jumps and keeps
// MaxClockRuns runs. Runs of one packet, all too short to be believed:
// the latest are kept, the others counted, and the end is the last
// packet's, as when no run is credible. Runs of 4: the last takes the
// rest in (and is judged to); the first run is judged to its own end.
func TestClockWatchBounded(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, every := range []int{1, clockRunCredible} {
		var w clockWatch
		for i := range 10000 {
			w.packet(t0.Add(time.Duration(i/every)*48*time.Hour + time.Duration(i%every)*time.Second))
		}
		c := w.clock()
		if len(c.Jumps) != reassembly.MaxClockJumps || c.JumpsMore != int(9999/every)-reassembly.MaxClockJumps || len(c.Runs) != reassembly.MaxClockRuns {
			t.Fatalf("every %d: %d jumps, %d more, %d runs", every, len(c.Jumps), c.JumpsMore, len(c.Runs))
		}
		last := c.Runs[len(c.Runs)-1]
		if every == 1 && (last.Packets != 1 || c.ShortMore != 10000-reassembly.MaxClockRuns) {
			t.Errorf("every packet: last run %+v, %d more short", last, c.ShortMore)
		}
		if every > 1 && (last.Packets != 10000-int64(every*(reassembly.MaxClockRuns-1)) || !last.Judged || c.ShortMore != 0) {
			t.Errorf("every %d packets: last run %+v, %d more short", every, last, c.ShortMore)
		}
		want := c.Last // every run short: as without a jump
		if every > 1 {
			want = c.Runs[0].End // its own run's end
		}
		if e := clockEnd(&c, t0); !e.Equal(want) {
			t.Errorf("every %d: end %v, want %v", every, e, want)
		}
	}
}

// TestClockWatchBoundedOutliers: a tap that stamps every fifth packet a
// year ahead, for 10 000 packets: each lone packet is set aside and the
// run goes on, and the list of runs stays bounded: past MaxClockRuns the
// earliest run set aside makes room (counted), so that a connection is
// still judged to the last packet on the capture's clock, not to one a
// year ahead (before, past 63 outliers the run took them in, and was
// judged to the last of them).
func TestClockWatchBoundedOutliers(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var w clockWatch
	var lastOnClock time.Time
	for i := range 10000 {
		ts := t0.Add(time.Duration(i) * time.Second)
		if i%5 == 4 {
			ts = ts.Add(365 * 24 * time.Hour)
		} else {
			lastOnClock = ts
		}
		w.packet(ts)
	}
	c := w.clock()
	if len(c.Jumps) != reassembly.MaxClockJumps || c.JumpsMore != 2*2000-1-reassembly.MaxClockJumps || len(c.Runs) > reassembly.MaxClockRuns {
		t.Fatalf("%d jumps, %d more, %d runs", len(c.Jumps), c.JumpsMore, len(c.Runs))
	}
	var kept int64
	for _, r := range c.Runs {
		if r.Packets < clockRunCredible {
			kept++
		}
	}
	if kept+c.ShortMore != 2000 {
		t.Errorf("%d short runs kept, %d more, want 2000 in all", kept, c.ShortMore)
	}
	if e := clockEnd(&c, t0.Add(100*time.Second)); !e.Equal(lastOnClock) {
		t.Errorf("end %v, want the last packet on the clock's %v", e, lastOnClock)
	}
}

// BenchmarkClockWatch is the clock watch's cost per packet (every view
// pays it once per packet read): a steady clock, and a hostile one that
// jumps at every packet (the runs list full, one run too short to be
// believed making room each time).
func BenchmarkClockWatch(b *testing.B) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		gap  time.Duration
	}{{"steady", 137 * time.Microsecond}, {"jumping", 48 * time.Hour}} {
		ts := make([]time.Time, 4096)
		for i := range ts {
			ts[i] = t0.Add(time.Duration(i) * tc.gap)
		}
		b.Run(tc.name, func(b *testing.B) {
			var w clockWatch
			for b.Loop() {
				for _, t := range ts {
					w.packet(t)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ts)), "ns/packet")
		})
	}
}

// TestClockWatchFarDates: pcapng's 64-bit timestamps (and if_tsoffset)
// reach past 2262 and before 1678, where time.Time's Unix nanoseconds
// overflow int64. A jump from 2024 to 2300 is a jump forward, the runs
// keep their packets' true times, and a connection ending in the 2300
// run is judged to that run's end; a steady run far in the past or the
// future is one run.
func TestClockWatchFarDates(t *testing.T) {
	s := time.Second
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	far := time.Date(2300, 1, 2, 3, 4, 5, 0, time.UTC)
	var w clockWatch
	for i := range 5 {
		w.packet(t0.Add(time.Duration(i) * s))
	}
	for i := range 5 {
		w.packet(far.Add(time.Duration(i) * s))
	}
	c := w.clock()
	if len(c.Jumps) != 1 || c.Jumps[0].Packet != 6 || c.Jumps[0].By <= 0 {
		t.Fatalf("jumps %+v, want one forward at packet 6", c.Jumps)
	}
	if len(c.Runs) != 2 || !c.Runs[1].Lo.Equal(far) || !c.Runs[1].Hi.Equal(far.Add(4*s)) || !c.Runs[0].Hi.Equal(t0.Add(4*s)) {
		t.Fatalf("runs %+v", c.Runs)
	}
	if e := clockEnd(&c, far.Add(2*s)); !e.Equal(far.Add(4 * s)) {
		t.Errorf("a connection ending at %v judged to %v, want %v", far.Add(2*s), e, far.Add(4*s))
	}
	if e := clockEnd(&c, t0.Add(2*s)); !e.Equal(t0.Add(4 * s)) {
		t.Errorf("a connection ending at %v judged to %v, want %v", t0.Add(2*s), e, t0.Add(4*s))
	}
	for _, start := range []time.Time{far, time.Date(1600, 1, 2, 3, 4, 5, 0, time.UTC), time.Unix(math.MaxInt64/4, 0).UTC(), time.Unix(math.MinInt64/4, 0).UTC()} {
		var w clockWatch
		for i := range 5 {
			w.packet(start.Add(time.Duration(i) * s))
		}
		if c := w.clock(); len(c.Jumps) != 0 || len(c.Runs) != 1 || !c.Runs[0].Lo.Equal(start) || !c.Runs[0].Hi.Equal(start.Add(4*s)) {
			t.Errorf("steady from %v: jumps %+v, runs %+v", start, c.Jumps, c.Runs)
		}
	}
}

// TestClockWatchStepBackSaturated: a step back of more than 292 years
// (pcapng times reach years 1 to 9999) saturates time.Time's Sub at
// math.MinInt64, which negated stays negative: the notice said "stepped
// back -2562047h47m16.854775808s". It is said as the longest step back
// (106751d23h47m16.854775807s).
func TestClockWatchStepBackSaturated(t *testing.T) {
	var w clockWatch
	hi, lo := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
	for i := range 5 {
		w.packet(hi.Add(time.Duration(i) * time.Millisecond))
	}
	for i := range 5 {
		w.packet(lo.Add(time.Duration(i) * time.Millisecond))
	}
	c := w.clock()
	if len(c.Jumps) != 1 || c.Jumps[0].By >= 0 || -c.Jumps[0].By <= 0 {
		t.Fatalf("jumps %+v, want one step back whose size negated is positive", c.Jumps)
	}
}

// TestClockWatchAlternating: the packets of two or three clocks hours
// apart, interleaved one by one (a pcapng of several interfaces, one's
// if_tsoffset wrong; captures of hosts whose clocks disagree merged). Each
// run counts at least one packet and no more than its span, and a
// connection on the first clock ending at its last packet is judged to
// it. Before, a short run set aside that had itself gone on from one
// before it counted its packets twice: runs of -33 795 packets, none
// credible, every connection judged to the last packet's time (two
// clocks: one on the first clock, judged to the second's last packet,
// would count 5 h of missed beats).
func TestClockWatchAlternating(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, clocks := range []int{2, 3} {
		var w clockWatch
		var lastA time.Time
		const n = 600
		for i := range n {
			ts := t0.Add(time.Duration(i/clocks)*time.Second + time.Duration(i%clocks)*5*time.Hour)
			if i%clocks == 0 {
				lastA = ts
			}
			w.packet(ts)
		}
		c := w.clock()
		var sum int64
		for _, r := range c.Runs {
			if r.Packets < 1 || r.Packets > r.Last-r.From+1 {
				t.Fatalf("%d clocks: run %+v", clocks, r)
			}
			sum += r.Packets
		}
		if sum+c.ShortMore > n {
			t.Errorf("%d clocks: runs count %d packets (%d more set aside) of %d", clocks, sum, c.ShortMore, n)
		}
		if clocks > 2 {
			// Three clocks in turn make no run credible (each run's
			// next packet is another clock's): judged to the last
			// packet's time, as without the watch (README, Limits).
			continue
		}
		if e := clockEnd(&c, lastA.Add(-time.Second)); !e.Equal(lastA) {
			t.Errorf("%d clocks: a connection on the first clock judged to %v, want its last packet %v", clocks, e, lastA)
		}
	}
}
