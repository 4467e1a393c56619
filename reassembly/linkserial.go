package reassembly

import "encoding/binary"

// Link layers of serial lines and of Linux's netfilter log: PPP, Cisco
// HDLC and NFLOG, as libpcap writes them
// (https://www.tcpdump.org/linktypes.html) and tshark reads them.

// Cisco HDLC (https://www.tcpdump.org/linktypes/LINKTYPE_C_HDLC.html):
// address, control, then an EtherType-numbered protocol.
const (
	chdlcHeaderLen     = 4
	chdlcAddrUnicast   = 0x0f
	chdlcAddrMulticast = 0x8f
)

// pppLinkPayload is the IP packet in a LINKTYPE_PPP or LINKTYPE_PPP_HDLC
// frame. As tshark's dissect_ppp_hdlc (epan/dissectors/packet-ppp.c) has
// it for both: a first byte 0x0f or 0x8f is a Cisco HDLC address (the
// PPP_HDLC link type says so: Cisco PPP with HDLC framing, RFC 1547
// §4.3.1), 0xff the HDLC address and control of RFC 1662 §3.1 before the
// protocol; anything else starts the protocol field, compressed to one
// byte or not (RFC 1661 §6.5).
func pppLinkPayload(p []byte) ([]byte, bool) {
	if len(p) == 0 {
		return nil, false
	}
	switch p[0] {
	case chdlcAddrUnicast, chdlcAddrMulticast:
		return chdlcPayload(p)
	case 0xff:
		if len(p) < 2 {
			return nil, false
		}
		p = p[2:]
	}
	return pppProtoPayload(p)
}

// chdlcPayload is the IP packet in a Cisco HDLC frame: IPv4, IPv6, or IP
// under MPLS labels, the protocols tshark's chdlc.protocol table hands
// to IP. The address byte is not checked, as neither tshark nor tcpdump
// does.
func chdlcPayload(p []byte) ([]byte, bool) {
	if len(p) < chdlcHeaderLen {
		return nil, false
	}
	rest := p[chdlcHeaderLen:]
	switch binary.BigEndian.Uint16(p[2:4]) {
	case etherTypeIPv4:
		return ipPayload(ipVersion4, rest)
	case etherTypeIPv6:
		return ipPayload(ipVersion6, rest)
	case etherTypeMPLS, etherTypeMPLSMulti:
		return mplsPayload(rest)
	}
	return nil, false
}

// NFLOG (https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html, libpcap's
// pcap/nflog.h): a 4-byte header (address family, version, resource id,
// big-endian), then netlink attributes: length (header included) and type,
// 16 bits each in the byte order of the host that captured, the value,
// padding to 4 bytes. The packet is the value of NFULA_PAYLOAD.
const (
	nflogHeaderLen = 4
	nflogTLVLen    = 4
	nflogPayloadAt = 9      // NFULA_PAYLOAD (linux/netfilter/nfnetlink_log.h)
	nflogTypeMask  = 0x7fff // NLA_F_NESTED off, as tshark masks it
	nflogMaxType   = 0x100  // a type this large means the other byte order
	linuxAFInet    = 2
	linuxAFInet6   = 10
)

// nflogPayload is the IP packet an NFLOG record holds: the last
// NFULA_PAYLOAD attribute's value, IPv4 or IPv6 as the header's family
// says. As in tshark's dissect_nflog (epan/dissectors/packet-nflog.c),
// the attributes' byte order is guessed per record, and an attribute
// shorter than its own header ends the record with nothing decoded. A
// payload longer than what is left is cut there, as a snap length cuts
// it: the IP layer tells what is missing.
func nflogPayload(p []byte) ([]byte, bool) {
	if len(p) < nflogHeaderLen {
		return nil, false
	}
	var want byte
	switch p[0] {
	case linuxAFInet:
		want = ipVersion4
	case linuxAFInet6:
		want = ipVersion6
	default:
		return nil, false
	}
	tlvs := p[nflogHeaderLen:]
	var order binary.ByteOrder = binary.BigEndian
	if !nflogOrderIs(tlvs, binary.BigEndian) && nflogOrderIs(tlvs, binary.LittleEndian) {
		order = binary.LittleEndian
	}
	var ip []byte
	for len(tlvs) >= nflogTLVLen {
		n := int(order.Uint16(tlvs[0:2]))
		if n < nflogTLVLen {
			return nil, false
		}
		if order.Uint16(tlvs[2:4])&nflogTypeMask == nflogPayloadAt {
			ip = tlvs[nflogTLVLen:min(n, len(tlvs))]
		}
		// The next attribute starts 4-aligned; n >= 4, so this moves on.
		next := (n + 3) &^ 3
		if next >= len(tlvs) {
			break
		}
		tlvs = tlvs[next:]
	}
	return ipPayload(want, ip)
}

// nflogOrderIs is tshark's test of a byte order for NFLOG attributes:
// read so, the first attribute with a non-zero type has a type under
// 0x100 (the kernel's are under 32), and no attribute before it is
// shorter than its header.
func nflogOrderIs(tlvs []byte, order binary.ByteOrder) bool {
	for len(tlvs) > nflogTLVLen {
		n := int(order.Uint16(tlvs[0:2]))
		if n < nflogTLVLen {
			return false
		}
		switch t := order.Uint16(tlvs[2:4]) & nflogTypeMask; {
		case t >= nflogMaxType:
			return false
		case t != 0:
			return true
		}
		next := (n + 3) &^ 3
		if next >= len(tlvs) {
			return false
		}
		tlvs = tlvs[next:]
	}
	return false
}
