package reassembly

import (
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// allocSink reads the bytes allocated so far when the connections numbered
// from and to end.
type allocSink struct {
	countSink
	from, to   int
	start, end uint64
}

func (s *allocSink) End(c *wsparse.Conn, sum *wsparse.Summary) {
	s.countSink.End(c, sum)
	if s.ends == s.from || s.ends == s.to {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.start, s.end = s.end, m.TotalAlloc
	}
}

// TestFinishBytes: ending the open connections at the end of the input
// (every one at once, while the live heap is at its largest) allocates
// little per connection, with one assembler (-j 1) and with two workers
// and the merger: the decoder reuses the Summary and the Handshake it
// hands to End (576 + 384 bytes a connection before), and a worker copies
// them into its chunk, reused with it (a Summary of 576 bytes, before).
// That garbage took 100 000 open connections' heap 17-30 MiB over its size
// at the end of the input (issue 16). Measured over the second half of
// the connections, once the chunks have grown.
func TestFinishBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations under -race: sync.Pool drops items at random")
	}
	const n = 6000
	for _, tc := range []struct {
		name string
		jobs int
		max  float64 // ~70 and ~230 now (the merger's list of connections gone, pools)
	}{{"one assembler", 1, 200}, {"two workers", 2, 400}} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &allocSink{from: n / 2, to: n}
			if tc.jobs == 1 {
				a := New(record.Adapt(sink), Options{})
				openConns(a, n)
				a.Finish()
			} else {
				p := NewParallel(record.Adapt(sink), Options{}, tc.jobs)
				openConns(p, n)
				p.Finish()
			}
			if sink.ends != n {
				t.Fatalf("%d connections ended", sink.ends)
			}
			per := float64(sink.end-sink.start) / (n - n/2)
			t.Logf("%.0f bytes allocated per ended connection", per)
			if per > tc.max {
				t.Errorf("%.0f bytes allocated per ended connection, want %.0f at most", per, tc.max)
			}
		})
	}
}
