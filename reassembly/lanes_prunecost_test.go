package reassembly

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestLanesPruneCost: 10 4-tuples, each split in 256 VLANs, whose
// connections in lanes 0 to 254 close at once while lane 255's stays
// open; then 300 s of capture, a packet a second. Once the closed are
// forgotten, each flush (every second) finds lane 255 in use at once
// (lanes.busy): at most 4 look-ups of live connections a 4-tuple a
// flush. It looked through every lane from 0: 512 (with 100 4-tuples,
// 9 261 002 look-ups and 4.6 s for 303 packets, against 0.2 to 0.9 s).
func TestLanesPruneCost(t *testing.T) {
	t.Parallel()
	const tuples, seconds = 10, 300
	var pkts []synth.Packet
	for e := range tuples {
		client := fmt.Sprintf("10.0.0.%d:40000", e+1)
		for l := range maxLanes {
			at := time.Duration(e)*time.Millisecond + time.Duration(l)*time.Microsecond
			c := synth.New(client, "10.9.0.2:80").ISN(uint32(l)<<24+7, uint32(l)<<24+0x800000).At(at)
			c.Step = time.Nanosecond
			c.Open()
			if l != maxLanes-1 {
				c.Wait(time.Millisecond).Fin(true).Fin(false)
			}
			vlan := uint16(l + 1)
			pkts = append(pkts, synth.Wrapped(c.Packets, 0, func(f []byte) []byte { return synth.VLAN(vlan, f) })...)
		}
	}
	a := New(&countSink{}, Options{})
	for _, p := range synth.ByTime(pkts) {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if len(a.split) != tuples {
		t.Fatalf("%d split 4-tuples, want %d", len(a.split), tuples)
	}
	k := synth.New("10.200.0.1:1", "10.9.0.2:81").At(time.Second).Open()
	k.Step = time.Second
	for range seconds {
		k.Segment(true, []byte("x"))
	}
	gets := a.live.gets
	for _, p := range k.Packets {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	gets = a.live.gets - gets
	if len(a.split) != tuples {
		t.Errorf("%d split 4-tuples, want %d (lane 255 open)", len(a.split), tuples)
	}
	t.Logf("%d look-ups of live connections in %d s", gets, seconds)
	if gets > 4*tuples*seconds {
		t.Errorf("%d look-ups of live connections in %d s, want %d or fewer", gets, seconds, 4*tuples*seconds)
	}
	a.Finish()
}
