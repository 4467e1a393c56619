package reassembly

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestForgetClosedTiesSameEveryRun: more closed connections remembered
// than --max-connections allows, all closed at the same time: which are
// forgotten must not depend on map order. Before, the ties were dropped in
// map order, and a merge of the repo's captures with --max-connections 1
// numbered its connections differently from one run to the next. (The
// bound is checked before a packet, by maybeFlush.)
func TestForgetClosedTiesSameEveryRun(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	var first []int
	for run := 0; run < 20; run++ {
		a := New(&logSink{}, Options{MaxConnections: 3})
		for i := 0; i < 12; i++ {
			src := netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", i+1)).AsSlice()
			dst := netip.MustParseAddr("192.0.2.2").AsSlice()
			k := flowKey{
				gopacket.NewFlow(layers.EndpointIPv4, src, dst),
				gopacket.NewFlow(layers.EndpointTCPPort, []byte{0x9c, 0x40}, []byte{0, 80}),
			}
			a.closed[k] = closedConn{id: i + 1, at: at, canon: true}
			a.closed[k.reverse()] = closedConn{id: i + 1, at: at}
		}
		a.maybeFlush(at)
		var kept []int
		for _, c := range a.closed {
			kept = append(kept, c.id*2+map[bool]int{true: 1}[c.canon])
		}
		slices.Sort(kept)
		if run == 0 {
			first = kept
			if len(kept) != 3 {
				t.Fatalf("kept %d entries, want 3 (--max-connections)", len(kept))
			}
			continue
		}
		if !slices.Equal(kept, first) {
			t.Fatalf("run %d kept %v, run 0 kept %v", run, kept, first)
		}
	}
	// Ties are kept by flow key, the same with -j (connection numbers are
	// not): the server's entries of the three highest client addresses.
	if want := []int{20, 22, 24}; !slices.Equal(first, want) {
		t.Errorf("kept %v, want %v", first, want)
	}
}
