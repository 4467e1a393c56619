package lint

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestLintOpenConnBytes: the linter keeps nothing for an open connection
// whose records had no anomaly (issue 16: 100 000 open connections); it
// kept an entry in its anomalies-seen map for each handshake.
func TestLintOpenConnBytes(t *testing.T) {
	const n = 100_000
	cs := synth.Views(n)
	l := New()
	h := &wsparse.Handshake{Method: "GET", Host: "h", URI: "/x", Status: 101}
	m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Index: 1, Len: 64, Frames: 1}
	per := prof.HeapLeftPer(n, func() {
		for _, c := range cs {
			l.Handshake(c, h)
			l.Message(c, m)
		}
	})
	if per > 4 {
		t.Errorf("%.1f bytes kept per open connection without anomalies, want ~0", per)
	}
	runtime.KeepAlive(l)
	runtime.KeepAlive(cs)
}

// TestLintFindingsAllocs: listing findings allocates about their size,
// not the ~5 times over that growing one slice by append did (52 MB for
// the 100 000 findings of 100 000 connections still open at the end of
// the input, made while their memory was still held: the peak).
func TestLintFindingsAllocs(t *testing.T) {
	const n = maxListed
	cs := synth.Views(n)
	l := New()
	m := &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Index: 1, Len: 1000, Frames: 1,
		Anomalies: wsparse.AnomMessageIncomplete, TS: time.Unix(1, 0)}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, c := range cs {
		l.Message(c, m)
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	size := float64(unsafe.Sizeof(Finding{}))
	// A finding, its detail, and its entry in the map that bounds the
	// findings listed per connection and rule: ~2.5 times a Finding.
	if per > 3.5*size {
		t.Errorf("%.0f bytes allocated per finding listed (a Finding is %.0f), want <= %.0f", per, size, 3.5*size)
	}
	if got := len(l.Findings()); got != n {
		t.Fatalf("%d findings, want %d", got, n)
	}
}
