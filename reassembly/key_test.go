package reassembly

import (
	"encoding/binary"
	"net/netip"
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
			// The packed addresses a stream holds give the same key and
			// the addresses of the packets.
			s := &stream{}
			s.setAddr(k)
			if s.key() != k || s.addrs() != addrOf(k) {
				t.Errorf("%v: packed: key %v, addresses %v, want %v, %v", pair, s.key(), s.addrs(), k, addrOf(k))
			}
		}
	}
}

// addrOf returns the addresses of a flow key's sender and receiver, from
// the key's endpoints: the reference for stream.addrs.
func addrOf(k flowKey) [2]netip.AddrPort {
	src, dst := k.net.Endpoints()
	sp, dp := k.tcp.Endpoints()
	ep := func(ip, port gopacket.Endpoint) netip.AddrPort {
		addr, _ := netip.AddrFromSlice(ip.Raw())
		return netip.AddrPortFrom(addr, binary.BigEndian.Uint16(port.Raw()))
	}
	return [2]netip.AddrPort{ep(src, sp), ep(dst, dp)}
}
