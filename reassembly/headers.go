// Packet headers: IPv4, IPv6 (with extension headers) and TCP decoded
// into preallocated layers.

package reassembly

import (
	"encoding/binary"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// headerDecoder decodes the IP and TCP headers of packets into
// preallocated layers.
type headerDecoder struct {
	ip4    layers.IPv4
	ip6    layers.IPv6
	tcp    layers.TCP
	defrag defragmenter
	// The packet being decoded, for its tenant (lanes.go).
	link uint32
	data []byte
	// A Parallel worker's datagram that fragments made: its tenant and encapsulation, read
	// by Parallel from the last fragment's frame (fixed).
	fixed       bool
	fixedTenant uint32
	fixedEncap  uint32 // and its encapsulation (wsparse.EncapID)
}

// decode decodes a packet's headers, counting it in st, and returns its
// network flow; the TCP header is left in d.tcp. ok is false for packets
// that carry no TCP segment to reassemble. A fragment that completes its
// datagram returns the datagram as whole (an IP packet, valid until the
// next call), which d.tcp was decoded from; a fragment that does not is
// held (ok false).
func (d *headerDecoder) decode(link uint32, data []byte, wireLen int, ts time.Time, st *Stats) (netFlow gopacket.Flow, whole []byte, ok bool) {
	d.link, d.data, d.fixed = link, data, false
	st.Packets++
	st.Bytes += uint64(len(data))
	if wireLen > len(data) {
		st.Cut++
	}
	ip, ok := NetworkPayload(link, data)
	if !ok {
		st.NotIP++
		return netFlow, nil, false
	}
	var payload []byte
	// The IP layer, and the IP layer inside each tunnel (tunnel.go): the
	// connection is the innermost packet's. Each layer is reassembled
	// once at most: a fragment header in the datagram it made (IPv6,
	// through AH) is not, and reassembling does not count as a tunnel.
	defragged := false
	for depth := 0; ; {
		var proto layers.IPProtocol
		var f ipFragment
		frag := false
		if ip[0]>>4 == ipVersion4 {
			if err := d.ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
				st.Malformed++
				return netFlow, nil, false
			}
			proto, netFlow, payload = d.ip4.Protocol, d.ip4.NetworkFlow(), d.ip4.Payload
			if frag = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0; !frag {
				proto, payload = skipAH(proto, payload)
			} else {
				f = ipFragment{header: ip[:d.ip4.IHL*4], off: int(d.ip4.FragOffset) * defragUnit,
					more: d.ip4.Flags&layers.IPv4MoreFragments != 0, data: payload, cut: int(d.ip4.Length) > len(ip)}
				f.key.id, f.key.proto = uint32(d.ip4.Id), uint8(proto)
				copy(f.key.src[:], d.ip4.SrcIP.To4())
				copy(f.key.dst[:], d.ip4.DstIP.To4())
			}
		} else { // 6: NetworkPayload and tunnelPayload check the version
			if err := d.ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
				st.Malformed++
				return netFlow, nil, false
			}
			next, p := d.ip6.NextHeader, d.ip6.Payload
			// gopacket passes over a hop-by-hop header, but in a
			// jumbogram (length 0), and cuts the payload at the IPv6
			// length from after it.
			if h := d.ip6.HopByHop; h != nil && d.ip6.Length != 0 {
				next = h.NextHeader
				p = p[:max(0, min(len(p), int(d.ip6.Length)-int(h.ActualLength)))]
			}
			proto, payload, frag = skipIPv6Extensions(next, p)
			netFlow = d.ip6.NetworkFlow()
			if frag {
				if len(payload) < 8 {
					st.Malformed++
					return netFlow, nil, false
				}
				// Next header, reserved, offset (13 bits) and M, id.
				proto = layers.IPProtocol(payload[0])
				fo := binary.BigEndian.Uint16(payload[2:4])
				f = ipFragment{header: ip[:40], off: int(fo>>3) * defragUnit, more: fo&1 != 0, data: payload[8:],
					cut: 40+int(d.ip6.Length) > len(ip)}
				f.key.id, f.key.v6, f.next = binary.BigEndian.Uint32(payload[4:8]), true, uint8(proto)
				copy(f.key.src[:], d.ip6.SrcIP.To16())
				copy(f.key.dst[:], d.ip6.DstIP.To16())
			}
		}
		tcp := proto == layers.IPProtocolTCP
		f.mayTCP = tcp || tunnelProto(proto) || proto == layers.IPProtocolAH ||
			proto == layers.IPProtocolIPv6Destination || proto == layers.IPProtocolIPv6Routing
		switch {
		case frag && !defragged && (f.key.v6 || f.mayTCP):
			// A fragment of what may carry TCP: reassembled (a later
			// fragment of UDP has no ports to tell a tunnel by). Every
			// IPv6 fragment is: what the datagram carries is the first
			// fragment's next header (RFC 8200 section 4.5), whatever
			// the others say, and its fragmentable part may start with
			// extension headers.
			st.Fragments++
			if f.cut {
				st.FragmentsLost++
				return netFlow, nil, false
			}
			if ip, ok = d.defrag.add(&f, ts, st); !ok {
				return netFlow, nil, false
			}
			whole, defragged = ip, true
			continue
		case frag:
		case tcp:
			if err := d.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil && !optionsOnly(&d.tcp, payload) {
				st.Malformed++
				return netFlow, nil, false
			}
			return netFlow, whole, true
		case tunnelProto(proto):
			// tunnelPayload refuses UDP on other ports.
			if in, ok := tunnelPayload(proto, payload); ok {
				if depth == maxTunnelDepth {
					st.TooDeep++
					return netFlow, nil, false
				}
				ip, depth, defragged = in, depth+1, false
				continue
			}
		}
		st.NotTCP++
		return netFlow, nil, false
	}
}

// optionsOnly reports whether the error DecodeFromBytes returned for seg
// was in the TCP options (a length under 2 or past the header): the data
// offset holds, so the payload is where it says. A receiver stops reading
// the options there and takes the segment (Linux's tcp_parse_options), as
// tshark does: such a segment carrying frame bytes was dropped, its bytes
// counted lost (the header is left with the options read before it).
func optionsOnly(tcp *layers.TCP, seg []byte) bool {
	off := int(tcp.DataOffset) * 4
	return len(seg) >= 20 && off >= 20 && off <= len(seg)
}

// skipIPv6Extensions walks IPv6 extension headers (and IPsec's AH, whose
// payload is in clear) to the upper layer, however many there are: each
// takes 8 bytes or more of the packet. At a fragment header it returns
// with p at that header and frag set.
func skipIPv6Extensions(next layers.IPProtocol, p []byte) (layers.IPProtocol, []byte, bool) {
	for {
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination, layers.IPProtocolAH:
			if len(p) < 8 {
				return next, nil, false
			}
			n := 8 + int(p[1])*8
			if next == layers.IPProtocolAH { // RFC 4302: in 4-byte words, less 2
				n = (int(p[1]) + 2) * 4
			}
			if len(p) < n {
				return next, nil, false
			}
			next, p = layers.IPProtocol(p[0]), p[n:]
		case layers.IPProtocolIPv6Fragment:
			return next, p, true
		default:
			return next, p, false
		}
	}
}

// skipAH passes over IPsec AH headers in an IPv4 packet (RFC 4302).
func skipAH(next layers.IPProtocol, p []byte) (layers.IPProtocol, []byte) {
	for next == layers.IPProtocolAH && len(p) >= 8 && len(p) >= (int(p[1])+2)*4 {
		next, p = layers.IPProtocol(p[0]), p[(int(p[1])+2)*4:]
	}
	return next, p
}
