package synth

import (
	"encoding/binary"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Link layers other than Ethernet around an IP packet, as libpcap writes
// them (https://www.tcpdump.org/linktypes.html). The numbers are written
// out here, not taken from the decoder under test.

// Link types these builders write.
const (
	LinkPPP     = layers.LinkType(9)
	LinkPPPHDLC = layers.LinkType(50)
	LinkCHDLC   = layers.LinkType(104)
	LinkNFLOG   = layers.LinkType(239)
)

// PPP is ip in a PPP frame: with the HDLC address and control bytes ff 03
// (RFC 1662) or not, and a one-byte protocol field (protocol field
// compression, RFC 1661 §6.5) or two.
func PPP(hdlc, pfc bool, ip []byte) []byte {
	var b []byte
	if hdlc {
		b = append(b, 0xff, 0x03)
	}
	proto := uint16(0x0021) // IPv4
	if ip[0]>>4 == 6 {
		proto = 0x0057
	}
	if pfc {
		b = append(b, byte(proto))
	} else {
		b = append(b, be16(proto)...)
	}
	return cat(b, ip)
}

// CHDLC is ip in a Cisco HDLC frame: unicast address 0x0f, control 0,
// the EtherType.
func CHDLC(ip []byte) []byte {
	proto := uint16(0x0800)
	if ip[0]>>4 == 6 {
		proto = 0x86dd
	}
	return cat([]byte{0x0f, 0}, be16(proto), ip)
}

// NFLOG is ip as the kernel logs it to an NFLOG group (nfnetlink_log):
// the header (family AF_INET 2 or AF_INET6 10, version 0, resource id 5),
// then attributes with their length and type in order, each padded to 4
// bytes: the packet header (hardware protocol, hook 3: output), the
// prefix, the output interface, the payload.
func NFLOG(order binary.ByteOrder, ip []byte) []byte {
	family, hw := byte(2), uint16(0x0800)
	if ip[0]>>4 == 6 {
		family, hw = 10, 0x86dd
	}
	tlv := func(typ uint16, v []byte) []byte {
		h := make([]byte, 4)
		order.PutUint16(h[0:2], uint16(4+len(v)))
		order.PutUint16(h[2:4], typ)
		b := cat(h, v)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	return cat([]byte{family, 0, 0, 5},
		tlv(1, cat(be16(hw), []byte{3, 0})), // NFULA_PACKET_HDR
		tlv(10, []byte("wsdump\x00")),       // NFULA_PREFIX
		tlv(5, []byte{0, 0, 0, 1}),          // NFULA_IFINDEX_OUTDEV
		tlv(9, ip))                          // NFULA_PAYLOAD
}

// WritePcapLink writes packets as a classic pcap of the given link type,
// each cut to snaplen bytes when snaplen > 0.
func WritePcapLink(w io.Writer, link layers.LinkType, snaplen int, packets ...Packet) error {
	pw := pcapgo.NewWriter(w)
	sl := uint32(65535)
	if snaplen > 0 {
		sl = uint32(snaplen)
	}
	if err := pw.WriteFileHeader(sl, link); err != nil {
		return err
	}
	for _, p := range packets {
		data := p.Data
		if snaplen > 0 && len(data) > snaplen {
			data = data[:snaplen]
		}
		ci := gopacket.CaptureInfo{Timestamp: p.TS, CaptureLength: len(data), Length: len(p.Data)}
		if err := pw.WritePacket(ci, data); err != nil {
			return err
		}
	}
	return nil
}

// WritePcapBigEndian writes packets as a classic pcap (microseconds) in
// big-endian byte order, as a big-endian host's libpcap writes it.
func WritePcapBigEndian(w io.Writer, link layers.LinkType, packets ...Packet) error {
	be := binary.BigEndian
	b := be.AppendUint32(nil, 0xa1b2c3d4)
	b = be.AppendUint16(b, 2)
	b = be.AppendUint16(b, 4)
	b = be.AppendUint64(b, 0) // time zone, accuracy
	b = be.AppendUint32(b, 65535)
	b = be.AppendUint32(b, uint32(link))
	for _, p := range packets {
		b = be.AppendUint32(b, uint32(p.TS.Unix()))
		b = be.AppendUint32(b, uint32(p.TS.Nanosecond()/1000))
		b = be.AppendUint32(b, uint32(len(p.Data)))
		b = be.AppendUint32(b, uint32(len(p.Data)))
		b = append(b, p.Data...)
	}
	_, err := w.Write(b)
	return err
}
