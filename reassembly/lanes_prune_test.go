package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
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

// TestLanesPrunedOthersRouted: two 4-tuples split at once, in VLANs 10
// and 20 (client ports 40000 and 40001: their ports' bits in splitPorts
// apart). The first's connections close and are forgotten (pruneSplit)
// while the second's go on, a message each way every 20 s for 4 min:
// each of the second's messages stays in its tenant's connection, with
// -j 1 and -j 2. splitPorts is rebuilt from the 4-tuples left when one
// is forgotten; without the second's bit, its lane's segments after
// that went to lane 0's connection (no look-up, no lane).
func TestLanesPrunedOthersRouted(t *testing.T) {
	t.Parallel()
	var lists [][]synth.Packet
	const msgs = 12
	for n, vlan := range []uint16{10, 20} {
		isn := 0x10000000 + uint32(n)*0x60000000
		at := time.Duration(n) * time.Millisecond
		first := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(isn, isn+0x1234567).At(at).Open().Upgrade()
		first.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true)
		second := synth.New("10.0.0.1:40001", "10.0.0.2:80").ISN(isn+0x100, isn+0x1234667).At(at + 10*time.Millisecond).Open().Upgrade()
		for i := range msgs {
			second.Wait(20*time.Second).Frame(true, wsparse.OpText, fmt.Appendf(nil, "v%d c%d", vlan, i)).Frame(false, wsparse.OpText, fmt.Appendf(nil, "v%d s%d", vlan, i))
		}
		second.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true)
		wrap := func(f []byte) []byte { return synth.VLAN(vlan, f) }
		lists = append(lists, synth.Wrapped(first.Packets, 0, wrap), synth.Wrapped(second.Packets, 0, wrap))
	}
	pkts := synth.ByTime(lists...)

	// With -j 1: the first 4-tuple is forgotten before the second's last
	// messages, the second's kept.
	a := New(&logSink{}, Options{})
	for _, p := range pkts[:len(pkts)-12] {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if len(a.split) != 1 {
		t.Fatalf("%d 4-tuples split before the second's end, want 1 (the first forgotten)", len(a.split))
	}
	for tu := range a.split {
		if tu.sp != 40001 && tu.dp != 40001 {
			t.Fatalf("split 4-tuple left: ports %d, %d; want the second's", tu.sp, tu.dp)
		}
	}

	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{}, jobs)
		if st.Connections != 4 || st.Lanes != 2 {
			t.Errorf("-j %d: %d connections, %d lanes; want 4 and 2", jobs, st.Connections, st.Lanes)
		}
		for k, vlan := range map[int]int{3: 10, 4: 20} {
			prefix := fmt.Sprintf("conn %d 10.0.0.1:40001->10.0.0.2:80 message ", k)
			var got, want []string
			for _, s := range l.lines {
				if strings.HasPrefix(s, prefix) {
					got = append(got, strings.TrimPrefix(s, prefix))
				}
			}
			for i := range msgs {
				want = append(want, fmt.Sprintf("c2s %q []", fmt.Sprintf("v%d c%d", vlan, i)), fmt.Sprintf("s2c %q []", fmt.Sprintf("v%d s%d", vlan, i)))
			}
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("-j %d: conn %d's messages:\n%s\nwant (VLAN %d's):\n%s", jobs, k, g, vlan, w)
			}
		}
		if t.Failed() {
			t.Logf("records:\n%s", strings.Join(l.lines, "\n"))
			return
		}
	}
}
