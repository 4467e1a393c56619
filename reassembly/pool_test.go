package reassembly

import (
	"reflect"
	"runtime"
	"testing"

	tcpasm "github.com/google/gopacket/reassembly"

	"github.com/wsdump/wsdump/record"
)

// TestNewAssemblerAsGopackets: newAssembler makes the Assembler that
// gopacket's NewAssembler and startPageCache make, field by field (the
// unexported ones by reflection), but for the page cache's nextShrink:
// the first page taken grows the empty cache, which sets it (and resets
// ops) in both. It fails if newAssembler had to fall back.
func TestNewAssemblerAsGopackets(t *testing.T) {
	f := &factory{a: New(record.Adapt(&countSink{}), Options{})}
	poolA, poolB := tcpasm.NewStreamPool(f), tcpasm.NewStreamPool(f)
	a := newAssembler(poolA)
	b := tcpasm.NewAssembler(poolB)
	if !startPageCache(b) {
		t.Fatal("startPageCache failed on a new gopacket Assembler")
	}
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		fa, fb := unexported(va, name, va.Field(i).Kind()), unexported(vb, name, vb.Field(i).Kind())
		switch name {
		case "ret":
			if fa.Len() != fb.Len() || fa.Cap() != fb.Cap() {
				t.Errorf("ret: len %d cap %d, want len %d cap %d", fa.Len(), fa.Cap(), fb.Len(), fb.Cap())
			}
		case "connPool":
			if fa.Pointer() != reflect.ValueOf(poolA).Pointer() {
				t.Error("connPool is not the pool")
			}
			ua, ub := unexported(reflect.ValueOf(poolA).Elem(), "users", reflect.Int), unexported(reflect.ValueOf(poolB).Elem(), "users", reflect.Int)
			if ua.Int() != ub.Int() {
				t.Errorf("pool users %d, want %d", ua.Int(), ub.Int())
			}
		case "pc":
			if fa.Pointer() == fb.Pointer() {
				t.Fatal("the page caches are shared")
			}
			ca, cb := fa.Elem(), fb.Elem()
			for j := range ca.NumField() {
				n := ca.Type().Field(j).Name
				pa, pb := unexported(ca, n, ca.Field(j).Kind()), unexported(cb, n, cb.Field(j).Kind())
				switch {
				case n == "nextShrink":
				case pa.Kind() == reflect.Slice:
					if pa.Len() != pb.Len() || pa.Cap() != pb.Cap() {
						t.Errorf("pc.%s: len %d cap %d, want len %d cap %d", n, pa.Len(), pa.Cap(), pb.Len(), pb.Cap())
					}
				case !reflect.DeepEqual(pa.Interface(), pb.Interface()):
					t.Errorf("pc.%s: %v, want %v", n, pa.Interface(), pb.Interface())
				}
			}
		default:
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				t.Errorf("%s: %v, want %v", name, fa.Interface(), fb.Interface())
			}
		}
	}
}

// TestNewStreamPoolAsGopackets: newStreamPool makes the StreamPool that
// gopacket's NewStreamPool makes, field by field (the unexported ones by
// reflection), but for the sizes it starts with: an empty connection map
// and free list, and a first allocation of poolStart connections. It fails
// if newStreamPool had to fall back.
func TestNewStreamPoolAsGopackets(t *testing.T) {
	f := &factory{a: New(record.Adapt(&countSink{}), Options{})}
	va, vb := reflect.ValueOf(newStreamPool(f)).Elem(), reflect.ValueOf(tcpasm.NewStreamPool(f)).Elem()
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		fa, fb := unexported(va, name, va.Field(i).Kind()), unexported(vb, name, vb.Field(i).Kind())
		switch name {
		case "conns":
			if fa.IsNil() || fa.Len() != 0 || fb.Len() != 0 {
				t.Errorf("conns: nil %v, len %d, want an empty map", fa.IsNil(), fa.Len())
			}
		case "free":
			if fa.Len() != 0 || fb.Len() != 0 {
				t.Errorf("free: len %d, want 0", fa.Len())
			}
		case "nextAlloc":
			if fa.Int() != poolStart {
				t.Errorf("nextAlloc %d, want %d (gopacket's is %d)", fa.Int(), poolStart, fb.Int())
			}
		default:
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				t.Errorf("%s: %v, want %v", name, fa.Interface(), fb.Interface())
			}
		}
	}
}

// TestNewAssemblerBytes: a new Assembler and its first connection
// allocate little: gopacket's NewStreamPool made a map for 1 024
// connections and its pool a first chunk of 1 024 connections (~800 KB
// together), at every start of every Assembler (a Parallel starts one a
// worker), whatever the capture holds.
func TestNewAssemblerBytes(t *testing.T) {
	var before, after runtime.MemStats
	const runs = 20
	runtime.ReadMemStats(&before)
	for range runs {
		a := New(record.Adapt(&countSink{}), Options{})
		openConns(a, 1)
		a.Finish()
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("a new Assembler with one connection: %d bytes allocated", per)
	if per > 200<<10 {
		t.Errorf("a new Assembler with one connection allocates %d bytes, want 200 KiB or less", per)
	}
}
