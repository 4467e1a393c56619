package reassembly

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTunnelsSameRecords: two real captures (node ws over IPv4 and over
// IPv6), each packet wrapped in each tunnel, give the records of the
// capture as it was (-j 2 too for the nested tunnels), and nothing counted as not TCP.
// Without tunnel.go every wrapped packet is "not TCP" and no record comes.
func TestTunnelsSameRecords(t *testing.T) {
	t.Parallel()
	for _, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		pkts, err := synth.ReadPcap("../testdata/pcaps/" + fixture + ".pcap")
		if err != nil {
			t.Fatal(err)
		}
		want, wantSt := run(pkts, Options{}, 1)
		if len(want.lines) < 10 {
			t.Fatalf("%s: %d records as it is: %q", fixture, len(want.lines), want.lines)
		}
		for i, tc := range synth.Tunnels {
			wrapped := make([]synth.Packet, len(pkts))
			for i, p := range pkts {
				wrapped[i] = synth.Packet{TS: p.TS, Data: tc.Wrap(p.Data)}
			}
			jobs := []int{1}
			if i == len(synth.Tunnels)-1 { // the reader and the workers decode the same way
				jobs = append(jobs, 2)
			}
			for _, jobs := range jobs {
				got, st := run(wrapped, Options{}, jobs)
				if g, w := strings.Join(got.lines, "\n"), strings.Join(want.lines, "\n"); g != w {
					t.Errorf("%s in %s, -j %d: %d records, want %d:\n%s", fixture, tc.Name, jobs, len(got.lines), len(want.lines), g)
				}
				if st.NotTCP != 0 || st.NotIP != 0 || st.Malformed != 0 || st.Connections != wantSt.Connections {
					t.Errorf("%s in %s, -j %d: stats %+v", fixture, tc.Name, jobs, st)
				}
			}
		}
	}
}

// TestTunnelsNotOpened: what is not a tunnel wsdump opens, or is cut, or
// is nested too deep, is counted (not TCP, fragments), never decoded as
// something else.
func TestTunnelsNotOpened(t *testing.T) {
	t.Parallel()
	tcp := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 40000, 80, 1, 0, 0x02, nil)
	frame := synth.Ether(0x0800, tcp)
	vxlan := func(p []byte) []byte { return synth.UDP(51234, portVXLAN, linkCat(synth.VXLANHeader, p)) }
	nest := tcp
	for range maxTunnelDepth + 1 {
		nest = synth.IPv4(4, nest)
	}
	frag := func(ip []byte, off uint16, more bool) []byte {
		ip = append([]byte(nil), ip...)
		if more {
			off |= 0x2000
		}
		binary.BigEndian.PutUint16(ip[6:], off)
		return ip
	}
	gpe := func(next byte, p []byte) []byte {
		return synth.IPv4(17, synth.UDP(51234, portVXLANGPE, linkCat(synth.VXLANGPEHeader(next), p)))
	}
	// NSH headers nested n deep around tcp, under one more.
	nshNest := func(n int) []byte {
		p := synth.NSH(2, 1, nil, tcp)
		for range n {
			p = synth.NSH(2, 4, nil, p)
		}
		return p
	}
	sre := synth.SRE(2, []byte{198, 51, 100, 7, 198, 51, 100, 8})
	tests := []struct {
		name            string
		ip              []byte // an IPv4 or IPv6 packet in an Ethernet frame
		tcp, notTCP, fr uint64
	}{
		{"ip in ip", synth.IPv4(4, tcp), 1, 0, 0},
		{"nested as deep as opened", nest[20:], 1, 0, 0},
		{"nested one deeper", nest, 0, 1, 0},
		{"ipv6 in ip, but ipv4 inside", synth.IPv4(41, tcp), 0, 1, 0},
		// RFC 1701's source routes, passed over as tshark does: to the
		// entry of family 0 and length 0.
		{"gre routing", synth.IPv4(47, synth.GRE(synth.GRERouting, 0x0800, linkCat(sre, synth.SRE(0, nil), tcp))), 1, 0, 0},
		{"gre routing, family 0 length 4 goes on", synth.IPv4(47, synth.GRE(synth.GRERouting|synth.GREKey, 0x0800,
			linkCat(synth.SRE(0, []byte{1, 2, 3, 4}), synth.SRE(0, nil), tcp))), 1, 0, 0},
		{"gre routing, 2000 empty entries", synth.IPv4(47, synth.GRE(synth.GRERouting, 0x0800,
			linkCat(bytes.Repeat(synth.SRE(1, nil), 2000), synth.SRE(0, nil), tcp))), 1, 0, 0},
		{"gre routing, no last entry", synth.IPv4(47, synth.GRE(synth.GRERouting, 0x0800, sre)), 0, 1, 0},
		{"gre routing, entry past the end", synth.IPv4(47, synth.GRE(synth.GRERouting, 0x0800, synth.SRE(2, make([]byte, 255))[:40])), 0, 1, 0},
		{"gre routing, cut in an entry's header", synth.IPv4(47, synth.GRE(synth.GRERouting, 0x0800, []byte{0, 2, 0})), 0, 1, 0},
		{"gre mpls", synth.IPv4(47, synth.GRE(synth.GREChecksum, etherTypeMPLS, synth.MPLS([]uint32{16}, tcp))), 1, 0, 0},
		{"gre nsh", synth.IPv4(47, synth.GRE(0, etherTypeNSH, synth.NSH(1, 1, nil, tcp))), 1, 0, 0},
		{"mpls in ip, no bottom of stack", synth.IPv4(137, []byte{0, 0x10, 0, 64, 0, 0x20, 0, 64}), 0, 1, 0},
		{"mpls in udp", synth.IPv4(17, synth.UDP(51234, portMPLS, synth.MPLS([]uint32{16}, tcp))), 1, 0, 0},
		{"gre version 2", synth.IPv4(47, synth.GRE(2, 0x0800, tcp)), 0, 1, 0},
		{"gre version 1 not ppp", synth.IPv4(47, synth.GRE(synth.GREKey|1, 0x0800, tcp)), 0, 1, 0},
		{"gre cut in its header", synth.IPv4(47, synth.GRE(synth.GREKey, 0x0800, nil))[:26], 0, 1, 0},
		{"gre unknown protocol", synth.IPv4(47, synth.GRE(0, 0x0806, tcp)), 0, 1, 0},
		{"erspan III frame type 1", synth.IPv4(47, synth.GRE(synth.GRESeq, etherTypeERSPAN3, linkCat([]byte{0x20, 0, 0, 7, 0, 0, 0, 0, 0, 0, 1 << 2, 0}, frame))), 0, 1, 0},
		{"erspan II cut", synth.IPv4(47, synth.GRE(synth.GRESeq, etherTypeERSPAN2, []byte{0x10, 0})), 0, 1, 0},
		{"vxlan", synth.IPv4(17, vxlan(frame)), 1, 0, 0},
		{"vxlan cut", synth.IPv4(17, vxlan(frame)[:12]), 0, 1, 0},
		{"vxlan carrying arp", synth.IPv4(17, vxlan(synth.Ether(0x0806, make([]byte, 28)))), 0, 1, 0},
		{"udp on another port", synth.IPv4(17, synth.UDP(51234, 4788, linkCat(make([]byte, 8), frame))), 0, 1, 0},
		{"geneve version 1", synth.IPv4(17, synth.UDP(51234, portGENEVE, linkCat([]byte{0x40, 0, 0x65, 0x58, 0, 0, 7, 0}, frame))), 0, 1, 0},
		{"geneve options past the end", synth.IPv4(17, synth.UDP(51234, portGENEVE, []byte{0x3f, 0, 0x65, 0x58, 0, 0, 7, 0})), 0, 1, 0},
		{"vxlan-gpe nsh", gpe(4, synth.NSH(1, 1, nil, tcp)), 1, 0, 0},
		{"vxlan-gpe nsh, md type 1 says length 2", gpe(4, linkCat([]byte{0x0f, 0xc2, 1, 1, 0, 0, 42, 255}, make([]byte, 16), tcp)), 1, 0, 0},
		{"vxlan-gpe nsh, md type 2 says length 0", gpe(4, linkCat([]byte{0x0f, 0xc0, 2, 1, 0, 0, 42, 255}, tcp)), 1, 0, 0},
		{"vxlan-gpe nsh, md type 15 says length 0", gpe(4, linkCat([]byte{0x0f, 0xc0, 15, 1}, tcp)), 1, 0, 0},
		{"vxlan-gpe nsh, length past the end", gpe(4, linkCat([]byte{0x0f, 0xff, 2, 1, 0, 0, 42, 255}, tcp)), 0, 1, 0},
		{"vxlan-gpe nsh, cut", gpe(4, []byte{0x0f, 0xc6, 1}), 0, 1, 0},
		{"vxlan-gpe nsh, experimental next protocol", gpe(4, synth.NSH(1, 0x41, nil, tcp)), 0, 1, 0},
		{"vxlan-gpe nsh in nsh, as deep as opened", gpe(4, nshNest(maxLinkNest-1)), 1, 0, 0},
		{"vxlan-gpe nsh in nsh, one deeper", gpe(4, nshNest(maxLinkNest)), 0, 1, 0},
		{"vxlan-gpe mpls", gpe(5, synth.MPLS([]uint32{16, 17}, tcp)), 1, 0, 0},
		{"vxlan-gpe next protocol 6", gpe(6, tcp), 0, 1, 0},
		{"gre first fragment", frag(synth.IPv4(47, synth.GRE(0, 0x0800, tcp)), 0, true), 0, 0, 1},
		{"gre later fragment", frag(synth.IPv4(47, tcp), 100, false), 0, 0, 1},
		{"vxlan first fragment", frag(synth.IPv4(17, vxlan(frame)), 0, true), 0, 0, 1},
		// Reassembling is not a tunnel: a fragment of a packet nested as
		// deep as opened is opened as deep.
		{"ipv6 atomic fragment, nested as deep as opened", synth.IPv6(44, linkCat([]byte{4, 0, 0, 0, 0, 0, 0, 1}, nest[40:])), 1, 0, 1},
		// A fragment header in the datagram it made, at the same IP layer
		// (IPv6 through AH), is not reassembled again: each time would
		// copy the datagram, 4 000 times in 64 KiB.
		{"ipv6 fragment in its own datagram", synth.IPv6(44, linkCat([]byte{51, 0, 0, 0, 0, 0, 0, 1}, []byte{44, 0, 0, 0, 0, 0, 0, 0},
			[]byte{6, 0, 0, 0, 0, 0, 0, 2}, tcp[20:])), 0, 1, 1},
		{"ipv6 fragment of destination options, then tcp", synth.IPv6(44, linkCat([]byte{60, 0, 0, 0, 0, 0, 0, 4}, []byte{6, 0, 1, 4, 0, 0, 0, 0}, tcp[20:])), 1, 0, 1},
		// gopacket passes over a hop-by-hop header itself.
		{"ipv6 hop-by-hop, then tcp", synth.IPv6(0, linkCat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcp[20:])), 1, 0, 0},
		{"ipv6 hop-by-hop, then a fragment", synth.IPv6(0, linkCat([]byte{44, 0, 1, 4, 0, 0, 0, 0}, []byte{6, 0, 0, 0, 0, 0, 0, 3}, tcp[20:])), 1, 0, 1},
	}
	for _, tc := range tests {
		var d headerDecoder
		var st Stats
		etherType := uint16(0x0800)
		if tc.ip[0]>>4 == 6 {
			etherType = 0x86dd
		}
		_, _, ok := d.decode(linkTypeEthernet, synth.Ether(etherType, tc.ip), len(tc.ip)+14, time.Time{}, &st)
		var got uint64
		if ok {
			got = 1
		}
		// Too deep is counted as such, not as not TCP (until a hostile
		// review it was, and said as UDP).
		var deep uint64
		if tc.name == "nested one deeper" {
			deep, tc.notTCP = 1, 0
		}
		if got != tc.tcp || st.NotTCP != tc.notTCP || st.TooDeep != deep || st.Fragments != tc.fr || st.NotIP != 0 || st.Malformed != 0 {
			t.Errorf("%s: tcp %d, stats %+v; want tcp %d, not TCP %d, fragments %d", tc.name, got, st, tc.tcp, tc.notTCP, tc.fr)
		}
	}
}

// TestLinkEncapsulations: MPLS and PPPoE at the link layer, and what
// they carry that is not IP.
func TestLinkEncapsulations(t *testing.T) {
	v4, v6 := linkIPv4Packet, linkIPv6Packet
	mpls := func(p []byte) []byte { return synth.Ether(etherTypeMPLS, synth.MPLS([]uint32{16}, p)) }
	// pwNest is n MPLS stacks, each with a control word and an Ethernet
	// frame, around v4.
	pwNest := func(n int) []byte {
		p := synth.Ether(0x0800, v4)
		for range n {
			p = mpls(linkCat(synth.PWControlWord, p))
		}
		return p
	}
	tests := []struct {
		name string
		data []byte
		want []byte
	}{
		{"mpls one label", synth.Ether(etherTypeMPLS, linkCat([]byte{0, 0x10, 1, 64}, v4)), v4},
		{"mpls multicast, vlan", linkEthernetFrame([]uint16{0x8100}, etherTypeMPLSMulti, linkCat([]byte{0, 0x10, 0, 64, 0, 0x20, 1, 64}, v6)), v6},
		{"mpls no bottom of stack", synth.Ether(etherTypeMPLS, []byte{0, 0x10, 0, 64, 0, 0x20, 0, 64}), nil},
		// Pseudowires (RFC 4448) as tshark 4.0 opens them (packet-mpls.c):
		// by the first nibble after the stack; 0 is Ethernet, after a
		// control word or not (told by what follows, tunnel.go).
		{"mpls pseudowire, control word", mpls(linkCat(synth.PWControlWord, synth.Ether(0x0800, v4))), v4},
		{"mpls pseudowire, control word, vlan", mpls(linkCat(synth.PWControlWord, linkEthernetFrame([]uint16{0x8100}, etherTypeIPv6, v6))), v6},
		{"mpls pseudowire, no control word", mpls(synth.Ether(0x86dd, v6)), v6},
		{"mpls pseudowire, no control word, vlan", mpls(linkEthernetFrame([]uint16{0x8100}, etherTypeIPv4, v4)), v4},
		{"mpls pseudowire, control word, says ipv4 holds ipv6", mpls(linkCat(synth.PWControlWord, synth.Ether(0x0800, v6))), nil},
		{"mpls pseudowire, control word, arp", mpls(linkCat(synth.PWControlWord, synth.Ether(0x0806, v4))), nil},
		{"mpls pseudowire, cut in the frame", mpls(linkCat(synth.PWControlWord, synth.Ether(0x0800, nil))), nil},
		{"mpls pseudowire, destination nibble 5", mpls(synth.WithMACs(synth.Ether(0x0800, v4), [6]byte{0x52, 0x54, 0, 0, 0, 1}, [6]byte{})), nil},
		{"mpls pseudowire in pseudowire, as deep as opened", pwNest(maxLinkNest), v4},
		{"mpls pseudowire in pseudowire, one deeper", pwNest(maxLinkNest + 1), nil},
		{"mpls, nothing after the stack", mpls(nil), nil},
		{"mpls, nibble 2", mpls(linkCat([]byte{0x20}, v4)), nil},
		{"mpls associated channel ipv4", mpls(linkCat([]byte{0x10, 0, 0, 0x21}, v4)), v4},
		{"mpls associated channel ipv6 under gal", synth.Ether(etherTypeMPLS, synth.MPLS([]uint32{16, 13}, linkCat([]byte{0x10, 0, 0, 0x57}, v6))), v6},
		{"mpls associated channel bfd", mpls(linkCat([]byte{0x10, 0, 0, 0x07}, v4)), nil},
		{"mpls associated channel cut", mpls([]byte{0x10, 0, 0}), nil},
		{"nsh ipv4", synth.Ether(etherTypeNSH, synth.NSH(1, 1, nil, v4)), v4},
		{"nsh ethernet in vlan", linkEthernetFrame([]uint16{0x8100}, etherTypeNSH, synth.NSH(2, 3, []byte{0, 1, 2, 0}, synth.Ether(0x86dd, v6))), v6},
		{"nsh says ipv6 holds ipv4", synth.Ether(etherTypeNSH, synth.NSH(1, 2, nil, v4)), nil},
		{"pppoe ipv6", synth.Ether(etherTypePPPoE, linkCat([]byte{0x11, 0, 0, 9, 0, 42, 0, 0x57}, v6)), v6},
		{"pppoe discovery code", synth.Ether(etherTypePPPoE, linkCat([]byte{0x11, 0x09, 0, 9, 0, 42, 0, 0x21}, v4)), nil},
		{"pppoe lcp", synth.Ether(etherTypePPPoE, linkCat([]byte{0x11, 0, 0, 9, 0, 42, 0xc0, 0x21}, v4)), nil},
		{"pppoe says ipv4, holds ipv6", synth.Ether(etherTypePPPoE, linkCat([]byte{0x11, 0, 0, 9, 0, 42, 0, 0x21}, v6)), nil},
	}
	for _, tc := range tests {
		got, ok := NetworkPayload(linkTypeEthernet, tc.data)
		if ok != (tc.want != nil) || string(got) != string(tc.want) {
			t.Errorf("%s: %x %v, want %x", tc.name, got, ok, tc.want)
		}
	}
}
