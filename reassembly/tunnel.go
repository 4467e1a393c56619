// Tunnels: the IP packet inside IP-in-IP, GRE (with ERSPAN), VXLAN,
// VXLAN-GPE and GENEVE, as mirrored and overlay traffic delivers it (AWS
// VPC Traffic Mirroring sends VXLAN; switches send ERSPAN over GRE). The
// connection is the inner packets' 4-tuple, as tshark has it.

package reassembly

import (
	"encoding/binary"

	"github.com/google/gopacket/layers"
)

// maxTunnelDepth bounds the tunnels opened inside one packet: a packet
// nested deeper is counted as not TCP.
const maxTunnelDepth = 4

// UDP ports of tunnels (IANA), either port of the datagram.
const (
	portVXLAN    = 4789 // RFC 7348
	portVXLANGPE = 4790 // draft-ietf-nvo3-vxlan-gpe
	portGENEVE   = 6081 // RFC 8926
)

// EtherTypes and GRE protocol types of what tunnels carry.
const (
	etherTypeTEB     = 0x6558 // transparent Ethernet bridging: an Ethernet frame
	etherTypeERSPAN2 = 0x88be // ERSPAN type II, or type I without a sequence number
	etherTypeERSPAN3 = 0x22eb // ERSPAN type III
	etherTypePPP     = 0x880b // PPTP's enhanced GRE (version 1)
	udpHeaderLen     = 8
)

// tunnelProto reports whether an IP packet of protocol proto may carry a
// tunnel that tunnelPayload opens (UDP: on some ports).
func tunnelProto(proto layers.IPProtocol) bool {
	switch proto {
	case layers.IPProtocolIPv4, layers.IPProtocolIPv6, layers.IPProtocolGRE, layers.IPProtocolUDP:
		return true
	}
	return false
}

// mayTunnel reports whether an IP packet of protocol proto whose payload
// is p may carry a tunnel that tunnelPayload opens.
func mayTunnel(proto layers.IPProtocol, p []byte) bool {
	if proto == layers.IPProtocolUDP {
		return len(p) >= udpHeaderLen && udpTunnelPort(binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])) != 0
	}
	return tunnelProto(proto)
}

// udpTunnelPort is the tunnel port among a datagram's source and
// destination ports, or 0.
func udpTunnelPort(src, dst uint16) uint16 {
	for _, port := range []uint16{portVXLAN, portVXLANGPE, portGENEVE} {
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
	}
	return nil, false
}

// udpTunnelPayload opens VXLAN, VXLAN-GPE and GENEVE on their ports.
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
		return ethernetPayload(p[8:])
	case portVXLANGPE:
		// Flags, 16 reserved bits, next protocol, VNI, reserved.
		if len(p) < 8 {
			return nil, false
		}
		switch p[3] {
		case 1:
			return ipPayload(ipVersion4, p[8:])
		case 2:
			return ipPayload(ipVersion6, p[8:])
		case 3:
			return ethernetPayload(p[8:])
		}
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
		return greProtoPayload(binary.BigEndian.Uint16(p[2:4]), p[n:])
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

// grePayload opens GRE: version 0 carrying IP, Ethernet, ERSPAN or MPLS,
// and version 1 (PPTP) carrying PPP.
func grePayload(p []byte) ([]byte, bool) {
	if len(p) < 4 {
		return nil, false
	}
	flags, proto := binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])
	if flags&greRouting != 0 { // source routing (RFC 1701): obsolete, not opened
		return nil, false
	}
	n := 4
	for _, f := range []uint16{greChecksum, greKey, greSeq} {
		if flags&f != 0 {
			n += 4
		}
	}
	switch flags & greVersion {
	case 0:
	case 1:
		if flags&greAck != 0 {
			n += 4
		}
		if proto != etherTypePPP || len(p) < n {
			return nil, false
		}
		return pppPayload(p[n:])
	default:
		return nil, false
	}
	if len(p) < n {
		return nil, false
	}
	p = p[n:]
	switch proto {
	case etherTypeERSPAN2:
		if flags&greSeq == 0 { // type I: the mirrored frame, no header
			return ethernetPayload(p)
		}
		if len(p) < 8 {
			return nil, false
		}
		return ethernetPayload(p[8:])
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
			return ethernetPayload(p[h:])
		case 2:
			return ipPayload(0, p[h:])
		}
		return nil, false
	}
	return greProtoPayload(proto, p)
}

// greProtoPayload opens what an EtherType-numbered protocol field (GRE,
// GENEVE) says p holds.
func greProtoPayload(proto uint16, p []byte) ([]byte, bool) {
	if proto == etherTypeTEB {
		return ethernetPayload(p)
	}
	return etherPayload(proto, p)
}

// ethernetPayload is the IP packet in an Ethernet frame.
func ethernetPayload(p []byte) ([]byte, bool) {
	if len(p) < ethernetHeaderLen {
		return nil, false
	}
	return etherPayload(binary.BigEndian.Uint16(p[12:14]), p[ethernetHeaderLen:])
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

// mplsPayload pops MPLS labels down to the bottom of the stack and keeps
// an IP packet (its version nibble tells). A pseudowire carrying Ethernet
// is not opened.
func mplsPayload(p []byte) ([]byte, bool) {
	for {
		if len(p) < 4 {
			return nil, false
		}
		bottom := p[2]&1 != 0
		p = p[4:]
		if bottom {
			return ipPayload(0, p)
		}
	}
}

// pppoePayload is the IP packet of a PPPoE session frame: version and
// type (0x11), code 0, session id, length; then PPP's protocol.
func pppoePayload(p []byte) ([]byte, bool) {
	if len(p) < 8 || p[0] != 0x11 || p[1] != 0 {
		return nil, false
	}
	return pppPayload(p[6:])
}
