// Command wsdump turns packet captures into WebSocket conversations.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

// memoryTarget is the heap size past which the garbage collector works
// harder (a soft limit, see runtime/debug.SetMemoryLimit). Decoding keeps
// little alive (buffers per open connection, batches in flight between
// workers), but with the default GOGC the heap grows to twice that between
// collections; the target keeps a big capture's peak RSS under 100 MB for
// a few percent of CPU. A heap that truly needs more simply goes over it.
// GOMEMLIMIT overrides it.
const memoryTarget = 80 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryTarget)
	}
	stop := profile(os.Getenv("WSDUMP_CPUPROFILE"))
	// SIGINT or SIGTERM ends the reading cleanly (exit status 130); a
	// second one, the handler gone, kills the process as usual.
	ctx, unnotify := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		unnotify()
	}()
	code := mainContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// profile writes a CPU profile of the whole run to path, when set: the
// benchmarks' way to see where the command's time goes (bench/README.md).
func profile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsdump: WSDUMP_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// heapProfile writes a heap profile to WSDUMP_MEMPROFILE, when set, at the
// end of the input, before the connections still open are flushed: where
// their memory peaks (go tool pprof -sample_index=inuse_space).
func heapProfile() {
	path := os.Getenv("WSDUMP_MEMPROFILE")
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
		fmt.Fprintln(os.Stderr, "wsdump: WSDUMP_MEMPROFILE:", err)
	}
}
