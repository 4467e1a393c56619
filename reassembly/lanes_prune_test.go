package reassembly

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestLanesPruned: 50 4-tuples, one after another 10 s apart, each
// carrying two connections at once in VLANs 10 and 20 (a lane), both
// closed with FIN. A split 4-tuple is forgotten once its connections have
// ended and are no longer remembered (closedMemory): split holds the
// last ones only. It held all 50 (3.3 KB each with 256 tenants).
func TestLanesPruned(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	const tuples = 50
	for i := range tuples {
		at := time.Duration(i) * 10 * time.Second
		client := fmt.Sprintf("10.0.0.1:%d", 40000+i)
		a := synth.New(client, "10.0.0.2:80").ISN(0x10000000, 0x20000000).At(at).Open().Fin(true).Fin(false)
		b := synth.New(client, "10.0.0.2:80").ISN(0x70000000, 0x60000000).At(at + time.Millisecond).Open().Fin(true).Fin(false)
		pkts = append(pkts, synth.ByTime(synth.Wrapped(a.Packets, 0, func(f []byte) []byte { return synth.VLAN(10, f) }),
			synth.Wrapped(b.Packets, 0, func(f []byte) []byte { return synth.VLAN(20, f) }))...)
	}
	a := New(&logSink{}, Options{})
	for _, p := range pkts {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	// Connections closed within closedMemory (2 min) of the last packet,
	// and the flush period's slack: 13 or 14 4-tuples.
	if n := len(a.split); n > 15 || n == 0 {
		t.Errorf("%d split 4-tuples remembered, want 1 to 15", n)
	}
	a.Finish()
	if st := a.Stats(); st.Lanes != tuples || st.Connections != 2*tuples {
		t.Errorf("%d lanes, %d connections; want %d and %d", st.Lanes, st.Connections, tuples, 2*tuples)
	}
}
