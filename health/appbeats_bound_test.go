package health

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestHealthAppKeysBound: a connection's keys past maxAppKeys per
// direction, and any past maxAppKeysTotal over the tracker, are not
// followed; the keys followed are still found.
func TestHealthAppKeysBound(t *testing.T) {
	tr := New(nil, Options{})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	for i := range maxAppKeys + 10 {
		for b := range 6 {
			tr.Beat(Beat{Conn: 1, Dir: wsparse.ClientToServer, TS: at(1000*b + i), Kind: KindApp, Proto: "text", Key: fmt.Sprint("k", i)})
		}
	}
	c := v.end(6000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)
	if n := len(c.Heartbeats); n != maxAppKeys {
		t.Errorf("%d series, want %d (the first keys)", n, maxAppKeys)
	}
	if tr.appKeys != maxAppKeys || c.Heartbeats[len(c.Heartbeats)-1].Key == fmt.Sprint("k", maxAppKeys) {
		t.Errorf("%d keys followed", tr.appKeys)
	}
	tr.appKeys = maxAppKeysTotal
	tr.Beat(Beat{Conn: 2, Dir: wsparse.ClientToServer, TS: at(1), Kind: KindApp, Proto: "text", Key: "new"})
	if st := tr.conns[2]; st.beats != nil && st.beats.app != nil && len(st.beats.app.series) != 0 {
		t.Errorf("a key past the total bound was followed")
	}
}

// BenchmarkAppKeysMemory measures what the keys of application heartbeat
// candidates cost at their bound: 2 000 connections, each sending 100
// distinct short texts (a chat) each way, 40-byte keys.
//
//	go test ./health -run '^$' -bench BenchmarkAppKeysMemory -benchtime 1x
func BenchmarkAppKeysMemory(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := New(nil, Options{})
		for conn := range 2000 {
			for i := range 100 {
				for d := range 2 {
					tr.Beat(Beat{Conn: conn, Dir: wsparse.Dir(d), TS: at(i), Kind: KindApp, Proto: "text",
						Key: fmt.Sprintf("%-40d", conn*1000+i)})
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "MiB")
		b.ReportMetric(float64(tr.appKeys), "keys")
		runtime.KeepAlive(tr)
	}
}
