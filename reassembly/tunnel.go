// Tunnels: the IP packet inside IP-in-IP, GRE (with ERSPAN), VXLAN,
// VXLAN-GPE, GENEVE, MPLS (with Ethernet pseudowires) and NSH, as mirrored
// and overlay traffic delivers it (AWS VPC Traffic Mirroring sends VXLAN;
// switches send ERSPAN over GRE). The connection is the inner packets'
// 4-tuple, as tshark has it.

package reassembly

import (
	"encoding/binary"

	"github.com/google/gopacket/layers"
)

// maxTunnelDepth bounds the tunnels opened inside one packet: a packet
// nested deeper is counted (Stats.TooDeep) and said, not opened.
const maxTunnelDepth = 4

// MaxTunnelDepth is maxTunnelDepth, for the notice of packets nested deeper.
const MaxTunnelDepth = maxTunnelDepth

// maxLinkNest bounds the MPLS label stacks and NSH headers opened inside
// one another at one IP layer (an Ethernet pseudowire carrying MPLS
// again, NSH in NSH): past it, the packet is not opened. Each takes 4
// bytes or more, so without it a hostile packet nests thousands deep.
const maxLinkNest = 8

// UDP ports of tunnels (IANA), either port of the datagram.
const (
	portVXLAN    = 4789 // RFC 7348
	portVXLANGPE = 4790 // draft-ietf-nvo3-vxlan-gpe
	portGENEVE   = 6081 // RFC 8926
	portMPLS     = 6635 // MPLS in UDP, RFC 7510
)

// EtherTypes and GRE protocol types of what tunnels carry.
const (
	etherTypeTEB     = 0x6558 // transparent Ethernet bridging: an Ethernet frame
	etherTypeERSPAN2 = 0x88be // ERSPAN type II, or type I without a sequence number
	etherTypeERSPAN3 = 0x22eb // ERSPAN type III
	etherTypePPP     = 0x880b // PPTP's enhanced GRE (version 1)
	udpHeaderLen     = 8
	ipProtoMPLS      = 137 // MPLS in IP, RFC 4023
)

// tunnelProto reports whether an IP packet of protocol proto may carry a
// tunnel that tunnelPayload opens (UDP: on some ports).
func tunnelProto(proto layers.IPProtocol) bool {
	switch proto {
	case layers.IPProtocolIPv4, layers.IPProtocolIPv6, layers.IPProtocolGRE, layers.IPProtocolUDP, ipProtoMPLS:
		return true
	}
	return false
}

// udpTunnelPort is the tunnel port among a datagram's source and
// destination ports, or 0.
func udpTunnelPort(src, dst uint16) uint16 {
	for _, port := range []uint16{portVXLAN, portVXLANGPE, portGENEVE, portMPLS} {
		if src == port || dst == port {
			return port
		}
	}
	return 0
}

// tunnelPayload returns the IP packet (version 4 or 6) carried by an IP
// packet of protocol proto whose payload is p, or ok=false when p is not
// a tunnel that wsdump opens or what it carries is not IP. ip aliases p.
func tunnelPayload(proto layers.IPProtocol, p []byte) (ip []byte, ok bool) {
	switch proto {
	case layers.IPProtocolIPv4: // IP-in-IP, RFC 2003
		return ipPayload(ipVersion4, p)
	case layers.IPProtocolIPv6: // 6in4 (sit), 6in6, RFC 4213 and 2473
		return ipPayload(ipVersion6, p)
	case layers.IPProtocolGRE:
		return grePayload(p)
	case layers.IPProtocolUDP:
		return udpTunnelPayload(p)
	case ipProtoMPLS:
		return mplsPayload(p, 0)
	}
	return nil, false
}

// udpTunnelPayload opens VXLAN, VXLAN-GPE, GENEVE and MPLS on their
// ports.
func udpTunnelPayload(p []byte) ([]byte, bool) {
	if len(p) < udpHeaderLen {
		return nil, false
	}
	port := udpTunnelPort(binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]))
	p = p[udpHeaderLen:]
	switch port {
	case portVXLAN:
		// Flags (I: a VNI follows), 24 reserved bits, VNI, 8 reserved
		// bits; then an Ethernet frame.
		if len(p) < 8 {
			return nil, false
		}
		return ethernetPayload(p[8:], 0)
	case portVXLANGPE:
		// Flags, 16 reserved bits, next protocol (numbered as NSH's),
		// VNI, reserved.
		if len(p) < 8 {
			return nil, false
		}
		return nextProtoPayload(p[3], p[8:], 0)
	case portMPLS:
		return mplsPayload(p, 0)
	case portGENEVE:
		// Version (2 bits, 0) and options length in 4-byte words,
		// flags, protocol type, VNI, reserved; then the options.
		if len(p) < 8 || p[0]>>6 != 0 {
			return nil, false
		}
		n := 8 + int(p[0]&0x3f)*4
		if len(p) < n {
			return nil, false
		}
		return greProtoPayload(binary.BigEndian.Uint16(p[2:4]), p[n:], 0)
	}
	return nil, false
}

// GRE header flags (RFC 2784, 2890; RFC 2637 for version 1).
const (
	greChecksum = 0x8000
	greRouting  = 0x4000
	greKey      = 0x2000
	greSeq      = 0x1000
	greAck      = 0x0080 // version 1 only
	greVersion  = 0x0007
)

// grePayload opens GRE: version 0 carrying IP, Ethernet, ERSPAN, MPLS or
// NSH, and version 1 (PPTP) carrying PPP. The fields present are read as
// tshark reads them: checksum and offset when either C or R is set, key,
// sequence, acknowledgment (version 1), then RFC 1701's source route
// entries when R is set, to the one with family and length 0. (Linux
// drops a packet with R set; RFC 2784 deprecated it.)
func grePayload(p []byte) ([]byte, bool) {
	if len(p) < 4 {
		return nil, false
	}
	flags, proto := binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])
	version := flags & greVersion
	if version > 1 || version == 1 && proto != etherTypePPP {
		return nil, false
	}
	n := 4
	if flags&(greChecksum|greRouting) != 0 {
		n += 4
	}
	for _, f := range []uint16{greKey, greSeq} {
		if flags&f != 0 {
			n += 4
		}
	}
	if version == 1 && flags&greAck != 0 {
		n += 4
	}
	if flags&greRouting != 0 {
		// Address family (2 bytes), offset, length, then length bytes;
		// each entry takes 4 bytes or more of the packet.
		for {
			if len(p) < n+4 {
				return nil, false
			}
			last := p[n] == 0 && p[n+1] == 0 && p[n+3] == 0
			n += 4 + int(p[n+3])
			if last {
				break
			}
		}
	}
	if len(p) < n {
		return nil, false
	}
	if version == 1 {
		return pppPayload(p[n:])
	}
	p = p[n:]
	switch proto {
	case etherTypeERSPAN2:
		if flags&greSeq == 0 { // type I: the mirrored frame, no header
			return ethernetPayload(p, 0)
		}
		if len(p) < 8 {
			return nil, false
		}
		return ethernetPayload(p[8:], 0)
	case etherTypeERSPAN3:
		// 12 bytes; O (the last bit) says an 8-byte platform subheader
		// follows; the frame type (bits 1-5 of byte 10) is 0 for
		// Ethernet, 2 for IP.
		if len(p) < 12 {
			return nil, false
		}
		h := 12
		if p[11]&1 != 0 {
			h += 8
		}
		if len(p) < h {
			return nil, false
		}
		switch (p[10] >> 2) & 0x1f {
		case 0:
			return ethernetPayload(p[h:], 0)
		case 2:
			return ipPayload(0, p[h:])
		}
		return nil, false
	}
	return greProtoPayload(proto, p, 0)
}

// greProtoPayload opens what an EtherType-numbered protocol field (GRE,
// GENEVE) says p holds.
func greProtoPayload(proto uint16, p []byte, nest int) ([]byte, bool) {
	if proto == etherTypeTEB {
		return ethernetPayload(p, nest)
	}
	return etherPayload(proto, p, nest)
}

// ethernetPayload is the IP packet in an Ethernet frame.
func ethernetPayload(p []byte, nest int) ([]byte, bool) {
	if len(p) < ethernetHeaderLen {
		return nil, false
	}
	return etherPayload(binary.BigEndian.Uint16(p[12:14]), p[ethernetHeaderLen:], nest)
}

// PPP protocol numbers (RFC 1661; IPv6: RFC 5072).
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// pppPayload is the IP packet in a PPP frame, with or without the HDLC
// address and control bytes (ff 03), with the protocol field compressed
// to one byte or not.
func pppPayload(p []byte) ([]byte, bool) {
	if len(p) >= 2 && p[0] == 0xff && p[1] == 0x03 {
		p = p[2:]
	}
	return pppProtoPayload(p)
}

// pppProtoPayload is the IP packet after a PPP protocol field, one byte
// (compressed, odd) or two.
func pppProtoPayload(p []byte) ([]byte, bool) {
	if len(p) == 0 {
		return nil, false
	}
	var proto uint16
	if p[0]&1 != 0 { // compressed: one odd byte
		proto, p = uint16(p[0]), p[1:]
	} else if len(p) >= 2 {
		proto, p = binary.BigEndian.Uint16(p[0:2]), p[2:]
	}
	switch proto {
	case pppIPv4:
		return ipPayload(ipVersion4, p)
	case pppIPv6:
		return ipPayload(ipVersion6, p)
	}
	return nil, false
}

// MPLS labels and numbers (RFC 3032; the associated channel: RFC 4385,
// 5586).
const (
	mplsLabelGAL   = 13 // generic associated channel label: an ACH follows
	mplsStackEntry = 4
	mplsBottom     = 1 // in the third byte of an entry
	mplsControlLen = 4 // the pseudowire control word (RFC 4385, 4448)
	achIPv4        = 0x0021
	achIPv6        = 0x0057
)

// mplsPayload pops MPLS labels down to the bottom of the stack, then opens
// what the first nibble after it says, as tshark 4.0 does (RFC 4928
// section 3; packet-mpls.c): 4 an IPv4 packet, 6 an IPv6 one, 1 (or the
// label GAL) an associated channel, 0 an Ethernet pseudowire (RFC 4448);
// anything else is not opened. tshark tells a pseudowire's control word
// (4 bytes, first nibble 0) from an Ethernet frame whose destination
// starts with nibble 0 by its table of vendors' address prefixes: no
// control word when both of the first two 6-byte fields start with a
// known one. wsdump tells them by what follows: the frame after the
// control word if it holds an EtherType it opens (and for IP, the
// version it names), else the frame at the label stack's end if that
// does, else nothing.
func mplsPayload(p []byte, nest int) ([]byte, bool) {
	if nest >= maxLinkNest {
		return nil, false
	}
	var label uint32
	for {
		if len(p) < mplsStackEntry {
			return nil, false
		}
		label = binary.BigEndian.Uint32(p) >> 12
		bottom := p[2]&mplsBottom != 0
		p = p[mplsStackEntry:]
		if bottom {
			break
		}
	}
	if len(p) == 0 {
		return nil, false
	}
	if label == mplsLabelGAL {
		return achPayload(p)
	}
	switch p[0] >> 4 {
	case ipVersion4:
		return ipPayload(ipVersion4, p)
	case ipVersion6:
		return ipPayload(ipVersion6, p)
	case 1:
		return achPayload(p)
	case 0:
		if len(p) >= mplsControlLen && ethernetOpens(p[mplsControlLen:]) {
			return ethernetPayload(p[mplsControlLen:], nest+1)
		}
		if ethernetOpens(p) {
			return ethernetPayload(p, nest+1)
		}
	}
	return nil, false
}

// ethernetOpens reports whether p starts as an Ethernet frame whose
// EtherType etherPayload opens, the version nibble after it agreeing
// when that is IP.
func ethernetOpens(p []byte) bool {
	if len(p) <= ethernetHeaderLen {
		return false
	}
	switch binary.BigEndian.Uint16(p[12:14]) {
	case etherTypeIPv4:
		return p[ethernetHeaderLen]>>4 == ipVersion4
	case etherTypeIPv6:
		return p[ethernetHeaderLen]>>4 == ipVersion6
	case etherTypeVLAN, etherTypeQinQ, etherTypeQinQOld, etherTypeQinQOld2, etherTypeMPLS, etherTypeMPLSMulti,
		etherTypePPPoE, etherTypeNSH:
		return true
	}
	return false
}

// achPayload is the IP packet on an MPLS associated channel: first nibble
// 1, version, reserved, a channel type numbered as PPP's protocols.
func achPayload(p []byte) ([]byte, bool) {
	if len(p) < 4 {
		return nil, false
	}
	switch binary.BigEndian.Uint16(p[2:4]) {
	case achIPv4:
		return ipPayload(ipVersion4, p[4:])
	case achIPv6:
		return ipPayload(ipVersion6, p[4:])
	}
	return nil, false
}

// NSH (RFC 8300): a 4-byte base header (version, O, U, TTL, length in
// 4-byte words; U bits and MD type; next protocol) and the service path
// header, then the context headers; next protocols as VXLAN-GPE's.
const (
	nshBaseLen    = 4
	nshMDType1    = 1
	nshMDType1Len = 24 // fixed context headers: length 6
	nshMDType2    = 2
	nshMDType2Min = 8 // base and service path headers
	nextIPv4      = 1
	nextIPv6      = 2
	nextEthernet  = 3
	nextNSH       = 4
	nextMPLS      = 5
)

// nshPayload opens NSH. Its length is read as tshark reads it: 24 bytes
// for MD type 1 whatever the field says, at least 8 for type 2, at least
// 4 for any other (the whole third byte taken as the MD type).
func nshPayload(p []byte, nest int) ([]byte, bool) {
	if nest >= maxLinkNest || len(p) < nshBaseLen {
		return nil, false
	}
	n := int(p[1]&0x3f) * 4
	switch p[2] {
	case nshMDType1:
		n = nshMDType1Len
	case nshMDType2:
		n = max(n, nshMDType2Min)
	default:
		n = max(n, nshBaseLen)
	}
	if len(p) < n {
		return nil, false
	}
	return nextProtoPayload(p[3], p[n:], nest+1)
}

// nextProtoPayload opens what a VXLAN-GPE or NSH next protocol says p
// holds (draft-ietf-nvo3-vxlan-gpe section 3.2, RFC 8300 section 11.2.5).
func nextProtoPayload(next byte, p []byte, nest int) ([]byte, bool) {
	switch next {
	case nextIPv4:
		return ipPayload(ipVersion4, p)
	case nextIPv6:
		return ipPayload(ipVersion6, p)
	case nextEthernet:
		return ethernetPayload(p, nest)
	case nextNSH:
		return nshPayload(p, nest)
	case nextMPLS:
		return mplsPayload(p, nest)
	}
	return nil, false
}

// pppoePayload is the IP packet of a PPPoE session frame: version and
// type (0x11), code 0, session id, length; then PPP's protocol.
func pppoePayload(p []byte) ([]byte, bool) {
	if len(p) < 8 || p[0] != 0x11 || p[1] != 0 {
		return nil, false
	}
	return pppPayload(p[6:])
}
