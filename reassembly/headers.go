// Packet headers: IPv4, IPv6 (with extension headers) and TCP decoded
// into preallocated layers.

package reassembly

import (
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// headerDecoder decodes the IP and TCP headers of packets into
// preallocated layers.
type headerDecoder struct {
	ip4 layers.IPv4
	ip6 layers.IPv6
	tcp layers.TCP
}

// decode decodes a packet's headers, counting it in st, and returns its
// network flow; the TCP header is left in d.tcp. ok is false for packets
// that carry no TCP segment to reassemble.
func (d *headerDecoder) decode(link uint32, data []byte, wireLen int, st *Stats) (netFlow gopacket.Flow, ok bool) {
	st.Packets++
	st.Bytes += uint64(len(data))
	if wireLen > len(data) {
		st.Cut++
	}
	ip, ok := NetworkPayload(link, data)
	if !ok {
		st.NotIP++
		return netFlow, false
	}
	var payload []byte
	// The IP layer, and the IP layer inside each tunnel (tunnel.go): the
	// connection is the innermost packet's.
	for depth := 0; ; depth++ {
		var proto layers.IPProtocol
		// frag: a fragment, not reassembled; whole is true unless it is
		// an IPv4 fragment past the first, whose payload has no header.
		frag, whole := false, true
		if ip[0]>>4 == ipVersion4 {
			if err := d.ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
				st.Malformed++
				return netFlow, false
			}
			proto, netFlow, payload = d.ip4.Protocol, d.ip4.NetworkFlow(), d.ip4.Payload
			frag, whole = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0, d.ip4.FragOffset == 0
		} else { // 6: NetworkPayload and tunnelPayload check the version
			if err := d.ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
				st.Malformed++
				return netFlow, false
			}
			proto, payload, frag = skipIPv6Extensions(d.ip6.NextHeader, d.ip6.Payload)
			netFlow = d.ip6.NetworkFlow()
		}
		tcp := proto == layers.IPProtocolTCP
		tunnel := !tcp && depth < maxTunnelDepth && mayTunnel(proto, payload, whole)
		switch {
		case frag && (tcp || tunnel || ip[0]>>4 == ipVersion6):
			st.Fragments++
			return netFlow, false
		case tunnel:
			if ip, ok = tunnelPayload(proto, payload); ok {
				continue
			}
		case tcp:
			if err := d.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
				st.Malformed++
				return netFlow, false
			}
			return netFlow, true
		}
		st.NotTCP++
		return netFlow, false
	}
}

// skipIPv6Extensions walks IPv6 extension headers to the upper layer.
func skipIPv6Extensions(next layers.IPProtocol, p []byte) (layers.IPProtocol, []byte, bool) {
	for i := 0; i < 8; i++ {
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
			if len(p) < 8 {
				return next, nil, false
			}
			n := 8 + int(p[1])*8
			if len(p) < n {
				return next, nil, false
			}
			next, p = layers.IPProtocol(p[0]), p[n:]
		case layers.IPProtocolIPv6Fragment:
			return next, nil, true
		default:
			return next, p, false
		}
	}
	return next, nil, false
}
