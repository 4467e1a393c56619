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
		return mplsPayload(rest, 0)
	}
	return nil, false
}

// NFLOG (https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html, libpcap's
// pcap/nflog.h): a 4-byte header (address family, version, resource id,
// big-endian), then netlink attributes: length (header included) and type,
// 16 bits each, the value, padding to 4 bytes. The packet is the value of
// NFULA_PAYLOAD. The attributes' length and type are in the capturing
// host's byte order, the file's: capture hands them out little-endian (it
// swaps a big-endian file's, as libpcap and Wireshark's wiretap do).
const (
	nflogHeaderLen = 4
	nflogTLVLen    = 4
	nflogPayloadAt = 9      // NFULA_PAYLOAD (linux/netfilter/nfnetlink_log.h)
	nflogTypeMask  = 0x7fff // NLA_F_NESTED off, as tshark masks it
	linuxAFInet    = 2
	linuxAFInet6   = 10
)

// nflogPayload is the IP packet an NFLOG record holds: the last
// NFULA_PAYLOAD attribute's value, IPv4 or IPv6 as the header's family
// says. As in tshark's dissect_nflog (epan/dissectors/packet-nflog.c), an
// attribute shorter than its own header ends the record with nothing
// decoded, and so does one longer than what is left (a snap length does
// not cut records: libpcap has the kernel copy less of the packet, into a
// shorter attribute).
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
	var ip []byte
	for len(tlvs) >= nflogTLVLen {
		n := int(binary.LittleEndian.Uint16(tlvs[0:2]))
		if n < nflogTLVLen || n > len(tlvs) {
			return nil, false
		}
		if binary.LittleEndian.Uint16(tlvs[2:4])&nflogTypeMask == nflogPayloadAt {
			ip = tlvs[nflogTLVLen:n]
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
