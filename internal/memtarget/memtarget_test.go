package memtarget

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

const mib = 1 << 20

func TestLimit(t *testing.T) {
	p := Policy{Floor: 80 * mib, Ceiling: 256 * mib, Headroom: 0.25}
	for _, c := range []struct {
		name        string
		live, other uint64
		want        int64
	}{
		{"small heap: the floor", 10 * mib, 4 * mib, 80 * mib},
		{"just under the floor", 60 * mib, 4 * mib, 80 * mib},
		{"over the floor: live plus a quarter plus the rest", 100 * mib, 8 * mib, 133 * mib},
		{"at the ceiling", 200 * mib, 6 * mib, 256 * mib},
		{"live past the ceiling", 300 * mib, 10 * mib, 256 * mib},
		{"huge", 1 << 62, 1 << 62, 256 * mib},
	} {
		if got := p.Limit(c.live, c.other); got != c.want {
			t.Errorf("%s: Limit(%d MiB, %d MiB) = %.2f MiB, want %.2f", c.name, c.live/mib, c.other/mib, float64(got)/mib, float64(c.want)/mib)
		}
	}
	// A ceiling under the floor: the floor wins.
	if got := (Policy{Floor: 80 * mib, Ceiling: 10 * mib}).Limit(100*mib, 0); got != 80*mib {
		t.Errorf("ceiling under the floor: %d MiB, want 80", got/mib)
	}
}

func TestPercent(t *testing.T) {
	p := Policy{Growth: 0.25, MinGrowth: 4 * mib}
	for _, c := range []struct {
		name string
		live uint64
		want int
	}{
		{"nothing live yet: the default", 0, 100},
		{"1 MiB: 4 MiB more is more than doubling", 1 * mib, 100},
		{"4 MiB: doubling", 4 * mib, 100},
		{"8 MiB: 4 MiB more", 8 * mib, 50},
		{"10 MiB: 4 MiB more, rounded up", 10 * mib, 40},
		{"12 MiB", 12 * mib, 34},
		{"16 MiB: a quarter is 4 MiB", 16 * mib, 25},
		{"100 MiB: a quarter", 100 * mib, 25},
		{"huge: a quarter", 1 << 62, 25},
	} {
		if got := p.Percent(c.live); got != c.want {
			t.Errorf("%s: Percent(%d MiB) = %d, want %d", c.name, c.live/mib, got, c.want)
		}
	}
}

// TestPercentFollowsLiveHeap: the GC percentage set after collections
// follows the live heap down and up again, unlike the limit; a Policy
// without Growth never sets one, even with MinGrowth (of which alone
// Percent makes 100 for a small heap).
func TestPercentFollowsLiveHeap(t *testing.T) {
	r := new(recorder)
	p := Policy{Floor: 1 << 40, Ceiling: 1 << 41, Growth: 0.25, MinGrowth: 64 * mib}
	stop := start(p, r.setLimit, r.setPercent)
	last := func() int {
		pc := r.gcPercents()
		if len(pc) == 0 {
			return 0
		}
		return pc[len(pc)-1]
	}
	// With little live, 64 MiB more is more than doubling: the default.
	collectUntil(t, func() bool { return last() == 100 })
	// 256 MiB live: a quarter (64 MiB), what MinGrowth asks too.
	for range 256 {
		keep = append(keep, make([]byte, mib))
	}
	collectUntil(t, func() bool { return last() == 25 })
	// Let go: back to the default.
	keep = nil
	collectUntil(t, func() bool { return last() == 100 })
	stop()
	n := len(r.gcPercents())
	runtime.GC()
	runtime.GC()
	if got := r.gcPercents(); len(got) != n {
		t.Errorf("percentages set after stop: %v", got[n:])
	}

	// MinGrowth alone would make a percentage (100 for a small heap):
	// without Growth none is set all the same.
	r = new(recorder)
	stop = start(Policy{Floor: 1 << 40, Ceiling: 1 << 41, Headroom: 0.25, MinGrowth: 64 * mib}, r.setLimit, r.setPercent)
	defer stop()
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if got := r.gcPercents(); len(got) != 0 {
		t.Errorf("a Policy without Growth set percentages %v", got)
	}
}

func TestNonHeap(t *testing.T) {
	for _, c := range []struct {
		name                           string
		total, released, objects, free uint64
		want                           uint64
	}{
		// 300 MiB mapped, 20 given back, 200 of objects, 30 of free spans:
		// 50 MiB of stacks, metadata and fragmentation (unused bytes in
		// spans in use), which the runtime counts as not heap.
		{"fragmentation counts", 300 * mib, 20 * mib, 200 * mib, 30 * mib, 50 * mib},
		{"nothing besides the heap", 100 * mib, 0, 90 * mib, 10 * mib, 0},
		{"metrics read apart, heap over mapped", 100 * mib, 10 * mib, 95 * mib, 5 * mib, 0},
		{"metrics read apart, more released than mapped", 100 * mib, 101 * mib, 0, 0, 0},
	} {
		if got := nonHeap(c.total, c.released, c.objects, c.free); got != c.want {
			t.Errorf("%s: %d MiB, want %d", c.name, got/mib, c.want/mib)
		}
	}
}

// recorder stands for debug.SetMemoryLimit and debug.SetGCPercent.
type recorder struct {
	limitsSet   recorded[int64]
	percentsSet recorded[int]
}

func (r *recorder) setLimit(l int64) int64 { r.limitsSet.add(l); return 0 }
func (r *recorder) setPercent(p int) int   { r.percentsSet.add(p); return 100 }
func (r *recorder) limits() []int64        { return r.limitsSet.all() }
func (r *recorder) gcPercents() []int      { return r.percentsSet.all() }

// recorded is the values set in order; a collection's cleanup sets them on
// another goroutine.
type recorded[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (r *recorded[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vals = append(r.vals, v)
}

func (r *recorded[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.vals)
}

var keep [][]byte // a live heap the collector finds

// collectUntil runs collections until cond holds (the limit is set by a
// cleanup, run after a collection on another goroutine), or fails after
// many: a liveness check, not a timing.
func collectUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no adjustment after 2000 collections")
}

func TestFollowsLiveHeapNeverDown(t *testing.T) {
	r := new(recorder)
	p := Policy{Floor: 1 * mib, Ceiling: 1 << 40, Headroom: 0.5}
	stop := start(p, r.setLimit, r.setPercent)
	if l := r.limits(); len(l) != 1 || l[0] != p.Floor {
		t.Fatalf("limits at start: %v, want [the floor]", l)
	}
	for range 8 {
		keep = append(keep, make([]byte, mib))
	}
	// 8 MiB live, half again as headroom: the limit passes 12 MiB; then,
	// adjusted after a later collection, 48 MiB for 32.
	collectUntil(t, func() bool { l := r.limits(); return l[len(l)-1] >= 12*mib })
	for range 24 {
		keep = append(keep, make([]byte, mib))
	}
	collectUntil(t, func() bool { l := r.limits(); return l[len(l)-1] >= 48*mib })
	high := r.limits()[len(r.limits())-1]
	keep = nil
	runtime.GC()
	runtime.GC()
	n := len(r.limits())
	// The heap shrank; the collections after find less, and set nothing.
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	for _, l := range r.limits()[n:] {
		if l < high {
			t.Errorf("limit went down to %d after %d", l, high)
		}
	}
	stop()
	runtime.GC()
	runtime.GC()
	before := len(r.limits())
	for range 32 {
		keep = append(keep, make([]byte, 4*mib))
	}
	for range 10 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	keep = nil
	if after := len(r.limits()); after != before {
		t.Errorf("%d limits set after stop", after-before)
	}
}

func TestCeiling(t *testing.T) {
	r := new(recorder)
	p := Policy{Floor: 1 * mib, Ceiling: 8 * mib, Headroom: 0.25}
	stop := start(p, r.setLimit, r.setPercent)
	defer stop()
	for range 16 {
		keep = append(keep, make([]byte, mib))
	}
	collectUntil(t, func() bool { l := r.limits(); return l[len(l)-1] == p.Ceiling })
	keep = nil
	for _, l := range r.limits() {
		if l > p.Ceiling || l < p.Floor {
			t.Errorf("limit %d outside [%d, %d]", l, p.Floor, p.Ceiling)
		}
	}
}

// TestTighten: a lower floor lowers a limit still at the old floor, and
// later limits keep to the new one; a higher floor, or a limit a live heap
// raised past the floor, is left as it is; after stop nothing is set; the
// new headroom is the one later limits follow.
func TestTighten(t *testing.T) {
	const huge = 1 << 40 // far past any live heap here: the floor decides
	r := new(recorder)
	stop := start(Policy{Floor: huge, Ceiling: 2 * huge, Headroom: 0.25}, r.setLimit, r.setPercent)
	Tighten(2*huge, 0.25) // higher: nothing
	if l := r.limits(); len(l) != 1 || l[0] != huge {
		t.Fatalf("limits after a higher floor: %v, want [%d]", l, int64(huge))
	}
	Tighten(huge/2, 0.25)
	if l := r.limits(); len(l) != 2 || l[1] != huge/2 {
		t.Fatalf("limits after a lower floor: %v, want [%d %d]", l, int64(huge), int64(huge/2))
	}
	runtime.GC()
	runtime.GC()
	for _, l := range r.limits() {
		if l < huge/2 {
			t.Errorf("limit %d under the new floor %d", l, int64(huge/2))
		}
	}
	stop()
	n := len(r.limits())
	Tighten(huge/4, 0.25)
	if len(r.limits()) != n {
		t.Errorf("a floor lowered after stop set a limit: %v", r.limits()[n:])
	}

	// A live heap raised the limit past the floor: a lower floor leaves it.
	r = new(recorder)
	stop = start(Policy{Floor: 1 * mib, Ceiling: 1 << 40, Headroom: 0.5}, r.setLimit, r.setPercent)
	defer stop()
	for range 8 {
		keep = append(keep, make([]byte, mib))
	}
	collectUntil(t, func() bool { l := r.limits(); return l[len(l)-1] >= 12*mib })
	keep = nil
	n = len(r.limits())
	Tighten(mib/2, 0.1)
	if len(r.limits()) != n {
		t.Errorf("a floor lowered under a raised limit set %v", r.limits()[n:])
	}
	// 32 MiB live: with the new headroom (0.1) the limit passes 35 MiB and
	// stays under what the old one (0.5) would give, 48.
	for range 32 {
		keep = append(keep, make([]byte, mib))
	}
	collectUntil(t, func() bool { l := r.limits(); return l[len(l)-1] >= 35*mib })
	keep = nil
	if l := r.limits(); l[len(l)-1] >= 46*mib {
		t.Errorf("limit %d MiB for 32 MiB live after Tighten(..., 0.1)", l[len(l)-1]/mib)
	}
}
