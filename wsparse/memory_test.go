package wsparse

import (
	"net/netip"
	"runtime"
	"testing"
)

// TestViewBytes: a view names a connection for the sinks after a parallel
// merge, one per open connection: it holds no decoder (it took 1.8 KB,
// 180 MB for 100 000 open connections).
func TestViewBytes(t *testing.T) {
	const n = 10000
	views := make([]*Conn, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range views {
		views[i] = NewView(i+1, [2]netip.AddrPort{testClient, testServer})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per view", per)
	if per > 128 {
		t.Errorf("%.0f bytes per view", per)
	}
	if c := views[n-1]; c.ID != n || c.Client() != testClient || c.Server() != testServer {
		t.Errorf("view %d %v %v", c.ID, c.Client(), c.Server())
	}
	runtime.KeepAlive(views)
}
