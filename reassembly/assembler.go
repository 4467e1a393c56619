// Package reassembly turns packets into the byte streams of TCP connections,
// using gopacket's reassembly, and feeds each connection to a wsparse.Conn.
// Everything is driven by packet time, never the wall clock.
package reassembly

import (
	"bytes"
	"cmp"
	"container/list"
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"

	"github.com/wsdump/wsdump/h2"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// Options configures an Assembler. Zero values take the defaults.
type Options struct {
	Decoder wsparse.Config

	// WSPorts are decoded as WebSocket whatever the evidence (tshark's
	// decode-as); the side on the port is the server.
	WSPorts []uint16

	// Keys decrypt TLS connections (wss); nil describes them only. Keys
	// merged into it later (pcapng secrets) apply to later handshakes.
	Keys *tlsdec.KeyLog

	// FlushEvery is how often (in packet time) stalled connections are
	// checked. Bytes waiting behind a hole older than GapTimeout are pushed
	// through as a gap; connections idle for IdleTimeout are ended.
	FlushEvery  time.Duration // default 1 s
	GapTimeout  time.Duration // default 2 s
	IdleTimeout time.Duration // default 0: never, connections end at FIN/RST or end of input

	// Page limits of gopacket's assembler (out-of-order bytes held); past
	// them, data is pushed through and the hole counted as a gap.
	MaxBufferedPagesPerConnection int // default 4096 (about 8 MiB)
	MaxBufferedPagesTotal         int // default 65536

	// MaxConnections bounds the connections held at once. Past it, a tenth
	// are evicted, exactly, in this order: finished and half-open ones
	// (no payload yet), then those that are not WebSocket, then WebSocket
	// connections, each class least recently active first (ties by first
	// packet). An evicted WebSocket connection is parked: its decoder
	// state is kept (up to MaxConnections of them) and it goes on where it
	// was if it continues. Other evicted connections, and parked ones past
	// that bound, are ended (their records come out as at the end of the
	// input, counted in Stats.Evicted); if one continues, it keeps its
	// number and is decoded afresh, marked connection_resumed. A flood of
	// SYNs cannot exhaust memory nor end a WebSocket connection.
	MaxConnections int // default 100000

	// DataUnused says the sink reads neither the payloads of data frames
	// nor the data of messages: a Parallel then does not copy them out of
	// its workers, and passes them as nil (control frames keep theirs). A
	// stage in the workers still sees everything.
	DataUnused bool
}

func (o Options) withDefaults() Options {
	// A lost segment is usually retransmitted within a few round trips;
	// waiting longer only delays output and holds memory.
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.GapTimeout <= 0 {
		o.GapTimeout = 2 * time.Second
	}
	if o.MaxBufferedPagesPerConnection <= 0 {
		o.MaxBufferedPagesPerConnection = 4096
	}
	if o.MaxBufferedPagesTotal <= 0 {
		o.MaxBufferedPagesTotal = 65536
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 100000
	}
	return o
}

// Stats counts what the assembler saw.
type Stats struct {
	Packets     uint64 // packets handed to Packet
	Bytes       uint64 // their captured bytes
	Cut         uint64 // packets captured shorter than they were on the wire (snap length)
	NotIP       uint64 // link payload without IPv4/IPv6
	NotTCP      uint64 // IP packets that carry no TCP
	Malformed   uint64 // IP or TCP headers that do not parse
	Fragments   uint64 // IP fragments (not reassembled)
	Connections int    // TCP connections seen
	Evicted     int    // connections ended early to stay under MaxConnections (each once)
	Parked      int    // WebSocket connections evicted with their decoder state kept
	Resumed     int    // connections that went on after they were ended early
	// PageLimitFlushes counts the times gopacket's page limits
	// (MaxBufferedPages*) forced out-of-order bytes through as a gap.
	PageLimitFlushes int
	// Retransmitted bytes that overlapped bytes already passed on, and
	// their segments: gopacket keeps the first copy and drops the rest
	// without showing it, so differing content cannot be told here.
	OverlapBytes, OverlapSegments int
	RetransmitConflicts           int // retransmitted segments with other bytes than the first copy
	// Decoder limits hit (wsparse.LimitHits), summed over connections.
	HTTPHeaderLimit, PendingLimit, SniffLimit int
	InflateRatioLimit                         int // messages whose inflation stopped at the ratio bound
}

// Assembler feeds the TCP connections of a packet stream to WebSocket
// decoders and passes their records to a sink, in the order of the packets
// that complete them.
type Assembler struct {
	opts  Options
	out   record.Sink
	rec   record.Record // the record handed to out, reused
	asm   *tcpasm.Assembler
	stats Stats
	dec   headerDecoder

	// Hooks for Parallel: a connection numbered, a connection gone.
	onNew  func(id int, addr [2]netip.AddrPort)
	onGone func(id int)
	// A connection ended early, remembered by a tomb; one going on.
	onTomb   func(id int)
	onResume func(id int, addr [2]netip.AddrPort)
	// coordinated: a Parallel decides evictions over all its workers
	// (candidates, evictStreams); the Assembler does not evict by itself.
	coordinated bool

	now       time.Time // timestamp of the packet being processed
	pkt       int64     // index of that packet in the input
	inPacket  bool
	lastFlush time.Time
	nextID    int

	// closed remembers the connections gopacket has finished, by both
	// directions' flow keys: a stray ACK after the close makes gopacket start
	// a new stream, which must not take a new connection number; a
	// connection ended early that goes on keeps its number.
	closed map[flowKey]closedConn
	ending bool // Finish: no packet comes after, closed is not needed

	// live holds the connections gopacket holds, by gopacket's key (the
	// direction of the first packet it saw of them).
	live     map[tuple]*stream
	evicting bool
	reopen   *stream // a stale stream that got another connection's segment

	// tombs: connections ended early, by the key of their side 0.
	tombs  map[tuple]tomb
	ledger tombLedger

	// parked holds evicted WebSocket connections with their decoder state,
	// by the flow key of their side 0, oldest first in parkQ.
	parked map[flowKey]*stream
	parkQ  list.List

	// Synthetic segments end one connection in gopacket (closeStream).
	closing *stream
	synMode int
	// What the synthetic segments found: the half's next sequence number
	// (-1: none yet), and bytes pushed through.
	probed   bool
	probeSeq int64
	pushed   bool
	synHdr   [20]byte
	synTCP   layers.TCP
	synCtx   assemblerContext
	cands    []candidate // scratch of candidates

	// gopacket's pool's next allocation size, held at poolChunk (nil:
	// not found in this gopacket).
	nextAlloc *int

	// Records produced outside a packet (by a flush) are held and sorted by
	// connection so that output does not depend on map order.
	holding bool
	held    []heldRecord
}

type flowKey struct{ net, tcp gopacket.Flow }

func (k flowKey) reverse() flowKey { return flowKey{k.net.Reverse(), k.tcp.Reverse()} }

// tuple is a flow key's addresses and ports, packed: a third of a
// flowKey's size, for the tables that hold one per connection.
type tuple struct {
	src, dst [16]byte
	sp, dp   uint16
	v6       bool
}

func (k flowKey) tuple() tuple {
	var t tuple
	src, dst := k.net.Endpoints()
	t.v6 = len(src.Raw()) == 16
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

// resumedTLS is the error of the TLS record of a TLS connection ended
// early that went on.
const resumedTLS = "connection_resumed: ended early to stay under --max-connections and went on; a TLS session cannot be decrypted from its middle"

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
	id     int
	at     time.Time
	seq    int64 // the packet of the eviction that ended it
	bare   bool  // ended before any payload, or finished: nothing of it is lost
	tls    bool  // it was TLS: going on, it cannot be decrypted
	isnSet bool
	isn    uint32 // sequence number of side 0's first segment
}

// goesOn reports whether a segment (from side 0 if side0) continues the
// connection ended early: anything but a SYN that opens another (a SYN
// without ACK whose sequence number is not side 0's first). The SYN-ACK
// of a connection evicted while half-open continues it.
func (t tomb) goesOn(side0 bool, tcp *layers.TCP) bool {
	if !tcp.SYN || tcp.ACK {
		return true
	}
	return side0 && t.isnSet && t.isn == tcp.Seq
}

// tombLedger bounds the tombs, the same way in an Assembler and over the
// workers of a Parallel: by whole evictions, oldest first, once more than
// twice MaxConnections tombs were made since the oldest eviction kept.
type tombLedger struct {
	ev    []struct{ pkt, n int64 }
	total int64
}

// add records n tombs made by the eviction at packet pkt and returns the
// packet of the oldest eviction whose tombs are kept.
func (l *tombLedger) add(pkt int64, n, max int) int64 {
	if n > 0 {
		l.ev = append(l.ev, struct{ pkt, n int64 }{pkt, int64(n)})
		l.total += int64(n)
	}
	for len(l.ev) > 1 && l.total > 2*int64(max) {
		l.total -= l.ev[0].n
		l.ev = l.ev[1:]
	}
	if len(l.ev) == 0 {
		return pkt
	}
	return l.ev[0].pkt
}

// orig returns the key of side 0 of the closed connection found under k.
func (c closedConn) orig(k flowKey) flowKey {
	if c.canon {
		return k
	}
	return k.reverse()
}

// addrOf returns the addresses of a flow key's sender and receiver.
func addrOf(k flowKey) [2]netip.AddrPort {
	src, dst := k.net.Endpoints()
	sp, dp := k.tcp.Endpoints()
	ep := func(ip, port gopacket.Endpoint) netip.AddrPort {
		addr, _ := netip.AddrFromSlice(ip.Raw())
		return netip.AddrPortFrom(addr, binary.BigEndian.Uint16(port.Raw()))
	}
	return [2]netip.AddrPort{ep(src, sp), ep(dst, dp)}
}

// closedMemory is how long (in packet time) a closed connection's number is
// kept for late segments.
const closedMemory = 2 * time.Minute

// New returns an Assembler that sends records to out: Handshake, Frame,
// Message and End records, and a TLS record for each TLS connection which
// carried no WebSocket that could be seen (no key, or something else
// inside), when it ends.
func New(out record.Sink, opts Options) *Assembler {
	a := &Assembler{opts: opts.withDefaults(), out: out, closed: map[flowKey]closedConn{},
		live: map[tuple]*stream{}, parked: map[flowKey]*stream{}, tombs: map[tuple]tomb{}}
	pool := tcpasm.NewStreamPool(&factory{a: a})
	a.nextAlloc = poolGrowth(pool)
	a.asm = tcpasm.NewAssembler(pool)
	a.asm.MaxBufferedPagesPerConnection = a.opts.MaxBufferedPagesPerConnection
	a.asm.MaxBufferedPagesTotal = a.opts.MaxBufferedPagesTotal
	return a
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats { return a.stats }

type assemblerContext struct{ ci gopacket.CaptureInfo }

func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// Packet decodes one captured packet of the given link type (a LINKTYPE_
// number) and feeds its TCP segment to reassembly. wireLen is the packet's
// original length.
func (a *Assembler) Packet(link uint32, data []byte, ts time.Time, wireLen int) {
	a.pkt = int64(a.stats.Packets)
	netFlow, ok := a.dec.decode(link, data, wireLen, &a.stats)
	if !ok {
		return
	}
	a.maybeFlush(ts)
	a.assemble(netFlow, ts, len(data), wireLen)
}

// MergeKeys adds TLS secrets (a pcapng Decryption Secrets Block) to the
// key log, for the handshakes that follow.
func (a *Assembler) MergeKeys(k *tlsdec.KeyLog) {
	if a.opts.Keys != nil {
		a.opts.Keys.Merge(k)
	}
}

// assemble feeds the TCP segment just decoded into a.dec.tcp.
func (a *Assembler) assemble(netFlow gopacket.Flow, ts time.Time, capLen, wireLen int) {
	ctx := assemblerContext{ci: gopacket.CaptureInfo{Timestamp: ts, CaptureLength: capLen, Length: wireLen}}
	a.now = ts
	tcp := &a.dec.tcp
	if tcp.SYN && !tcp.ACK {
		a.reuse(netFlow, tcp)
	}
	a.inPacket = true
	a.asm.AssembleWithContext(netFlow, tcp, &ctx)
	if s := a.reopen; s != nil {
		// The segment went to the late segments of a closed connection
		// but is of another one on the same ports (its opening not
		// captured): end the first in gopacket, and the segment opens a
		// new connection.
		a.reopen = nil
		a.closeStream(s)
		a.asm.AssembleWithContext(netFlow, tcp, &ctx)
		a.reopen = nil
	}
	a.inPacket = false
	if !a.coordinated && len(a.live) > a.opts.MaxConnections {
		c := a.candidates(len(a.live) - a.keep())
		ws := 0
		for _, x := range c {
			if x.class == classWebSocket {
				ws++
			}
		}
		m := max(0, len(a.parked)+ws-a.opts.MaxConnections)
		a.evictAndEndParked(c, m, a.ledger.add(a.pkt, len(c)-ws+m, a.opts.MaxConnections))
	}
}

// reuse ends the connection a SYN's 4-tuple belongs to when the SYN opens
// another one (tshark's rule: its sequence number is not that side's
// first), so that the SYN starts a new connection with the next number: a
// client that closes, or is reset, and connects again from the same port.
func (a *Assembler) reuse(netFlow gopacket.Flow, tcp *layers.TCP) {
	key := flowKey{netFlow, tcp.TransportFlow()}
	t := key.tuple()
	s, sd := a.live[t], 0
	if s == nil {
		if s = a.live[t.reverse()]; s == nil {
			if p := a.parkedFor(key); p != nil && p.reopened(p.sideOf(key), tcp.Seq) {
				a.unpark(p)
				p.complete(false)
			}
			return
		}
		sd = 1
	}
	if s.stale || s.reopened(sd^int(s.flip), tcp.Seq) {
		a.closeStream(s)
	}
}

// reopened reports whether a SYN with sequence number seq from side sd
// opens a new connection rather than repeats this one's.
func (s *stream) reopened(sd int, seq uint32) bool {
	return s.firstSet[sd] && s.firstSeq[sd] != seq
}

// keep is how many connections an eviction leaves: a tenth is freed.
func (a *Assembler) keep() int { return a.opts.MaxConnections - a.opts.MaxConnections/10 }

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
	switch ip[0] >> 4 {
	case 4:
		if err := d.ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
			st.Malformed++
			return netFlow, false
		}
		if d.ip4.Protocol != layers.IPProtocolTCP {
			st.NotTCP++
			return netFlow, false
		}
		if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
			st.Fragments++
			return netFlow, false
		}
		netFlow, payload = d.ip4.NetworkFlow(), d.ip4.Payload
	case 6:
		if err := d.ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
			st.Malformed++
			return netFlow, false
		}
		next, p, frag := skipIPv6Extensions(d.ip6.NextHeader, d.ip6.Payload)
		if frag {
			st.Fragments++
			return netFlow, false
		}
		if next != layers.IPProtocolTCP {
			st.NotTCP++
			return netFlow, false
		}
		netFlow, payload = d.ip6.NetworkFlow(), p
	default:
		st.NotIP++
		return netFlow, false
	}
	if err := d.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
		st.Malformed++
		return netFlow, false
	}
	return netFlow, true
}

// Eviction classes, evicted in this order.
const (
	classIdle      = iota // finished, late segments of a closed one, or no payload yet (half-open)
	classOther            // payload, but no WebSocket (yet)
	classWebSocket        // an upgrade request or WebSocket framing seen, or TLS: parked when evicted
)

func (s *stream) class() int {
	switch {
	case s.stale || s.rst || s.fin[0] && s.fin[1] || !s.payload:
		return classIdle
	case s.conn != nil && s.conn.IsWebSocket() && !s.conn.Done():
		return classWebSocket
	case s.tls != nil && (s.conn == nil || !s.conn.Done()):
		// TLS (a ClientHello seen): its upgrade is not visible until
		// decrypted, and a TLS session cannot be decrypted from its
		// middle: parked with its TLS state like a WebSocket connection.
		return classWebSocket
	}
	return classOther
}

// candidate is a connection ranked for eviction.
type candidate struct {
	class int
	seen  time.Time
	first int64 // index of the packet that opened it: unique, the same with -j
	s     *stream
}

func (x candidate) compare(y candidate) int {
	if x.class != y.class {
		return x.class - y.class
	}
	if c := x.seen.Compare(y.seen); c != 0 {
		return c
	}
	return cmp.Compare(x.first, y.first)
}

// candidates returns the first k connections to evict, in order.
func (a *Assembler) candidates(k int) []candidate {
	c := a.cands[:0]
	for _, s := range a.live {
		c = append(c, candidate{class: s.class(), seen: s.seen, first: s.first, s: s})
	}
	slices.SortFunc(c, candidate.compare)
	a.cands = c
	return c[:min(max(k, 0), len(c))]
}

// evictStreams evicts the given connections, exactly these: each is
// closed in gopacket (bytes waiting behind holes are pushed through first,
// as gaps) and ended or parked.
// evictAndEndParked evicts the given connections and, first, ends the m
// connections parked longest (parked ones are bounded by MaxConnections),
// then forgets the tombs of evictions before packet cutoff.
func (a *Assembler) evictAndEndParked(c []candidate, m int, cutoff int64) {
	a.evicting = true
	a.hold()
	for ; m > 0 && a.parkQ.Len() > 0; m-- {
		a.endParked(a.parkQ.Front().Value.(*stream))
	}
	for _, x := range c {
		a.closeStream(x.s)
	}
	for k, t := range a.tombs {
		if t.seq < cutoff {
			a.bury(k, t)
		}
	}
	clear(a.cands) // the streams gone
	a.release()
	a.evicting = false
}

// bury forgets a tomb.
func (a *Assembler) bury(k tuple, t tomb) {
	delete(a.tombs, k)
	if a.onGone != nil {
		a.onGone(t.id)
	}
}

// tombFor returns the tomb of a flow key, either way, and the key of its
// side 0.
func (a *Assembler) tombFor(k flowKey) (tomb, flowKey, bool) {
	tk := k.tuple()
	if t, ok := a.tombs[tk]; ok {
		return t, k, true
	}
	t, ok := a.tombs[tk.reverse()]
	return t, k.reverse(), ok
}

// Modes of the synthetic segments of closeStream.
const (
	synNone  = iota
	synProbe // Accept notes the half's next sequence number and drops it
	synPush  // one byte ahead: with a page limit of 1, the first queued page is pushed through
	synClose // a RST at the next sequence number: the half is closed
)

// closeStream ends one connection in gopacket now, which has no call for
// it: synthetic segments first push the bytes it holds out of order
// through (as after a gap), then close each half. ReassemblyComplete
// follows, as for any connection.
func (a *Assembler) closeStream(s *stream) {
	if a.closing != nil || a.live[s.gkey().tuple()] != s {
		return
	}
	a.closing = s
	inPacket := a.inPacket
	a.inPacket = false
	limit := a.asm.MaxBufferedPagesPerConnection
	a.asm.MaxBufferedPagesPerConnection = 1
	for gs := 0; gs < 2 && a.live[s.gkey().tuple()] == s; gs++ {
		for i := 0; ; i++ {
			a.probed, a.pushed = false, false
			a.synthetic(s, gs, synProbe, 0)
			if !a.probed || a.probeSeq < 0 || i > 1<<20 {
				break
			}
			a.synthetic(s, gs, synPush, uint32(a.probeSeq)+1)
			if !a.pushed {
				break
			}
		}
		seq := uint32(0)
		if a.probed && a.probeSeq >= 0 {
			seq = uint32(a.probeSeq)
		}
		a.synthetic(s, gs, synClose, seq)
	}
	a.asm.MaxBufferedPagesPerConnection = limit
	a.inPacket = inPacket
	a.closing, a.synMode = nil, synNone
}

// synthetic hands gopacket an empty segment of s's gopacket half gs.
func (a *Assembler) synthetic(s *stream, gs, mode int, seq uint32) {
	key := s.gkey()
	if gs == 1 {
		key = key.reverse()
	}
	src, dst := key.tcp.Endpoints()
	h := &a.synHdr
	*h = [20]byte{}
	copy(h[0:2], src.Raw())
	copy(h[2:4], dst.Raw())
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	if mode == synClose {
		h[13] = 0x04 // RST
	}
	if err := a.synTCP.DecodeFromBytes(h[:], gopacket.NilDecodeFeedback); err != nil {
		return
	}
	a.synMode = mode
	a.synCtx.ci = gopacket.CaptureInfo{Timestamp: a.now}
	a.asm.AssembleWithContext(key.net, &a.synTCP, &a.synCtx)
	a.synMode = synNone
}

// parkedFor returns the parked connection of a flow key, either way.
func (a *Assembler) parkedFor(key flowKey) *stream {
	if p := a.parked[key]; p != nil {
		return p
	}
	return a.parked[key.reverse()]
}

// park keeps an evicted WebSocket connection's decoder for when it goes
// on; past MaxConnections parked, the oldest is ended.
func (a *Assembler) park(s *stream) {
	a.stats.Parked++
	a.parked[s.key()] = s
	s.park = &parking{at: a.parkQ.PushBack(s), pkt: a.pkt, seen: s.seen, resumeEnd: s.end, resumeSet: s.endSet}
}

// oldestParked returns the keys of the n connections parked longest
// (Parallel: which to end over all workers).
func (a *Assembler) oldestParked(n int) []candidate {
	var c []candidate
	for e := a.parkQ.Front(); e != nil && len(c) < n; e = e.Next() {
		s := e.Value.(*stream)
		c = append(c, candidate{class: int(s.park.pkt), seen: s.park.seen, first: s.first})
	}
	return c
}

func (a *Assembler) unpark(s *stream) {
	delete(a.parked, s.key())
	a.parkQ.Remove(s.park.at)
	s.park.at = nil
}

// endParked ends a parked connection for good.
func (a *Assembler) endParked(s *stream) {
	a.unpark(s)
	s.complete(true)
}

// endParkedBefore ends the parked connections idle since before t (Finish
// ends the rest in connection order).
func (a *Assembler) endParkedBefore(t time.Time) {
	for e := a.parkQ.Front(); e != nil; {
		s := e.Value.(*stream)
		e = e.Next()
		if s.seen.Before(t) {
			a.unpark(s)
			s.complete(false)
		}
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

// maybeFlush pushes data stuck behind old holes, by packet time.
func (a *Assembler) maybeFlush(ts time.Time) {
	if a.lastFlush.IsZero() {
		a.lastFlush = ts
		return
	}
	if ts.Sub(a.lastFlush) < a.opts.FlushEvery {
		return
	}
	a.lastFlush = ts
	a.flush(ts)
}

// flush forgets old closed connections and pushes through what waits
// behind holes older than the gap timeout, as seen at packet time ts.
func (a *Assembler) flush(ts time.Time) {
	a.forgetClosed(ts.Add(-closedMemory))

	opt := tcpasm.FlushOptions{T: ts.Add(-a.opts.GapTimeout)}
	if a.opts.IdleTimeout > 0 {
		opt.TC = ts.Add(-a.opts.IdleTimeout)
	}
	a.hold()
	a.asm.FlushWithOptions(opt)
	if a.opts.IdleTimeout > 0 {
		a.endParkedBefore(opt.TC)
	}
	a.release()
}

// forgetClosed drops the closed connections remembered since before t and,
// when more are remembered than MaxConnections allows (a flood of short
// connections), the older half of them.
func (a *Assembler) forgetClosed(t time.Time) {
	for k, c := range a.closed {
		if c.at.Before(t) {
			delete(a.closed, k)
		}
	}
	for k, c := range a.tombs {
		if c.at.Before(t) {
			a.bury(k, c)
		}
	}
	if len(a.closed) <= 2*a.opts.MaxConnections {
		return
	}
	at := make([]time.Time, 0, len(a.closed))
	for _, c := range a.closed {
		at = append(at, c.at)
	}
	slices.SortFunc(at, time.Time.Compare)
	mid := at[len(at)/2]
	for k, c := range a.closed {
		if c.at.Before(mid) {
			delete(a.closed, k)
		}
	}
	if len(a.closed) <= a.opts.MaxConnections {
		return
	}
	// Ties at mid: the oldest by time, then by connection number, go
	// first, the same on every run (map order would change which late
	// segments are known, and with them the connection numbers).
	type entry struct {
		k flowKey
		c closedConn
	}
	rest := make([]entry, 0, len(a.closed))
	for k, c := range a.closed {
		rest = append(rest, entry{k, c})
	}
	slices.SortFunc(rest, func(x, y entry) int {
		if c := x.c.at.Compare(y.c.at); c != 0 {
			return c
		}
		if x.c.id != y.c.id {
			return cmp.Compare(x.c.id, y.c.id)
		}
		if x.c.canon != y.c.canon {
			if x.c.canon {
				return 1
			}
			return -1
		}
		return 0
	})
	for _, e := range rest[:len(rest)-a.opts.MaxConnections] {
		delete(a.closed, e.k)
	}
}

// Tick lets the assembler flush by time while no packet arrives (live
// capture): now stands in for the next packet's time.
func (a *Assembler) Tick(now time.Time) { a.maybeFlush(now) }

// Finish pushes everything still held through and ends every connection.
//
// The records must come out grouped by connection in connection order, and
// gopacket ends connections in map order: holding a copy of every open
// connection's last records until all are ended would take as much memory
// again as the open connections themselves (100 000 of them assembling a
// message: 140 MB). So the bytes waiting behind holes are pushed through
// first (held, few), then each connection, live or parked, is ended in
// connection order, its held records first and its last ones going
// straight out.
func (a *Assembler) Finish() {
	a.ending = true
	a.hold()
	a.asm.FlushWithOptions(tcpasm.FlushOptions{T: time.Unix(1<<62, 0)})
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	ends := make([]*stream, 0, len(a.live)+a.parkQ.Len())
	for _, s := range a.live {
		if !s.stale {
			ends = append(ends, s)
		}
	}
	for e := a.parkQ.Front(); e != nil; e = e.Next() {
		ends = append(ends, e.Value.(*stream))
	}
	slices.SortFunc(ends, func(x, y *stream) int { return x.id - y.id })
	held := a.held
	for _, s := range ends {
		n := 0
		for n < len(held) && held[n].conn.ID <= s.id {
			n++
		}
		a.emitHeld(held[:n])
		held = held[n:]
		if s.park != nil && s.park.at != nil {
			a.unpark(s)
		} else if k := s.gkey().tuple(); a.live[k] == s {
			delete(a.live, k)
		}
		s.complete(false)
		// gopacket holds the stream until FlushAll below: what the
		// connection decoded with is not needed any more (the sinks
		// build their results of the ending connections meanwhile).
		s.conn, s.tls, s.h2, s.recent = nil, nil, nil, [2]*segmentRing{}
	}
	a.emitHeld(held)
	clear(a.held)
	a.held = a.held[:0]
	a.asm.FlushAll() // gopacket's side: the streams are all complete
}

func (a *Assembler) hold() { a.holding = true }

// release emits the records held during a flush, grouped by connection in
// connection order; each connection's records keep their order.
func (a *Assembler) release() {
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	a.emitHeld(a.held)
	clear(a.held)
	a.held = a.held[:0]
}

// emitHeld passes held records on, in their order.
func (a *Assembler) emitHeld(held []heldRecord) {
	for i := range held {
		r := &held[i]
		switch {
		case r.hs != nil:
			a.put(record.Record{Kind: record.Handshake, Conn: r.conn, Handshake: r.hs})
		case r.frame != nil:
			a.put(record.Record{Kind: record.Frame, Conn: r.conn, Frame: r.frame})
		case r.msg != nil:
			a.put(record.Record{Kind: record.Message, Conn: r.conn, Message: r.msg})
		case r.sum != nil:
			a.put(record.Record{Kind: record.End, Conn: r.conn, Summary: r.sum})
		case r.empty != nil:
			a.put(record.Record{Kind: record.End, Conn: r.conn, Summary: r.empty.summary()})
		case r.tls != nil:
			a.put(record.Record{Kind: record.TLS, Conn: r.conn, TLS: &record.TLSConn{TS: r.tls.ts, Client: r.tls.client, Server: r.tls.server, Info: &r.tls.info}})
		}
	}
}

// put hands r to out.
func (a *Assembler) put(r record.Record) {
	a.rec = r
	a.out.Put(&a.rec)
}

// heldRecord is a copy of a record produced during a flush.
type heldRecord struct {
	conn  *wsparse.Conn
	hs    *wsparse.Handshake
	frame *wsparse.Frame
	msg   *wsparse.Message
	sum   *wsparse.Summary
	empty *emptyEnd
	tls   *tlsRecord
}

type tlsRecord struct {
	ts             time.Time
	client, server netip.AddrPort
	info           wsparse.TLSInfo
}

// The Assembler sits between the decoders and the output sink.

func (a *Assembler) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if a.holding {
		cp := *h
		a.held = append(a.held, heldRecord{conn: c, hs: &cp})
		return
	}
	a.put(record.Record{Kind: record.Handshake, Conn: c, Handshake: h})
}

func (a *Assembler) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if a.holding {
		cp := *f
		cp.Payload = slices.Clone(f.Payload)
		a.held = append(a.held, heldRecord{conn: c, frame: &cp})
		return
	}
	a.put(record.Record{Kind: record.Frame, Conn: c, Frame: f})
}

func (a *Assembler) Message(c *wsparse.Conn, m *wsparse.Message) {
	if a.holding {
		cp := *m
		cp.Data = slices.Clone(m.Data)
		a.held = append(a.held, heldRecord{conn: c, msg: &cp})
		return
	}
	a.put(record.Record{Kind: record.Message, Conn: c, Message: m})
}

func (a *Assembler) End(c *wsparse.Conn, s *wsparse.Summary) {
	switch {
	case a.holding && s.Connect != "":
		a.held = append(a.held, heldRecord{conn: c, empty: newEmptyEnd(s)})
		return
	case a.holding:
		cp := *s
		a.held = append(a.held, heldRecord{conn: c, sum: &cp})
		return
	}
	a.put(record.Record{Kind: record.End, Conn: c, Summary: s})
}

// TLSConn passes a TLS connection on, held like the records during a flush.
func (a *Assembler) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo) {
	if a.holding {
		a.held = append(a.held, heldRecord{conn: c, tls: &tlsRecord{ts: ts, client: client, server: server, info: *info}})
		return
	}
	a.put(record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{TS: ts, Client: client, Server: server, Info: info}})
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
		p.park.resume = [2]bool{true, true}
		a.live[key.tuple()] = p
		return p
	}
	if t, orig, ok := a.tombFor(key); ok && t.goesOn(key == orig, tcp) {
		// A connection ended early goes on: its number, decoded afresh
		// (resumed, unless nothing had been sent yet).
		delete(a.tombs, orig.tuple())
		st := &stream{a: a, seen: a.now, first: a.pkt, id: t.id, addr: addrOf(orig), force: -1, resumed: !t.bare, wasEvicted: true, tlsResumed: t.tls && !t.bare}
		if st.resumed {
			a.stats.Resumed++
		}
		if a.onResume != nil {
			a.onResume(st.id, st.addr)
		}
		return a.started(st, key)
	}
	old, closed := a.closed[key]
	if closed && old.late(key, tcp) {
		// A late segment of a connection already ended (the last ACK after
		// FIN, a retransmitted FIN): same connection, nothing to decode.
		st := &stream{a: a, addr: addrOf(old.orig(key)), stale: true, seen: a.now, first: a.pkt, id: old.id}
		st.attach(key)
		a.live[key.tuple()] = st
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
	st := &stream{a: a, seen: a.now, last: a.now, first: a.pkt, id: a.nextID, addr: addrOf(key), force: -1}
	if a.onNew != nil {
		a.onNew(st.id, st.addr)
	}
	return a.started(st, key)
}

// started holds a new stream for gopacket's connection with key key.
func (a *Assembler) started(st *stream, key flowKey) *stream {
	st.attach(key)
	a.live[key.tuple()] = st
	for _, p := range a.opts.WSPorts {
		switch p {
		case st.addr[1].Port():
			st.force = 1
		case st.addr[0].Port():
			st.force = 0
		default:
			continue
		}
		break
	}
	return st
}

// key returns the flow key of side 0's packets, made from the addresses
// (a stream holds them once: a flow key is 112 bytes).
func (s *stream) key() flowKey { return keyOf(s.addr) }

// keyOf is the flow key of packets from addr[0] to addr[1], as the packet
// decoder makes it (the inverse of addrOf).
func keyOf(addr [2]netip.AddrPort) flowKey {
	t := layers.EndpointIPv4
	if addr[0].Addr().Is6() {
		t = layers.EndpointIPv6
	}
	var sp, dp [2]byte
	binary.BigEndian.PutUint16(sp[:], addr[0].Port())
	binary.BigEndian.PutUint16(dp[:], addr[1].Port())
	return flowKey{gopacket.NewFlow(t, addr[0].Addr().AsSlice(), addr[1].Addr().AsSlice()),
		gopacket.NewFlow(layers.EndpointTCPPort, sp[:], dp[:])}
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

// decoder returns the connection's decoder, made at its first bytes or
// FIN/RST: a flood of SYNs costs no decoder state.
func (s *stream) decoder() *wsparse.Conn {
	if s.conn == nil {
		s.conn = wsparse.NewConn(s.id, s.addr[0], s.addr[1], s.a.opts.Decoder, s.a)
		if s.force >= 0 {
			s.conn.Force(int(s.force))
		}
		if s.resumed {
			s.conn.Resumed()
		}
	}
	return s.conn
}

// connect says how the TCP connect of a connection that sent no bytes went.
// Side 0 sent the first packet (the SYN); a side-1 segment that did not
// advance its sequence number carried no SYN.
func (s *stream) connect() string {
	switch {
	case !s.firstSet[1]:
		return wsparse.ConnectUnanswered
	case s.rst && s.end[1] == s.firstSeq[1]:
		return wsparse.ConnectRefused
	}
	return wsparse.ConnectEmpty
}

// parking is what a parked connection needs to go on where it was.
type parking struct {
	at        *list.Element // in Assembler.parkQ while parked
	resume    [2]bool       // gone on: align the side's next segment to end
	trim      [2]uint32     // bytes to drop from the side's next data (already decoded)
	resumeEnd [2]uint32     // where the decoded bytes ended when it was parked
	resumeSet [2]bool
	pkt       int64 // when it was parked: the packet, and its latest packet's time
	seen      time.Time
}

// stream adapts one connection to gopacket's Stream interface. Side 0 is the
// sender of the connection's first packet.
type stream struct {
	a     *Assembler
	flip  uint8 // 1: gopacket's client-to-server direction is side 1
	id    int
	first int64             // index of the packet that opened it
	addr  [2]netip.AddrPort // by side; side 0 sends the packets of key()
	force int8              // side on a --ws-port, or -1
	conn  *wsparse.Conn     // nil until decoder()
	stale bool              // a late segment of a closed connection
	ended bool              // complete ran: its records are out

	// TCP as seen in Accept, by side: for eviction classes, port reuse,
	// and going on after parking.
	payload  bool
	rst      bool
	fin      [2]bool
	firstSet [2]bool
	firstSeq [2]uint32 // sequence number of the side's first segment
	endSet   [2]bool
	end      [2]uint32 // highest sequence number a segment reached

	resumed    bool     // ended early, went on: decoded afresh
	tlsResumed bool     // and it was TLS: its bytes from there are counted, not decoded
	wasEvicted bool     // ended early before (counted in Stats.Evicted then)
	park       *parking // while parked and until it has gone on

	// TLS: a stream that opens with a ClientHello goes through tls, whose
	// plaintext (with keys) goes on to conn.
	tls     *tlsdec.Conn
	started bool
	tlsInfo *wsparse.TLSInfo

	// HTTP/2: a connection whose first bytes (or plaintext, or ALPN) are
	// HTTP/2 goes through h2, which hands its WebSocket streams (RFC 8441)
	// to decoders of their own; conn then only counts it.
	h2      *h2.Conn
	h2Known bool        // decided whether it is HTTP/2
	h2up    *h2.Upgrade // an HTTP/1.1 Upgrade: h2c awaiting its 101
	last    time.Time   // time of the last bytes (before any: of the first packet)
	seen    time.Time   // time of the latest packet, as gopacket's lastSeen

	// A first piece of bytes too short to tell ("P", "PR", "PRI": the
	// client preface cut in the first segment) is held until more come.
	h2held   [8]byte
	h2heldN  uint8
	h2heldSd uint8
	// A first request head not ended yet (cut in several segments), kept
	// to tell an Upgrade: h2c request once it ends (its bytes go on to
	// conn meanwhile).
	h2req   []byte
	h2reqSd int

	// Recent segments by side, to tell a retransmission with other bytes
	// (gopacket keeps the first copy and drops the overlap silently).
	recent [2]*segmentRing
}

// segmentRing remembers the sequence number, length and hash of a side's
// last segments. A segment that repeats an earlier one's range, or covers
// it whole (a retransmission that joins several segments, or goes on
// past one), with other bytes there is a conflict. An overlap that covers
// only part of an earlier segment cannot be compared with its hash.
// It grows with the segments seen, up to ringSize: a connection that sent
// two segments holds two entries, not a kilobyte.
type segmentRing struct {
	seg  []segmentSum
	next int
}

type segmentSum struct {
	seq, n uint32
	sum    uint64
}

const ringSize = 64

var segmentSeed = maphash.MakeSeed()

// conflict records a segment and reports whether it carries other bytes
// than an earlier one where it repeats it.
func (r *segmentRing) conflict(seq uint32, payload []byte) bool {
	sum := maphash.Bytes(segmentSeed, payload)
	n := uint32(len(payload))
	conflict := false
	for i := range r.seg {
		e := &r.seg[i]
		if e.n == 0 {
			continue
		}
		if e.seq == seq && e.n == n {
			return e.sum != sum
		}
		// The earlier segment lies inside this one: compare its bytes.
		if off := int64(int32(e.seq - seq)); off >= 0 && off+int64(e.n) <= int64(n) {
			if maphash.Bytes(segmentSeed, payload[off:off+int64(e.n)]) != e.sum {
				conflict = true
			}
		}
	}
	if len(r.seg) < ringSize {
		r.seg = append(r.seg, segmentSum{seq, n, sum})
		return conflict
	}
	e := &r.seg[r.next]
	e.seq, e.n, e.sum = seq, n, sum
	r.next = (r.next + 1) % len(r.seg)
	return conflict
}

func side(dir tcpasm.TCPFlowDirection) int {
	if dir == tcpasm.TCPDirClientToServer {
		return 0
	}
	return 1
}

// side returns the side of s that gopacket's direction dir is.
func (s *stream) side(dir tcpasm.TCPFlowDirection) int { return side(dir) ^ int(s.flip) }

func (s *stream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir tcpasm.TCPFlowDirection, nextSeq tcpasm.Sequence, start *bool, ac tcpasm.AssemblerContext) bool {
	if s.a.closing == s {
		switch s.a.synMode {
		case synProbe:
			s.a.probed, s.a.probeSeq = true, int64(nextSeq)
			return false
		case synPush, synClose:
			*start = true
			return true
		}
	}
	if ci.Timestamp.After(s.seen) {
		s.seen = ci.Timestamp
	}
	sd := s.side(dir)
	if s.stale {
		if !s.lateSegment(sd, tcp) {
			s.a.reopen = s // another connection on the same ports: see assemble
		}
		return false
	}
	s.track(sd, tcp)
	if s.park != nil && s.park.resume[sd] {
		s.align(sd, tcp.Seq, ci.Timestamp)
	}
	if tcp.FIN || tcp.RST {
		s.decoder().TCPEnd(sd, tcp.RST, ci.Timestamp)
		if s.h2 != nil {
			s.h2.TCPEnd(sd, tcp.RST, ci.Timestamp)
		}
	}
	if s.conn != nil && s.conn.Done() && s.h2 == nil {
		return false
	}
	if len(tcp.Payload) > 0 {
		if s.recent[sd] == nil {
			s.recent[sd] = &segmentRing{}
		}
		if s.recent[sd].conflict(tcp.Seq, tcp.Payload) {
			s.a.stats.RetransmitConflicts++
			s.decoder().RetransmitConflict(sd)
		}
	}
	// A capture that starts mid-connection has no SYN: start at the first
	// segment seen rather than wait for one.
	*start = true
	return true
}

// lateSegment reports whether a segment that side sd of a stale stream
// sent is a late one of the closed connection (see closedConn.late).
func (s *stream) lateSegment(sd int, tcp *layers.TCP) bool {
	k := s.key()
	if sd == 1 {
		k = k.reverse()
	}
	c, ok := s.a.closed[k]
	if !ok {
		return len(tcp.Payload) == 0 && !tcp.SYN
	}
	return c.late(k, tcp)
}

// track notes what a segment tells of the connection's TCP state.
func (s *stream) track(sd int, tcp *layers.TCP) {
	if !s.firstSet[sd] {
		s.firstSet[sd], s.firstSeq[sd] = true, tcp.Seq
	}
	n := uint32(len(tcp.Payload))
	if n > 0 {
		s.payload = true
	}
	if tcp.SYN || tcp.FIN {
		n++
	}
	if e := tcp.Seq + n; !s.endSet[sd] || int32(e-s.end[sd]) > 0 {
		s.endSet[sd], s.end[sd] = true, e
	}
	s.fin[sd] = s.fin[sd] || tcp.FIN
	s.rst = s.rst || tcp.RST
}

// align lines the first segment of a side after parking up with the bytes
// already decoded: gopacket starts the new connection at that segment, so
// bytes before it that were never seen are a gap, and bytes already
// decoded are dropped.
func (s *stream) align(sd int, seq uint32, ts time.Time) {
	p := s.park
	p.resume[sd] = false
	if !p.resumeSet[sd] {
		return // the side had sent nothing
	}
	d := int32(seq - p.resumeEnd[sd])
	switch {
	case d > 0 && d < 1<<30:
		if s.tls != nil {
			s.tls.Gap(sd, int(d))
		} else if s.h2 != nil {
			s.h2.Gap(sd, int(d), ts)
		} else if s.conn != nil {
			s.conn.Gap(sd, int(d), ts)
		}
	case d < 0 && d > -(1<<30):
		p.trim[sd] = uint32(-d)
	}
}

func (s *stream) ReassembledSG(sg tcpasm.ScatterGather, ac tcpasm.AssemblerContext) {
	if s.a.closing == s && s.a.synMode == synPush {
		s.a.pushed = true
	}
	length, _ := sg.Lengths()
	dir, _, _, skip := sg.Info()
	sd := s.side(dir)
	if skip > 0 && s.a.inPacket {
		// Holes are only pushed through during a packet when gopacket's
		// page limits are reached (a flush pushes the others).
		s.a.stats.PageLimitFlushes++
	}
	if st := sg.Stats(); st.OverlapBytes > 0 {
		s.a.stats.OverlapBytes += st.OverlapBytes
		s.a.stats.OverlapSegments += st.OverlapPackets
	}
	if s.stale {
		return
	}
	ts := s.a.now
	if !s.a.inPacket && length > 0 {
		ts = captureTime(sg, length-1, ts)
	}
	if skip > 0 {
		if s.tls != nil {
			s.tls.Gap(sd, skip)
		} else if s.h2 != nil {
			s.h2.Gap(sd, skip, ts)
		} else {
			s.decoder().Gap(sd, skip, ts)
		}
	}
	if length == 0 {
		return
	}
	s.last = ts
	data := sg.Fetch(length)
	if s.park != nil && s.park.trim[sd] > 0 {
		n := min(int(s.park.trim[sd]), len(data))
		s.park.trim[sd] -= uint32(n)
		data = data[n:]
		if len(data) == 0 {
			return
		}
	}
	if !s.started {
		s.started = true
		if tlsdec.Detect(data) {
			s.tls = tlsdec.NewConn(s.a.opts.Keys, s.plaintext)
		}
	}
	if s.tls != nil {
		s.tls.Feed(sd, data, ts)
		return
	}
	if s.tlsResumed {
		// The middle of a TLS session: neither decryptable nor
		// WebSocket framing; its TLS record says why.
		if s.tlsInfo == nil {
			s.tlsInfo = &wsparse.TLSInfo{Error: resumedTLS}
		}
		s.tlsInfo.Bytes[sd] += int64(len(data))
		s.last = ts
		return
	}
	if s.decoder().Done() && s.h2 == nil {
		return
	}
	s.feed(sd, data, ts, "")
}

// feed hands a side's bytes (decrypted, over TLS) on: to the HTTP/2
// decoder when the connection's first bytes are the client preface (h2c
// with prior knowledge) or TLS chose ALPN "h2", else to conn.
func (s *stream) feed(sd int, data []byte, ts time.Time, alpn string) {
	if !s.h2Known {
		if s.h2heldN > 0 && int(s.h2heldSd) == sd {
			data = append(s.h2held[:s.h2heldN:s.h2heldN], data...)
			s.h2heldN = 0
		}
		if s.h2heldN == 0 && alpn == "" && (len(data) < len("PRI ") && h2.Preface[:len(data)] == string(data) || h2.MaybeServer(data)) {
			s.h2heldN, s.h2heldSd = uint8(copy(s.h2held[:], data)), uint8(sd)
			return
		}
		s.h2Known = true
		defer s.feedHeld(ts) // the other side's first bytes, held: after this side's, on the decoder chosen
		client := -1
		switch {
		case h2.Detect(data):
			client = sd
		case h2.DetectServer(data):
			client = 1 - sd
		case alpn == "h2" && s.tls != nil:
			client = s.tls.Info().Client
		case h2.UpgradeRequest(data):
			s.h2up = h2.NewUpgrade(sd)
		case alpn == "" && h2.UpgradePending(data):
			s.h2req, s.h2reqSd = append([]byte(nil), data...), sd
			s.conn.Feed(sd, data, ts)
			return
		}
		if client >= 0 {
			s.h2 = h2.NewConn(s.conn, client, h2.Config{Decoder: s.a.opts.Decoder}, s.a)
		}
	}
	if s.h2 != nil {
		s.h2.Feed(sd, data, ts)
		return
	}
	if s.h2req != nil {
		if sd == s.h2reqSd {
			s.h2req = append(s.h2req, data...)
			if h2.UpgradeRequest(s.h2req) {
				s.h2up = h2.NewUpgrade(sd)
			}
			if !h2.UpgradePending(s.h2req) {
				s.h2req = nil
			}
		} else {
			s.h2req = nil // the other side spoke first: no Upgrade to watch
		}
	}
	if u := s.h2up; u != nil && sd != u.Client() {
		// The server's answer to Upgrade: h2c: after a 101, HTTP/2.
		if n, ok := u.Server(data); ok {
			s.conn.Feed(sd, data[:n], ts)
			s.h2up = nil
			s.h2 = h2.NewUpgraded(s.conn, u.Client(), h2.Config{Decoder: s.a.opts.Decoder}, s.a)
			s.h2.Feed(sd, data[n:], ts)
			return
		} else if u.Failed() {
			s.h2up = nil
		}
	}
	s.conn.Feed(sd, data, ts)
}

// feedHeld feeds the bytes held while it was not known whether the
// connection is HTTP/2 (see feed).
func (s *stream) feedHeld(ts time.Time) {
	if n := s.h2heldN; n > 0 {
		s.h2heldN = 0
		s.feed(int(s.h2heldSd), append([]byte(nil), s.h2held[:n]...), ts, "")
	}
}

// captureTime returns when the byte at offset was captured, or def.
// gopacket keeps the capture info only on the first page (1900 bytes) of
// each packet it queued and panics on the others' nil context: a segment
// longer than a page that arrived out of order, then flushed.
func captureTime(sg tcpasm.ScatterGather, offset int, def time.Time) (ts time.Time) {
	defer func() {
		if recover() != nil {
			ts = def
		}
	}()
	return sg.CaptureInfo(offset).Timestamp
}

// plaintext receives decrypted application data.
func (s *stream) plaintext(side int, p []byte, ts time.Time) {
	if s.decoder().TLS() == nil {
		s.syncTLS()
		s.conn.SetTLS(s.tlsInfo)
	}
	s.feed(side, p, ts, s.tlsInfo.ALPN)
}

// syncTLS copies what the TLS layer knows into tlsInfo.
func (s *stream) syncTLS() {
	i := s.tls.Info()
	if s.tlsInfo == nil {
		s.tlsInfo = new(wsparse.TLSInfo)
	}
	*s.tlsInfo = wsparse.TLSInfo{Version: i.Version, Cipher: i.Cipher, SNI: i.SNI, ALPN: i.ALPN,
		Offered: i.ALPNOffered, Decrypted: i.Decrypted, Error: i.Error, Bytes: i.Bytes}
	if i.Client == 1 {
		s.tlsInfo.Bytes[0], s.tlsInfo.Bytes[1] = i.Bytes[1], i.Bytes[0]
	}
}

func (s *stream) ReassemblyComplete(ac tcpasm.AssemblerContext) bool {
	a := s.a
	if s.ended { // Finish ended it before gopacket did
		return true
	}
	if k := s.gkey().tuple(); a.live[k] == s {
		delete(a.live, k)
	}
	if s.stale {
		return true
	}
	if a.evicting && s.class() == classWebSocket && a.opts.MaxConnections > 0 {
		// Keep the decoder; the bytes decoded end where the segments did.
		a.park(s)
		return true
	}
	s.complete(a.evicting)
	return true
}

// complete ends the connection's decoding and remembers its number for
// late segments; evicted: it was ended early, and keeps its number if it
// goes on.
func (s *stream) complete(evicted bool) {
	a := s.a
	s.ended = true
	if a.onGone != nil && !evicted {
		defer a.onGone(s.id)
	}
	if evicted && !s.wasEvicted {
		a.stats.Evicted++ // once per connection, however often
	}
	if evicted {
		defer func() {
			k := s.key()
			if t, k2, ok := a.tombFor(k); ok {
				a.bury(k2.tuple(), t) // another connection's, on the same ports
			}
			a.tombs[k.tuple()] = tomb{id: s.id, at: a.now, seq: a.pkt, bare: !s.payload && !s.resumed || s.rst || s.fin[0] && s.fin[1],
				tls: s.tls != nil || s.tlsResumed, isnSet: s.firstSet[0], isn: s.firstSeq[0]}
			if a.onTomb != nil {
				a.onTomb(s.id)
			}
		}()
	}
	if s.tls == nil && s.tlsInfo != nil {
		// A TLS connection ended early went on (tlsResumed).
		a.TLSConn(s.decoder(), s.last, s.addr[0], s.addr[1], s.tlsInfo)
	}
	if s.tls != nil {
		s.syncTLS() // final: errors and byte counts
		if s.decoder().IsWebSocket() || s.h2 != nil && s.h2.WebSockets() > 0 {
			s.conn.SetTLS(s.tlsInfo) // (HTTP/2: its WebSocket streams carry it)
		} else {
			client, server := s.conn.Addr[0], s.conn.Addr[1]
			if i := s.tls.Info(); i.Client == 1 {
				client, server = server, client
			}
			a.TLSConn(s.conn, s.last, client, server, s.tlsInfo)
		}
	}
	if !s.payload && s.tls == nil && !s.resumed && a.opts.Decoder.EndAll {
		// No bytes: how its connect went (Config.EndAll). Without a
		// decoder (no FIN, no RST) a view carries it: a flood of SYNs
		// ends here, and costs no decoder.
		if s.conn != nil {
			s.conn.EndEmpty(s.last, s.seen, s.connect(), a.now)
		} else {
			a.End(wsparse.NewView(s.id, s.addr), &wsparse.Summary{First: s.last, Last: s.seen, Connect: s.connect(), End: wsparse.EndNotWebSocket})
		}
	}
	if s.conn != nil {
		s.h2Known = true
		s.feedHeld(s.last) // the connection ended before they could be told
	}
	if s.h2 != nil {
		s.h2.End(a.now)
	}
	if s.conn != nil {
		s.conn.End(a.now)
		h := s.conn.LimitHits()
		a.stats.HTTPHeaderLimit += h.HTTPHeader
		a.stats.PendingLimit += h.Pending
		a.stats.SniffLimit += h.Sniff
		a.stats.InflateRatioLimit += h.InflateRatio
	}
	if evicted || a.ending {
		return
	}
	c := closedConn{id: s.id, at: a.now, set: s.firstSet, first: s.firstSeq, end: s.end}
	a.closed[s.key().reverse()] = c
	c.canon = true
	a.closed[s.key()] = c
	if len(a.closed) > 2*a.opts.MaxConnections {
		a.forgetClosed(time.Time{})
	}
}
