package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/synth"
)

// TestLintFilterAttemptsBound: a flood of refused connects under a filter
// that selects every one of them costs no more than one that selects
// none of them, but for the attempts a group names (the tracker's first
// 16 384 connects kept, 0.9 MB of map allocated): without the bound each
// selected connect took a map entry of its own, 40 000 refused connects
// 2.1 MB more allocated under --host SERVER than under --host ELSEWHERE.
func TestLintFilterAttemptsBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 40 000 connects")
	}
	file := refusedFlood(t)
	alloc := func(host string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags(), Filter: filter.Flags{Hosts: []string{host}}}, 1)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	alloc("10.0.0.2") // warm up
	all, none := alloc("10.0.0.2"), alloc("10.0.0.9")
	t.Logf("allocated: %d bytes selecting every connect, %d selecting none", all, none)
	if all > none+3<<19 { // 1.5 MiB
		t.Errorf("selecting every connect allocated %d bytes more than selecting none", all-none)
	}
}

// TestConnsFilterAttemptsBound: conns under a filter gives the tracker
// the attempts it selects, whose bound on what it keeps (the first 16 384
// a group names; past them counted) holds as without a filter: the flood
// of TestLintFilterAttemptsBound, every connect selected by --host,
// allocates no more than the unfiltered run reading them all, but for
// the server's address put in words for --host once per connect tried
// (filter.Filter.AttemptSelected: 16 bytes each, 0.6 MB here, let go at
// once), and gives the same output.
func TestConnsFilterAttemptsBound(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 40 000 connects")
	}
	file := refusedFlood(t)
	alloc := func(hosts ...string) (uint64, string) {
		var before, after runtime.MemStats
		var o bytes.Buffer
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := RunConns(&ConnsOptions{Out: &o, Format: "jsonl", Time: "rel", HealthFlags: DefaultHealthFlags(), Filter: filter.Flags{Hosts: hosts},
			Input: Input{Err: io.Discard, Reads: []string{file}, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, o.String()
	}
	alloc() // warm up
	all, outAll := alloc()
	sel, outSel := alloc("10.0.0.2")
	t.Logf("allocated: %d bytes unfiltered, %d with --host selecting every connect", all, sel)
	if outSel != outAll {
		t.Errorf("--host selecting every connect: not the unfiltered output")
	}
	if sel > all+1<<20 { // 1 MiB
		t.Errorf("--host selecting every connect allocated %d bytes more than the unfiltered run", sel-all)
	}
}

// refusedFlood writes a capture of 40 000 connects to 10.0.0.2:8080, each
// refused, 100 µs apart, from 40 000 client addresses and ports.
func refusedFlood(t *testing.T) string {
	t.Helper()
	const n = 40000
	var pkts []synth.Packet
	for i := range n {
		c := synth.New(fmt.Sprintf("10.%d.%d.1:%d", 1+i/40000, i/200%200, 20000+i%200), "10.0.0.2:8080").At(time.Duration(i) * 100 * time.Microsecond).Syn().Rst(false)
		pkts = append(pkts, c.Packets...)
	}
	return writeCapture(t, pkts)
}
