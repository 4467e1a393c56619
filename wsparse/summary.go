package wsparse

// Summary and its bookkeeping: what a connection counts as it goes, and
// the summary built when it ends.

import (
	"math"
	"sync"
	"time"
)

// DirStats counts one direction's traffic.
type DirStats struct {
	Frames        int
	Messages      int
	ControlFrames int
	PayloadBytes  uint64 // payload lengths summed
	WireBytes     uint64 // header and payload bytes of WebSocket frames
	LostBytes     uint64 // bytes the capture lost (gaps)
	SkippedBytes  uint64 // bytes passed over to find a frame boundary (mid-frame start, resync), or not decoded (a fallback body over its bound)
	Resyncs       int    // times the frame boundaries were found again after a gap
	Conflicts     int    // retransmitted segments whose bytes differed from the first copy
	// Segments with the TCP URG flag (Urgent): decoded with every byte
	// in, as tshark does; a receiver without SO_OOBINLINE takes one
	// byte out of the stream for each.
	Urgent int

	// permessage-deflate: messages compressed, their bytes on the wire and
	// inflated (both only for messages that inflated).
	CompressedMessages int
	CompressedBytes    uint64
	InflatedBytes      uint64
}

// CloseInfo describes one side's Close frame.
type CloseInfo struct {
	TS      time.Time
	Reason  string
	Code    uint16
	HasCode bool
	Sent    bool
}

// End says how a connection ended.
type End string

const (
	EndClean           End = "clean"            // both sides sent Close
	EndCloseUnanswered End = "close_unanswered" // one side sent Close, the other never did
	EndFINWithoutClose End = "fin_without_close"
	EndRSTWithoutClose End = "rst_without_close"
	EndOpen            End = "open" // still open when the capture ended
	EndNotUpgraded     End = "not_upgraded"
	// EndNotWebSocket: no upgrade request nor framing (reported with
	// Config.EndAll only): a plain HTTP connection, a TCP connect refused
	// or unanswered, or another protocol.
	EndNotWebSocket End = "not_websocket"
)

// Connect results of a connection that sent no bytes (Summary.Connect).
const (
	ConnectRefused    = "refused"    // the SYN was answered by a RST
	ConnectUnanswered = "unanswered" // nothing came back to the SYN
	ConnectEmpty      = "empty"      // connected (or reset later), no byte sent
	// ConnectClosed: connected, then the server's FIN before any byte
	// and before the client ended its side (a listener that accepts and
	// closes at once).
	ConnectClosed = "closed"
	// ConnectReset: connected, then the server's RST before any byte and
	// before either side's FIN (a listener that accepts and resets at
	// once, closing with SO_LINGER 0).
	ConnectReset = "reset"
)

// HTTPRequest is one HTTP request of a connection that never showed
// WebSocket (Config.EndAll).
type HTTPRequest struct {
	TS                time.Time
	Method, Host, URI string
	Status            int       // the response's; 0: none seen
	RespTS            time.Time // when the response's head ended; zero: none seen
}

// MaxRequestsKept is how many HTTP requests of a connection a Summary
// lists (Config.EndAll); the rest are counted in Summary.MoreRequests.
const MaxRequestsKept = 8

// Summary is reported once per connection when it ends.
type Summary struct {
	// First is the connection's first byte of data; Last is when it
	// ended: the packet that ended it (the later side's FIN, or a RST),
	// or its last byte of data when that came later or the capture shows
	// no end. Every view and record takes the end and the duration
	// (Duration) from here.
	First, Last time.Time
	// SteppedBack is how far the capture's clock stepped back within the
	// connection, summed: its bytes came stamped before bytes that came
	// earlier (an NTP step, captures merged with a clock off). Zero on a
	// clock that only went forward.
	SteppedBack time.Duration
	Handshake   *Handshake  // nil when none was seen
	Confidence  Confidence  // how the connection was recognised as WebSocket
	TLS         *TLSInfo    // wss: the TLS layer, nil for plain TCP
	Stats       [2]DirStats // by Dir
	Close       [2]CloseInfo
	Initiator   Dir // the side whose Close came first (valid when a Close was sent)
	TCPFin      [2]bool
	TCPRst      [2]bool
	// TCPEndOrder is the order each direction's end (TCPEndTS) came in, in
	// the capture's order of packets: the smaller came first, 0 that side
	// did not end. A clock that stepped back between the two ends makes
	// their times say the reverse (TCPFirst).
	TCPEndOrder [2]uint8
	TCPEndTS    [2]time.Time // when each direction ended: its first RST, else its first FIN
	End         End
	Anomalies   Anomalies // connection-level: every anomaly seen on any record

	// With Config.EndAll, of a connection that never showed WebSocket
	// (End EndNotWebSocket): its first HTTP requests and how many more
	// there were, and for one that sent no bytes, how its TCP connect went
	// (Connect*; First is then its first packet's time).
	Requests     []HTTPRequest
	MoreRequests int
	Connect      string

	// StreamEnd says how an HTTP/2 stream carrying the WebSocket (RFC
	// 8441) ended: "end_stream" (both sides), "rst_stream CANCEL" (with the
	// error code), "goaway NO_ERROR", or empty when the TCP connection
	// ended under it (see TCPFin, TCPRst). Empty over HTTP/1.1.
	StreamEnd string
	// HTTP2 counts the streams of an HTTP/2 connection (reported with
	// Config.EndAll, End EndNotWebSocket); nil for any other connection.
	HTTP2 *HTTP2Counts

	// Fallback describes a SockJS or Engine.IO session joined from HTTP
	// requests (package fbjoin); nil for a TCP connection.
	Fallback *FallbackSummary

	// JoinOnly marks the End of an HTTP connection reported only for the
	// joiner (without Config.EndAll): it lost or skipped bytes of a
	// fallback session, which the joiner adds to the session's. Not the
	// session's after all, it is no view's: the joiner drops it.
	JoinOnly bool
	// JoinEndOnly marks a JoinOnly End of a connection that carried a
	// fallback session's requests and lost or skipped none of its bytes:
	// it only tells the joiner that the connection ended (a session whose
	// connections have all ended may be retired), and adds nothing to the
	// session.
	JoinEndOnly bool
}

// HTTP2Counts counts what an HTTP/2 connection carried: its streams, the
// ordinary requests among them (listed in Summary.Requests), and the
// extended CONNECT streams that became WebSocket connections.
type HTTP2Counts struct {
	Streams, Requests, WebSockets int
	// NotFollowed counts the streams opened while as many as are followed
	// at once were open (h2_streams_over_limit): counted in Streams, their
	// DATA in the connection's skipped bytes.
	NotFollowed  int
	RequestBytes int64  // DATA bytes (both sides, padding out) of the ordinary requests: counted, not decoded
	GoAway       string // the GOAWAY's error code name, if one was sent
}

// H2NotFollowed tells an HTTP/2 connection that did not follow some of
// its streams (h2_streams_over_limit) or stopped decoding a side (framing
// or HPACK it could not follow, bytes lost: h2_malformed). Its End is
// reported with or without Config.EndAll, and every view shows it: no
// other record says so, and a WebSocket may have been in what was not
// decoded.
func (s *Summary) H2NotFollowed() bool { return h2NotFollowed(s.HTTP2, s.Anomalies) }

func h2NotFollowed(h *HTTP2Counts, a Anomalies) bool {
	return h != nil && H2NotAllFollowed(h.NotFollowed, a)
}

// H2NotAllFollowed is H2NotFollowed of an HTTP/2 connection's count of
// streams not followed and its anomalies, wherever they are kept.
func H2NotAllFollowed(notFollowed int, a Anomalies) bool {
	return notFollowed > 0 || a&AnomH2Malformed != 0
}

// Duration is how long the connection lasted on its own clock: Last -
// First, with the steps back of the capture's clock taken out (a step of
// 10 s back in a connection of 7 ms made Last - First -9.993 s: the time
// across a step is not known, and taken as none). Never negative.
func (s *Summary) Duration() time.Duration {
	if d := s.Last.Sub(s.First) + s.SteppedBack; d > 0 {
		return d
	}
	return 0
}

// summary is what a decoder accumulates of its Summary; the rest is set
// when the connection ends. Its Last is kept as the time since First (8
// bytes, not a 24-byte time.Time): last and setLast.
//
// A zero Last is since noLast (with no farLast): a Sub that far saturates,
// and is kept as farLast (8 bytes less than a flag).
type summary struct {
	First     time.Time
	since     time.Duration // Last - First; noLast: Last is zero (or farLast)
	Stats     [2]dirCounts
	more      *sumMore // nil until a rare count, a Close, a FIN or RST, a limit hit or inflated bytes
	Anomalies Anomalies
}

// noLast is summary.since while Last is the zero time (NewConn sets it).
const noLast = time.Duration(math.MinInt64)

// last returns the time of the connection's latest bytes (Summary.Last).
func (s *summary) last() time.Time {
	if s.more != nil && !s.more.farLast.IsZero() {
		return s.more.farLast
	}
	if s.since == noLast {
		return time.Time{}
	}
	return s.First.Add(s.since)
}

// setLast sets Last. The times of a connection lie within a few hundred
// years of each other, so that Last - First is a Duration; when they do
// not (Sub saturates: a hostile pcapng's 64-bit timestamps, files merged
// out of order), Last is kept whole in the rare state. A zero time is
// kept as such.
func (s *summary) setLast(ts time.Time) {
	s.since = ts.Sub(s.First)
	if ts.IsZero() {
		s.since = noLast
	}
	if !ts.IsZero() && (s.since == math.MaxInt64 || s.since == math.MinInt64) {
		if s.more == nil {
			s.more = new(sumMore)
		}
		s.more.farLast = ts
	} else if s.more != nil {
		s.more.farLast = time.Time{}
	}
}

// advance sets Last to ts, the time of the connection's latest bytes,
// counting a step back of the capture's clock (ts before Last) in
// Summary.SteppedBack, but for late bytes (Shared.FeedLate), whose time
// before Last is the hole they waited behind. A Last too far from First
// (math.MaxInt64) is no base to measure a step from.
func (s *summary) advance(ts time.Time, late bool) {
	prev := s.since
	s.setLast(ts)
	if !late && s.since < prev && prev != math.MaxInt64 && s.since != math.MinInt64 {
		if s.more == nil {
			s.more = new(sumMore)
		}
		s.more.back += prev - s.since
	}
}

// setFirst sets First, keeping Last.
func (s *summary) setFirst(ts time.Time) {
	last := s.last()
	s.First = ts
	s.setLast(last)
}

// sumMore is what a connection counts that most open connections never
// need, made at the first: one pointer in the decoder for the rare
// counts of DirStats, the Close frames, the TCP ends, the limit hits and
// the bytes inflated (five pointers and counters before: 416 -> 384
// bytes a decoder).
type sumMore struct {
	rare      [2]DirStats   // the rest of DirStats
	close     [2]CloseInfo  // the Close frames
	initiator Dir           // the side that sent the first Close
	tcpFin    [2]bool       // by direction
	tcpRst    [2]bool       // by direction
	endOrder  [2]uint8      // when tcpEndTS was set, in packet order (Summary.TCPEndOrder)
	ends      uint8         // tcpEndTS set so far: at most 4 (a FIN, then a RST, a side)
	tcpEndTS  [2]time.Time  // when each direction ended: its first RST, else its first FIN
	limits    LimitHits     // the buffering limits hit
	inflated  uint64        // bytes inflated (kept or not), all messages
	farLast   time.Time     // Last, when it is too far from First for summary.since (else zero)
	farMsgTS  [2]time.Time  // by side: the TS of an open message too far from First (openMessage.far)
	back      time.Duration // the clock's steps back, summed (Summary.SteppedBack)
	urgent    [2]int        // by side: segments with the TCP URG flag (DirStats.Urgent)
}

// extra returns the connection's rare state, made at the first need.
func (c *Conn) extra() *sumMore {
	if c.sum.more == nil {
		c.sum.more = new(sumMore)
	}
	return c.sum.more
}

// dirCounts is what every connection counts by direction. The rest of
// DirStats (bytes lost and skipped, resyncs, conflicts, compression) is
// counted in summary.rare, made at the first: most connections have none,
// and an open connection holds 96 bytes less.
type dirCounts struct {
	Frames, Messages, ControlFrames int
	PayloadBytes, WireBytes         uint64
}

// rare returns the connection's rare counts of direction d.
func (c *Conn) rare(d Dir) *DirStats {
	return &c.extra().rare[d]
}

// RetransmitConflict records that a side retransmitted a segment with
// other bytes than the copy already decoded. Which copy the receiver used
// cannot be told from the capture; the first is the one decoded.
func (c *Conn) RetransmitConflict(side int) {
	c.rare(c.dirOf(side)).Conflicts++
	c.sum.Anomalies |= AnomRetransmitConflict
}

// Urgent records that a side sent a segment with the TCP URG flag. Its
// bytes are decoded as they are, the urgent byte in the stream (as
// tshark has it, and a receiver with SO_OOBINLINE); a receiver without it
// (node and Go servers, Linux and Windows) takes that byte out (Linux:
// the byte at seq + urgent pointer - 1, in this segment or a later one),
// so its framing may differ from the one decoded. Counted only: no
// anomaly bit is left for it (lint reads the count). Counted by side,
// put on its direction at the end: the flag comes with a segment, before
// its bytes tell the decoder which side is the client (a capture begun
// mid-connection with the server's segment).
func (c *Conn) Urgent(side int) {
	c.extra().urgent[side]++
}

// UrgentSegments returns the segments with the TCP URG flag counted on
// the connection (Urgent), both sides.
func (c *Conn) UrgentSegments() int {
	if c.sum.more == nil {
		return 0
	}
	return c.sum.more.urgent[0] + c.sum.more.urgent[1]
}

// Discarded records that a side sent n bytes its receiver drops (past
// its FIN, or on a RST): they are not decoded, and count as skipped.
func (c *Conn) Discarded(side, n int) {
	c.rare(c.dirOf(side)).SkippedBytes += uint64(n)
	c.sum.Anomalies |= AnomTCPDataDiscarded
}

// Foreign records that a side's segment of n bytes lay in another
// sequence space than the side's (another connection's on the same
// 4-tuple, mixed in): it is not decoded, and its bytes count as skipped;
// the jump to it is no loss.
func (c *Conn) Foreign(side, n int) {
	c.rare(c.dirOf(side)).SkippedBytes += uint64(n)
	c.sum.Anomalies |= AnomSeqSpaceMixed
}

// SeqJump records that a side's sequence numbers jumped past a largest
// TCP window and the new space was taken on as the side's (package
// reassembly: a capture gap, told as lost by Gap). unmixed: every segment
// taken for another connection's (Foreign) so far was of the new space,
// the side's own: seq_space_mixed is taken back.
func (c *Conn) SeqJump(unmixed bool) {
	if unmixed {
		c.sum.Anomalies &^= AnomSeqSpaceMixed
	}
	c.sum.Anomalies |= AnomSeqSpaceJump
}

// SeqJumpBack takes SeqJump back: the side's old space went on after the
// jump (package reassembly), which was another connection's space mixed
// in, not a capture gap: the n bytes its Gap counted lost were not,
// seq_space_mixed stands for the new space's segments.
func (c *Conn) SeqJumpBack(side, n int) {
	st := c.rare(c.dirOf(side))
	st.LostBytes -= min(uint64(max(n, 0)), st.LostBytes)
	c.sum.Anomalies = c.sum.Anomalies&^AnomSeqSpaceJump | AnomSeqSpaceMixed
}

// LateBytes records that n bytes of a side, counted lost when a hole was
// passed over, came later (a sender that delays a segment, a
// retransmission after the wait): they are not decoded, so skipped, not
// lost.
func (c *Conn) LateBytes(side, n int) {
	st := c.rare(c.dirOf(side))
	m := min(uint64(n), st.LostBytes)
	st.LostBytes -= m
	st.SkippedBytes += m
	c.sum.Anomalies |= AnomLateSegment
}

// Resumed records that the connection was ended early (the reassembly's
// connection limit) and went on: what follows is decoded afresh, as from
// the middle of a connection.
func (c *Conn) Resumed() { c.sum.Anomalies |= AnomResumed }

// Unframed returns the bytes searched so far for WebSocket framing without
// finding any, both sides (what End counts in skipped_bytes if it finds
// none then, and what a connection not WebSocket drops).
func (c *Conn) Unframed() int {
	n := 0
	for side := range c.half {
		if h := &c.half[side]; h.mode == modeSniff && h.sniff != nil {
			n += h.sniff.searched
		}
	}
	return n
}

// ResumedWebSocket is Resumed for a connection that was WebSocket before
// it was ended early, clientSide its client: its next bytes are decoded
// afresh as WebSocket, each side's frame boundaries searched for as from
// the middle of a connection whose other side is known (the client's
// frames masked, the server's not; one whole frame is enough), and it is
// reported whatever comes: bytes in which no frame is found are counted in
// skipped_bytes. Found afresh, a side with one frame or none after the
// resume was not told from other bytes: its frames were dropped without a
// word, and the connection, not yet WebSocket again, was the first ended
// at the next eviction. deflated: its handshake negotiated
// permessage-deflate (Deflated), so that a compressed frame (RSV1) proves
// as much as another (a connection found mid-stream asks more of them);
// before, a compressed frame or three a side after the resume were not
// found. Call it before feeding any bytes.
func (c *Conn) ResumedWebSocket(clientSide int, deflated bool) {
	c.Resumed()
	c.ws = true
	c.clientSide = int8(clientSide)
	for side := range c.half {
		want := int8(0)
		if side == clientSide {
			want = 1
		}
		h := &c.half[side]
		h.mode = modeSniff
		c.newSniff(h, want, 1, false)
		h.sniff.deflated = deflated
	}
}

// Deflated reports whether the connection's handshake negotiated
// permessage-deflate.
func (c *Conn) Deflated() bool { return c.hasHS() && c.deflate() }

// TCPEnd records that a side sent FIN (rst false) or RST at ts.
func (c *Conn) TCPEnd(side int, rst bool, ts time.Time) {
	d := c.dirOf(side)
	x := c.extra()
	if x.tcpEndTS[d].IsZero() || rst && !x.tcpRst[d] {
		x.tcpEndTS[d] = ts // a RST after a FIN is what ended the side
		x.ends++
		x.endOrder[d] = x.ends
	}
	if rst {
		x.tcpRst[d] = true
	} else {
		x.tcpFin[d] = true
	}
}

// ending is what a connection's end hands its sink: the Summary and the
// handshake it reports, rebuilt from what the connection kept of it
// (keptHandshake). A sink uses them only during its End (Sink), so they
// are reused, like the Messages: made anew for each, they were 960 bytes
// of garbage a connection (576 + 384) when every open connection ends at
// the end of the input, and with the live heap at its largest the
// collector let it pile up: 100 000 open connections took the heap
// 17-30 MiB over its size at the end of the input (issue 16).
type ending struct {
	s  Summary
	hs Handshake
}

var endings = sync.Pool{New: func() any { return new(ending) }}

func getEnding() *ending { return endings.Get().(*ending) }

// put clears e (it points into the connection and its sink's data) and
// gives it back.
func (e *ending) put() {
	*e = ending{}
	endings.Put(e)
}

// endWith is end with what an HTTP/2 stream or connection adds to the
// summary (Summary.StreamEnd, Summary.HTTP2).
func (c *Conn) endWith(ts time.Time, connect, streamEnd string, h2 *HTTP2Counts) {
	if c.ended {
		return
	}
	c.releaseHeld() // a 101 held for its request: believed as it stands
	c.ended = true
	defer c.free()
	tell, carried := c.tapEnd(ts)
	for side := range c.half {
		c.endHeld(side, ts)
	}
	c.sniffPair(ts)
	if !c.hasHS() && !c.ws {
		told := h2NotFollowed(h2, c.sum.Anomalies) // Summary.H2NotFollowed
		if c.cfg.EndAll || tell || told || carried {
			joinOnly := !c.cfg.EndAll && !told
			c.endNotWebSocket(connect, h2, joinOnly, joinOnly && !tell)
		}
		return
	}
	if c.hs != nil && c.hs.Status == 0 {
		c.sink.Handshake(c, c.hs) // the request was never answered
	}
	// Bytes still being searched: the end of the capture is as good as a
	// frame boundary for the last chain.
	for side := range c.half {
		if h := &c.half[side]; h.mode == modeSniff && c.ws {
			if i := h.sniff.decide(true); i >= 0 {
				c.acceptChain(side, i, ts)
			}
		}
		if h := &c.half[side]; h.mode == modeSniff {
			// No frame boundary found again (after a gap, an answer that
			// could not be read): what was searched was not decoded.
			c.rare(c.dirOf(side)).SkippedBytes += uint64(h.sniff.searched)
		}
	}
	for side := range c.half {
		h := &c.half[side]
		if h.mode != modeWS {
			continue
		}
		if h.frameState != nil && h.hdrN > 0 {
			// The capture ended inside a frame header: its bytes are
			// counted, and the frame is cut as a payload would be.
			c.rare(c.dirOf(side)).SkippedBytes += uint64(h.hdrN)
			c.sum.Anomalies |= AnomCaptureTruncated
			if h.msgOpen && Opcode(h.hdr[0]&opcodeBits) == OpContinuation {
				h.msg.Anomalies |= AnomCaptureTruncated
			}
			h.hdrN = 0
		}
		if h.inPayload {
			h.cur.Anomalies |= AnomPayloadIncomplete
			c.endFrame(side, ts)
		}
		if h.msgOpen {
			h.msg.Anomalies |= AnomMessageIncomplete
			c.emitMessage(h, h.msg.Dir)
		}
		h.idle()
	}
	cs := &c.sum
	e := getEnding()
	defer e.put()
	s := &e.s
	*s = Summary{First: cs.First, Last: cs.last(), Anomalies: cs.Anomalies}
	s.Stats = c.stats()
	if x := cs.more; x != nil {
		s.Initiator, s.TCPFin, s.TCPRst, s.Close = x.initiator, x.tcpFin, x.tcpRst, x.close
	}
	c.endTimes(s)
	s.Handshake = c.hs
	if c.kept != nil {
		c.kept.handshake(&e.hs, c.TLS(), c.sum.First)
		s.Handshake = &e.hs
	}
	s.TLS = c.TLS()
	switch {
	case c.hasHS():
		s.Confidence = ConfidenceHandshake
	case c.forced:
		s.Confidence = ConfidenceForced
	case c.half[0].sniffed && c.half[1].sniffed && c.half[c.sideOf(ClientToServer)].masked == 1 && c.half[c.sideOf(ServerToClient)].masked == 0:
		s.Confidence = ConfidenceHigh
	default:
		s.Confidence = ConfidenceMedium
	}
	switch cl := s.Close; {
	case !c.ws:
		s.End = EndNotUpgraded
	case cl[0].Sent && cl[1].Sent:
		s.End = EndClean
	case cl[0].Sent || cl[1].Sent:
		s.End = EndCloseUnanswered
	case s.TCPRst[0] || s.TCPRst[1]:
		s.End = EndRSTWithoutClose
	case s.TCPFin[0] || s.TCPFin[1]:
		s.End = EndFINWithoutClose
	default:
		s.End = EndOpen
	}
	if s.Handshake != nil {
		s.Anomalies |= s.Handshake.Anomalies
	}
	s.StreamEnd = streamEnd
	c.sink.End(c, s)
}

// TCPFirst says whose TCP end (TCPEndTS: its first RST, else its first
// FIN) came first when both sides ended: [d] is true for that side. Both
// are false when one side or none ended, or both ended at the same time.
// A server that went away (killed, crashed) ends first; a client that
// gave up, or closed its tab, does. First is in the order the capture saw
// the packets (TCPEndOrder), as the rest of a connection is judged: a
// clock stepped back between the two ends gives the later an earlier
// time. A summary without that order (made by hand) compares the times.
func (s *Summary) TCPFirst() (first [2]bool) {
	c, v := s.TCPEndTS[ClientToServer], s.TCPEndTS[ServerToClient]
	if c.IsZero() || v.IsZero() || c.Equal(v) {
		return first
	}
	if o := s.TCPEndOrder; o[0] != 0 && o[1] != 0 && o[0] != o[1] {
		first[ClientToServer] = o[ClientToServer] < o[ServerToClient]
		first[ServerToClient] = o[ServerToClient] < o[ClientToServer]
		return first
	}
	first[ClientToServer] = c.Before(v)
	first[ServerToClient] = v.Before(c)
	return first
}

// endTimes sets the summary's TCP end times and takes its Last from the
// packet that ended the connection when that came after the last data.
func (c *Conn) endTimes(s *Summary) {
	if c.sum.more == nil {
		return
	}
	s.TCPEndTS, s.TCPEndOrder = c.sum.more.tcpEndTS, c.sum.more.endOrder
	s.SteppedBack = c.sum.more.back
	for _, ts := range s.TCPEndTS {
		if !ts.IsZero() && ts.After(s.Last) { // zero: that side did not end
			s.Last = ts // the FIN or RST that ended it, after the last data
		}
	}
}

// stats is the traffic per direction for the summary: the counters kept
// always and the rare ones where any was needed.
func (c *Conn) stats() [2]DirStats {
	var out [2]DirStats
	if x := c.sum.more; x != nil {
		out = x.rare
		for side, n := range x.urgent {
			out[c.dirOf(side)].Urgent += n
		}
	}
	for d, n := range c.sum.Stats {
		st := &out[d]
		st.Frames, st.Messages, st.ControlFrames = n.Frames, n.Messages, n.ControlFrames
		st.PayloadBytes, st.WireBytes = n.PayloadBytes, n.WireBytes
	}
	return out
}

// endNotWebSocket reports the summary of a connection that never showed
// WebSocket (Config.EndAll).
func (c *Conn) endNotWebSocket(connect string, h2 *HTTP2Counts, joinOnly, endOnly bool) {
	cs := &c.sum
	e := getEnding()
	defer e.put()
	s := &e.s
	*s = Summary{First: cs.First, Last: cs.last(), Stats: c.stats(),
		Anomalies: cs.Anomalies, End: EndNotWebSocket, TLS: c.TLS(), Connect: connect, HTTP2: h2, JoinOnly: joinOnly, JoinEndOnly: endOnly}
	if x := cs.more; x != nil {
		s.TCPFin, s.TCPRst = x.tcpFin, x.tcpRst
	}
	c.endTimes(s)
	if c.ex != nil {
		s.Requests, s.MoreRequests = c.ex.log, c.ex.more
	}
	c.sink.End(c, s)
}
