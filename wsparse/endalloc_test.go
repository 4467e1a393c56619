package wsparse

import (
	"runtime"
	"testing"
)

// TestEndBytes: ending an open connection (at the end of the input, every
// one still open ends at once, while the live heap is at its largest)
// allocates next to nothing: the Summary and the Handshake rebuilt from
// the kept form are reused once the sink's End returns (Sink), as the
// Messages are. They were 960 bytes a connection (576 + 384) of garbage,
// which took 100 000 open connections' heap 17-30 MiB over its size at
// the end of the input (issue 16). What is left (~65 bytes) is the
// message buffer's way back to its pool (putBuf's box, sync.Pool's own
// growth).
func TestEndBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations under -race: sync.Pool drops items at random")
	}
	const n = 2000
	sink := &endCheckSink{}
	conns := openConns(NewShared(Config{}, sink), n)
	if conns[0].kept == nil {
		t.Fatal("the handshake is not kept in its compact form: the test does not test the rebuilt one")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, c := range conns {
		c.End(testTime)
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	t.Logf("%.0f bytes allocated per ended connection", per)
	if sink.ends != n || sink.bad != 0 {
		t.Fatalf("%d ends, %d without their handshake or cut message", sink.ends, sink.bad)
	}
	if per > 160 {
		t.Errorf("%.0f bytes allocated per ended connection, want 160 at most", per)
	}
	runtime.KeepAlive(conns)
}

// endCheckSink counts the ends whose summary reports the handshake and
// the message cut short.
type endCheckSink struct {
	nopSink
	ends, bad int
	cut       bool
}

func (s *endCheckSink) Message(_ *Conn, m *Message) {
	s.cut = m.Anomalies&AnomMessageIncomplete != 0 && len(m.Data) == 1000
}

func (s *endCheckSink) End(_ *Conn, sum *Summary) {
	s.ends++
	if sum.Handshake == nil || sum.Handshake.Status != 101 || sum.End != EndOpen || !s.cut {
		s.bad++
	}
	s.cut = false
}
