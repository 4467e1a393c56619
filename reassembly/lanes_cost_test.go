package reassembly

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestLanesSYNCost: a 4-tuple with 256 lanes (VLANs 1 to 256), then 1 000
// SYNs with new sequence numbers in VLAN 1 (port reuse of lane 0's
// connection). copyOf asks whether each is a mirror's copy of a lane's
// SYN: it looks up only the lanes whose first numbers (lanes.first) match
// it, here none. It looked up every lane's connection (260 look-ups a
// SYN here, up to 510): 200 000 such SYNs took 10.1 CPU s, 1.4 s with
// lanes.first (0.58 s with no lanes).
func TestLanesSYNCost(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	for v := range maxLanes {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(uint32(v+1)<<20, 5000).At(time.Duration(v) * time.Millisecond).Syn()
		pkts = append(pkts, synth.Wrapped(c.Packets, 0, func(f []byte) []byte { return synth.VLAN(uint16(v+1), f) })...)
	}
	const syns = 1000
	for i := range syns {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(0x80000000+uint32(i)*7919, 5000).At(time.Second + time.Duration(i)*time.Microsecond).Syn()
		pkts = append(pkts, synth.Wrapped(c.Packets, 0, func(f []byte) []byte { return synth.VLAN(1, f) })...)
	}
	a := New(&logSink{}, Options{})
	for i, p := range pkts {
		if i == maxLanes {
			a.live.gets = 0
		}
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if per := a.live.gets / syns; per > 20 {
		t.Errorf("%d look-ups of live connections a SYN, want at most 20", per)
	}
	a.Finish()
	if st := a.Stats(); st.Lanes != maxLanes-1 || st.Connections != maxLanes+syns {
		t.Errorf("%d lanes, %d connections; want %d and %d", st.Lanes, st.Connections, maxLanes-1, maxLanes+syns)
	}
}
