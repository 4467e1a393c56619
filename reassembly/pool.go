package reassembly

import (
	"math"
	"reflect"
	"time"
	"unsafe"

	tcpasm "github.com/google/gopacket/reassembly"
)

// poolChunk bounds the connections gopacket's StreamPool allocates at once.
// The pool grows by doubling (1024, 2048, ... connections of ~496 bytes,
// never freed): 100 000 open connections took 130 048, 13 MB for nothing,
// and one more connection past a doubling could take up to twice what is
// used. Held to this chunk, what is allocated and unused stays under
// poolChunk connections (0.5 MB an Assembler, each worker's; 2 MB with
// chunks of 4 096).
const poolChunk = 1024

// pageCacheStart is the pages gopacket's page cache starts with (it
// doubles them as it needs more, never fewer than it had): gopacket makes
// 1 024 (2 MB) per Assembler, which connections that come in order never
// use, one more 2 MB a worker of a Parallel.
const pageCacheStart = 64

// pageChunk bounds the pages gopacket's page cache (out-of-order segments)
// allocates at once. The cache grows by doubling (64, 128, ... pages of
// ~2 KB, each chunk one allocation, kept while any page of it is): 65 537
// pages queued out of order (--max-reorder-total is 65 536) took 131 008,
// 261 MB, a live heap past the memory limit's ceiling, where the collector
// runs back to back (883 collections and 52 s for a 211 MB capture,
// bench/memory.sh row bound-reorder-total -j 1). Held to this chunk, the
// cache holds fewer than pageChunk pages it does not use (2 MB) when it
// has just grown.
const pageChunk = 1024

// poolStart is the connections gopacket's StreamPool allocates first (it
// then doubles them up to poolChunk): gopacket's first chunk is 1 024
// connections (~500 KB) and its map is made for 1 024 connections (~270
// KB), at every start of every Assembler, for a short capture's few
// connections (a third of a short run's allocations, -j 2 starting three
// Assemblers). A capture with many connections reaches poolChunk after a
// few more allocations: six, for an Assembler's life.
const poolStart = 16

// newStreamPool returns gopacket's StreamPool for f as NewStreamPool makes
// it (gopacket v1.1.19: conns, free, factory and nextAlloc set), but with
// its connection map made empty and its first allocation of poolStart
// connections (the unexported fields set by reflection);
// TestNewStreamPoolAsGopackets compares the two. If a field is not found it
// falls back to NewStreamPool.
func newStreamPool(f tcpasm.StreamFactory) *tcpasm.StreamPool {
	p := new(tcpasm.StreamPool)
	v := reflect.ValueOf(p).Elem()
	conns, factory, next := unexported(v, "conns", reflect.Map), unexported(v, "factory", reflect.Interface), unexported(v, "nextAlloc", reflect.Int)
	fv := reflect.ValueOf(&f).Elem()
	if !conns.IsValid() || !factory.IsValid() || !next.IsValid() || factory.Type() != fv.Type() {
		return tcpasm.NewStreamPool(f)
	}
	conns.Set(reflect.MakeMap(conns.Type()))
	factory.Set(fv)
	next.SetInt(poolStart)
	return p
}

// poolGrowth returns the pool's next allocation size (the unexported
// StreamPool.nextAlloc of gopacket v1.1.19), or nil if this version of
// gopacket has no such field: the pool then grows as gopacket grows it.
// TestPoolGrowth fails if the field is not found.
func poolGrowth(p *tcpasm.StreamPool) *int {
	return intPointer(reflect.ValueOf(p).Elem(), "nextAlloc")
}

// boundGrowth keeps the pool's next allocation at poolChunk or under. It
// runs before each new connection, so each time the pool grows it is by
// one chunk.
func (a *Assembler) boundGrowth() {
	if a.nextAlloc != nil && *a.nextAlloc > poolChunk {
		*a.nextAlloc = poolChunk
	}
}

// pageCounters returns pointers to the page cache's counters (the
// unexported pageCache.ops and size of gopacket v1.1.19's Assembler), or
// nils if this gopacket has no such fields: a packet's context is then
// made afresh for every packet. TestContextReuse fails if they are not
// found.
func pageCounters(asm *tcpasm.Assembler) (ops, size *int) {
	return intField(asm, "ops"), intField(asm, "size")
}

// pageGrowth returns a pointer to the page cache's next allocation size
// (the unexported pageCache.pcSize of gopacket v1.1.19), or nil if this
// gopacket has none: the cache then grows as gopacket grows it.
// TestPageCacheChunks fails if it is not found.
func pageGrowth(asm *tcpasm.Assembler) *int { return intField(asm, "pcSize") }

// pageShrink returns a pointer to the pages taken after which the page
// cache drops its free pages past half its next growth (the unexported
// pageCache.nextShrink of gopacket v1.1.19), or nil.
func pageShrink(asm *tcpasm.Assembler) *int { return intField(asm, "nextShrink") }

// intField returns a pointer to the int field name of asm's page cache, or
// nil.
func intField(asm *tcpasm.Assembler, name string) *int {
	pc := reflect.ValueOf(asm).Elem().FieldByName("pc")
	if !pc.IsValid() || pc.Kind() != reflect.Pointer || pc.IsNil() {
		return nil
	}
	return intPointer(pc.Elem(), name)
}

// intPointer returns a pointer to the int field name of the struct v, or
// nil if it has none.
func intPointer(v reflect.Value, name string) *int {
	f := unexported(v, name, reflect.Int)
	if !f.IsValid() {
		return nil
	}
	p, _ := f.Addr().Interface().(*int) // nil for a named type of kind int
	return p
}

// context returns the context to hand gopacket with the packet captured at
// ts. gopacket keeps a packet's context only on the first page of bytes it
// queues (out of order), and takes a page from its cache for that: a
// context no page was taken with is referenced by nothing once the packet
// is done, and is used again for the next packet. Each new context (32
// bytes, and an allocation) went to every packet before, 48 MB over the
// 700 000 packets of 100 000 open connections.
func (a *Assembler) context(ts time.Time, capLen, wireLen int) *assemblerContext {
	if a.ctx == nil || a.pageOps == nil {
		a.ctx = new(assemblerContext)
	}
	*a.ctx = assemblerContext{ts: ts, capLen: uint32(capLen), wireLen: uint32(wireLen)}
	if a.pageOps != nil {
		a.opsBefore, a.sizeBefore = *a.pageOps, *a.pageSize
	}
	return a.ctx
}

// contextDone is called after gopacket has had the packet. It holds the
// page cache's next growth at pageChunk pages and its next shrink out of
// reach (TestPageCacheNoDeadPages); no other call has gopacket take pages
// (a synthetic segment has no payload, and a flush only gives pages back,
// as no stream keeps bytes with KeepFrom). A page taken may hold the
// context, which is then left to it: ops counts pages taken and is reset
// by a growth, which changes size (and past nextShrink pages taken: see
// maxContextReuse).
func (a *Assembler) contextDone() {
	if a.pageNext != nil && *a.pageNext > pageChunk {
		*a.pageNext = pageChunk
	}
	if a.pageShrink != nil {
		*a.pageShrink = math.MaxInt
	}
	if a.pageOps == nil || *a.pageOps != a.opsBefore || *a.pageSize != a.sizeBefore ||
		a.ctx.capLen > maxContextReuse {
		a.ctx = nil
	}
}

// maxContextReuse is the longest packet whose context is used again. ops
// goes back to 0 past nextShrink pages taken: contextDone holds that out
// of reach between packets, but a growth during a packet sets it to the
// pages just made (at least pageCacheStart), and a gopacket without the
// field is not held. So a packet that took pageCacheStart+1 pages of
// gopacket's 1 900 bytes could leave ops where it was: a packet that long
// (an IPv6 jumbogram, a hostile capture's) never has its context used
// again.
const maxContextReuse = (pageCacheStart - 1) * 1900

// newAssembler returns gopacket's Assembler on pool with its page cache
// starting at pageCacheStart pages. gopacket's NewAssembler makes 1 024
// pages (2 MB) that startPageCache then drops: made and cleared for
// nothing at every start, that was a third of the CPU of a short capture's
// decode (-j 4 starts five Assemblers). The Assembler is made as
// NewAssembler makes it (gopacket v1.1.19: the default options, ret of
// capacity 16, connPool, pool.users counted) with a new, empty page cache
// (the unexported fields set by reflection), which grows at its first page
// as after startPageCache; TestNewAssemblerAsGopackets compares the two. If
// a field is not found it falls back to NewAssembler and startPageCache.
func newAssembler(pool *tcpasm.StreamPool) *tcpasm.Assembler {
	asm := &tcpasm.Assembler{AssemblerOptions: tcpasm.DefaultAssemblerOptions}
	v := reflect.ValueOf(asm).Elem()
	ret, pc, connPool := unexported(v, "ret", reflect.Slice), unexported(v, "pc", reflect.Pointer), unexported(v, "connPool", reflect.Pointer)
	users := unexported(reflect.ValueOf(pool).Elem(), "users", reflect.Int)
	if !ret.IsValid() || !pc.IsValid() || !connPool.IsValid() || !users.IsValid() || connPool.Type() != reflect.TypeOf(pool) {
		asm = tcpasm.NewAssembler(pool)
		startPageCache(asm)
		return asm
	}
	cache := reflect.New(pc.Type().Elem())
	free, pcSize := unexported(cache.Elem(), "free", reflect.Slice), unexported(cache.Elem(), "pcSize", reflect.Int)
	if !free.IsValid() || !pcSize.IsValid() {
		asm = tcpasm.NewAssembler(pool)
		startPageCache(asm)
		return asm
	}
	free.Set(reflect.MakeSlice(free.Type(), 0, pageCacheStart))
	pcSize.SetInt(pageCacheStart)
	pc.Set(cache)
	ret.Set(reflect.MakeSlice(ret.Type(), 0, 16)) // assemblerReturnValueInitialSize
	connPool.Set(reflect.ValueOf(pool))
	users.SetInt(users.Int() + 1) // the pool is new: no other Assembler shares it yet
	return asm
}

// unexported returns the settable field name of the struct v if it is of
// kind k, or the zero Value.
func unexported(v reflect.Value, name string, k reflect.Kind) reflect.Value {
	f := v.FieldByName(name)
	if !f.IsValid() || f.Kind() != k {
		return reflect.Value{}
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// startPageCache drops the pages gopacket's new Assembler made and has its
// page cache start at pageCacheStart pages (the unexported pageCache.free,
// size and pcSize of gopacket v1.1.19). It reports whether it could; it
// does nothing if the cache is not as new or the fields are not found.
func startPageCache(asm *tcpasm.Assembler) bool {
	pc := reflect.ValueOf(asm).Elem().FieldByName("pc")
	if !pc.IsValid() || pc.Kind() != reflect.Pointer || pc.IsNil() {
		return false
	}
	c := pc.Elem()
	free, size, pcSize, used := unexported(c, "free", reflect.Slice), unexported(c, "size", reflect.Int), unexported(c, "pcSize", reflect.Int), unexported(c, "used", reflect.Int)
	if !free.IsValid() || !size.IsValid() || !pcSize.IsValid() || !used.IsValid() || used.Int() != 0 || int64(free.Len()) != size.Int() {
		return false
	}
	free.Set(reflect.MakeSlice(free.Type(), 0, pageCacheStart))
	size.SetInt(0)
	pcSize.SetInt(pageCacheStart)
	return true
}
