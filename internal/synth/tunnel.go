package synth

import "encoding/binary"

// Tunnel headers around packets, as mirrored and overlay traffic carries
// them. Outer headers hold what a decoder reads (lengths, protocols,
// flags) and no checksums. The numbers are written out here, not taken
// from the decoder under test.

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

// IPv4 is an IPv4 header (198.51.100.1 to .2) of protocol proto before
// payload.
func IPv4(proto byte, payload []byte) []byte {
	h := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2}
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	return cat(h, payload)
}

// IPv6 is an IPv6 header (2001:db8:: to 2001:db8::, no extension
// headers) with next header next before payload.
func IPv6(next byte, payload []byte) []byte {
	h := append([]byte{0x60, 0, 0, 0, 0, 0, next, 64}, make([]byte, 32)...)
	h[8], h[9], h[10], h[11] = 0x20, 0x01, 0x0d, 0xb8
	h[24], h[25], h[26], h[27] = 0x20, 0x01, 0x0d, 0xb8
	h[39] = 1
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	return cat(h, payload)
}

// UDP is a UDP header before payload.
func UDP(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), []byte{0, 0}, payload)
}

// GRE flags (RFC 2784, 2890; version 1 and its acknowledgment: RFC 2637).
const (
	GREChecksum = 0x8000
	GRERouting  = 0x4000
	GREKey      = 0x2000
	GRESeq      = 0x1000
	GREAck      = 0x0080
)

// GRE is a GRE header (flags include the version) before payload, with 4
// bytes for the checksum and offset when the checksum or routing flag is
// set, and 4 for each of the key, sequence and acknowledgment flags set.
// With the routing flag, payload starts with the source route entries
// (SRE).
func GRE(flags, proto uint16, payload []byte) []byte {
	b := cat(be16(flags), be16(proto))
	if flags&(GREChecksum|GRERouting) != 0 {
		b = append(b, 0xa5, 0xa5, 0, 0)
	}
	for _, f := range []uint16{GREKey, GRESeq, GREAck} {
		if flags&f != 0 {
			b = append(b, 0xa5, 0xa5, 0xa5, 0xa5)
		}
	}
	return cat(b, payload)
}

// SRE is a GRE source route entry (RFC 1701): address family, offset 0,
// length, routing information. SRE(0, nil) ends the list.
func SRE(family uint16, info []byte) []byte {
	return cat(be16(family), []byte{0, byte(len(info))}, info)
}

// MPLS is an MPLS label stack (TTL 64, the last label the bottom of the
// stack) before payload.
func MPLS(labels []uint32, payload []byte) []byte {
	var b []byte
	for i, l := range labels {
		e := l<<12 | 64
		if i == len(labels)-1 {
			e |= 1 << 8
		}
		b = binary.BigEndian.AppendUint32(b, e)
	}
	return cat(b, payload)
}

// PWControlWord is an MPLS pseudowire's control word (RFC 4385, 4448):
// first nibble 0, flags and length 0, sequence number 7.
var PWControlWord = []byte{0, 0, 0, 7}

// NSH is a network service header (RFC 8300) of MD type 1 (16 bytes of
// context headers, length 6) or 2 (the given context, length to fit),
// service path 42 and index 255, before payload of next protocol next (1
// IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS).
func NSH(mdType, next byte, context, payload []byte) []byte {
	if mdType == 1 {
		context = make([]byte, 16)
	}
	words := 2 + len(context)/4
	h := []byte{0x0f, 0xc0 | byte(words), mdType, next, 0, 0, 42, 255} // TTL 63
	return cat(h, context, payload)
}

// VXLANGPEHeader is VXLAN-GPE's header (next protocol and instance
// flags set) with next protocol next, VNI 42.
func VXLANGPEHeader(next byte) []byte { return []byte{0x0c, 0, 0, next, 0, 0, 42, 0} }

// WithMACs is a copy of an Ethernet frame with its destination and
// source addresses set.
func WithMACs(f []byte, dst, src [6]byte) []byte {
	return cat(dst[:], src[:], f[12:])
}

// PseudowireMACs are Ethernet addresses in no vendor's prefix (locally
// administered), so that tshark, which tells a pseudowire's control word
// by known prefixes, reads the control word before them.
var PseudowireMACs = [2][6]byte{{0x0a, 0x0b, 0xfe, 0xfe, 0xfe, 1}, {0x0a, 0x0b, 0xfe, 0xfe, 0xfe, 2}}

// Ether is an Ethernet frame of the given EtherType.
func Ether(etherType uint16, payload []byte) []byte {
	return cat([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}, be16(etherType), payload)
}

// VXLANHeader is VXLAN's header with VNI 42 (RFC 7348).
var VXLANHeader = []byte{8, 0, 0, 0, 0, 0, 42, 0}

// Tunnel wraps an Ethernet frame carrying an IPv4 or IPv6 packet in a
// tunnel, as the Ethernet frame of the outer packet.
type Tunnel struct {
	Name string
	Wrap func(frame []byte) []byte
}

// Tunnels are the tunnels wsdump opens, one of each way to carry a packet,
// and the headers it passes over to reach TCP (IPv6 extension headers,
// IPsec AH).
var Tunnels = []Tunnel{
	{"ip in ip", func(f []byte) []byte { return Ether(0x0800, IPv4(ipProto(f), inner(f))) }},
	{"ip in ipv6", func(f []byte) []byte { return Ether(0x86dd, IPv6(ipProto(f), inner(f))) }},
	{"gre ip, checksum key sequence", func(f []byte) []byte {
		return Ether(0x0800, IPv4(47, GRE(GREChecksum|GREKey|GRESeq, etherType(f), inner(f))))
	}},
	{"gretap", func(f []byte) []byte { return Ether(0x0800, IPv4(47, GRE(GREKey, 0x6558, f))) }},
	{"erspan I", func(f []byte) []byte { return Ether(0x0800, IPv4(47, GRE(0, 0x88be, f))) }},
	{"erspan II", func(f []byte) []byte {
		hdr := []byte{0x10, 0x64, 0, 7, 0, 0, 0, 1} // version 1, VLAN 100, session 7, index 1
		return Ether(0x0800, IPv4(47, GRE(GRESeq, 0x88be, cat(hdr, f))))
	}},
	{"erspan III, subheader", func(f []byte) []byte {
		hdr := []byte{0x20, 0x64, 0, 7, 1, 2, 3, 4, 0, 0, 0, 1} // version 2, timestamp, frame type 0, O set
		return Ether(0x86dd, IPv6(47, GRE(GRESeq, 0x22eb, cat(hdr, make([]byte, 8), f))))
	}},
	{"erspan III ip", func(f []byte) []byte {
		hdr := []byte{0x20, 0x64, 0, 7, 1, 2, 3, 4, 0, 0, 2 << 2, 0} // frame type 2: IP
		return Ether(0x0800, IPv4(47, GRE(GRESeq, 0x22eb, cat(hdr, inner(f)))))
	}},
	{"vxlan", func(f []byte) []byte { return Ether(0x0800, IPv4(17, UDP(51234, 4789, cat(VXLANHeader, f)))) }},
	{"vxlan from its port, over ipv6", func(f []byte) []byte {
		return Ether(0x86dd, IPv6(17, UDP(4789, 51234, cat(VXLANHeader, f))))
	}},
	{"vxlan-gpe ip", func(f []byte) []byte {
		next := byte(1) // IPv4; 2: IPv6
		if ipProto(f) == 41 {
			next = 2
		}
		return Ether(0x0800, IPv4(17, UDP(51234, 4790, cat([]byte{0x0c, 0, 0, next, 0, 0, 42, 0}, inner(f)))))
	}},
	{"vxlan-gpe ethernet", func(f []byte) []byte {
		return Ether(0x0800, IPv4(17, UDP(51234, 4790, cat([]byte{0x0c, 0, 0, 3, 0, 0, 42, 0}, f))))
	}},
	{"geneve, options", func(f []byte) []byte {
		return Ether(0x0800, IPv4(17, UDP(51234, 6081, cat([]byte{2, 0, 0x65, 0x58, 0, 0, 7, 0}, make([]byte, 8), f))))
	}},
	{"geneve ip", func(f []byte) []byte {
		return Ether(0x0800, IPv4(17, UDP(51234, 6081, cat([]byte{0, 0}, be16(etherType(f)), []byte{0, 0, 7, 0}, inner(f)))))
	}},
	{"pptp, hdlc", func(f []byte) []byte {
		return Ether(0x0800, IPv4(47, GRE(GREKey|GRESeq|GREAck|1, 0x880b, cat([]byte{0xff, 0x03}, be16(pppProto(f)), inner(f)))))
	}},
	{"pptp, compressed", func(f []byte) []byte {
		return Ether(0x0800, IPv4(47, GRE(GREKey|1, 0x880b, cat([]byte{byte(pppProto(f))}, inner(f)))))
	}},
	{"mpls", func(f []byte) []byte {
		return Ether(0x8847, cat([]byte{0, 0x10, 0, 64, 0, 0x20, 1, 64}, inner(f))) // two labels
	}},
	{PseudowireCW, func(f []byte) []byte {
		return Ether(0x8847, MPLS([]uint32{100, 200}, cat(PWControlWord, WithMACs(f, PseudowireMACs[0], PseudowireMACs[1]))))
	}},
	{PseudowireNoCW, func(f []byte) []byte { return Ether(0x8847, MPLS([]uint32{100}, f)) }},
	{PseudowireCWKnownMACs, func(f []byte) []byte { return Ether(0x8847, MPLS([]uint32{100}, cat(PWControlWord, f))) }},
	{PseudowireNoCWLocalMACs, func(f []byte) []byte {
		return Ether(0x8847, MPLS([]uint32{100}, WithMACs(f, PseudowireMACs[0], PseudowireMACs[1])))
	}},
	{"mpls in ip", func(f []byte) []byte { return Ether(0x0800, IPv4(137, MPLS([]uint32{100}, inner(f)))) }},
	{"mpls in udp, pseudowire", func(f []byte) []byte {
		pw := cat(PWControlWord, WithMACs(f, PseudowireMACs[0], PseudowireMACs[1]))
		return Ether(0x86dd, IPv6(17, UDP(51234, 6635, MPLS([]uint32{100}, pw))))
	}},
	{"gre mpls pseudowire, routing", func(f []byte) []byte {
		pw := cat(PWControlWord, WithMACs(f, PseudowireMACs[0], PseudowireMACs[1]))
		sre := cat(SRE(0x0800, []byte{198, 51, 100, 7, 198, 51, 100, 8}), SRE(0, nil))
		return Ether(0x0800, IPv4(47, GRE(GRERouting|GREKey|GRESeq, 0x8847, cat(sre, MPLS([]uint32{100, 200}, pw)))))
	}},
	{"gre nsh, checksum routing", func(f []byte) []byte {
		sre := cat(SRE(1, []byte{1, 2, 3, 4}), SRE(0, []byte{5, 6, 7, 8}), SRE(0, nil)) // an entry of family 0 and length 4 does not end the list
		return Ether(0x0800, IPv4(47, GRE(GREChecksum|GRERouting, 0x894f, cat(sre, NSH(1, 3, nil, f)))))
	}},
	{"vxlan-gpe nsh ip", func(f []byte) []byte {
		next := byte(1) // IPv4; 2: IPv6
		if ipProto(f) == 41 {
			next = 2
		}
		return Ether(0x0800, IPv4(17, UDP(51234, 4790, cat(VXLANGPEHeader(4), NSH(1, next, nil, inner(f))))))
	}},
	{"vxlan-gpe nsh, md type 2, nsh, ethernet", func(f []byte) []byte {
		nsh := NSH(2, 4, []byte{0, 1, 2, 4, 0xde, 0xad, 0xbe, 0xef}, NSH(2, 3, nil, f))
		return Ether(0x0800, IPv4(17, UDP(51234, 4790, cat(VXLANGPEHeader(4), nsh))))
	}},
	{"vxlan-gpe mpls", func(f []byte) []byte {
		return Ether(0x86dd, IPv6(17, UDP(51234, 4790, cat(VXLANGPEHeader(5), MPLS([]uint32{100}, inner(f))))))
	}},
	{"vxlan-gpe nsh mpls pseudowire", func(f []byte) []byte {
		pw := cat(PWControlWord, WithMACs(f, PseudowireMACs[0], PseudowireMACs[1]))
		return Ether(0x0800, IPv4(17, UDP(51234, 4790, cat(VXLANGPEHeader(4), NSH(1, 5, nil, MPLS([]uint32{100}, pw))))))
	}},
	{"geneve nsh", func(f []byte) []byte {
		return Ether(0x0800, IPv4(17, UDP(51234, 6081, cat([]byte{0, 0, 0x89, 0x4f, 0, 0, 7, 0}, NSH(1, 3, nil, f)))))
	}},
	{"geneve mpls", func(f []byte) []byte {
		return Ether(0x0800, IPv4(17, UDP(51234, 6081, cat([]byte{0, 0, 0x88, 0x47, 0, 0, 7, 0}, MPLS([]uint32{100}, inner(f))))))
	}},
	{"pppoe", func(f []byte) []byte {
		ip := inner(f)
		return Ether(0x8864, cat([]byte{0x11, 0, 0, 9}, be16(uint16(2+len(ip))), be16(pppProto(f)), ip))
	}},
	{"ipv6 extension headers, 10", func(f []byte) []byte {
		// Hop-by-hop, then 9 destination options (PadN), then the
		// packet's own upper layer; an IPv4 packet goes in IPv6.
		base, next, payload := IPv6(4, nil), byte(4), inner(f)
		if f[14]>>4 == 6 {
			base, next, payload = append([]byte(nil), f[14:54]...), f[20], inner(f)[40:]
		}
		var ext []byte
		for i := range 10 {
			n := byte(60)
			if i == 9 {
				n = next
			}
			ext = append(ext, n, 0, 1, 4, 0, 0, 0, 0)
		}
		base[6] = 0
		binary.BigEndian.PutUint16(base[4:], uint16(len(ext)+len(payload)))
		return Ether(0x86dd, cat(base, ext, payload))
	}},
	{"ipsec ah", func(f []byte) []byte {
		ip := inner(f)
		ah := func(next byte) []byte { // 12 bytes, then a 12-byte ICV
			return cat([]byte{next, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1}, make([]byte, 12))
		}
		if ip[0]>>4 == 6 {
			base := append([]byte(nil), ip[:40]...)
			base[6] = 51
			binary.BigEndian.PutUint16(base[4:], uint16(24+len(ip)-40))
			return Ether(0x86dd, cat(base, ah(ip[6]), ip[40:]))
		}
		hl := int(ip[0]&0xf) * 4
		h := append([]byte(nil), ip[:hl]...)
		h[9] = 51
		binary.BigEndian.PutUint16(h[2:], uint16(24+len(ip)))
		return Ether(0x0800, cat(h, ah(ip[9]), ip[hl:]))
	}},
	{"vxlan in gre in ip in ip", func(f []byte) []byte {
		vx := IPv4(17, UDP(51234, 4789, cat(VXLANHeader, f)))
		return Ether(0x0800, IPv4(4, IPv4(47, GRE(0, 0x0800, vx))))
	}},
}

// Pseudowires tshark 4.0 reads otherwise than as what they are: it tells
// a control word from a frame by the vendors' prefixes of the first two
// 6-byte fields after the label stack.
const (
	PseudowireCW            = "mpls pseudowire, control word"
	PseudowireNoCW          = "mpls pseudowire, no control word"
	PseudowireCWKnownMACs   = "mpls pseudowire, control word, addresses 0"        // tshark: no control word (00:00:00 is Xerox's)
	PseudowireNoCWLocalMACs = "mpls pseudowire, no control word, local addresses" // tshark: a control word
)

// inner is the IP packet of an untagged Ethernet frame, without the
// frame's padding.
func inner(frame []byte) []byte {
	ip := frame[14:]
	if ip[0]>>4 == 6 {
		return ip[:min(len(ip), 40+int(binary.BigEndian.Uint16(ip[4:6])))]
	}
	return ip[:min(len(ip), int(binary.BigEndian.Uint16(ip[2:4])))]
}

func etherType(frame []byte) uint16 { return binary.BigEndian.Uint16(frame[12:14]) }

// ipProto is the IP protocol number of IP in IP for the frame's packet.
func ipProto(frame []byte) byte {
	if frame[14]>>4 == 6 {
		return 41
	}
	return 4
}

// pppProto is PPP's protocol number for the frame's packet.
func pppProto(frame []byte) uint16 {
	if frame[14]>>4 == 6 {
		return 0x0057
	}
	return 0x0021
}

// FragmentIP cuts an IPv4 or IPv6 packet (no extension headers) into
// fragments of at most size bytes of payload (a multiple of 8), with
// identification id, in order.
func FragmentIP(ip []byte, size int, id uint32) [][]byte {
	var out [][]byte
	if ip[0]>>4 == 4 {
		hl := int(ip[0]&0xf) * 4
		payload := ip[hl:binary.BigEndian.Uint16(ip[2:4])]
		for off := 0; off < len(payload); off += size {
			end := min(off+size, len(payload))
			h := append([]byte(nil), ip[:hl]...)
			binary.BigEndian.PutUint16(h[2:], uint16(hl+end-off))
			binary.BigEndian.PutUint16(h[4:], uint16(id))
			fo := uint16(off / 8)
			if end < len(payload) {
				fo |= 0x2000 // MF
			}
			binary.BigEndian.PutUint16(h[6:], fo)
			out = append(out, cat(h, payload[off:end]))
		}
		return out
	}
	payload := ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:6]))]
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		h := append([]byte(nil), ip[:40]...)
		h[6] = 44 // a fragment header follows
		binary.BigEndian.PutUint16(h[4:], uint16(8+end-off))
		fo := uint16(off)
		if end < len(payload) {
			fo |= 1 // M
		}
		fh := cat([]byte{ip[6], 0}, be16(fo), binary.BigEndian.AppendUint32(nil, id))
		out = append(out, cat(h, fh, payload[off:end]))
	}
	return out
}

// WithIPv4Options rewrites an Ethernet frame of an IPv4 packet with 4
// bytes of IPv4 options (Router Alert, RFC 2113), its header checksum
// cleared.
func WithIPv4Options(f []byte) []byte {
	ip := inner(f)
	ip = ip[:binary.BigEndian.Uint16(ip[2:])] // not the Ethernet padding
	h := cat(ip[:20], []byte{0x94, 4, 0, 0})
	h[0], h[10], h[11] = 0x46, 0, 0
	binary.BigEndian.PutUint16(h[2:], uint16(len(ip)+4))
	return Ether(0x0800, cat(h, ip[20:]))
}

// WithIPv6Extensions rewrites an Ethernet frame of an IPv6 packet with
// hop-by-hop options, a routing header (type 253, no segment left) and
// destination options before its upper layer.
func WithIPv6Extensions(f []byte) []byte {
	ip := inner(f)
	ext := []byte{
		43, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop: PadN; next: routing
		60, 0, 253, 0, 0, 0, 0, 0, // routing; next: destination options
		ip[6], 0, 1, 4, 0, 0, 0, 0, // destination options: PadN; next: the upper layer
	}
	h := cat(ip[:40])
	h[6] = 0
	binary.BigEndian.PutUint16(h[4:], uint16(len(ip)-40+len(ext)))
	return Ether(0x86dd, cat(h, ext, ip[40:]))
}
