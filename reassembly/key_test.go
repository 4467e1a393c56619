package reassembly

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestKeyOfAddr: a stream keeps its addresses, not its flow key, and makes
// the key from them: it must be the key the packet decoder makes, for IPv4
// and IPv6 (an IPv4-mapped IPv6 address stays IPv6).
func TestKeyOfAddr(t *testing.T) {
	for _, pair := range [][2]string{
		{"192.0.2.1:40000", "198.51.100.2:80"},
		{"[2001:db8::1]:40000", "[2001:db8::2]:443"},
		{"[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.2]:65535"},
	} {
		c := synth.New(pair[0], pair[1]).Open()
		for _, p := range c.Packets {
			pkt := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
			k := flowKey{pkt.NetworkLayer().NetworkFlow(), pkt.TransportLayer().TransportFlow()}
			if got := keyOf(addrOf(k)); got != k {
				t.Errorf("%v: key %v from the addresses %v, want %v", pair, got, addrOf(k), k)
			}
			// The packed addresses a stream holds give the same key and
			// addresses.
			if p := pairOf(k); p.key() != k || p.get() != addrOf(k) {
				t.Errorf("%v: packed: key %v, addresses %v, want %v, %v", pair, p.key(), p.get(), k, addrOf(k))
			}
		}
	}
}
