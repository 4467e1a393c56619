// Encapsulation: what carried a connection's first packet, as a short
// string for its records ("vlan:10/vxlan:100"), so that two connections
// on one 4-tuple in two tenants (lanes.go) can be told apart, and
// filtered on, by whoever reads them.

package reassembly

import (
	"encoding/binary"
	"strconv"

	"github.com/google/gopacket/layers"
	"github.com/wsdump/wsdump/wsparse"
)

// encap appends to b the encapsulation of the packet just decoded, outer
// to inner, each layer a word and its identifier after a colon, joined
// by "/": "vlan:ID" for each 802.1Q/QinQ tag of the link's Ethernet
// header, "mpls:L1.L2" for an MPLS label stack (outer label first),
// "nsh" and "pppoe" there; then for each tunnel inside IP, "ipip" (IP in
// IP, any versions), "gre" or "gre:KEY", "vxlan:VNI", "vxlan-gpe:VNI",
// "geneve:VNI" and "mpls:L1.L2" (in UDP or IP). What is inside a tunnel
// before its IP packet (the VLAN tags of an Ethernet frame in VXLAN, an
// MPLS stack in GRE, ERSPAN) is not named. Plain packets append nothing.
func (d *headerDecoder) encap(b []byte) []byte {
	e := encapBuf{b: b, start: len(b)}
	return e.walk(d)
}

// walk appends the words of d's packet to e.b, and returns it.
func (e *encapBuf) walk(d *headerDecoder) []byte {
	p := d.data
	var ip []byte
	switch d.link {
	case linkTypeEthernet:
		if len(p) < ethernetHeaderLen {
			return e.b
		}
		et, rest := binary.BigEndian.Uint16(p[12:14]), p[ethernetHeaderLen:]
		if et == etherTypeIPv4 || et == etherTypeIPv6 {
			ip = rest // the plain case: no tag
			break
		}
		for tags := 0; (et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQOld || et == etherTypeQinQOld2) && len(rest) >= vlanTagLen; tags++ {
			if tags < maxLabels {
				e.num("vlan", uint32(binary.BigEndian.Uint16(rest)&0xfff))
			}
			et, rest = binary.BigEndian.Uint16(rest[2:4]), rest[vlanTagLen:]
		}
		switch et {
		case etherTypeMPLS, etherTypeMPLSMulti:
			e.labels(rest)
		case etherTypeNSH:
			e.word("nsh")
		case etherTypePPPoE:
			e.word("pppoe")
		}
		var ok bool
		if ip, ok = etherPayload(et, rest, 0); !ok {
			return e.b
		}
	default:
		var ok bool
		if ip, ok = NetworkPayload(d.link, p); !ok {
			return e.b
		}
	}
	for range maxTunnelDepth {
		var proto byte
		var pl []byte
		switch {
		case len(ip) >= 20 && ip[0]>>4 == ipVersion4 && len(ip) >= int(ip[0]&0xf)*4:
			next, p := skipAH(layers.IPProtocol(ip[9]), ip[int(ip[0]&0xf)*4:])
			proto, pl = byte(next), p
		case len(ip) >= 40 && ip[0]>>4 == ipVersion6:
			var next layers.IPProtocol
			next, pl, _ = skipIPv6Extensions(layers.IPProtocol(ip[6]), ip[40:])
			proto = byte(next)
		default:
			return e.b
		}
		switch layers.IPProtocol(proto) {
		case layers.IPProtocolTCP:
			return e.b
		case layers.IPProtocolIPv4, layers.IPProtocolIPv6:
			e.word("ipip")
		case layers.IPProtocolGRE:
			if len(pl) < 4 {
				return e.b
			}
			e.gre(pl)
		case layers.IPProtocolUDP:
			if len(pl) < udpHeaderLen+8 {
				return e.b
			}
			vni := binary.BigEndian.Uint32(pl[udpHeaderLen+4:]) >> 8
			switch udpTunnelPort(binary.BigEndian.Uint16(pl), binary.BigEndian.Uint16(pl[2:])) {
			case portVXLAN:
				e.num("vxlan", vni)
			case portVXLANGPE:
				e.num("vxlan-gpe", vni)
			case portGENEVE:
				e.num("geneve", vni)
			case portMPLS:
				e.labels(pl[udpHeaderLen:])
			}
		case ipProtoMPLS:
			e.labels(pl)
		}
		next, ok := tunnelPayload(layers.IPProtocol(proto), pl)
		if !ok {
			return e.b
		}
		ip = next
	}
	return e.b
}

// gre appends GRE's words: "gre:KEY" or "gre", "pptp:CALL" for
// version 1 (its key field is a payload length and a call id), and
// "erspan:SESSION" after GRE for ERSPAN types II and III.
func (e *encapBuf) gre(p []byte) {
	flags, proto, off := binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), 4
	if flags&(greChecksum|greRouting) != 0 {
		off += 4
	}
	switch {
	case flags&greVersion == 1 && flags&greKey != 0 && len(p) >= off+4:
		e.num("pptp", uint32(binary.BigEndian.Uint16(p[off+2:])))
		return
	case flags&greVersion == 1:
		e.word("pptp")
		return
	case flags&greKey != 0 && len(p) >= off+4:
		e.num("gre", binary.BigEndian.Uint32(p[off:]))
		off += 4
	default:
		e.word("gre")
	}
	if flags&greSeq != 0 {
		off += 4
	}
	// ERSPAN II (a sequence number: else type I, no header) and III:
	// version, VLAN, then COS, encapsulation, truncation and the 10-bit
	// session id.
	if (proto == etherTypeERSPAN2 && flags&greSeq != 0 || proto == etherTypeERSPAN3) && flags&greRouting == 0 && len(p) >= off+4 {
		e.num("erspan", uint32(binary.BigEndian.Uint16(p[off+2:])&0x3ff))
	}
}

// encapBuf is the encapsulation being written: the words after start.
type encapBuf struct {
	b     []byte
	start int
}

func (e *encapBuf) word(w string) {
	if len(e.b) > e.start {
		e.b = append(e.b, '/')
	}
	e.b = append(e.b, w...)
}

func (e *encapBuf) num(w string, id uint32) {
	e.word(w)
	e.b = strconv.AppendUint(append(e.b, ':'), uint64(id), 10)
}

// labels appends "mpls:" and the labels of the MPLS stack at p's start,
// outer first, joined by dots, to the bottom of the stack (at most
// maxLabels of it).
func (e *encapBuf) labels(p []byte) {
	e.word("mpls")
	sep := byte(':')
	for i := 0; i < maxLabels && len(p) >= mplsStackEntry; i++ {
		e.b = strconv.AppendUint(append(e.b, sep), uint64(binary.BigEndian.Uint32(p)>>12), 10)
		if p[2]&mplsBottom != 0 {
			return
		}
		sep, p = '.', p[mplsStackEntry:]
	}
}

// maxLabels bounds the labels written of one stack, and the VLAN tags:
// a hostile frame of thousands of tags would otherwise be named in 20 KB,
// kept for the process (wsparse.EncapID).
const maxLabels = 8

// view returns a view of s's connection (its number, addresses and
// encapsulation), for records of a connection without a decoder.
func (s *stream) view() *wsparse.Conn {
	v := wsparse.NewView(s.id, s.addrs())
	v.SetEncapID(s.encapID())
	v.SetInput(s.input())
	return v
}

// encapID returns the number of the packet just decoded's encapsulation
// (wsparse.EncapID), 0 for a plain packet.
func (d *headerDecoder) encapID() uint32 {
	if d.fixed {
		return d.fixedEncap
	}
	var buf [64]byte
	if e := d.encap(buf[:0]); len(e) > 0 {
		return wsparse.EncapID(string(e))
	}
	return 0
}

// encapID returns the number of s's encapsulation (0: none).
func (s *stream) encapID() uint32 {
	if s.rare == nil {
		return 0
	}
	return s.rare.encap
}

// setEncap notes the encapsulation of the packet just decoded as s's,
// unless s has one (a connection going on keeps its first).
func (a *Assembler) setEncap(s *stream) {
	if s.encapID() != 0 {
		return
	}
	if e := a.dec.encapID(); e != 0 {
		s.more().encap = e
		if wsparse.EncapFull(e) {
			a.stats.EncapsFull++
		}
	}
}
