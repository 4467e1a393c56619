// Package reassembly turns packets into the byte streams of TCP connections,
// using gopacket's reassembly, and feeds each connection to a wsparse.Conn.
// Everything is driven by packet time, never the wall clock.
package reassembly

import (
	"container/list"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"

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
	// checked; connections idle for IdleTimeout are ended. Bytes waiting
	// behind a hole are pushed through as a gap (holes.go): after
	// GapTimeout if the other side acknowledged past the hole (the
	// capture missed bytes the receiver got) or sent nothing since it
	// (nothing tells); after LateWait if it sent segments none of which
	// acknowledged past it (the network lost the bytes: the receiver
	// waits for their retransmission, and so does wsdump).
	FlushEvery  time.Duration // default 1 s
	GapTimeout  time.Duration // default 2 s
	LateWait    time.Duration // default 120 s
	IdleTimeout time.Duration // default 0: never, connections end at FIN/RST or end of input

	// Page limits of gopacket's assembler (out-of-order bytes held); past
	// them, data is pushed through and the hole counted as a gap.
	MaxBufferedPagesPerConnection int // default 4096 (about 8 MiB)
	MaxBufferedPagesTotal         int // default 65536

	// MaxRenegGuessesTotal bounds the key log lines tried, all
	// connections together, for TLS renegotiations whose ClientHello was
	// lost (default tlsdec.DefaultMaxRenegGuessesTotal).
	MaxRenegGuessesTotal int

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

// DefaultMaxRenegGuessesTotal is Options.MaxRenegGuessesTotal's default.
const DefaultMaxRenegGuessesTotal = tlsdec.DefaultMaxRenegGuessesTotal

func (o Options) withDefaults() Options {
	// A lost segment is usually retransmitted within a few round trips;
	// waiting longer only delays output and holds memory.
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.GapTimeout <= 0 {
		o.GapTimeout = 2 * time.Second
	}
	if o.LateWait <= 0 {
		// A retransmission backs off from 200 ms, doubling: its 9th
		// comes about 100 s after the loss (Linux gives up after 15,
		// about 15 minutes).
		o.LateWait = 120 * time.Second
	}
	o.LateWait = max(o.LateWait, o.GapTimeout)
	if o.MaxBufferedPagesPerConnection <= 0 {
		o.MaxBufferedPagesPerConnection = 4096
	}
	if o.MaxBufferedPagesTotal <= 0 {
		o.MaxBufferedPagesTotal = 65536
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 100000
	}
	if o.MaxRenegGuessesTotal <= 0 {
		o.MaxRenegGuessesTotal = tlsdec.DefaultMaxRenegGuessesTotal
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
	TooDeep     uint64 // IP packets inside more than maxTunnelDepth tunnels: not opened (not in NotTCP)
	Malformed   uint64 // IP or TCP headers that do not parse
	Fragments   uint64 // IP fragments reassembled (defrag.go): IPv4's of what may carry TCP, every IPv6 one
	Connections int    // TCP connections seen
	Evicted     int    // connections ended early to stay under MaxConnections (each once)
	Parked      int    // WebSocket connections evicted with their decoder state kept
	Resumed     int    // connections that went on after they were ended early
	// ResumedUnframed counts the bytes searched for WebSocket framing
	// without finding any in connections ended early that went on, in
	// each piece, before and after: framing one piece alone could not
	// show (a frame a side) was in no record.
	ResumedUnframed int64
	// Datagrams reassembled from fragments; fragments given up (their
	// datagram incomplete after defragTimeout or at the end, or past
	// defragMaxBytes; cut by the snap length; malformed); fragments that
	// overlapped earlier ones of their datagram with other bytes (the
	// first copy is kept).
	Defragmented, FragmentsLost, FragmentConflicts uint64
	// Fragments given up whose datagram (addresses, id, IPv4's protocol) was
	// among the last defragRecent reassembled, and within its length:
	// late copies, as a mirror port sending each packet twice makes, not
	// lost (FragmentsLost).
	FragmentsLate uint64
	// PageLimitFlushes counts the times gopacket's page limits
	// (MaxBufferedPages*) forced out-of-order bytes through as a gap.
	PageLimitFlushes int
	// Retransmitted bytes that overlapped bytes already passed on, and
	// their segments: gopacket keeps the first copy and drops the rest
	// without showing it, so differing content cannot be told here.
	OverlapBytes, OverlapSegments int
	RetransmitConflicts           int // retransmitted segments with other bytes than the first copy
	// HeldCopyLimit counts the segments past a hole whose bytes were not
	// all copied (or a range held not split where a later segment took
	// part of it), the copies at MaxHeldCopies or a side at MaxHeldRanges: a
	// later segment over them is compared only as the segment ring
	// compares, and gopacket's later copy is decoded (overlap.go).
	HeldCopyLimit int
	// Segments with the TCP URG flag, decoded with their urgent byte in
	// the stream (as tshark); a receiver without SO_OOBINLINE takes it out.
	Urgent int
	// Of Urgent, those on connections whose record shows no WebSocket
	// (none decoded, HTTP/2, TLS not decrypted): neither conns nor WS315
	// shows them.
	UrgentUnshown int
	// Decoder limits hit (wsparse.LimitHits), summed over connections.
	HTTPHeaderLimit, PendingLimit, SniffLimit int
	PendingTotalLimit                         int // clients whose pending bytes would have passed MaxPendingTotal
	SniffTotalLimit                           int // directions whose search for frame boundaries would have passed MaxSniffTotal
	HTTPHeaderTotalLimit                      int // HTTP heads whose bytes would have passed MaxHTTPHeaderTotal
	InflateRatioLimit                         int // messages whose inflation stopped at the ratio bound
	H2StreamLimit                             int // HTTP/2 streams not followed: as many as followed at once were open
	EarlyTotalLimit                           int // TLS connections whose 0-RTT early data held would have passed MaxPendingTotal
	HeldStartTotalLimit                       int // connections whose first bytes held for the TLS chain search (tlsheld.go) would have passed MaxPendingTotal
	RenegGuessTotalLimit                      int // TLS renegotiations without a ClientHello whose key search MaxRenegGuessesTotal cut short
	// Fallback messages (SockJS, Engine.IO over HTTP) of sessions past
	// fbjoin.MaxSessions, not decoded, and their payload bytes: the
	// joiner's counts, which the pipeline adds (the joiner comes after
	// the reassembly). FallbackDroppedRequests: their HTTP requests.
	FallbackDropped, FallbackDroppedBytes, FallbackDroppedRequests int
	// Fallback sessions ended early to make room at fbjoin.MaxSessions
	// (not closed), and the bytes lost or passed over on connections
	// whose last session was retired while they were open
	// (fbjoin.Dropped.AfterEnd).
	FallbackEndedEarly, FallbackBytesAfterEnd int
	// Connections opened in another tenant on the 4-tuple of one still
	// open there, each given a lane of its own (lanes.go); and those
	// given none (255 lanes on the 4-tuple, or MaxConnections 4-tuples
	// split), taken for port reuse as tshark takes them.
	Lanes, LanesFull int
	// Connections whose encapsulation is shown as wsparse.EncapOverflow:
	// the process had named 65 536 others (encap.go).
	EncapsFull int
	// Clock: the capture's clock jumps and its runs of packets between
	// them, which the pipeline adds (it reads the packets in order); nil
	// from the assembler itself. A pointer: Stats stay comparable.
	Clock *Clock
}

// Assembler feeds the TCP connections of a packet stream to WebSocket
// decoders and passes their records to a sink, in the order of the packets
// that complete them.
type Assembler struct {
	opts    Options
	shared  *wsparse.Shared // the decoders' limits and sink (the Assembler), made at the first
	out     record.Sink
	rec     record.Record // the record handed to out, reused
	asm     *tcpasm.Assembler
	stats   Stats
	oooHeld int // bytes of copies held out of order in all streams (overlap.go)
	dec     headerDecoder
	guess   tlsdec.GuessBudget // MaxRenegGuessesTotal, drawn on by the TLS connections
	// The stream whose bytes the decoders are being fed (SideSeen).
	feeding *stream
	// Streams holding bytes past a hole, or that did (holes.go).
	holey []*stream

	// Hooks for Parallel: a connection numbered, a connection gone.
	onNew  func(id int, addr [2]netip.AddrPort, encap uint32, input int)
	onGone func(id int)
	// A connection ended early, remembered by a tomb; one going on.
	onTomb   func(id int)
	onResume func(id int, addr [2]netip.AddrPort, encap uint32, input int)
	// input is the number of the input the packets come from (SetInput).
	input int
	// coordinated: a Parallel decides evictions over all its workers
	// (candidates, evictStreams); the Assembler does not evict by itself.
	coordinated bool

	// Decoded packets since closed was last checked against its bound.
	sinceBound int

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
	live     liveSet
	evicting bool
	reopen   *stream // a stale stream that got another connection's segment

	// tombs: connections ended early, by the key of their side 0.
	tombs map[tuple]tomb
	// split: 4-tuples (canonical) carrying connections in several
	// tenants at once, with their lanes (lanes.go); nil until one does.
	split      map[tuple]*lanes
	splitPorts portBits // split's 4-tuples by their ports (laneRoute)
	splitGets  int      // laneRoute's look-ups of split, for tests of what they cost
	ledger     tombLedger

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

	// The packet's context, used again while no page of gopacket's
	// holds it (see context), and gopacket's page counters that tell.
	ctx                   *assemblerContext
	pageOps, pageSize     *int
	opsBefore, sizeBefore int

	// gopacket's pool's and page cache's next allocation sizes, held at
	// poolChunk and pageChunk (nil: not found in this gopacket).
	nextAlloc, pageNext *int
	// gopacket's page cache's point at which it drops free pages, held
	// out of reach (see pageChunk; nil: not found).
	pageShrink *int

	// Records produced outside a packet (by a flush) are held and sorted by
	// connection so that output does not depend on map order.
	holding bool
	held    []heldRecord
}

// New returns an Assembler that sends records to out: Handshake, Frame,
// Message and End records, and a TLS record for each TLS connection which
// carried no WebSocket that could be seen (no key, or something else
// inside), when it ends.
func New(out record.Sink, opts Options) *Assembler {
	a := &Assembler{opts: opts.withDefaults(), out: out, closed: map[flowKey]closedConn{},
		live: newLiveSet(), parked: map[flowKey]*stream{}, tombs: map[tuple]tomb{}}
	pool := newStreamPool(&factory{a: a})
	a.nextAlloc = poolGrowth(pool)
	a.asm = newAssembler(pool)
	a.pageOps, a.pageSize = pageCounters(a.asm)
	a.pageNext, a.pageShrink = pageGrowth(a.asm), pageShrink(a.asm)
	a.asm.MaxBufferedPagesPerConnection = a.opts.MaxBufferedPagesPerConnection
	a.asm.MaxBufferedPagesTotal = a.opts.MaxBufferedPagesTotal
	a.guess.Left = a.opts.MaxRenegGuessesTotal
	return a
}

// Stats returns the counters so far.
func (a *Assembler) Stats() Stats {
	st := a.stats
	st.RenegGuessTotalLimit = a.guess.Cut
	return st
}

// assemblerContext is what gopacket keeps of a packet: its capture info
// (32 bytes, not the 72 of a gopacket.CaptureInfo).
type assemblerContext struct {
	ts              time.Time
	capLen, wireLen uint32 // a capture file holds 32-bit lengths
}

func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: c.ts, CaptureLength: int(c.capLen), Length: int(c.wireLen)}
}

// Packet decodes one captured packet of the given link type (a LINKTYPE_
// number) and feeds its TCP segment to reassembly. wireLen is the packet's
// original length.
func (a *Assembler) Packet(link uint32, data []byte, ts time.Time, wireLen int) {
	a.pkt = int64(a.stats.Packets)
	netFlow, whole, ok := a.dec.decode(link, data, wireLen, ts, &a.stats)
	if !ok {
		return
	}
	if whole != nil { // the last fragment of a datagram: the datagram
		wireLen = len(whole)
		data = whole
	}
	a.maybeFlush(ts)
	a.assemble(netFlow, ts, len(data), wireLen)
}

// inputBits is how many low bits of a stream's first hold its input: the
// number wsparse.Conn.SetInput keeps (24 bits); a packet index takes the
// 39 above (5e11 packets).
const inputBits = 24

// SetInput says that the packets that follow come from input number i of
// several read merged (capture.Packet.Input): a connection they open is
// numbered with it (wsparse.Conn.Input). Called when the input changes,
// not per packet.
func (a *Assembler) SetInput(i int) { a.input = min(max(i, 0), wsparse.MaxInput) }

// opened is the first of a stream the packet being decoded opens: its
// index and its input.
func (a *Assembler) opened() int64 { return a.pkt<<inputBits | int64(a.input) }

// input returns the number of the input of the packet that opened s.
func (s *stream) input() int { return int(s.first & wsparse.MaxInput) }

// MergeKeys adds TLS secrets (a pcapng Decryption Secrets Block) to the
// key log, for the handshakes that follow.
func (a *Assembler) MergeKeys(k *tlsdec.KeyLog) {
	if a.opts.Keys != nil {
		a.opts.Keys.Merge(k)
	}
}

// assemble feeds the TCP segment just decoded into a.dec.tcp.
func (a *Assembler) assemble(netFlow gopacket.Flow, ts time.Time, capLen, wireLen int) {
	ctx := a.context(ts, capLen, wireLen)
	a.now = ts
	tcp := &a.dec.tcp
	if a.split != nil || tcp.SYN && !tcp.ACK {
		// Not called for the other segments of plain traffic: the call,
		// a Flow (56 bytes) passed and returned, cost each ~7 ns.
		netFlow = a.laneRoute(netFlow, tcp)
	}
	a.inPacket = true
	a.asm.AssembleWithContext(netFlow, tcp, ctx)
	if s := a.reopen; s != nil {
		// The segment went to the late segments of a closed connection
		// but is of another one on the same ports (its opening not
		// captured): end the first in gopacket, and the segment opens a
		// new connection.
		a.reopen = nil
		a.closeStream(s)
		a.asm.AssembleWithContext(netFlow, tcp, ctx)
		a.reopen = nil
	}
	a.contextDone()
	a.inPacket = false
	if !a.coordinated && a.live.len() > a.opts.MaxConnections {
		c := a.candidates(a.live.len() - a.keep())
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
