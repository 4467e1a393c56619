package capture

import "encoding/binary"

// NFLOG records (LINKTYPE_NFLOG, 239) hold fields in the byte order of the
// host that captured them: each attribute's length and type
// (https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html). A pcap file or
// pcapng section is written in that order too, so a reader of a file of
// the other order swaps them, as libpcap (swap_nflog_header in
// pcap-common.c) and Wireshark's wiretap (pcap_byteswap_nflog_pseudoheader)
// do. wsdump hands NFLOG records out little-endian: a big-endian file's
// are swapped in place, in the read buffer the packet is a slice of.

const (
	nflogHeaderLen = 4
	nflogTLVLen    = 4
)

// toLittleEndian swaps the host-order fields of p's link header when p was
// read from a big-endian file or section.
func toLittleEndian(p *Packet) {
	if p.Link == LinkNFLOG {
		swapNFLOG(p.Data, p.Length)
	}
}

// swapNFLOG swaps each attribute's length and type, for version 0 records,
// up to the first attribute of length 0 (1 to 3 are padded to 4 and
// passed over) or longer than what is left of the record (captured or
// original), as libpcap does.
func swapNFLOG(b []byte, wireLen int) {
	if len(b) < nflogHeaderLen || wireLen < nflogHeaderLen || b[1] != 0 {
		return
	}
	b, left := b[nflogHeaderLen:], wireLen-nflogHeaderLen
	for len(b) >= nflogTLVLen {
		n := binary.BigEndian.Uint16(b[0:2])
		binary.LittleEndian.PutUint16(b[0:2], n)
		binary.LittleEndian.PutUint16(b[2:4], binary.BigEndian.Uint16(b[2:4]))
		size := (int(n) + 3) &^ 3
		if size < nflogTLVLen || size > len(b) || size > left {
			return
		}
		b, left = b[size:], left-size
	}
}
