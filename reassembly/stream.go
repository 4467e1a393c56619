// The per-connection stream: gopacket's Stream callbacks, TCP state,
// retransmission conflicts (ring.go), gaps, resuming after parking, and the end of a
// connection.

package reassembly

import (
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	tcpasm "github.com/google/gopacket/reassembly"

	"github.com/wsdump/wsdump/h2"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// decoder returns the connection's decoder, made at its first bytes or
// FIN/RST: a flood of SYNs costs no decoder state.
func (s *stream) decoder() *wsparse.Conn {
	if s.conn == nil {
		if s.a.shared == nil {
			s.a.shared = wsparse.NewShared(s.a.opts.Decoder, s.a).SideSeen(s.a.sideSeen)
		}
		addr := s.addrs()
		s.conn = s.a.shared.NewConn(s.id, addr[0], addr[1])
		s.conn.SetEncapID(s.encapID())
		s.conn.SetInput(s.input())
		if s.force >= 0 {
			s.conn.Force(int(s.force))
		}
		if s.resumed {
			s.conn.Resumed()
		}
		if s.wsClient > 0 {
			s.conn.ResumedWebSocket(int(s.wsClient&3-1), s.wsClient&wsDeflated != 0)
		}
	}
	return s.conn
}

// connect says how the TCP connect of a connection that sent no bytes went.
// Side 0 sent the first packet (the SYN); a side-1 segment that did not
// advance its sequence number carried no SYN. Without a SYN first there
// was no connect ("": a lone FIN, RST or ACK, a scan's odd flags, one side
// of an idle connection caught mid-stream), whatever came back.
func (s *stream) connect() string {
	switch {
	case s.space&synFirst == 0:
		return ""
	case !s.firstSet[1]:
		return wsparse.ConnectUnanswered
	case s.rst && s.end[1] == s.firstSeq[1]:
		return wsparse.ConnectRefused
	case s.space&serverFinFirst != 0:
		return wsparse.ConnectClosed
	case s.space&serverRstFirst != 0:
		return wsparse.ConnectReset
	}
	return wsparse.ConnectEmpty
}

// stream adapts one connection to gopacket's Stream interface. Side 0 is the
// sender of the connection's first packet. Its fields are ordered by size
// (pointers, times, then the small ones), with the IPv4 addresses packed
// (addrPair), the times packed (stamp.go) and what few connections have
// behind one pointer (rare: the TLS and HTTP/2 layers, the Router while
// undecided, IPv6 addresses too), so that an open connection's stream
// takes 160 bytes with its first recent segments in place (320, and a
// ring of its own, at session 18; 208 and 48 bytes of ring at session
// 20's start).
type stream struct {
	a     *Assembler
	id    int
	first int64         // the packet that opened it: its index << inputBits | its input (opened)
	conn  *wsparse.Conn // nil until decoder()
	rare  *streamRare   // nil unless parked, TLS, HTTP/2 (or undecided), IPv6, a time not packed or a lane

	// A TLS layer (tlsLayer), an HTTP/2 one (h2Layer), the Router that
	// decides whether it is HTTP/2 (router), IPv6 addresses and lane are in rare.

	// Recent segments of both sides, to tell a retransmission with other
	// bytes (gopacket keeps the first copy and drops the overlap
	// silently).
	recent segmentRing

	// Times (see stamp.go: lastTS, seenTS): of the last bytes (before
	// any: of the first packet), and of the latest packet, as gopacket's
	// lastSeen.
	lastNs, seenNs int64

	// TCP as seen in Accept, by side: for eviction classes, port reuse,
	// and going on after parking.
	firstSeq [2]uint32 // sequence number of the side's first segment
	end      [2]uint32 // highest sequence number a segment reached, up to the side's FIN

	addr     addrPair // by side; side 0 sends the packets of key()
	firstSet [2]bool  // and end set
	space    uint8    // by side (bit sd, sd+2, sd+4): first segment a SYN, 3 GiB or more sent (foreign), first segment a SYN-ACK
	fin      [2]bool
	payload  bool
	rst      bool

	flip    uint8 // 1: gopacket's client-to-server direction is side 1
	force   int8  // side on a --ws-port, or -1
	stale   bool  // a late segment of a closed connection
	ended   bool  // complete ran: its records are out
	started bool
	http1   bool // route settled: not HTTP/2, every byte goes to conn

	resumed    bool // ended early, went on: decoded afresh
	tlsResumed bool // and it was TLS: its bytes from there are counted, not decoded
	wasEvicted bool // ended early before (counted in Stats.Evicted then)
	// wsClient: it went on after it was ended early as WebSocket, whose
	// client is side wsClient&3-1 (0: not), with permessage-deflate if
	// wsDeflated is set: decoder makes its decoder so.
	wsClient int8
	stamps   uint8
	tenant   uint16 // its first packet's tenant, folded (tenant16, lanes.go)
}

// streamRare holds what few streams have: the parking of an evicted
// WebSocket connection, the TLS layer and its description, the HTTP/2
// layer (16 bytes of every stream, in it before), times that could not
// be packed.
type streamRare struct {
	park    *parking         // while parked and until it has gone on
	tlsInfo *wsparse.TLSInfo // of a TLS connection

	// TLS: a stream that opens with a ClientHello (or a record: feedTLS)
	// goes through tls, whose plaintext (with keys) goes on to conn.
	tls     *tlsdec.Conn
	tlsLate *lateTLS
	// lostStart: by side, bytes lost before the connection's first bytes
	// (a TLS hello among them, told to tls when it is made).
	lostStart [2]int
	// held: the first bytes, held while it is not known whether they
	// are TLS records (tlsheld.go).
	held *heldStart

	// HTTP/2: a connection whose first bytes (or plaintext, or ALPN) are
	// HTTP/2 goes through h2, which hands its WebSocket streams (RFC 8441)
	// to decoders of their own; conn then only counts it.
	h2 *h2.Conn

	// route decides whether it is HTTP/2 (see feed): made at the first
	// bytes, dropped once settled (http1), with the streamRare if it
	// holds nothing else.
	route *h2.Router

	fin  *finHole     // a FIN that came past the bytes passed on (tcpseq.go)
	late *lateHoles   // holes passed over, for segments that come later (tcpseq.go)
	jump *seqJump     // sequence spaces that may be a side's own after a capture gap (seqjump.go)
	v6   *[2][16]byte // IPv6 addresses by side (addrPair holds IPv4 ones)
	wide *wideStamps  // the times, if they could not be packed (stamp.go)
	lane uint8        // its lane on a split 4-tuple (lanes.go), 0 if none
	// Its first packet's encapsulation (encap.go, wsparse.EncapID), 0:
	// none; an encapsulated connection keeps its streamRare for it.
	encap uint32

	copies *heldCopies // bytes past a hole as they first came (overlap.go)
}

// more returns the stream's streamRare, made at the first need.
func (s *stream) more() *streamRare {
	if s.rare == nil {
		s.rare = &streamRare{}
	}
	return s.rare
}

func (s *stream) h2Layer() *h2.Conn {
	if s.rare == nil {
		return nil
	}
	return s.rare.h2
}

func (s *stream) router() *h2.Router {
	if s.rare == nil {
		return nil
	}
	return s.rare.route
}

// dropRouter drops the Router, and the streamRare if it then holds
// nothing.
func (s *stream) dropRouter() {
	if s.rare == nil {
		return
	}
	s.rare.route = nil
	if *s.rare == (streamRare{}) {
		s.rare = nil
	}
}

func (s *stream) parked() *parking {
	if s.rare == nil {
		return nil
	}
	return s.rare.park
}

func (s *stream) setPark(p *parking) {
	s.more().park = p
}

func (s *stream) tlsInfo() *wsparse.TLSInfo {
	if s.rare == nil {
		return nil
	}
	return s.rare.tlsInfo
}

func (s *stream) setTLSInfo(t *wsparse.TLSInfo) {
	s.more().tlsInfo = t
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
	if ci.Timestamp.After(s.seenTS()) {
		s.setSeen(ci.Timestamp)
	}
	sd := s.side(dir)
	if s.stale {
		if !s.lateSegment(sd, tcp) {
			s.a.reopen = s // another connection on the same ports: see assemble
		}
		return false
	}
	if s.foreign(sd, tcp) && !s.jumped(sd, tcp, ci.Timestamp) {
		// Not this connection's: neither its bytes nor its FIN or RST.
		s.decoder().Foreign(sd, len(tcp.Payload))
		return false
	} else if s.rare != nil && s.rare.jump != nil {
		s.rare.jump.own(sd)
	}
	drop, quiet := s.discarded(sd, tcp)
	s.track(sd, tcp)
	if s.parked() != nil && s.parked().resume[sd] {
		s.align(sd, tcp.Seq, ci.Timestamp)
	}
	if tcp.FIN || tcp.RST {
		s.decoder().TCPEnd(sd, tcp.RST, ci.Timestamp)
		if s.h2Layer() != nil {
			s.h2Layer().TCPEnd(sd, tcp.RST, ci.Timestamp)
		}
	}
	s.dropTail(sd, tcp, drop, quiet)
	if s.conn != nil && s.conn.Done() && s.h2Layer() == nil {
		return false
	}
	if tcp.URG {
		// A flag already decoded: plain traffic pays one test.
		s.a.stats.Urgent++
		s.decoder().Urgent(sd)
	}
	conflict := len(tcp.Payload) > 0 && s.recent.conflict(sd, tcp.Seq, tcp.Payload)
	// A capture that starts mid-connection has no SYN: start at the first
	// segment seen rather than wait for one.
	*start = true
	tcp.Seq = s.rebase(sd, tcp.Seq)
	if s.overCopies(sd, tcp, nextSeq) || conflict {
		s.a.stats.RetransmitConflicts++
		s.decoder().RetransmitConflict(sd)
	}
	s.lateCheck(sd, tcp.Seq, len(tcp.Payload), nextSeq)
	s.watchHoles(sd, tcp.Seq, len(tcp.Payload), tcp.Ack, tcp.ACK, int64(nextSeq), ci.Timestamp)
	if tcp.FIN && len(tcp.Payload) == 0 {
		s.noteFin(sd, tcp.Seq, nextSeq)
	}
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

// track notes what a segment tells of the connection's TCP state. A
// side's end stops at its FIN (what follows is discarded).
func (s *stream) track(sd int, tcp *layers.TCP) {
	first := !s.firstSet[sd]
	if first {
		s.firstSet[sd], s.firstSeq[sd] = true, tcp.Seq
		if tcp.SYN {
			s.space |= synFirst << sd
			if tcp.ACK {
				s.space |= synAck << sd
			}
		}
		if s.lane() != 0 {
			s.a.noteFirst(s, sd, tcp.Seq)
		}
	}
	n := uint32(len(tcp.Payload))
	if n > 0 {
		s.payload = true
	}
	if tcp.SYN || tcp.FIN {
		n++
		if tcp.FIN && sd == 1 && !s.fin[0] && !s.rst && s.noBytesBefore(tcp) {
			s.space |= serverFinFirst
		}
	}
	if e := tcp.Seq + n; first || !s.fin[sd] && int32(e-s.end[sd]) > 0 {
		s.end[sd] = e
		if e-s.base(sd) >= 1<<32-maxWindow {
			s.space |= fullSpace << sd
		}
	}
	if tcp.RST && sd == 1 && !s.fin[0] && !s.fin[1] && !s.rst && s.noBytesBefore(tcp) {
		s.space |= serverRstFirst
	}
	s.fin[sd] = s.fin[sd] || tcp.FIN
	s.rst = s.rst || tcp.RST
}

// noBytesBefore reports whether the server's FIN tcp shows that no byte
// went either way before it, whatever the capture missed: it lies right
// after the server's SYN-ACK and acknowledges the client's SYN and no
// more. A FIN further on follows bytes whose segments were lost or not
// captured (a capture of SYN, FIN and RST packets alone).
func (s *stream) noBytesBefore(tcp *layers.TCP) bool {
	return s.space&(synFirst|synAck<<1) == synFirst|synAck<<1 && tcp.Seq == s.firstSeq[1]+1 && tcp.ACK && tcp.Ack == s.firstSeq[0]+1
}

// align lines the first segment of a side after parking up with the bytes
// already decoded: gopacket starts the new connection at that segment, so
// bytes before it that were never seen are a gap, and bytes already
// decoded are dropped.
func (s *stream) align(sd int, seq uint32, ts time.Time) {
	p := s.parked()
	p.resume[sd] = false
	if !p.resumeSet[sd] {
		return // the side had sent nothing
	}
	d := int32(seq - p.resumeEnd[sd])
	switch {
	case d > 0 && d < 1<<30:
		if s.tlsLayer() != nil {
			s.tlsLayer().Gap(sd, int(d), ts)
		} else if s.h2Layer() != nil {
			s.h2Layer().Gap(sd, int(d), ts)
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
	s.passed(sd, max(skip, 0)+length)
	s.copiesPassed(sd, skip, length)
	s.latePassed(sd, skip, length)
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
		// Held behind a hole, flushed: bytes of their own time, maybe
		// before bytes passed on already; no step of the clock. (No
		// Shared yet: no decoder fed before, no Last to step from.)
		if sh := s.a.shared; sh != nil {
			sh.FeedLate(true)
			defer sh.FeedLate(false)
		}
	}
	if skip > 0 {
		if !s.started {
			s.more().lostStart[sd] += skip // (for a TLS layer made at the first bytes)
		}
		if s.rare != nil && s.rare.held != nil {
			s.holdGap(sd, skip, ts)
		} else if s.tlsLayer() != nil {
			s.tlsLayer().Gap(sd, skip, ts)
		} else if s.h2Layer() != nil {
			s.h2Layer().Gap(sd, skip, ts)
		} else {
			s.decoder().Gap(sd, skip, ts)
		}
	}
	if length == 0 {
		return
	}
	s.setLast(ts)
	data := sg.Fetch(length)
	if s.parked() != nil && s.parked().trim[sd] > 0 {
		n := min(int(s.parked().trim[sd]), len(data))
		s.parked().trim[sd] -= uint32(n)
		data = data[n:]
		if len(data) == 0 {
			return
		}
	}
	if !s.started {
		s.started = true
		if tlsdec.Detect(data) || !s.resumed && tlsdec.DetectMidSession(data) { // (resumed: tlsResumed)
			s.makeTLS(ts)
		} else if s.holdStart(sd, data, ts) {
			return // (tlsheld.go)
		}
	} else if s.rare != nil && s.rare.held != nil {
		s.holdMore(sd, data, ts)
		return
	}
	if s.tlsLayer() != nil {
		s.feedTLS(sd, data, ts)
		return
	}
	if s.tlsResumed {
		// The middle of a TLS session: neither decryptable nor
		// WebSocket framing; its TLS record says why.
		if s.tlsInfo() == nil {
			s.setTLSInfo(&wsparse.TLSInfo{Error: resumedTLS})
		}
		s.tlsInfo().Bytes[sd] += int64(len(data))
		s.setLast(ts)
		return
	}
	if s.decoder().Done() && s.h2Layer() == nil {
		return
	}
	s.feed(sd, data, ts, "")
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

func (s *stream) ReassemblyComplete(ac tcpasm.AssemblerContext) bool {
	a := s.a
	if s.ended { // Finish ended it before gopacket did
		return true
	}
	if k := s.gkey().tuple(); a.live.get(k) == s {
		a.live.del(k)
	}
	s.dropCopies() // gopacket holds nothing of it now
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
	unframed := 0 // bytes searched for framing, none found (Stats.ResumedUnframed)
	s.ended = true
	s.dropCopies()
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
			a.tombs[k.tuple()] = tomb{id: s.id, seq: a.pkt, bare: !s.payload && !s.resumed || s.rst || s.fin[0] && s.fin[1],
				tls: s.tlsLayer() != nil || s.tlsResumed, set: s.firstSet, first: s.firstSeq, end: s.end, input: int32(s.input()),
				unframed: uint32(min(unframed, 1<<32-1))}
			// (A piece without bytes made no decoder.)
			client, deflated := s.wsClient&3-1, s.wsClient&wsDeflated != 0
			if c := s.conn; c != nil && c.IsWebSocket() && s.tlsLayer() == nil && !s.tlsResumed && s.h2Layer() == nil {
				client, deflated = int8(c.ClientSide()), deflated || c.Deflated()
			}
			if client >= 0 {
				t := a.tombs[k.tuple()]
				t.ws, t.client, t.deflated = true, client, deflated
				a.tombs[k.tuple()] = t
			}
			if a.onTomb != nil {
				a.onTomb(s.id)
			}
		}()
	}
	s.endHeld(s.lastTS())
	if s.tlsLayer() == nil && s.tlsInfo() != nil {
		// A TLS connection ended early went on (tlsResumed).
		addr := s.addrs()
		a.TLSConn(s.decoder(), s.lastTS(), addr[0], addr[1], s.tlsInfo())
	}
	if s.tlsLayer() != nil {
		s.tlsLayer().End(s.lastTS()) // bytes lost searching for records after a gap
		s.syncTLS()                  // final: errors and byte counts
		if s.decoder().IsWebSocket() || s.h2Layer() != nil && s.h2Layer().WebSockets() > 0 {
			s.conn.SetTLS(s.tlsInfo()) // (HTTP/2: its WebSocket streams carry it)
		} else {
			client, server := s.conn.Addr[0], s.conn.Addr[1]
			if s.tlsClient() == 1 {
				client, server = server, client
			}
			a.TLSConn(s.conn, s.lastTS(), client, server, s.tlsInfo())
		}
	}
	if !s.payload && s.tlsLayer() == nil && !s.resumed && a.opts.Decoder.EndAll {
		// No bytes: how its connect went (Config.EndAll). Without a
		// decoder (no FIN, no RST) a view carries it: a flood of SYNs
		// ends here, and costs no decoder.
		if s.conn != nil {
			s.conn.EndEmpty(s.lastTS(), s.seenTS(), s.connect(), a.now)
		} else {
			a.End(s.view(), &wsparse.Summary{First: s.lastTS(), Last: s.seenTS(), Connect: s.connect(), End: wsparse.EndNotWebSocket})
		}
	}
	if s.conn != nil {
		if r := s.router(); r != nil {
			r.Decide()
		}
		s.feedHeld(s.lastTS()) // the connection ended before they could be told
	}
	if s.tlsLayer() == nil {
		s.finHoles(s.lastTS())
	}
	if s.h2Layer() != nil {
		s.h2Layer().End(a.now)
	}
	if s.conn != nil {
		s.skippedNotTLS()
		if evicted || s.resumed {
			unframed = s.conn.Unframed() // (End ends the searches)
		}
		s.conn.End(a.now)
		if s.conn.IsWebSocket() {
			unframed = 0 // found at the end: counted in skipped_bytes
		} else if s.resumed {
			a.stats.ResumedUnframed += int64(unframed)
			unframed = 0
		}
		if !s.conn.IsWebSocket() { // no conn record with its urgent_segments
			a.stats.UrgentUnshown += s.conn.UrgentSegments()
		}
		h := s.conn.LimitHits()
		a.stats.HTTPHeaderLimit += h.HTTPHeader
		a.stats.PendingLimit += h.Pending
		a.stats.PendingTotalLimit += h.PendingTotal
		a.stats.SniffLimit += h.Sniff
		a.stats.SniffTotalLimit += h.SniffTotal
		a.stats.HTTPHeaderTotalLimit += h.HTTPHeaderTotal
		a.stats.InflateRatioLimit += h.InflateRatio
		a.stats.H2StreamLimit += h.H2Streams
		a.stats.EarlyTotalLimit += h.EarlyTotal
		a.stats.HeldStartTotalLimit += h.HeldStartTotal
	}
	if evicted || a.ending {
		return
	}
	c := closedConn{id: s.id, at: a.now, set: s.firstSet, first: s.firstSeq, end: s.end}
	a.closed[s.key().reverse()] = c
	c.canon = true
	a.closed[s.key()] = c
}
