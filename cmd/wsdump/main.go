// Command wsdump turns packet captures into WebSocket conversations.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wsdump/wsdump/internal/memtarget"
	"github.com/wsdump/wsdump/internal/prof"
)

// memoryPolicy is the garbage collector's soft memory limit (see
// runtime/debug.SetMemoryLimit and internal/memtarget) and its growth
// between collections. Decoding keeps little alive (buffers per open
// connection, batches in flight between workers: 10-20 MB), and with Go's
// default GOGC the heap doubled between collections: a long run's peak RSS
// rose with the capture's length until the heap first reached twice its
// live size (the table view with -j 1: 35 MB on 184 MB of capture, 49 on
// 2.9 GB). The heap grows by a quarter of what is live instead, or 4 MiB
// for a small heap (no more than doubling), for a few percent more CPU on
// a long run (bench/README.md section 20). The 80 MiB floor of the limit
// keeps a big capture's peak RSS under 100 MB. A live heap near the floor
// (tens of thousands of connections open at once) would have the
// collector run back to back, so the limit follows it with a quarter more
// as headroom, up to 256 MiB: past that ceiling the collector works hard
// again, which keeps 100 000 open connections within 300 MB (issue 16;
// bench/memory.sh). GOMEMLIMIT overrides the limit and the growth, GOGC
// the growth.
var memoryPolicy = memtarget.Policy{Floor: 80 << 20, Ceiling: 256 << 20, Headroom: 0.25,
	Growth: 0.25, MinGrowth: 4 << 20}

// memPolicy returns memoryPolicy as the environment (lookup: os.LookupEnv)
// leaves it: without its growth if GOGC is set, and false if GOMEMLIMIT
// is set (memtarget does not run).
func memPolicy(lookup func(string) (string, bool)) (memtarget.Policy, bool) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return memtarget.Policy{}, false
	}
	p := memoryPolicy
	if _, set := lookup("GOGC"); set {
		p.Growth = 0
	}
	return p, true
}

func main() {
	if p, ok := memPolicy(os.LookupEnv); ok {
		memtarget.Start(p)
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
