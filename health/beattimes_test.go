package health

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// BeatTimes gives the beats Report measured, each with the timer that
// sent it: two timers 1.1 s apart, a stray beat on neither, and beats of
// one instant once.
func TestBeatTimes(t *testing.T) {
	tr := New(nil, Options{HeartbeatText: regexp.MustCompile("ping")})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	a, b := beatTimes(5000, 10000, 8, nil), beatTimes(6100, 10000, 8, nil)
	all := append(append(slices.Clone(a), b...), 42000, 42000) // a stray, twice in one message
	slices.Sort(all)                                           // in time order, as a capture delivers them
	for _, m := range all {
		tr.Beat(Beat{Conn: 1, Dir: wsparse.ClientToServer, TS: at(m), Kind: KindText})
	}
	c := v.end(80010, wsparse.EndClean, [2]wsparse.CloseInfo{closed(80000, 1000, ""), closed(80001, 1000, "")}, wsparse.ClientToServer, 0)
	s := seriesKind(c, KindText)
	if s == nil || s.Timers != 2 {
		t.Fatalf("series %+v, want 2 timers", s)
	}
	beats, timer := tr.BeatTimes(1, s)
	if len(beats) != 17 || len(timer) != 17 {
		t.Fatalf("%d beats, %d timers, want 17 (16 and the stray once)", len(beats), len(timer))
	}
	want := map[time.Time]int{at(42000): -1}
	for _, m := range a {
		want[at(m)] = 0
	}
	for _, m := range b {
		want[at(m)] = 1
	}
	for i, ts := range beats {
		if w, ok := want[ts]; !ok || timer[i] != w {
			t.Errorf("beat at %v: timer %d, want %d (known %v)", ts.Sub(at(0)), timer[i], w, ok)
		}
		if i > 0 && !beats[i-1].Before(ts) {
			t.Errorf("beats not sorted and distinct at %d", i)
		}
	}
	if b, tm := tr.BeatTimes(2, s); b != nil || tm != nil {
		t.Errorf("beats of a connection never seen: %v %v", b, tm)
	}
}

// TestBeatTimesWhole: beats whose times do not pack as nanoseconds in one
// location (one in another zone, the zero time) are kept whole, the
// series' earlier beats with them: BeatTimes gives each exactly.
func TestBeatTimesWhole(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	for _, odd := range []time.Time{at(3).In(zone), at(3).Local(), {}, time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)} {
		tr := New(nil, Options{})
		v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
		want := []time.Time{at(1), at(2), odd, at(4), at(5)}
		for _, ts := range want {
			tr.Beat(Beat{Conn: 1, Dir: wsparse.ServerToClient, TS: ts, Kind: KindText})
		}
		c := v.end(10, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
		if len(c.Heartbeats) != 1 {
			t.Fatalf("%d series", len(c.Heartbeats))
		}
		got, _ := tr.BeatTimes(1, c.Heartbeats[0])
		sorted := slices.Clone(want)
		slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
		if len(got) != len(sorted) {
			t.Fatalf("%v: beats %v", odd, got)
		}
		for i := range got {
			if got[i] != sorted[i] {
				t.Errorf("%v: beat %d is %v (%v), want %v (%v)", odd, i, got[i], got[i].Location(), sorted[i], sorted[i].Location())
			}
		}
	}
}
