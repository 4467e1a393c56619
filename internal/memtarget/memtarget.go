// Package memtarget keeps the garbage collector's soft memory limit
// (runtime/debug.SetMemoryLimit) between a floor and a ceiling, following
// the live heap: after each collection the limit becomes what the live
// heap needs with some headroom, never less than the floor nor more than
// the ceiling, and never less than it was.
//
// A fixed limit keeps a big capture's peak RSS low while the live heap is
// small, but once the live heap grows near it (tens of thousands of
// connections open at once) the collector runs back to back: the heap
// cannot get under the limit, and the runtime lets the collector take up
// to half the CPU. Following the live heap keeps the floor for the usual
// run and gives the collector room in the other, up to the ceiling.
//
// Under the limit, the heap's growth between collections (GOGC) can follow
// the live heap too (Policy.Growth): a quarter of it rather than the
// runtime's doubling, so that a long run's peak stays where a short run's
// is, but at least a few MiB, so that a small heap, as at the start of a
// run, is not collected every few hundred KiB.
package memtarget

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Policy says what limit to set for a live heap.
type Policy struct {
	// Floor is the lowest limit, in bytes: what a run with a small live
	// heap gets.
	Floor int64
	// Ceiling is the highest limit, in bytes. A live heap near it makes
	// the collector work hard again; past it, the heap goes over.
	Ceiling int64
	// Headroom is the heap's growth allowed between collections, as a
	// fraction of the live heap.
	Headroom float64
	// Growth, when not zero, is the heap's growth between collections
	// under the limit (runtime/debug.SetGCPercent), as a fraction of the
	// live heap, but at least MinGrowth bytes and at most the runtime's
	// default (GOGC=100, the heap doubling). Zero leaves GOGC as it is.
	Growth    float64
	MinGrowth int64
}

// Percent returns the GC percentage (runtime/debug.SetGCPercent) for a
// live heap of live bytes: Growth as a percentage, or what makes MinGrowth
// bytes for a small heap, never more than 100.
func (p Policy) Percent(live uint64) int {
	if live == 0 {
		return 100
	}
	pc := math.Ceil(100 * max(p.Growth, float64(p.MinGrowth)/float64(live)))
	return int(min(pc, 100))
}

// Limit returns the memory limit for a live heap of live bytes when the
// runtime's memory besides the heap's objects and free spans is other
// bytes (see nonHeap). The runtime keeps 3% of the limit's heap goal in
// reserve, so the heap grows by a little less than Headroom.
func (p Policy) Limit(live, other uint64) int64 {
	want := float64(live)*(1+p.Headroom) + float64(other)
	if want >= float64(p.Ceiling) {
		return max(p.Floor, p.Ceiling)
	}
	return max(p.Floor, int64(want))
}

// names are the runtime metrics read after each collection; the indexes
// below name them.
var names = [...]string{
	live:     "/gc/heap/live:bytes",
	total:    "/memory/classes/total:bytes",
	released: "/memory/classes/heap/released:bytes",
	objects:  "/memory/classes/heap/objects:bytes",
	free:     "/memory/classes/heap/free:bytes",
}

const (
	live = iota
	total
	released
	objects
	free
	numMetrics
)

// target adjusts the limit after each collection until stopped.
type target struct {
	p          Policy
	set        func(int64) int64 // debug.SetMemoryLimit
	setPercent func(int) int     // debug.SetGCPercent
	mu         sync.Mutex
	stopped    bool
	limit      int64 // the last limit set
	percent    int   // the last GC percentage set (0: none)
	samples    [numMetrics]metrics.Sample
}

// Start sets the limit to p.Floor and then, after each collection, to
// p.Limit of the live heap when that is higher, and (with p.Growth) the GC
// percentage to p.Percent of the live heap; stop ends the adjusting and
// leaves the last limit and percentage set. As the limit is never
// lowered, a heap that was large once may grow again later up to the
// limit it reached, where its percentage would hold it lower.
func Start(p Policy) (stop func()) {
	return start(p, debug.SetMemoryLimit, debug.SetGCPercent)
}

// running is the target Start made, for Tighten.
var (
	runMu   sync.Mutex
	running *target
)

// Tighten lowers the floor of the policy Start runs to floor bytes and
// sets its headroom to headroom: for a run that keeps more alive than the
// usual one (the Parquet writer: 35-50 MB), whose heap, growing to the
// floor or by a quarter between collections, would take its peak RSS over
// 100 MB. The limit goes down to the new floor unless a live heap has
// raised it past the old one already; later limits follow the new policy.
// It does nothing without a Start (GOMEMLIMIT set) or for a floor that is
// not lower.
func Tighten(floor int64, headroom float64) {
	runMu.Lock()
	t := running
	runMu.Unlock()
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || floor >= t.p.Floor {
		return
	}
	t.p.Headroom = headroom
	old := t.p.Floor
	t.p.Floor = floor
	if t.limit == old {
		t.limit = floor
		t.set(floor)
	}
}

func start(p Policy, set func(int64) int64, setPercent func(int) int) (stop func()) {
	t := &target{p: p, set: set, setPercent: setPercent, limit: p.Floor}
	for i, n := range names {
		t.samples[i].Name = n
	}
	set(p.Floor)
	runMu.Lock()
	running = t
	runMu.Unlock()
	t.arm()
	return func() {
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
	}
}

// nonHeap is what the runtime counts against the limit besides the heap's
// objects and free spans (runtime.memoryLimitHeapGoal): what is mapped and
// not given back, less those. That is its own memory (stacks, metadata)
// and the spans' fragmentation, which grows with the heap.
func nonHeap(total, released, objects, free uint64) uint64 {
	if released > total {
		return 0 // not a reading to raise a limit on, which is never lowered
	}
	if mapped, heap := total-released, objects+free; mapped > heap {
		return mapped - heap
	}
	return 0
}

// sentinel is an object made only to be collected: its cleanup runs after
// the collection that found it unreachable.
type sentinel struct{ _ [2]*int }

// arm makes a sentinel whose cleanup adjusts the limit and arms again.
func (t *target) arm() {
	runtime.AddCleanup(new(sentinel), (*target).collected, t)
}

// collected runs after a collection: it sets the limit for the live heap
// the collection found, and arms the next.
func (t *target) collected() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.samples[:])
	for _, s := range t.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return // a runtime without one of them: the limit stays as it is
		}
	}
	v := func(i int) uint64 { return t.samples[i].Value.Uint64() }
	other := nonHeap(v(total), v(released), v(objects), v(free))
	// The limit never goes down: the memory it allowed is mapped (a heap
	// that shrinks keeps its pages until the scavenger returns them), and a
	// limit under it would have the collector run back to back until then.
	if l := t.p.Limit(v(live), other); l > t.limit {
		t.limit = l
		t.set(l)
	}
	// The percentage follows the live heap both ways: it bounds the
	// heap's growth from what is live now, not what was mapped once.
	if t.p.Growth > 0 {
		if pc := t.p.Percent(v(live)); pc != t.percent {
			t.percent = pc
			t.setPercent(pc)
		}
	}
	t.arm()
}
