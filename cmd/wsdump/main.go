// Command wsdump turns packet captures into WebSocket conversations.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/wsdump/wsdump/internal/prof"
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
	stop := prof.CPU(os.Getenv("WSDUMP_CPUPROFILE"), os.Stderr)
	stopTrace := prof.Trace(os.Getenv("WSDUMP_TRACE"), os.Stderr)
	// SIGINT or SIGTERM ends the reading cleanly (exit status 130); a
	// second one, the handler gone, kills the process as usual.
	ctx, unnotify := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		unnotify()
	}()
	code := mainContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopTrace()
	stop()
	// FILE.end: the heap when the run is over, so that a profile with
	// -diff_base FILE shows what the end of the input allocated.
	if path := os.Getenv("WSDUMP_MEMPROFILE"); path != "" {
		prof.Heap(path+".end", os.Stderr)
	}
	os.Exit(code)
}
