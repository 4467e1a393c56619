package bench

import (
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/wsdump/wsdump/report"
)

// TestLiveHeap follows the live heap (after a forced GC) while a large
// capture decodes, to check that memory is bounded by the open connections
// rather than by the file size. It runs only with WSDUMP_BENCH_PCAP set;
// WSDUMP_HEAP_PROFILE=FILE also writes a heap profile just before the
// end-of-input flush (go tool pprof -sample_index=inuse_space -top FILE).
//
//	WSDUMP_BENCH_PCAP=bench/data/ws-bench-1000mb.pcap go test ./bench -run LiveHeap -v
func TestLiveHeap(t *testing.T) {
	path := os.Getenv("WSDUMP_BENCH_PCAP")
	if path == "" {
		t.Skip("set WSDUMP_BENCH_PCAP to a capture from bench/gen.sh")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	watch := func(packets int) {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if packets < 0 {
			t.Logf("end of input: live heap %.1f MB", float64(ms.HeapAlloc)/1e6)
			if out := os.Getenv("WSDUMP_HEAP_PROFILE"); out != "" {
				f, err := os.Create(out)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		t.Logf("%8d packets: live heap %.1f MB", packets, float64(ms.HeapAlloc)/1e6)
	}
	if err := decodeWatch(data, io.Discard, report.Options{Format: "jsonl"}, 50000, watch); err != nil {
		t.Fatal(err)
	}
}
