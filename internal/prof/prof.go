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
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "wsdump: WSDUMP_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// Trace writes a runtime execution trace to path, when set (go tool
// trace: where the -j goroutines wait on each other), until stop is
// called; a failure is said on stderr.
func Trace(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "wsdump: WSDUMP_TRACE:", err)
		return func() {}
	}
	return func() {
		trace.Stop()
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
