// Package reassembly turns packets into the byte streams of TCP connections,
// using gopacket's reassembly, and feeds each connection to a wsparse.Conn.
// Everything is driven by packet time, never the wall clock.
package reassembly

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"

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

	// MaxConnections bounds the connections held at once. Past it, the
	// least recently active tenth are ended (their records come out as at
	// the end of the input) and counted in Stats.Evicted: a flood of SYNs
	// cannot exhaust memory.
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

// TLSSink is implemented by sinks that want TLS connections which carried
// no WebSocket that could be seen (no key, or something else inside): what
// the TLS handshake told. It is called when the connection ends.
type TLSSink interface {
	TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo)
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
	Evicted     int    // connections ended early to stay under MaxConnections
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
	out   wsparse.Sink
	asm   *tcpasm.Assembler
	stats Stats
	dec   headerDecoder

	// Hooks for Parallel: a connection numbered, a connection gone.
	onNew  func(id int, addr [2]netip.AddrPort)
	onGone func(id int)

	now       time.Time // timestamp of the packet being processed
	inPacket  bool
	lastFlush time.Time
	nextID    int

	// closed remembers the connections gopacket has finished, by both
	// directions' flow keys: a stray ACK after the close makes gopacket start
	// a new stream, which must not take a new connection number.
	closed map[flowKey]closedConn

	// live holds the connections gopacket holds, for eviction: each with
	// the time of its latest packet.
	live     map[*stream]struct{}
	evicting bool

	// Records produced outside a packet (by a flush) are held and sorted by
	// connection so that output does not depend on map order.
	holding bool
	held    []heldRecord
}

type flowKey struct{ net, tcp gopacket.Flow }

type closedConn struct {
	id int
	at time.Time
}

// closedMemory is how long (in packet time) a closed connection's number is
// kept for late segments.
const closedMemory = 2 * time.Minute

// New returns an Assembler that sends records to out.
func New(out wsparse.Sink, opts Options) *Assembler {
	a := &Assembler{opts: opts.withDefaults(), out: out, closed: map[flowKey]closedConn{}, live: map[*stream]struct{}{}}
	pool := tcpasm.NewStreamPool(&factory{a: a})
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
	a.now, a.inPacket = ts, true
	a.asm.AssembleWithContext(netFlow, &a.dec.tcp, &ctx)
	a.inPacket = false
	if len(a.live) > a.opts.MaxConnections {
		a.evict()
	}
}

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

// evict ends the least recently active connections until a tenth of
// MaxConnections is free. gopacket can only close connections by time, so
// the cut is the latest-packet time of the last connection to go:
// connections tied with it go too.
func (a *Assembler) evict() {
	seen := make([]time.Time, 0, len(a.live))
	for s := range a.live {
		seen = append(seen, s.seen)
	}
	slices.SortFunc(seen, time.Time.Compare)
	keep := a.opts.MaxConnections - a.opts.MaxConnections/10
	cut := seen[len(seen)-keep-1].Add(time.Nanosecond)
	a.evicting = true
	a.hold()
	// T flushes the bytes they wait for first: gopacket only closes a
	// connection with nothing out of order.
	a.asm.FlushWithOptions(tcpasm.FlushOptions{T: cut, TC: cut})
	a.release()
	a.evicting = false
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
	for k := range a.closed { // ties: any will do
		if len(a.closed) <= a.opts.MaxConnections {
			break
		}
		delete(a.closed, k)
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
// again as 100 000 open connections. So the bytes waiting behind holes are
// pushed through first (held, few), then each connection is ended in
// connection order, its held records first, its last ones going straight
// out.
func (a *Assembler) Finish() {
	a.hold()
	a.asm.FlushWithOptions(tcpasm.FlushOptions{T: time.Unix(1<<62, 0)})
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	live := make([]*stream, 0, len(a.live))
	for s := range a.live {
		live = append(live, s)
	}
	slices.SortFunc(live, func(x, y *stream) int { return x.id - y.id })
	held := a.held
	for _, s := range live {
		n := 0
		for n < len(held) && held[n].conn.ID <= s.id {
			n++
		}
		a.emitHeld(held[:n])
		held = held[n:]
		s.ReassemblyComplete(nil)
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

func (a *Assembler) emitHeld(held []heldRecord) {
	for i := range held {
		r := &held[i]
		switch {
		case r.hs != nil:
			a.out.Handshake(r.conn, r.hs)
		case r.frame != nil:
			a.out.Frame(r.conn, r.frame)
		case r.msg != nil:
			a.out.Message(r.conn, r.msg)
		case r.sum != nil:
			a.out.End(r.conn, r.sum)
		case r.tls != nil:
			a.out.(TLSSink).TLSConn(r.conn, r.tls.ts, r.tls.client, r.tls.server, &r.tls.info)
		}
	}
}

// heldRecord is a copy of a record produced during a flush.
type heldRecord struct {
	conn  *wsparse.Conn
	hs    *wsparse.Handshake
	frame *wsparse.Frame
	msg   *wsparse.Message
	sum   *wsparse.Summary
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
	a.out.Handshake(c, h)
}

func (a *Assembler) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if a.holding {
		cp := *f
		cp.Payload = slices.Clone(f.Payload)
		a.held = append(a.held, heldRecord{conn: c, frame: &cp})
		return
	}
	a.out.Frame(c, f)
}

func (a *Assembler) Message(c *wsparse.Conn, m *wsparse.Message) {
	if a.holding {
		cp := *m
		cp.Data = slices.Clone(m.Data)
		a.held = append(a.held, heldRecord{conn: c, msg: &cp})
		return
	}
	a.out.Message(c, m)
}

func (a *Assembler) End(c *wsparse.Conn, s *wsparse.Summary) {
	if a.holding {
		cp := *s
		a.held = append(a.held, heldRecord{conn: c, sum: &cp})
		return
	}
	a.out.End(c, s)
}

// TLSConn passes a TLS connection on, held like the records during a flush.
func (a *Assembler) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo) {
	if a.holding {
		a.held = append(a.held, heldRecord{conn: c, tls: &tlsRecord{ts: ts, client: client, server: server, info: *info}})
		return
	}
	a.out.(TLSSink).TLSConn(c, ts, client, server, info)
}

// factory creates a stream per TCP connection.
type factory struct{ a *Assembler }

func (f *factory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac tcpasm.AssemblerContext) tcpasm.Stream {
	a := f.a
	key := flowKey{netFlow, tcpFlow}
	if old, ok := a.closed[key]; ok && !tcp.SYN {
		// A late segment of a connection already ended (the last ACK after
		// FIN, a retransmitted FIN): same connection, nothing to decode.
		st := &stream{a: a, key: key, stale: true, seen: a.now, id: old.id}
		a.live[st] = struct{}{}
		return st
	}
	a.nextID++
	a.stats.Connections++
	src, dst := netFlow.Endpoints()
	sp, dp := tcpFlow.Endpoints()
	ep := func(ip, port gopacket.Endpoint) netip.AddrPort {
		addr, _ := netip.AddrFromSlice(ip.Raw())
		return netip.AddrPortFrom(addr, binary.BigEndian.Uint16(port.Raw()))
	}
	st := &stream{a: a, key: key, seen: a.now, id: a.nextID, addr: [2]netip.AddrPort{ep(src, sp), ep(dst, dp)}, force: -1}
	if a.onNew != nil {
		a.onNew(st.id, st.addr)
	}
	a.live[st] = struct{}{}
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

// decoder returns the connection's decoder, made at its first bytes or
// FIN/RST: a flood of SYNs costs no decoder state.
func (s *stream) decoder() *wsparse.Conn {
	if s.conn == nil {
		s.conn = wsparse.NewConn(s.id, s.addr[0], s.addr[1], s.a.opts.Decoder, s.a)
		if s.force >= 0 {
			s.conn.Force(int(s.force))
		}
	}
	return s.conn
}

// stream adapts one connection to gopacket's Stream interface. Side 0 is the
// sender of the connection's first packet.
type stream struct {
	a     *Assembler
	key   flowKey
	id    int
	addr  [2]netip.AddrPort
	force int8          // side on a --ws-port, or -1
	conn  *wsparse.Conn // nil until decoder()
	stale bool          // a late segment of a closed connection
	ended bool          // ReassemblyComplete ran

	// TLS: a stream that opens with a ClientHello goes through tls, whose
	// plaintext (with keys) goes on to conn.
	tls     *tlsdec.Conn
	started bool
	tlsInfo *wsparse.TLSInfo
	last    time.Time // time of the last bytes
	seen    time.Time // time of the latest packet, as gopacket's lastSeen

	// Recent segments by side, to tell a retransmission with other bytes
	// (gopacket keeps the first copy and drops the overlap silently).
	recent [2]*segmentRing
}

// segmentRing remembers the sequence number, length and hash of a side's
// last segments. A retransmission that repeats a segment's exact range
// with another hash is a conflict; partial overlaps are not compared.
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

// conflict records a segment and reports whether it repeats an earlier
// one's range with other bytes.
func (r *segmentRing) conflict(seq uint32, payload []byte) bool {
	sum := maphash.Bytes(segmentSeed, payload)
	n := uint32(len(payload))
	for i := range r.seg {
		if e := &r.seg[i]; e.seq == seq && e.n == n {
			return e.sum != sum
		}
	}
	if len(r.seg) < ringSize {
		r.seg = append(r.seg, segmentSum{seq, n, sum})
		return false
	}
	e := &r.seg[r.next]
	e.seq, e.n, e.sum = seq, n, sum
	r.next = (r.next + 1) % len(r.seg)
	return false
}

func side(dir tcpasm.TCPFlowDirection) int {
	if dir == tcpasm.TCPDirClientToServer {
		return 0
	}
	return 1
}

func (s *stream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir tcpasm.TCPFlowDirection, nextSeq tcpasm.Sequence, start *bool, ac tcpasm.AssemblerContext) bool {
	if ci.Timestamp.After(s.seen) {
		s.seen = ci.Timestamp
	}
	if s.stale {
		return false
	}
	if tcp.FIN || tcp.RST {
		s.decoder().TCPEnd(side(dir), tcp.RST, ci.Timestamp)
	}
	if s.conn != nil && s.conn.Done() {
		return false
	}
	if len(tcp.Payload) > 0 {
		sd := side(dir)
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

func (s *stream) ReassembledSG(sg tcpasm.ScatterGather, ac tcpasm.AssemblerContext) {
	length, _ := sg.Lengths()
	dir, _, _, skip := sg.Info()
	sd := side(dir)
	if skip > 0 && s.a.inPacket {
		// Holes are only pushed through during a packet when gopacket's
		// page limits are reached (a flush pushes the others).
		s.a.stats.PageLimitFlushes++
	}
	if st := sg.Stats(); st.OverlapBytes > 0 {
		s.a.stats.OverlapBytes += st.OverlapBytes
		s.a.stats.OverlapSegments += st.OverlapPackets
	}
	ts := s.a.now
	if !s.a.inPacket && length > 0 {
		ts = captureTime(sg, length-1, ts)
	}
	if skip > 0 {
		if s.tls != nil {
			s.tls.Gap(sd, skip)
		} else {
			s.decoder().Gap(sd, skip, ts)
		}
	}
	if length == 0 {
		return
	}
	s.last = ts
	data := sg.Fetch(length)
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
	if s.decoder().Done() {
		return
	}
	s.conn.Feed(sd, data, ts)
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
	s.conn.Feed(side, p, ts)
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
	if s.ended { // Finish ended it before gopacket did
		return true
	}
	s.ended = true
	delete(s.a.live, s)
	if s.a.onGone != nil && !s.stale {
		defer s.a.onGone(s.id)
	}
	if s.a.evicting && !s.stale {
		s.a.stats.Evicted++
	}
	if !s.stale {
		if s.tls != nil {
			s.syncTLS() // final: errors and byte counts
			if s.decoder().IsWebSocket() {
				s.conn.SetTLS(s.tlsInfo)
			} else if _, ok := s.a.out.(TLSSink); ok {
				client, server := s.conn.Addr[0], s.conn.Addr[1]
				if i := s.tls.Info(); i.Client == 1 {
					client, server = server, client
				}
				s.a.TLSConn(s.conn, s.last, client, server, s.tlsInfo)
			}
		}
		if s.conn != nil {
			s.conn.End(s.a.now)
			h := s.conn.LimitHits()
			s.a.stats.HTTPHeaderLimit += h.HTTPHeader
			s.a.stats.PendingLimit += h.Pending
			s.a.stats.SniffLimit += h.Sniff
			s.a.stats.InflateRatioLimit += h.InflateRatio
		}
		if !s.a.evicting {
			// An evicted connection that goes on is decoded afresh, as a
			// new connection, rather than dropped as stale.
			c := closedConn{id: s.id, at: s.a.now}
			s.a.closed[s.key] = c
			s.a.closed[flowKey{s.key.net.Reverse(), s.key.tcp.Reverse()}] = c
			if len(s.a.closed) > 2*s.a.opts.MaxConnections {
				s.a.forgetClosed(time.Time{})
			}
		}
	}
	return true
}
