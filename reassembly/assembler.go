// Package reassembly turns packets into the byte streams of TCP connections,
// using gopacket's reassembly, and feeds each connection to a wsparse.Conn.
// Everything is driven by packet time, never the wall clock.
package reassembly

import (
	"encoding/binary"
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
	NotIP       uint64 // link payload without IPv4/IPv6
	NotTCP      uint64 // IP packets that carry no TCP
	Malformed   uint64 // IP or TCP headers that do not parse
	Fragments   uint64 // IP fragments (not reassembled)
	Connections int    // TCP connections seen
}

// Assembler feeds the TCP connections of a packet stream to WebSocket
// decoders and passes their records to a sink, in the order of the packets
// that complete them.
type Assembler struct {
	opts  Options
	out   wsparse.Sink
	asm   *tcpasm.Assembler
	stats Stats

	ip4 layers.IPv4
	ip6 layers.IPv6
	tcp layers.TCP

	now       time.Time // timestamp of the packet being processed
	inPacket  bool
	lastFlush time.Time
	nextID    int

	// closed remembers the connections gopacket has finished, by both
	// directions' flow keys: a stray ACK after the close makes gopacket start
	// a new stream, which must not take a new connection number.
	closed map[flowKey]closedConn

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
	a := &Assembler{opts: opts.withDefaults(), out: out, closed: map[flowKey]closedConn{}}
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
	a.stats.Packets++
	a.stats.Bytes += uint64(len(data))
	ip, ok := NetworkPayload(link, data)
	if !ok {
		a.stats.NotIP++
		return
	}
	var netFlow gopacket.Flow
	var payload []byte
	switch ip[0] >> 4 {
	case 4:
		if err := a.ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
			a.stats.Malformed++
			return
		}
		if a.ip4.Protocol != layers.IPProtocolTCP {
			a.stats.NotTCP++
			return
		}
		if a.ip4.Flags&layers.IPv4MoreFragments != 0 || a.ip4.FragOffset != 0 {
			a.stats.Fragments++
			return
		}
		netFlow, payload = a.ip4.NetworkFlow(), a.ip4.Payload
	case 6:
		if err := a.ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback); err != nil {
			a.stats.Malformed++
			return
		}
		next, p, frag := skipIPv6Extensions(a.ip6.NextHeader, a.ip6.Payload)
		if frag {
			a.stats.Fragments++
			return
		}
		if next != layers.IPProtocolTCP {
			a.stats.NotTCP++
			return
		}
		netFlow, payload = a.ip6.NetworkFlow(), p
	default:
		a.stats.NotIP++
		return
	}
	if err := a.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
		a.stats.Malformed++
		return
	}
	a.maybeFlush(ts)
	ctx := assemblerContext{ci: gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: wireLen}}
	a.now, a.inPacket = ts, true
	a.asm.AssembleWithContext(netFlow, &a.tcp, &ctx)
	a.inPacket = false
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
	for k, c := range a.closed {
		if ts.Sub(c.at) > closedMemory {
			delete(a.closed, k)
		}
	}
	opt := tcpasm.FlushOptions{T: ts.Add(-a.opts.GapTimeout)}
	if a.opts.IdleTimeout > 0 {
		opt.TC = ts.Add(-a.opts.IdleTimeout)
	}
	a.hold()
	a.asm.FlushWithOptions(opt)
	a.release()
}

// Tick lets the assembler flush by time while no packet arrives (live
// capture): now stands in for the next packet's time.
func (a *Assembler) Tick(now time.Time) { a.maybeFlush(now) }

// Finish pushes everything still held through and ends every connection.
func (a *Assembler) Finish() {
	a.hold()
	a.asm.FlushAll()
	a.release()
}

func (a *Assembler) hold() { a.holding = true }

// release emits the records held during a flush, grouped by connection in
// connection order; each connection's records keep their order.
func (a *Assembler) release() {
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	for i := range a.held {
		r := &a.held[i]
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
	clear(a.held)
	a.held = a.held[:0]
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
		return &stream{a: a, key: key, stale: true, conn: wsparse.NewConn(old.id, netip.AddrPort{}, netip.AddrPort{}, a.opts.Decoder, a)}
	}
	a.nextID++
	a.stats.Connections++
	src, dst := netFlow.Endpoints()
	sp, dp := tcpFlow.Endpoints()
	ep := func(ip, port gopacket.Endpoint) netip.AddrPort {
		addr, _ := netip.AddrFromSlice(ip.Raw())
		return netip.AddrPortFrom(addr, binary.BigEndian.Uint16(port.Raw()))
	}
	st := &stream{a: a, key: key, conn: wsparse.NewConn(a.nextID, ep(src, sp), ep(dst, dp), a.opts.Decoder, a)}
	for _, p := range a.opts.WSPorts {
		switch p {
		case st.conn.Addr[1].Port():
			st.conn.Force(1)
		case st.conn.Addr[0].Port():
			st.conn.Force(0)
		default:
			continue
		}
		break
	}
	return st
}

// stream adapts one connection to gopacket's Stream interface. Side 0 is the
// sender of the connection's first packet.
type stream struct {
	a     *Assembler
	key   flowKey
	conn  *wsparse.Conn
	stale bool // a late segment of a closed connection

	// TLS: a stream that opens with a ClientHello goes through tls, whose
	// plaintext (with keys) goes on to conn.
	tls     *tlsdec.Conn
	started bool
	tlsInfo wsparse.TLSInfo
	last    time.Time // time of the last bytes
}

func side(dir tcpasm.TCPFlowDirection) int {
	if dir == tcpasm.TCPDirClientToServer {
		return 0
	}
	return 1
}

func (s *stream) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir tcpasm.TCPFlowDirection, nextSeq tcpasm.Sequence, start *bool, ac tcpasm.AssemblerContext) bool {
	if s.stale {
		return false
	}
	if tcp.FIN || tcp.RST {
		s.conn.TCPEnd(side(dir), tcp.RST, ci.Timestamp)
	}
	if s.conn.Done() {
		return false
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
	ts := s.a.now
	if !s.a.inPacket && length > 0 {
		ts = sg.CaptureInfo(length - 1).Timestamp
	}
	if skip > 0 {
		if s.tls != nil {
			s.tls.Gap(sd, skip)
		} else {
			s.conn.Gap(sd, skip, ts)
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
	if s.conn.Done() {
		return
	}
	s.conn.Feed(sd, data, ts)
}

// plaintext receives decrypted application data.
func (s *stream) plaintext(side int, p []byte, ts time.Time) {
	if s.conn.TLS() == nil {
		s.syncTLS()
		s.conn.SetTLS(&s.tlsInfo)
	}
	s.conn.Feed(side, p, ts)
}

// syncTLS copies what the TLS layer knows into tlsInfo.
func (s *stream) syncTLS() {
	i := s.tls.Info()
	s.tlsInfo = wsparse.TLSInfo{Version: i.Version, Cipher: i.Cipher, SNI: i.SNI, ALPN: i.ALPN,
		Offered: i.ALPNOffered, Decrypted: i.Decrypted, Error: i.Error, Bytes: i.Bytes}
	if i.Client == 1 {
		s.tlsInfo.Bytes[0], s.tlsInfo.Bytes[1] = i.Bytes[1], i.Bytes[0]
	}
}

func (s *stream) ReassemblyComplete(ac tcpasm.AssemblerContext) bool {
	if !s.stale {
		if s.tls != nil {
			s.syncTLS() // final: errors and byte counts
			if s.conn.IsWebSocket() {
				s.conn.SetTLS(&s.tlsInfo)
			} else if _, ok := s.a.out.(TLSSink); ok {
				client, server := s.conn.Addr[0], s.conn.Addr[1]
				if i := s.tls.Info(); i.Client == 1 {
					client, server = server, client
				}
				s.a.TLSConn(s.conn, s.last, client, server, &s.tlsInfo)
			}
		}
		s.conn.End(s.a.now)
		c := closedConn{id: s.conn.ID, at: s.a.now}
		s.a.closed[s.key] = c
		s.a.closed[flowKey{s.key.net.Reverse(), s.key.tcp.Reverse()}] = c
	}
	return true
}
