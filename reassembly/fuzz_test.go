package reassembly

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// fuzzLinks are the link types FuzzNetworkPayload picks from (by index), and
// one it does not support.
var fuzzLinks = []uint32{linkTypeNull, linkTypeEthernet, linkTypeRawDLT12, linkTypeRawDLT14, linkTypeRaw,
	linkTypeLoop, linkTypeLinuxSLL, linkTypeIPv4, linkTypeIPv6, linkTypeLinuxSLL2, 147}

// FuzzNetworkPayload: link decoding returns a slice of the packet whose
// version agrees with the link layer, and the whole packet path (IP, TCP,
// reassembly, decoding) takes any bytes. Each input is one or more packets:
// a byte picks the link type, two give the length.
func FuzzNetworkPayload(f *testing.F) {
	ip4tcp := linkCat([]byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2},
		[]byte{0xc3, 0x50, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0})
	f.Add(fuzzPackets(1, linkEthernetFrame([]uint16{0x8100}, etherTypeIPv4, ip4tcp)))
	f.Add(fuzzPackets(0, linkFamily(binary.LittleEndian, afINet, ip4tcp)))
	f.Add(fuzzPackets(9, linkSLL2Frame(etherTypeIPv4, ip4tcp)))
	f.Add(fuzzPackets(6, linkSLLFrame(etherTypeIPv6, []byte{0x60, 0, 0, 0, 0, 0, 0x2c, 0})))
	seg := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 50000, 80, 1, 0, 0x18, make([]byte, 100))
	f.Add(fuzzPackets(7, synth.FragmentIP(seg, 32, 1)...)) // defrag.go
	f.Add(fuzzPackets(8, synth.FragmentIP(synth.IPv6(6, seg[20:]), 40, 1)...))
	hbh := synth.IPv6(0, linkCat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, seg[20:]))
	f.Add(fuzzPackets(8, hbh))
	binary.BigEndian.PutUint16(hbh[4:], 4) // shorter than its hop-by-hop header
	f.Add(fuzzPackets(8, hbh))
	for _, tc := range synth.Tunnels { // tunnel.go: each tunnel around the segment
		f.Add(fuzzPackets(1, tc.Wrap(linkEthernetFrame(nil, etherTypeIPv4, ip4tcp))))
	}
	// Segments past a hole, and later ones over them (overlap.go).
	c := synth.New("10.0.0.1:50000", "10.0.0.2:80").Open().Upgrade().Skip(false, 22)
	fr := synth.WSFrame(false, wsparse.OpText, []byte("0123456789abcdefghij"))
	c.Retransmit(false, 18, fr[4:14]).Retransmit(false, 6, fr[16:18]).Retransmit(false, 16, bytes.ToUpper(fr[6:22])).Retransmit(false, 22, fr[:4])
	var ofo [][]byte
	for _, p := range c.Packets {
		ofo = append(ofo, p.Data)
	}
	f.Add(fuzzPackets(1, ofo...))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzPacketPath(t, fuzzLinks, in) })
}

// fuzzSerialLinks are the link types FuzzSerialLinks picks from.
var fuzzSerialLinks = []uint32{linkTypePPP, linkTypePPPHDLC, linkTypeCHDLC, linkTypeNFLOG}

// FuzzSerialLinks: FuzzNetworkPayload's checks over PPP, Cisco HDLC and
// NFLOG (linkserial.go), whose parsers walk attributes (little-endian:
// capture swaps those of big-endian files).
func FuzzSerialLinks(f *testing.F) {
	ip4tcp := linkCat([]byte{0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2},
		[]byte{0xc3, 0x50, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0})
	ip6tcp := synth.IPv6(6, ip4tcp[20:])
	f.Add(fuzzPackets(0, linkCat([]byte{0xff, 0x03, 0x00, 0x21}, ip4tcp)))
	f.Add(fuzzPackets(0, linkCat([]byte{0x57}, ip6tcp)))
	f.Add(fuzzPackets(1, linkCat([]byte{0x8f, 0, 0x86, 0xdd}, ip6tcp)))
	f.Add(fuzzPackets(2, linkCat([]byte{0x0f, 0, 0x88, 0x47, 0, 0x10, 1, 64}, ip4tcp)))
	f.Add(fuzzPackets(3, nflogRecord(binary.LittleEndian, linuxAFInet, ip4tcp), nflogRecord(binary.BigEndian, linuxAFInet6, ip6tcp)))
	f.Add(fuzzPackets(3, linkCat([]byte{2, 0, 0, 1}, []byte{3, 0, 1, 0}, nflogTLV(binary.LittleEndian, nflogPayloadAt, ip4tcp))))
	f.Fuzz(func(t *testing.T, in []byte) { fuzzPacketPath(t, fuzzSerialLinks, in) })
}

// fuzzPacketPath runs FuzzNetworkPayload's framing (a byte picks the link
// type from links, two give the length) through NetworkPayload and the
// assembler.
func fuzzPacketPath(t *testing.T, links []uint32, in []byte) {
	a := New(nopSink{}, Options{})
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(in) >= 3 {
		link := links[int(in[0])%len(links)]
		n := min(int(in[1])<<8|int(in[2]), len(in)-3)
		data := in[3 : 3+n]
		in = in[3+n:]
		ip, ok := NetworkPayload(link, data)
		if ok {
			if len(ip) == 0 || ip[0]>>4 != 4 && ip[0]>>4 != 6 || !SupportedLink(link) {
				t.Fatalf("link %d: ok with %x", link, ip)
			}
			// NFLOG's payload attribute may be followed by padding
			// or others: it is in the packet, not always its tail.
			if link == linkTypeNFLOG && !aliases(data, ip) ||
				link != linkTypeNFLOG && (&ip[len(ip)-1] != &data[len(data)-1] || !bytes.HasSuffix(data, ip)) {
				t.Fatalf("link %d: payload does not alias the packet's tail", link)
			}
		}
		a.Packet(link, data, ts, len(data))
		ts = ts.Add(300 * time.Millisecond)
	}
	a.Finish()
	if a.oooHeld != 0 {
		t.Fatalf("%d bytes of out-of-order copies held after Finish", a.oooHeld)
	}
	st := a.Stats()
	// A datagram reassembled is one more packet to tell.
	if st.Malformed+st.NotIP+st.NotTCP+st.TooDeep+st.Fragments > st.Packets+st.Defragmented || st.FragmentsLost+st.FragmentsLate > st.Fragments {
		t.Fatalf("stats: %+v", st)
	}
}

// FuzzTunnelPayload: what a tunnel carries is a slice of its end, an IPv4
// or IPv6 packet, or nothing.
func FuzzTunnelPayload(f *testing.F) {
	ip4 := linkIPv4Packet
	for _, tc := range synth.Tunnels {
		frame := tc.Wrap(linkEthernetFrame(nil, etherTypeIPv4, ip4))
		outer := frame[ethernetHeaderLen:]
		switch {
		case binary.BigEndian.Uint16(frame[12:]) == etherTypeMPLS: // at the link layer: seeds of MPLS in IP
			f.Add(byte(ipProtoMPLS), outer)
		case outer[0]>>4 == ipVersion4: // PPPoE is not an IP tunnel
			f.Add(outer[9], outer[20:])
		case outer[0]>>4 == ipVersion6:
			f.Add(outer[6], outer[40:])
		}
	}
	// Hostile lengths: GRE source routes past the end or never ending,
	// NSH longer than its packet, MPLS and NSH nested past maxLinkNest.
	f.Add(byte(47), synth.GRE(synth.GRERouting, 0x0800, linkCat(synth.SRE(2, make([]byte, 255)), ip4)))
	f.Add(byte(47), synth.GRE(synth.GRERouting, 0x0800, bytes.Repeat(synth.SRE(1, nil), 100)))
	f.Add(byte(17), synth.UDP(1, portVXLANGPE, linkCat(synth.VXLANGPEHeader(4), []byte{0x0f, 0xff, 2, 1, 0, 0, 42, 255}, ip4)))
	nest := ip4
	for range maxLinkNest + 1 {
		nest = synth.NSH(2, 4, nil, nest)
	}
	f.Add(byte(17), synth.UDP(1, portVXLANGPE, linkCat(synth.VXLANGPEHeader(4), nest)))
	nest = synth.Ether(0x0800, ip4)
	for range maxLinkNest + 1 {
		nest = synth.Ether(etherTypeMPLS, synth.MPLS([]uint32{100}, linkCat(synth.PWControlWord, nest)))
	}
	f.Add(byte(ipProtoMPLS), nest[ethernetHeaderLen:])
	f.Fuzz(func(t *testing.T, proto byte, p []byte) {
		ip, ok := tunnelPayload(layers.IPProtocol(proto), p)
		if !ok {
			return
		}
		if len(ip) == 0 || ip[0]>>4 != ipVersion4 && ip[0]>>4 != ipVersion6 {
			t.Fatalf("proto %d: ok with %x", proto, ip)
		}
		if &ip[len(ip)-1] != &p[len(p)-1] {
			t.Fatalf("proto %d: the inner packet is not the tail of the payload", proto)
		}
		if !tunnelProto(layers.IPProtocol(proto)) {
			t.Fatalf("proto %d: opened, but tunnelProto says no tunnel", proto)
		}
	})
}

// fuzzPackets encodes packets in FuzzNetworkPayload's framing.
func fuzzPackets(link byte, pkts ...[]byte) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, link, byte(len(p)>>8), byte(len(p)))
		b = append(b, p...)
	}
	return b
}

type nopSink struct{}

func (nopSink) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (nopSink) Frame(*wsparse.Conn, *wsparse.Frame)         {}
func (nopSink) Message(*wsparse.Conn, *wsparse.Message)     {}
func (nopSink) End(*wsparse.Conn, *wsparse.Summary)         {}
func (nopSink) Put(*record.Record)                          {}
