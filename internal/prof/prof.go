// Package prof writes the CPU and heap profiles the benchmarks use to see
// where the command's time and memory go (bench/README.md).
package prof

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// CPU writes a CPU profile to path, when set, until stop is called;
// a failure is said on stderr.
func CPU(path string, stderr io.Writer) (stop func()) {
	return record(path, "WSDUMP_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile, stderr)
}

// Trace writes a runtime execution trace to path, when set (go tool
// trace: where the -j goroutines wait on each other), until stop is
// called; a failure is said on stderr.
func Trace(path string, stderr io.Writer) (stop func()) {
	return record(path, "WSDUMP_TRACE", trace.Start, trace.Stop, stderr)
}

// record starts writing to the file path, when set, with start, and
// returns what ends it; a failure is said on stderr under the name of the
// variable that set path.
func record(path, name string, start func(io.Writer) error, end func(), stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		fmt.Fprintln(stderr, "wsdump: "+name+":", err)
		return func() {}
	}
	return func() {
		end()
		f.Close()
	}
}

// Heap writes a heap profile to path, when set (go tool pprof
// -sample_index=inuse_space); a failure is said on stderr.
func Heap(path string, stderr io.Writer) {
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "wsdump: WSDUMP_MEMPROFILE:", err)
	}
}

// HeapLeftPer returns the live heap that f leaves behind, per one of n:
// the heap in use after f and a collection, less the heap in use before
// it. Two collections come first, so that what sync.Pools held from
// earlier work is gone before and not counted as freed by f. For tests
// that bound what a structure keeps.
func HeapLeftPer(n int, f func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}
