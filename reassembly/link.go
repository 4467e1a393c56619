package reassembly

import "encoding/binary"

// Link types handled by NetworkPayload: LINKTYPE_ numbers, as in
// capture.LinkType (https://www.tcpdump.org/linktypes.html). reassembly does
// not import capture, so they are repeated here.
const (
	linkTypeNull      = 0
	linkTypeEthernet  = 1
	linkTypePPP       = 9  // PPP, HDLC-like framing (ff 03) or not
	linkTypeRawDLT12  = 12 // DLT_RAW as most BSDs and Linux write it
	linkTypeRawDLT14  = 14 // DLT_RAW as OpenBSD writes it
	linkTypePPPHDLC   = 50 // PPP in HDLC-like framing, or Cisco HDLC
	linkTypeRaw       = 101
	linkTypeCHDLC     = 104 // Cisco HDLC
	linkTypeLoop      = 108
	linkTypeLinuxSLL  = 113
	linkTypeIPv4      = 228
	linkTypeIPv6      = 229
	linkTypeNFLOG     = 239 // Linux netfilter NFLOG (tcpdump -i nflog:N)
	linkTypeLinuxSLL2 = 276
)

// EtherTypes (IEEE 802 numbers).
const (
	etherTypeIPv4      = 0x0800
	etherTypeIPv6      = 0x86dd
	etherTypeVLAN      = 0x8100 // 802.1Q
	etherTypeQinQ      = 0x88a8 // 802.1ad service tag
	etherTypeQinQOld   = 0x9100 // pre-standard QinQ
	etherTypeQinQOld2  = 0x9200 // pre-standard QinQ
	etherTypeMPLS      = 0x8847
	etherTypeMPLSMulti = 0x8848
	etherTypePPPoE     = 0x8864 // PPPoE session stage
	etherTypeNSH       = 0x894f // network service header, RFC 8300
	ethernetHeaderLen  = 14
	vlanTagLen         = 4
	sllHeaderLen       = 16 // protocol at offset 14
	sll2HeaderLen      = 20 // protocol at offset 0
	nullHeaderLen      = 4  // address family, host or network byte order
	afINet             = 2
	afINet6NetBSD      = 24 // also OpenBSD
	afINet6FreeBSD     = 28 // also DragonFly BSD
	afINet6Darwin      = 30
	ipVersion4         = 4
	ipVersion6         = 6
	bsdFamilyHighBytes = 0xffff0000
)

// SupportedLink reports whether wsdump can decode this link type.
func SupportedLink(link uint32) bool {
	switch link {
	case linkTypeNull, linkTypeEthernet, linkTypeRawDLT12, linkTypeRawDLT14, linkTypeRaw,
		linkTypeLoop, linkTypeLinuxSLL, linkTypeIPv4, linkTypeIPv6, linkTypeLinuxSLL2,
		linkTypePPP, linkTypePPPHDLC, linkTypeCHDLC, linkTypeNFLOG:
		return true
	}
	return false
}

// NetworkPayload strips the link layer and returns the IP packet (IPv4 or
// IPv6) inside data, or ok=false when the packet carries no IP (ARP, LLDP,
// unknown ethertype or family, truncated header, unsupported link type).
// When ok, ip is not empty and its version nibble is 4 or 6, agreeing with
// the link layer's protocol field. ip aliases data, and is its tail but
// for NFLOG (where padding or other attributes may follow); nothing is
// allocated.
func NetworkPayload(link uint32, data []byte) (ip []byte, ok bool) {
	switch link {
	case linkTypeEthernet:
		if len(data) < ethernetHeaderLen {
			return nil, false
		}
		return etherPayload(binary.BigEndian.Uint16(data[12:14]), data[ethernetHeaderLen:], 0)
	case linkTypeLinuxSLL:
		if len(data) < sllHeaderLen {
			return nil, false
		}
		return etherPayload(binary.BigEndian.Uint16(data[14:16]), data[sllHeaderLen:], 0)
	case linkTypeLinuxSLL2:
		if len(data) < sll2HeaderLen {
			return nil, false
		}
		return etherPayload(binary.BigEndian.Uint16(data[0:2]), data[sll2HeaderLen:], 0)
	case linkTypeRaw, linkTypeRawDLT12, linkTypeRawDLT14:
		return ipPayload(0, data)
	case linkTypeIPv4:
		return ipPayload(ipVersion4, data)
	case linkTypeIPv6:
		return ipPayload(ipVersion6, data)
	case linkTypeNull:
		if len(data) < nullHeaderLen {
			return nil, false
		}
		// Host byte order of the capturing machine: a family is small, so
		// a value with high bytes set was written in the other order.
		family := binary.LittleEndian.Uint32(data)
		if family&bsdFamilyHighBytes != 0 {
			family = binary.BigEndian.Uint32(data)
		}
		return familyPayload(family, data[nullHeaderLen:])
	case linkTypeLoop:
		if len(data) < nullHeaderLen {
			return nil, false
		}
		return familyPayload(binary.BigEndian.Uint32(data), data[nullHeaderLen:])
	case linkTypePPP, linkTypePPPHDLC:
		return pppLinkPayload(data)
	case linkTypeCHDLC:
		return chdlcPayload(data)
	case linkTypeNFLOG:
		return nflogPayload(data)
	}
	return nil, false
}

// etherPayload skips any number of stacked VLAN tags, then keeps IP, in
// MPLS, NSH or a PPPoE session too. nest counts the MPLS stacks and NSH
// headers opened around rest (tunnel.go).
func etherPayload(etherType uint16, rest []byte, nest int) ([]byte, bool) {
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQOld || etherType == etherTypeQinQOld2 {
		if len(rest) < vlanTagLen {
			return nil, false
		}
		// A tag is 2 bytes of TCI, then the next EtherType.
		etherType = binary.BigEndian.Uint16(rest[2:4])
		rest = rest[vlanTagLen:]
	}
	switch etherType {
	case etherTypeIPv4:
		return ipPayload(ipVersion4, rest)
	case etherTypeIPv6:
		return ipPayload(ipVersion6, rest)
	case etherTypeMPLS, etherTypeMPLSMulti:
		return mplsPayload(rest, nest)
	case etherTypeNSH:
		return nshPayload(rest, nest)
	case etherTypePPPoE:
		return pppoePayload(rest)
	}
	return nil, false
}

func familyPayload(family uint32, rest []byte) ([]byte, bool) {
	switch family {
	case afINet:
		return ipPayload(ipVersion4, rest)
	case afINet6NetBSD, afINet6FreeBSD, afINet6Darwin:
		return ipPayload(ipVersion6, rest)
	}
	return nil, false
}

// ipPayload checks the version nibble: want 4 or 6, or 0 for either.
func ipPayload(want byte, ip []byte) ([]byte, bool) {
	if len(ip) == 0 {
		return nil, false
	}
	v := ip[0] >> 4
	if v != ipVersion4 && v != ipVersion6 || want != 0 && v != want {
		return nil, false
	}
	return ip, true
}
