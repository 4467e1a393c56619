// Lanes: two connections on one 4-tuple at once, in different tenants of
// an overlay (VLAN ids, VXLAN/GENEVE/VXLAN-GPE network identifiers, GRE
// keys). A connection is its innermost addresses and ports, as tshark
// keys tcp.stream, so that a mirror's copies of a packet (one per VLAN of
// a trunk's SPAN, one per VNI of two AWS mirror sessions) are one
// connection's retransmissions. Bytes prove two connections distinct when
// a SYN with another initial sequence number comes in another tenant
// while the first is open: tshark ends the first there (port reuse) and
// takes every later packet of either for the second, mixing their bytes
// and losing the first's. Here the second goes in a lane of its own: a
// gopacket connection whose network flow has another endpoint type, and
// the packets of its tenant go there, the others to the first.

package reassembly

import (
	"encoding/binary"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Endpoint types of a lane's network flow: laneType4 + lane for IPv4
// addresses, laneType6 + lane for IPv6 (lane 1 to maxLanes-1; lane 0 is
// the plain flow). The types are never registered: gopacket only
// compares and hashes them.
const (
	laneType4 = gopacket.EndpointType(0x7700)
	laneType6 = gopacket.EndpointType(0x7800)
	maxLanes  = 256
)

// liveOf returns the live connection of k's 4-tuple, either way round
// (nil if none).
func (a *Assembler) liveOf(k flowKey) *stream {
	if s := a.live.get(k.tuple()); s != nil {
		return s
	}
	return a.live.get(k.tuple().reverse())
}

// laneOf returns the lane of a network flow (0: the plain flow).
func laneOf(nf gopacket.Flow) uint8 {
	switch t := nf.EndpointType(); {
	case t > laneType6 && t < laneType6+maxLanes:
		return uint8(t - laneType6)
	case t > laneType4 && t < laneType4+maxLanes:
		return uint8(t - laneType4)
	}
	return 0
}

// laneFlow returns the network flow of lane lane for addresses src, dst
// (4 or 16 bytes).
func laneFlow(lane uint8, src, dst []byte) gopacket.Flow {
	switch {
	case lane == 0 && len(src) == 16:
		return gopacket.NewFlow(layers.EndpointIPv6, src, dst)
	case lane == 0:
		return gopacket.NewFlow(layers.EndpointIPv4, src, dst)
	case len(src) == 16:
		return gopacket.NewFlow(laneType6+gopacket.EndpointType(lane), src, dst)
	}
	return gopacket.NewFlow(laneType4+gopacket.EndpointType(lane), src, dst)
}

// lanes are the tenants of a split 4-tuple and their lanes (entry 0:
// lane 0, whose tenant is not kept), and the number of lanes past 0.
// first holds, by lane, the first sequence number of each side of the
// lane's latest connection (noteFirst): copyOf and answerOf look a lane's
// connection up only when the SYN's or SYN-ACK's number matches one, not
// every lane at each SYN.
type lanes struct {
	tenants []uint32
	lane    []uint8
	first   [][2]uint32
	n       uint8
	busy    uint8 // the lane pruneSplit last found in use: looked at first
	strays  uint8 // segments in a row of lane 0's tenant in a lane's connection (strayOf)
}

// strayReconnect is how many segments in a row of lane 0's connection's
// tenant that lie in a lane's connection, and none in lane 0's between
// them, show its client reconnected from the same port (strayOf): fewer
// are that connection's segments routed through the other tenant
// (asymmetric routing) while lane 0's goes on.
const strayReconnect = 3

// noteFirst notes seq, the first sequence number of side sd of s, a
// lane's connection, in its 4-tuple's lanes.
func (a *Assembler) noteFirst(s *stream, sd int, seq uint32) {
	t := s.key().tuple()
	t.lane = 0
	if l := a.split[t.canonical()]; l != nil && int(s.lane()) < len(l.first) {
		l.first[s.lane()][sd] = seq
	}
}

// laneRoute returns the network flow the TCP segment just decoded goes
// to: its lane's when its 4-tuple is split (route, answerOf, strayOf),
// a new one when a SYN reuses the 4-tuple (reuse). A segment whose
// ports have no bit in splitPorts is on no split 4-tuple: it looks
// nothing up, so that one split 4-tuple costs the other connections'
// packets a bit test, not a map look-up each.
func (a *Assembler) laneRoute(netFlow gopacket.Flow, tcp *layers.TCP) gopacket.Flow {
	var l *lanes
	if a.split != nil && a.splitPorts.has(uint16(tcp.SrcPort), uint16(tcp.DstPort)) {
		l = a.split[flowKey{netFlow, tcp.TransportFlow()}.tuple().canonical()]
		a.splitGets++
	}
	if l != nil {
		netFlow = a.route(netFlow, l)
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		netFlow = a.reuse(netFlow, tcp)
	case l == nil:
	case tcp.SYN:
		netFlow = a.answerOf(netFlow, tcp, l)
	default:
		netFlow = a.strayOf(netFlow, tcp, l)
	}
	return netFlow
}

// portBits has a bit for each split 4-tuple, by its ports (their xor's
// low byte, the same either way round): a clear bit proves a 4-tuple
// not split; a set one may be another's.
type portBits [4]uint64

func portBit(sp, dp uint16) (int, uint64) {
	b := uint8(sp ^ dp)
	return int(b >> 6), 1 << (b & 63)
}

func (p *portBits) add(sp, dp uint16) {
	i, m := portBit(sp, dp)
	p[i] |= m
}

func (p *portBits) has(sp, dp uint16) bool {
	i, m := portBit(sp, dp)
	return p[i]&m != 0
}

// route returns the network flow of the packet just decoded (a.dec) on
// netFlow, whose 4-tuple is split into l: its tenant's lane's. Unknown
// tenants (a third mirror's copies) go to lane 0.
func (a *Assembler) route(netFlow gopacket.Flow, l *lanes) gopacket.Flow {
	ten := a.dec.tenant()
	for i, x := range l.tenants {
		if x == ten && i > 0 {
			src, dst := netFlow.Endpoints()
			return laneFlow(l.lane[i], src.Raw(), dst.Raw())
		}
	}
	return netFlow
}

// copyOf reports whether a SYN that would end the connection of lane 0
// (its sequence number a new one) is the SYN a lane's connection opened
// with: a mirror's copy of it, which came first in another tenant (a
// mirror's copies come in either order). Its tenant then goes to that
// lane from now on, which is no other connection, and the flow is
// returned; the connection of lane 0 ends as port reuse ends it.
func (a *Assembler) copyOf(netFlow gopacket.Flow, tcp *layers.TCP) (gopacket.Flow, bool) {
	tcpFlow := tcp.TransportFlow()
	t := flowKey{netFlow, tcpFlow}.tuple().canonical()
	l := a.split[t]
	if l == nil {
		return netFlow, false
	}
	src, dst := netFlow.Endpoints()
	for lane := 1; lane <= int(l.n); lane++ {
		if f := l.first[lane]; f[0] != tcp.Seq && f[1] != tcp.Seq {
			continue // not the first number of either side: no copy
		}
		k := flowKey{laneFlow(uint8(lane), src.Raw(), dst.Raw()), tcpFlow}
		s := a.liveOf(k)
		if s == nil {
			continue
		}
		if sd := s.sideOf(k); s.firstSet[sd] && s.firstSeq[sd] == tcp.Seq {
			if len(l.tenants) < maxLanes {
				l.tenants, l.lane = append(l.tenants, a.dec.tenant()), append(l.lane, uint8(lane))
			}
			a.stats.Lanes--
			return k.net, true
		}
	}
	return netFlow, false
}

// answerOf is copyOf for a SYN-ACK that route sent to lane 0 (its tenant
// unknown): when it answers the SYN a lane's connection opened with, and
// not lane 0's, it is a mirror's copy whose SYN was captured in one
// tenant only. Its tenant then goes to that lane, whose flow is returned,
// and the connection of lane 0 ends as port reuse would have ended it;
// otherwise its own copies of the lane's connection would go on in lane
// 0's connection, shown twice.
func (a *Assembler) answerOf(netFlow gopacket.Flow, tcp *layers.TCP, l *lanes) gopacket.Flow {
	tcpFlow := tcp.TransportFlow()
	k0 := flowKey{netFlow, tcpFlow}
	if laneOf(netFlow) != 0 {
		return netFlow
	}
	// answers reports whether the SYN-ACK answers s's SYN.
	answers := func(s *stream, k flowKey) bool {
		sd := s.sideOf(k) ^ 1 // the SYN's side
		return s.firstSet[sd] && s.firstSeq[sd]+1 == tcp.Ack
	}
	s0 := a.liveOf(k0)
	if s0 != nil && answers(s0, k0) {
		return netFlow
	}
	src, dst := netFlow.Endpoints()
	for lane := 1; lane <= int(l.n); lane++ {
		if f := l.first[lane]; f[0]+1 != tcp.Ack && f[1]+1 != tcp.Ack {
			continue
		}
		k := flowKey{laneFlow(uint8(lane), src.Raw(), dst.Raw()), tcpFlow}
		s := a.liveOf(k)
		if s == nil || !answers(s, k) {
			continue
		}
		if len(l.tenants) < maxLanes {
			l.tenants, l.lane = append(l.tenants, a.dec.tenant()), append(l.lane, uint8(lane))
		}
		a.stats.Lanes--
		if s0 != nil {
			a.closeStream(s0)
		}
		return k.net
	}
	return netFlow
}

// strayOf is answerOf for a segment that is neither SYN nor SYN-ACK,
// sent by route to lane 0: when it lies in another sequence space than
// lane 0's connection (foreign) and in a lane's connection's, it is a
// mirror's copy of that connection whose SYN and SYN-ACK were captured
// in another tenant only. Its tenant goes to that lane from now on, and
// the flow is returned; when that tenant is lane 0's connection's own,
// its client reconnected from the same port, and that connection ends as
// port reuse would end it. Without this, the copies went on in lane 0's
// connection as another sequence space (seq_space_mixed), and the lane
// stayed counted as another tenant's connection.
func (a *Assembler) strayOf(netFlow gopacket.Flow, tcp *layers.TCP, l *lanes) gopacket.Flow {
	tcpFlow := tcp.TransportFlow()
	k0 := flowKey{netFlow, tcpFlow}
	if laneOf(netFlow) != 0 {
		return netFlow
	}
	s0 := a.liveOf(k0)
	if s0 == nil {
		return netFlow
	}
	ten := a.dec.tenant()
	own := tenant16(ten) == s0.tenant
	if !s0.foreign(s0.sideOf(k0), tcp) {
		if own {
			l.strays = 0 // lane 0's connection goes on
		}
		return netFlow
	}
	src, dst := netFlow.Endpoints()
	for lane := 1; lane <= int(l.n); lane++ {
		k := flowKey{laneFlow(uint8(lane), src.Raw(), dst.Raw()), tcpFlow}
		s := a.liveOf(k)
		if s == nil || !s.firstSet[0] || !s.firstSet[1] || s.foreign(s.sideOf(k), tcp) {
			continue
		}
		if own {
			// A reconnect, or a segment of the lane's connection
			// routed through lane 0's tenant: that one goes to the
			// lane, and lane 0's connection ends only when
			// strayReconnect come in a row (until a hostile review the
			// first ended it, and the rest of its segments went to the
			// lane: 16 of 20 messages lost).
			if l.strays++; l.strays < strayReconnect {
				return k.net
			}
			a.stats.Lanes--
			a.closeStream(s0)
		}
		if len(l.tenants) < maxLanes {
			l.tenants, l.lane = append(l.tenants, ten), append(l.lane, uint8(lane))
		}
		return k.net
	}
	return netFlow
}

// splits reports whether a SYN of another connection (its sequence number
// not the first of s's side) opens, in another tenant than s's, while s
// is open: then it takes a lane of its own, and returns its flow.
func (a *Assembler) splits(s *stream, netFlow gopacket.Flow) (gopacket.Flow, bool) {
	if s.stale || s.rst || s.fin[0] || s.fin[1] || s.lane() != 0 {
		return netFlow, false
	}
	ten := a.dec.tenant()
	if tenant16(ten) == s.tenant {
		return netFlow, false
	}
	t := flowKey{netFlow, a.dec.tcp.TransportFlow()}.tuple().canonical()
	l := a.split[t]
	if l == nil && len(a.split) >= a.opts.MaxConnections {
		a.stats.LanesFull++
		return netFlow, false
	}
	if l == nil {
		// Lane 0's tenant is only known folded: its entry is never
		// matched (route sends unknown tenants there anyway).
		l = &lanes{tenants: []uint32{0}, lane: []uint8{0}, first: make([][2]uint32, 1)}
	}
	// The SYN's tenant is none of l's (route sent those to their lanes).
	if len(l.tenants) >= maxLanes || l.n == maxLanes-1 {
		a.stats.LanesFull++
		return netFlow, false
	}
	l.n++
	lane := l.n
	l.tenants, l.lane = append(l.tenants, ten), append(l.lane, lane)
	l.first = append(l.first, [2]uint32{})
	if a.split == nil {
		a.split = map[tuple]*lanes{}
	}
	a.split[t] = l
	a.splitPorts.add(t.sp, t.dp)
	a.stats.Lanes++
	src, dst := netFlow.Endpoints()
	return laneFlow(lane, src.Raw(), dst.Raw()), true
}

// tenant16 folds a tenant to the 2 bytes a stream keeps (the padding
// left in it): VLAN ids, and network identifiers or GRE keys that
// differ in one half, fold apart; others may fold alike (1 in 65 536),
// and are then not told apart.
func tenant16(t uint32) uint16 { return uint16(t ^ t>>16) }

// lane returns s's lane (0: none).
func (s *stream) lane() uint8 {
	if s.rare == nil {
		return 0
	}
	return s.rare.lane
}

// Kinds of tenant identifier, mixed into tenant's value.
const (
	tenantVLAN = iota + 1
	tenantVNI
	tenantGREKey
)

// tenant returns the tenant identifiers the packet just decoded travelled
// under, mixed into one number (0: none): its VLAN ids, and those of the
// tunnels it came through (VXLAN, VXLAN-GPE and GENEVE network
// identifiers, GRE keys but PPTP's), the same both ways, read past what
// encap reads past (MPLS, NSH, PPPoE, AH, IPv6 extension headers): its
// words are wsparse.EncapTenant's. Other encapsulations (MPLS labels,
// outer addresses) are not read: they differ by direction or by path,
// not by tenant.
func (d *headerDecoder) tenant() (h uint32) {
	if d.fixed {
		return d.fixedTenant
	}
	// The first id as it is (with its kind in the high byte), the next
	// mixed in (FNV's prime).
	mix := func(kind, id uint32) { h = h*16777619 ^ (kind<<24 + id) }
	p := d.data
	var ip []byte
	switch d.link {
	case linkTypeEthernet:
		if len(p) < ethernetHeaderLen {
			return
		}
		et, rest := binary.BigEndian.Uint16(p[12:14]), p[ethernetHeaderLen:]
		for (et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQOld || et == etherTypeQinQOld2) && len(rest) >= vlanTagLen {
			if id := uint32(binary.BigEndian.Uint16(rest) & 0xfff); id != 0 { // 0: a priority tag (802.1p), no VLAN
				mix(tenantVLAN, id)
			}
			et, rest = binary.BigEndian.Uint16(rest[2:4]), rest[vlanTagLen:]
		}
		// Past MPLS, NSH and PPPoE to the IP packet, as encap reads
		// (their own words are no tenant's, the tunnels' after them are).
		var ok bool
		if ip, ok = etherPayload(et, rest, 0); !ok {
			return
		}
	default:
		var ok bool
		if ip, ok = NetworkPayload(d.link, p); !ok {
			return
		}
	}
	for range maxTunnelDepth {
		var proto byte
		var pl []byte
		switch {
		// Past AH and IPv6 extension headers, as encap reads.
		case len(ip) >= 20 && ip[0]>>4 == ipVersion4 && len(ip) >= int(ip[0]&0xf)*4:
			next, p := skipAH(layers.IPProtocol(ip[9]), ip[int(ip[0]&0xf)*4:])
			proto, pl = byte(next), p
		case len(ip) >= 40 && ip[0]>>4 == ipVersion6:
			next, p, _ := skipIPv6Extensions(layers.IPProtocol(ip[6]), ip[40:])
			proto, pl = byte(next), p
		default:
			return
		}
		switch proto {
		case byte(layers.IPProtocolGRE):
			if len(pl) >= 4 {
				flags, off := binary.BigEndian.Uint16(pl), 4
				if flags&(greChecksum|greRouting) != 0 {
					off += 4
				}
				// PPTP's (version 1) key is no tenant: its payload
				// length and the peer's call id, which differ by
				// packet and by direction.
				if flags&greKey != 0 && flags&greVersion == 0 && len(pl) >= off+4 {
					mix(tenantGREKey, binary.BigEndian.Uint32(pl[off:]))
				}
			}
		case byte(layers.IPProtocolUDP):
			if len(pl) >= udpHeaderLen+8 {
				switch udpTunnelPort(binary.BigEndian.Uint16(pl), binary.BigEndian.Uint16(pl[2:])) {
				case portVXLAN, portVXLANGPE, portGENEVE:
					mix(tenantVNI, binary.BigEndian.Uint32(pl[udpHeaderLen+4:])>>8)
				}
			}
		case byte(layers.IPProtocolTCP):
			return
		}
		next, ok := tunnelPayload(layers.IPProtocol(proto), pl)
		if !ok {
			return
		}
		ip = next
	}
	return
}

// pruneSplit forgets the 4-tuples whose connections, in every lane, have
// all ended and are no longer remembered (closed, parked, tombs): their
// lanes would route nothing, and split grew by one entry (up to 3.3 KB
// with its 256 tenants) per 4-tuple ever split. Called as closed
// connections are forgotten; a 4-tuple split again starts afresh.
func (a *Assembler) pruneSplit() {
	n := len(a.split)
	for t, l := range a.split {
		if !a.laneInUse(t, l) {
			delete(a.split, t)
		}
	}
	if len(a.split) == n {
		return
	}
	a.splitPorts = portBits{}
	for t := range a.split {
		a.splitPorts.add(t.sp, t.dp)
	}
	if len(a.split) == 0 {
		a.split = nil // laneRoute looks nothing up again
	}
}

// laneInUse reports whether a connection of any lane of 4-tuple t is
// live, parked, ended early (a tomb) or closed and remembered. It looks
// from the lane last found in use (l.busy) on, round: at each flush a
// 4-tuple whose lane 0 has ended costs the look-ups of one lane, not of
// every lane up to the one in use (256 lanes, 2 048 look-ups).
func (a *Assembler) laneInUse(t tuple, l *lanes) bool {
	for i := range int(l.n) + 1 {
		lane := uint8((int(l.busy) + i) % (int(l.n) + 1))
		if a.laneConnInUse(t, lane) {
			l.busy = lane
			return true
		}
	}
	return false
}

// laneConnInUse reports whether the connection of lane lane of 4-tuple
// t is live, parked, a tomb or closed and remembered.
func (a *Assembler) laneConnInUse(t tuple, lane uint8) bool {
	t.lane = lane
	for _, u := range [2]tuple{t, t.reverse()} {
		if a.live.get(u) != nil {
			return true
		}
		if _, ok := a.tombs[u]; ok {
			return true
		}
		k := u.key()
		if _, ok := a.closed[k]; ok || a.parked[k] != nil {
			return true
		}
	}
	return false
}

// key returns the flow key of t's packets, as the packet decoder makes it.
func (t tuple) key() flowKey {
	n := 4
	if t.v6 {
		n = 16
	}
	var sp, dp [2]byte
	binary.BigEndian.PutUint16(sp[:], t.sp)
	binary.BigEndian.PutUint16(dp[:], t.dp)
	return flowKey{laneFlow(t.lane, t.src[:n], t.dst[:n]), gopacket.NewFlow(layers.EndpointTCPPort, sp[:], dp[:])}
}
