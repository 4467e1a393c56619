package reassembly

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// chattyAndSplit returns the packets of a real capture of plain traffic
// (node ws, 2 395 packets), and before them two VLAN tenants' connections
// on one 4-tuple that stay open: its 4-tuple split to the end.
func chattyAndSplit(b testing.TB) (plain, split []synth.Packet) {
	plain, err := synth.ReadPcap(filepath.Join("..", "testdata", "pcaps", "gen__ws-node-chatty-mtu.pcap"))
	if err != nil {
		b.Fatal(err)
	}
	// Each tenant's handshake and one message each way, no close.
	var opened []synth.Packet
	for n, isn := range []uint32{0x10000000, 0x70000000} {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(isn, isn+0x1234567).Open().Upgrade()
		c.Frame(true, wsparse.OpText, []byte("hello"))
		c.Frame(false, wsparse.OpText, []byte("world"))
		d := plain[0].TS.Add(-time.Second).Sub(c.Packets[0].TS) + time.Duration(n)*time.Millisecond
		opened = append(opened, synth.Wrapped(c.Packets, d, func(f []byte) []byte { return synth.VLAN(uint16(10*(n+1)), f) })...)
	}
	return plain, synth.ByTime(opened, plain)
}

// laneRouteRun returns a function that runs laneRoute n times on a
// segment of another connection (an ACK of the plain capture), with no
// 4-tuple split (split false) or while one is.
func laneRouteRun(tb testing.TB, split bool) func(n int) {
	plain, all := chattyAndSplit(tb)
	var pkts []synth.Packet
	if split {
		pkts = all[:len(all)-len(plain)]
	}
	a := New(nopSink{}, Options{Decoder: wsparse.Config{MaxPayload: 16 << 20, MaxMessage: 16 << 20}})
	for _, p := range pkts {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if split != (len(a.split) == 1) {
		tb.Fatalf("%d 4-tuples split, want split %v", len(a.split), split)
	}
	var st Stats
	netFlow, _, ok := a.dec.decode(1, plain[10].Data, len(plain[10].Data), plain[10].TS, &st)
	if !ok || a.dec.tcp.SYN {
		tb.Fatal("packet 10 of the plain capture: not a TCP segment without SYN")
	}
	return func(n int) {
		for range n {
			if a.laneRoute(netFlow, &a.dec.tcp) != netFlow {
				tb.Fatal("routed to a lane")
			}
		}
	}
}

// BenchmarkLaneRoute: what laneRoute costs a segment of another
// connection, with no 4-tuple split ("none") and while one is ("split").
func BenchmarkLaneRoute(b *testing.B) {
	for _, split := range []bool{false, true} {
		name := map[bool]string{false: "none", true: "split"}[split]
		b.Run(name, func(b *testing.B) {
			run := laneRouteRun(b, split)
			b.ResetTimer()
			run(b.N)
		})
	}
}

// TestLaneRouteLooksUp: while a 4-tuple is split, laneRoute looks split
// up for none of the segments of another connection whose ports have no
// bit in splitPorts (the 2 395 of a real capture of plain traffic), and
// once for each of the split 4-tuple's, either way round, which go to
// their tenant's lane. Each segment of another connection cost two
// look-ups before (route's, then strayOf's). Counted, not timed:
// BenchmarkLaneRoute measures what they cost.
func TestLaneRouteLooksUp(t *testing.T) {
	t.Parallel()
	plain, all := chattyAndSplit(t)
	split := all[:len(all)-len(plain)]
	a := New(nopSink{}, Options{Decoder: wsparse.Config{MaxPayload: 16 << 20, MaxMessage: 16 << 20}})
	for _, p := range split {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if len(a.split) != 1 {
		t.Fatalf("%d 4-tuples split, want 1", len(a.split))
	}
	a.splitGets = 0
	for _, p := range plain {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if len(a.split) != 1 {
		t.Fatalf("%d 4-tuples split after the plain capture, want 1", len(a.split))
	}
	if a.splitGets != 0 {
		t.Errorf("%d look-ups of split for %d segments of another connection, want 0", a.splitGets, len(plain))
	}
	// The split 4-tuple's segments in VLAN 20 (its lane 1), each way.
	var st Stats
	var dirs [2]int
	for _, p := range split {
		netFlow, _, ok := a.dec.decode(1, p.Data, len(p.Data), p.TS, &st)
		if !ok || a.dec.tcp.SYN || a.dec.tenant() != tenantVLAN<<24|20 {
			continue
		}
		gets := a.splitGets
		if nf := a.laneRoute(netFlow, &a.dec.tcp); laneOf(nf) != 1 {
			t.Errorf("%v: lane %d, want 1", a.dec.tcp.TransportFlow(), laneOf(nf))
		}
		if a.splitGets != gets+1 {
			t.Errorf("%v: %d look-ups of split, want 1", a.dec.tcp.TransportFlow(), a.splitGets-gets)
		}
		if a.dec.tcp.SrcPort == 40000 {
			dirs[0]++
		} else {
			dirs[1]++
		}
	}
	if dirs[0] == 0 || dirs[1] == 0 {
		t.Errorf("segments of the split 4-tuple's lane: %d c2s, %d s2c; want some each way", dirs[0], dirs[1])
	}
}

// BenchmarkSplitTuple measures what a split 4-tuple (two tenants'
// connections on one, lanes.go) costs every other connection's packets:
// a real capture of plain traffic (node ws, 2 395 packets) alone, and
// after two VLAN tenants opened connections on one 4-tuple that stay
// open to its end, so that each of its packets is looked at by route,
// answerOf and strayOf. The difference is that cost.
func BenchmarkSplitTuple(b *testing.B) {
	plain, split := chattyAndSplit(b)
	for _, tc := range []struct {
		name  string
		pkts  []synth.Packet
		lanes int
	}{{"plain", plain, 0}, {"split", split, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			var size int64
			for _, p := range tc.pkts {
				size += int64(len(p.Data))
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				a := New(nopSink{}, Options{Decoder: wsparse.Config{MaxPayload: 16 << 20, MaxMessage: 16 << 20}})
				for _, p := range tc.pkts {
					a.Packet(1, p.Data, p.TS, len(p.Data))
				}
				if got := len(a.split); got != tc.lanes {
					b.Fatalf("%d 4-tuples split at the end, want %d", got, tc.lanes)
				}
				a.Finish()
			}
		})
	}
}

// TestPortBits: the ports of a 4-tuple added are found either way round;
// others mostly not (a bit by the low byte of the ports' xor).
func TestPortBits(t *testing.T) {
	var p portBits
	p.add(40000, 80)
	p.add(443, 51234)
	for _, c := range []struct {
		sp, dp uint16
		want   bool
	}{{40000, 80, true}, {80, 40000, true}, {51234, 443, true}, {443, 51234, true},
		{40001, 80, false}, {80, 40002, false}, {47065, 33180, false}, {0, 0, false}} {
		if got := p.has(c.sp, c.dp); got != c.want {
			t.Errorf("%d -> %d: %v, want %v", c.sp, c.dp, got, c.want)
		}
	}
}
