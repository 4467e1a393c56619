package reassembly

import (
	"reflect"
	"unsafe"

	tcpasm "github.com/google/gopacket/reassembly"
)

// poolChunk bounds the connections gopacket's StreamPool allocates at once.
// The pool grows by doubling (1024, 2048, ... connections of ~445 bytes,
// never freed): 100 000 open connections took 130 048, 13 MB for nothing,
// and one more connection past a doubling could take up to twice what is
// used. Held to this chunk, what is allocated and unused stays under
// poolChunk connections (1.8 MB).
const poolChunk = 4096

// poolGrowth returns the pool's next allocation size (the unexported
// StreamPool.nextAlloc of gopacket v1.1.19), or nil if this version of
// gopacket has no such field: the pool then grows as gopacket grows it.
// TestPoolGrowth fails if the field is not found.
func poolGrowth(p *tcpasm.StreamPool) *int {
	f := reflect.ValueOf(p).Elem().FieldByName("nextAlloc")
	if !f.IsValid() || f.Kind() != reflect.Int {
		return nil
	}
	return (*int)(unsafe.Pointer(f.UnsafeAddr()))
}

// boundGrowth keeps the pool's next allocation at poolChunk or under. It
// runs before each new connection, so each time the pool grows it is by
// one chunk.
func (a *Assembler) boundGrowth() {
	if a.nextAlloc != nil && *a.nextAlloc > poolChunk {
		*a.nextAlloc = poolChunk
	}
}
