// Connection identity: flow keys and packed tuples, the numbering of
// connections (gopacket's stream factory), closed connections kept for
// their late segments, tombs of connections ended early, and port reuse
// (a SYN with a new initial sequence number opens another connection).

package reassembly

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"
)

type flowKey struct{ net, tcp gopacket.Flow }

func (k flowKey) reverse() flowKey { return flowKey{k.net.Reverse(), k.tcp.Reverse()} }

// tuple is a flow key's addresses and ports, packed: a third of a
// flowKey's size, for the tables that hold one per connection.
type tuple struct {
	src, dst [16]byte
	sp, dp   uint16
	v6       bool
	lane     uint8 // lanes.go
}

func (k flowKey) tuple() tuple {
	var t tuple
	src, dst := k.net.Endpoints()
	t.v6 = len(src.Raw()) == 16
	t.lane = laneOf(k.net)
	copy(t.src[:], src.Raw())
	copy(t.dst[:], dst.Raw())
	sp, dp := k.tcp.Endpoints()
	t.sp, t.dp = binary.BigEndian.Uint16(sp.Raw()), binary.BigEndian.Uint16(dp.Raw())
	return t
}

func (t tuple) reverse() tuple {
	t.src, t.dst, t.sp, t.dp = t.dst, t.src, t.dp, t.sp
	return t
}

// canonical returns the same tuple for both directions.
func (t tuple) canonical() tuple {
	if r := t.reverse(); bytes.Compare(r.src[:], t.src[:]) < 0 || r.src == t.src && r.sp < t.sp {
		return r
	}
	return t
}

type closedConn struct {
	id    int
	at    time.Time
	canon bool // the entry under the key of side 0 (the other is under its reverse)
	// The sequence space each side used (first and past its last
	// segment), when it sent any: a segment far outside it is not a late
	// one of this connection but another on the same ports.
	set        [2]bool
	first, end [2]uint32
}

// lateWindow is how far outside a closed connection's sequence space a
// segment may lie and still be taken for a late one of it (a TCP
// window's worth: the last ACK, a retransmission, a keep-alive).
const lateWindow = 1 << 20

// late reports whether a segment on flow key k, with no live connection,
// belongs to the closed connection c: a SYN never does (it opens another,
// tshark's rule); a SYN-ACK does when it repeats the one c's side sent; any
// other segment does when its sequence number lies in or near c's sequence
// space for that side. Otherwise the segment is of a new connection on the
// same ports whose opening was not captured: it is decoded (found by
// sniffing, as in a capture that starts mid-connection), not dropped.
func (c closedConn) late(k flowKey, tcp *layers.TCP) bool {
	sd := 1
	if c.canon {
		sd = 0
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		return false
	case !c.set[sd]:
		return !tcp.SYN && len(tcp.Payload) == 0 // a bare ACK: nothing is lost
	case tcp.SYN:
		return tcp.Seq == c.first[sd]
	}
	lo, hi := c.first[sd]-lateWindow, c.end[sd]+lateWindow
	return tcp.Seq-lo <= hi-lo
}

// tomb remembers a connection ended early, by the key of its side 0: if
// it goes on, it keeps its number.
type tomb struct {
	id   int
	seq  int64 // the packet of the eviction that ended it
	bare bool  // ended before any payload, or finished: nothing of it is lost
	tls  bool  // it was TLS: going on, it cannot be decrypted
	// ws: it was WebSocket (plain, HTTP/1), client its client side:
	// going on, it is decoded as WebSocket from its next bytes.
	ws       bool
	client   int8
	deflated bool // and its handshake negotiated permessage-deflate
	// The sequence space each side used (its first segment, and past its
	// last), when it sent any: a segment far outside it is another
	// connection on the same ports, however long after (closedConn.late).
	set        [2]bool
	first, end [2]uint32
	input      int32 // the input it was first seen in (stream.input): it keeps it going on
	// unframed: bytes it searched for WebSocket framing without finding
	// any (Stats.ResumedUnframed if it goes on).
	unframed uint32
}

// wsDeflated is the bit of stream.wsClient for a tomb's deflated.
const wsDeflated = 4

// goesOn reports whether a segment (from side 0 if side0) continues the
// connection ended early: a SYN when it repeats side 0's first segment; a
// SYN-ACK when its side sent nothing yet (the connection was evicted while
// half-open) or it repeats that side's first; any other segment when its
// sequence number lies in or near its side's sequence space. A tomb is not
// forgotten by time: another connection on the same ports, its SYN not
// captured, hours later, is told by its sequence numbers (before, it was
// decoded as the rest of the old one, as WebSocket if that one was).
func (t tomb) goesOn(side0 bool, tcp *layers.TCP) bool {
	sd := 1
	if side0 {
		sd = 0
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		return side0 && t.set[0] && t.first[0] == tcp.Seq
	case !t.set[sd]:
		return true
	case tcp.SYN:
		return tcp.Seq == t.first[sd]
	}
	lo, hi := t.first[sd]-lateWindow, t.end[sd]+lateWindow
	return tcp.Seq-lo <= hi-lo
}

// orig returns the key of side 0 of the closed connection found under k.
func (c closedConn) orig(k flowKey) flowKey {
	if c.canon {
		return k
	}
	return k.reverse()
}

// closedMemory is how long (in packet time) a closed connection's number is
// kept for late segments.
const closedMemory = 2 * time.Minute

// reuse ends the connection a SYN's 4-tuple belongs to when the SYN opens
// another one (tshark's rule: its sequence number is not that side's
// first), so that the SYN starts a new connection with the next number: a
// client that closes, or is reset, and connects again from the same port.
//
// A SYN in another tenant while the connection is open is not reuse: it
// takes a lane of its own (lanes.go), whose flow is returned.
func (a *Assembler) reuse(netFlow gopacket.Flow, tcp *layers.TCP) gopacket.Flow {
	key := flowKey{netFlow, tcp.TransportFlow()}
	t := key.tuple()
	s, sd := a.live.get(t), 0
	if s == nil {
		if s = a.live.get(t.reverse()); s == nil {
			if p := a.parkedFor(key); p != nil && p.reopened(p.sideOf(key), tcp.Seq) {
				a.unpark(p)
				p.complete(false)
			}
			return netFlow
		}
		sd = 1
	}
	if s.stale || s.reopened(sd^int(s.flip), tcp.Seq) {
		if a.split != nil {
			if nf, ok := a.copyOf(netFlow, tcp); ok {
				a.closeStream(s)
				return nf
			}
		}
		if nf, ok := a.splits(s, netFlow); ok {
			return nf
		}
		a.closeStream(s)
	}
	return netFlow
}

// reopened reports whether a SYN with sequence number seq from side sd
// opens a new connection rather than repeats this one's.
func (s *stream) reopened(sd int, seq uint32) bool {
	return s.firstSet[sd] && s.firstSeq[sd] != seq
}

// factory creates a stream per TCP connection.
type factory struct{ a *Assembler }

func (f *factory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac tcpasm.AssemblerContext) tcpasm.Stream {
	a := f.a
	a.boundGrowth() // gopacket takes a connection from its pool next
	key := flowKey{netFlow, tcpFlow}
	if p := a.parkedFor(key); p != nil {
		// An evicted WebSocket connection goes on where it was.
		a.unpark(p)
		p.attach(key)
		p.parked().resume = [2]bool{true, true}
		a.live.set(key.tuple(), p)
		return p
	}
	if t, orig, ok := a.tombFor(key); ok && t.goesOn(key == orig, tcp) {
		// A connection ended early goes on: its number, decoded afresh
		// (resumed, unless nothing had been sent yet).
		delete(a.tombs, orig.tuple())
		st := &stream{a: a, first: a.pkt<<inputBits | int64(t.input), id: t.id, force: -1, resumed: !t.bare, wasEvicted: true, tlsResumed: t.tls && !t.bare}
		st.setAddr(orig)
		st.setSeen(a.now)
		if st.resumed {
			a.stats.Resumed++
			a.stats.ResumedUnframed += int64(t.unframed)
		}
		if a.onResume != nil {
			a.setEncap(st)
			a.onResume(st.id, st.addrs(), st.encapID(), st.input())
		}
		if t.ws && st.resumed {
			// Made at its first bytes: a piece without any (a keep-alive
			// between two evictions) makes no record.
			st.wsClient = t.client + 1
			if t.deflated {
				st.wsClient |= wsDeflated
			}
		}
		return a.started(st, key)
	}
	old, closed := a.closed[key]
	if closed && old.late(key, tcp) {
		// A late segment of a connection already ended (the last ACK after
		// FIN, a retransmitted FIN): same connection, nothing to decode.
		st := &stream{a: a, stale: true, first: a.opened(), id: old.id}
		st.setAddr(old.orig(key))
		st.setSeen(a.now)
		st.attach(key)
		a.live.set(key.tuple(), st)
		return st
	}
	if t, orig, ok := a.tombFor(key); ok {
		// Another connection on the ports of one ended early: that one
		// will not go on.
		a.bury(orig.tuple(), t)
	}
	a.nextID++
	a.stats.Connections++
	// last is the first packet's time until bytes come (EndEmpty).
	st := &stream{a: a, first: a.opened(), id: a.nextID, force: -1}
	st.setAddr(key)
	st.setSeen(a.now)
	st.setLast(a.now)
	if a.onNew != nil {
		a.setEncap(st)
		a.onNew(st.id, st.addrs(), st.encapID(), a.input)
	}
	return a.started(st, key)
}

// started holds a new stream for gopacket's connection with key key.
func (a *Assembler) started(st *stream, key flowKey) *stream {
	st.attach(key)
	st.tenant = tenant16(a.dec.tenant())
	a.setEncap(st)
	a.live.set(key.tuple(), st)
	for _, p := range a.opts.WSPorts {
		switch p {
		case st.addr.port[1]:
			st.force = 1
		case st.addr.port[0]:
			st.force = 0
		default:
			continue
		}
		break
	}
	return st
}

// key returns the flow key of side 0's packets, made from the addresses
// (a stream holds them once: a flow key is 112 bytes), as the packet
// decoder makes it.
func (s *stream) key() flowKey {
	var sp, dp [2]byte
	binary.BigEndian.PutUint16(sp[:], s.addr.port[0])
	binary.BigEndian.PutUint16(dp[:], s.addr.port[1])
	var nf gopacket.Flow
	if v6 := s.v6(); v6 != nil {
		nf = laneFlow(s.rare.lane, v6[0][:], v6[1][:])
	} else {
		nf = laneFlow(s.lane(), s.addr.v4[0][:], s.addr.v4[1][:])
	}
	return flowKey{nf, gopacket.NewFlow(layers.EndpointTCPPort, sp[:], dp[:])}
}

// addrPair is a stream's IPv4 addresses and ports by side, packed: 12
// bytes, not the 64 of two netip.AddrPorts (nor the 38 of two 16-byte
// addresses). IPv6 addresses are in the stream's streamRare.
type addrPair struct {
	v4   [2][4]byte
	port [2]uint16
}

// setAddr gives s the addresses of flow key k's packets, from the source.
func (s *stream) setAddr(k flowKey) {
	src, dst := k.net.Endpoints()
	sp, dp := k.tcp.Endpoints()
	if len(src.Raw()) == 16 {
		s.more().v6 = &[2][16]byte{[16]byte(src.Raw()), [16]byte(dst.Raw())}
	} else {
		s.addr.v4 = [2][4]byte{[4]byte(src.Raw()), [4]byte(dst.Raw())}
	}
	if l := laneOf(k.net); l != 0 {
		s.more().lane = l
	}
	s.addr.port[0], s.addr.port[1] = binary.BigEndian.Uint16(sp.Raw()), binary.BigEndian.Uint16(dp.Raw())
}

// v6 returns the IPv6 addresses of s, or nil for IPv4.
func (s *stream) v6() *[2][16]byte {
	if s.rare == nil {
		return nil
	}
	return s.rare.v6
}

// addrs returns the addresses: IPv4 ones as 4-byte addresses, IPv6 ones
// (IPv4-mapped ones included) as 16-byte ones.
func (s *stream) addrs() [2]netip.AddrPort {
	var out [2]netip.AddrPort
	v6 := s.v6()
	for i := range out {
		a := netip.AddrFrom4(s.addr.v4[i])
		if v6 != nil {
			a = netip.AddrFrom16(v6[i])
		}
		out[i] = netip.AddrPortFrom(a, s.addr.port[i])
	}
	return out
}

// attach makes s the stream of gopacket's connection with key gkey (the
// direction of the first packet gopacket sees of it).
func (s *stream) attach(gkey flowKey) {
	s.flip = 0
	if gkey != s.key() {
		s.flip = 1
	}
}

// gkey returns gopacket's key for the connection.
func (s *stream) gkey() flowKey {
	if s.flip == 1 {
		return s.key().reverse()
	}
	return s.key()
}

// sideOf returns the side of s that sends on flow key k.
func (s *stream) sideOf(k flowKey) int {
	if k == s.key() {
		return 0
	}
	return 1
}
