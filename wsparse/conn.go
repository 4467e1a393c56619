package wsparse

// Conn, its Config and Sink, and the entry points (NewConn, Feed, Gap, End
// and the like) that hand each side's bytes to the decoder of its mode.

import (
	"net/netip"
	"sync"
	"time"
)

// Config holds the limits of a connection's decoder. Zero values take the
// defaults.
type Config struct {
	MaxPayload    int // frame payload bytes kept per frame (default 16 MiB)
	MaxMessage    int // message bytes kept per message (default 16 MiB)
	MaxHTTPHeader int // bytes of one HTTP head (default 64 KiB)
	// MaxHTTPHeaderTotal bounds the bytes of unfinished HTTP heads held
	// by all the connections of a Shared together (default
	// DefaultMaxHTTPHeaderTotal): past it, the head whose bytes would
	// pass it is handled as over MaxHTTPHeader (LimitHits.HTTPHeaderTotal).
	MaxHTTPHeaderTotal int
	MaxPending         int // client bytes buffered while the upgrade is unanswered (default 1 MiB)
	// MaxPendingTotal bounds those bytes held by all the connections of
	// a Shared together (an assembler's: each -j worker's), default
	// 128 MiB: past it, the connection whose bytes would pass it is handled
	// as over MaxPending (pending_limit, LimitHits.PendingTotal).
	MaxPendingTotal int
	MaxSniff        int // bytes of one side searched for frame boundaries without a handshake (default 256 KiB)
	// MaxSniffTotal bounds the bytes the searches for frame boundaries
	// of all the connections of a Shared keep together (default
	// DefaultMaxSniffTotal): past it, the search whose bytes would pass
	// it keeps only the last windowMin (LimitHits.SniffTotal).
	MaxSniffTotal int

	// SpillAbove bounds the bytes of open messages at rest (their last
	// frame ended, the next not come) and of permessage-deflate windows
	// between messages held in memory, process-wide: past it, such a
	// message of up to 64 KiB, or a window, goes to a temporary file until
	// its connection sends again or ends (spill.go). Default 16 MiB;
	// negative: never.
	SpillAbove int

	// MaxInflateRatio bounds permessage-deflate output: a connection
	// inflates at most this many bytes per frame byte decoded so far (default
	// DefaultMaxInflateRatio). Past it, a message stops inflating
	// (inflate_ratio).
	MaxInflateRatio int

	// NoSniff turns off recognising WebSocket framing in connections whose
	// handshake the capture does not hold.
	NoSniff bool

	// EndAll reports End for every connection, also one that never showed
	// WebSocket (Summary.End EndNotWebSocket, with its HTTP requests and
	// how its TCP connect went), for a caller that accounts for the
	// attempts a client made (wsdump conns). Off, such connections make no
	// records.
	EndAll bool

	// Fallback decodes HTTP connections that carry a SockJS or Engine.IO
	// fallback transport (package httpfb): their messages and requests are
	// reported as Messages with Fallback set, on the TCP connection.
	Fallback bool
}

const (
	defaultMaxPayload    = 16 << 20
	defaultMaxHTTPHeader = 64 << 10
	defaultMaxPending    = 1 << 20
	defaultMaxSniff      = 256 << 10
	defaultSpillAbove    = 16 << 20
)

// DefaultMaxPendingTotal is the default of Config.MaxPendingTotal: 128
// clients each holding MaxPending at once (so that each of two -j workers,
// which divide it, holds 64). A real client sends nothing, or a few
// frames, before the 101 it waits for; 600 hostile ones holding 1 MB each
// made 700 MB of RSS.
const DefaultMaxPendingTotal = 128 << 20

// DefaultMaxInflateRatio is the default of Config.MaxInflateRatio, just
// above what one layer of deflate can give (1 032 bytes out per byte in,
// reached by runs of one byte): no message, however well it compresses,
// reaches it (2 MB of a repeated line of text inflates 340 times, zeros
// 1 023 times, the committed captures 25 at most), and it still bounds
// the work of inflating to a fixed amount per byte of the capture. A
// lower --max-inflate-ratio stops bombs earlier, at the cost of cutting
// real messages that compress that well.
const DefaultMaxInflateRatio = 1100

func (c Config) withDefaults() Config {
	if c.MaxPayload <= 0 {
		c.MaxPayload = defaultMaxPayload
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = defaultMaxPayload
	}
	if c.MaxHTTPHeader <= 0 {
		c.MaxHTTPHeader = defaultMaxHTTPHeader
	}
	if c.MaxHTTPHeaderTotal <= 0 {
		c.MaxHTTPHeaderTotal = DefaultMaxHTTPHeaderTotal
	}
	if c.MaxPending <= 0 {
		c.MaxPending = defaultMaxPending
	}
	if c.MaxPendingTotal <= 0 {
		c.MaxPendingTotal = DefaultMaxPendingTotal
	}
	if c.MaxSniff <= 0 {
		c.MaxSniff = defaultMaxSniff
	}
	if c.MaxSniffTotal <= 0 {
		c.MaxSniffTotal = DefaultMaxSniffTotal
	}
	if c.MaxInflateRatio <= 0 {
		c.MaxInflateRatio = DefaultMaxInflateRatio
	}
	if c.SpillAbove == 0 {
		c.SpillAbove = defaultSpillAbove
	}
	return c
}

// Sink receives a connection's records in the order they complete. A
// Frame, a Message and a Summary (with the Handshake it points to) are
// valid only during the call that hands them over: they are reused, so a
// sink copies what it keeps. A Handshake record is never changed once
// sent.
type Sink interface {
	Handshake(c *Conn, h *Handshake)
	Frame(c *Conn, f *Frame)
	Message(c *Conn, m *Message)
	End(c *Conn, s *Summary)
}

type mode uint8

const (
	modeHTTP   mode = iota // HTTP/1.x heads and bodies
	modeAwait              // client bytes after an upgrade request, held until the response
	modeWS                 // WebSocket frames
	modeSniff              // looking for frame boundaries without a handshake
	modeIgnore             // nothing more to decode on this side
)

// half is one side's decoder state, grouped by job: its reader (mode,
// frame position, search for frame boundaries) and its message assembly,
// held always; what only an HTTP side or an open frame or message needs
// is allocated while it is needed (httpHalf, frameState, msgState): an
// idle WebSocket direction holds none of them.
type half struct {
	*httpHalf   // HTTP heads and bodies: nil outside modeHTTP and modeAwait
	*frameState // the frame being assembled: nil outside a payload
	*msgState   // the message being assembled: nil when none is open

	reader      // frames.go
	msgAssembly // message.go
}

// idle gives the frame state back when no frame is open and the message
// state when no message is, with their buffers to their pools.
func (h *half) idle() {
	if h.frameState != nil && !h.inPayload {
		putBuf(h.payload)
		putBuf(h.unmasked)
		*h.frameState = frameState{}
		framePool.Put(h.frameState)
		h.frameState = nil
	}
	if h.msgState != nil && !h.msgOpen {
		if h.msgPooled {
			putBuf(h.msg.Data)
			h.msgPooled = false
		}
		*h.msgState = msgState{}
		msgPool.Put(h.msgState)
		h.msgState = nil
	}
}

// Conn decodes one TCP connection. Sides are the two TCP directions as the
// caller numbers them (0 and 1); the client is whichever side sends the
// upgrade request.
type Conn struct {
	ID         int
	Addr       [2]netip.AddrPort // by side
	clientSide int8              // -1 until known
	input      [3]byte           // the input its first packet came from (SetInput), in the padding
	encap      uint32            // its encapsulation (encap.go), 0: none

	// The decoder, nil in a view (NewView): the sinks after a parallel
	// merge hold a view per open connection, and need only the above.
	*decoder
}

// Its flags (ws, forced, ended) sit in the httpDriver's padding and the
// sides' sniffed in their readers', and what few connections have (a TLS
// layer, a fallback tap) behind one pointer: 328 bytes, allocated with
// the Conn (416 bytes the two, were 96 + 352).
type decoder struct {
	*Shared    // the limits and the sink, shared by an assembler's connections
	half       [2]half
	httpDriver              // http_driver.go: the handshake and the HTTP exchange, and the flags
	dx         *decoderMore // nil until a TLS layer or a fallback tap
	sum        summary      // with the limit hits and bytes inflated (sumMore)
	fed        uint64       // frame bytes decoded, both sides: the base of the inflate ratio bound
}

// decoderMore is what a decoder holds for few connections.
type decoderMore struct {
	tls *TLSInfo
	fb  *fallbackTap // Config.Fallback: nil until the connection's first HTTP bytes
}

// more returns the decoder's decoderMore, made at the first need.
func (c *Conn) more() *decoderMore {
	if c.dx == nil {
		c.dx = new(decoderMore)
	}
	return c.dx
}

// fallback returns the connection's fallback tap, or nil.
func (c *Conn) fallback() *fallbackTap {
	if c.dx == nil {
		return nil
	}
	return c.dx.fb
}

// connAlloc is a Conn and its decoder, allocated as one.
type connAlloc struct {
	c Conn
	d decoder
}

// hit returns the connection's limit counts, made at the first hit.
func (c *Conn) hit() *LimitHits { return &c.extra().limits }

// configs interns the configurations with defaults applied: a connection
// holds a pointer, not a copy.
var configs sync.Map // Config -> *Config

func internConfig(cfg Config) *Config {
	cfg = cfg.withDefaults()
	if p, ok := configs.Load(cfg); ok {
		return p.(*Config)
	}
	p, _ := configs.LoadOrStore(cfg, &cfg)
	return p.(*Config)
}

// LimitHits counts the buffering limits a connection ran into. Hits on
// connections that turn out to be WebSocket are also anomalies on their
// records; the rest would go unseen without these counts.
type LimitHits struct {
	HTTPHeader int // an HTTP head longer than MaxHTTPHeader: the side was dropped
	// HTTPHeaderTotal counts heads whose bytes would have taken those of
	// the unfinished heads all connections held past MaxHTTPHeaderTotal:
	// handled as over MaxHTTPHeader.
	HTTPHeaderTotal int
	Pending         int // more than MaxPending client bytes before the upgrade was answered
	// PendingTotal counts connections whose client bytes before the
	// upgrade was answered would have taken the bytes all connections
	// held so past MaxPendingTotal: handled as over MaxPending.
	PendingTotal int
	Sniff        int // MaxSniff bytes searched without finding frame boundaries
	// SniffTotal counts the sides whose search for frame boundaries
	// would have taken the bytes all searches kept past MaxSniffTotal: it
	// kept only its last windowMin bytes from then on.
	SniffTotal int
	// InflateRatio counts messages whose inflation stopped at
	// MaxInflateRatio (also inflate_ratio on the message).
	InflateRatio int
	// H2Streams counts HTTP/2 streams opened while the most followed at
	// once were open: not followed, their DATA counted as skipped bytes of
	// the HTTP/2 connection, which is flagged h2_streams_over_limit.
	H2Streams int
	// EarlyTotal counts TLS connections whose 0-RTT early data, held
	// until the server's answer, would have taken the bytes held before
	// upgrades past MaxPendingTotal (HoldEarly): passed on at once.
	EarlyTotal int
	// HeldStartTotal counts connections whose first bytes, held while a
	// chain of TLS record headers was searched for in them (a loss at
	// their start), would have taken the bytes held before upgrades past
	// MaxPendingTotal (HoldStart): passed to the decoder undecided.
	HeldStartTotal int
}

// LimitHits returns the limits the connection has run into so far.
func (c *Conn) LimitHits() LimitHits {
	if c.sum.more == nil {
		return LimitHits{}
	}
	return c.sum.more.limits
}

// Shared is what the decoders of many connections share: their limits and
// their sink. A caller that makes many connections with the same ones (an
// assembler) makes one Shared and its connections with Shared.NewConn:
// each decoder then holds one pointer, not 24 bytes of both.
type Shared struct {
	cfg  *Config // interned: shared by the connections with the same limits
	sink Sink
	// sideSeen, if set (SideSeen), says whether a connection's side has
	// sent any packet, bytes or not.
	sideSeen func(c *Conn, side int) bool
	// pendingHeld is the client bytes held by the connections while
	// their upgrade is unanswered (MaxPendingTotal).
	pendingHeld int
	// sniffHeld is the bytes the searches for frame boundaries keep
	// (MaxSniffTotal).
	sniffHeld int
	// headHeld is the bytes of unfinished HTTP heads the connections
	// hold (MaxHTTPHeaderTotal).
	headHeld int
	// answers are the connections that held a 101 for its request
	// (answer_first.go) since the last ExpireAnswers, in the order held.
	answers []*Conn
	// late: the bytes fed now were held behind a hole and come with
	// their capture time, before bytes fed already (FeedLate).
	late bool
}

// FeedLate says whether the bytes fed from now on come late: held behind
// a hole and passed on with their capture time after later bytes. Their
// time before Last is no step back of the capture's clock
// (Summary.SteppedBack): the hole's wait would count as time twice.
func (sh *Shared) FeedLate(late bool) { sh.late = late }

// Late reports FeedLate's setting (a decoder that feeds others, an
// HTTP/2 connection its streams, passes it on).
func (sh *Shared) Late() bool { return sh.late }

// SideSeen sets how the decoders learn whether a connection's side has
// sent any packet (a SYN, an ACK), bytes or not: a 101 waits for its
// request only if the client side was seen (answer_first.go). Without it
// the client is taken as seen.
func (sh *Shared) SideSeen(f func(c *Conn, side int) bool) *Shared {
	sh.sideSeen = f
	return sh
}

// NewShared returns the limits cfg and sink for NewConn.
func NewShared(cfg Config, sink Sink) *Shared {
	return &Shared{cfg: internConfig(cfg), sink: sink}
}

// NewConn returns a decoder for a connection whose side 0 is a and side 1
// is b, with the shared limits and sink.
func (sh *Shared) NewConn(id int, a, b netip.AddrPort) *Conn {
	p := &connAlloc{c: Conn{ID: id, Addr: [2]netip.AddrPort{a, b}, clientSide: -1}, d: decoder{Shared: sh}}
	c := &p.c
	c.decoder = &p.d
	c.half[0].masked, c.half[1].masked = -1, -1
	c.sum.since = noLast
	return c
}

// NewConn returns a decoder for a connection whose side 0 is a and side 1 is b.
func NewConn(id int, a, b netip.AddrPort, cfg Config, sink Sink) *Conn {
	return NewShared(cfg, sink).NewConn(id, a, b)
}

// SetTLS records the TLS layer under the connection; the handshake record
// and the summary carry it.
func (c *Conn) SetTLS(t *TLSInfo) {
	if t != nil || c.dx != nil {
		c.more().tls = t
	}
	if c.hs != nil {
		c.hs.TLS = t // never one already sent: keepHandshake keeps a copy
	}
}

// TLS returns what SetTLS recorded, or nil.
func (c *Conn) TLS() *TLSInfo {
	if c.decoder == nil || c.dx == nil {
		return nil
	}
	return c.dx.tls
}

// Force makes the connection decode as WebSocket even without a handshake
// or convincing framing (like tshark's decode-as); serverSide is the side
// on the forced port. Call it before feeding any bytes.
func (c *Conn) Force(serverSide int) {
	c.forced = true
	c.clientSide = int8(1 - serverSide)
}

// ClientSide returns the side that is the client, or -1 while unknown.
func (c *Conn) ClientSide() int { return int(c.clientSide) }

// NewView returns a Conn that decodes nothing and only names a connection
// for a Sink: its number, addresses and client side (see SetClientSide);
// it has no decoder (Feed, End and the like must not be called on it).
// Callers that decode on other goroutines hand sinks views.
func NewView(id int, addr [2]netip.AddrPort) *Conn {
	return &Conn{ID: id, Addr: addr, clientSide: -1}
}

// SetClientSide sets which side a view names as the client (-1: unknown).
func (c *Conn) SetClientSide(side int) { c.clientSide = int8(side) }

// MaxInput is the largest input number a Conn holds (24 bits, in its
// padding): a connection first seen in a later input holds MaxInput.
const MaxInput = 1<<24 - 1

// SetInput sets the number of the input (of several read merged, 0 for the
// first or only one) the connection's first packet came from.
func (c *Conn) SetInput(i int) {
	i = min(max(i, 0), MaxInput)
	c.input = [3]byte{byte(i), byte(i >> 8), byte(i >> 16)}
}

// Input returns the number SetInput set (0 if none).
func (c *Conn) Input() int { return int(c.input[0]) | int(c.input[1])<<8 | int(c.input[2])<<16 }

// Client returns the client's address (side 0's while unknown).
func (c *Conn) Client() netip.AddrPort { return c.Addr[c.sideOf(ClientToServer)] }

// Server returns the server's address.
func (c *Conn) Server() netip.AddrPort { return c.Addr[c.sideOf(ServerToClient)] }

// IsWebSocket reports whether an upgrade request was seen or WebSocket
// framing was recognised, or a 101 to websocket waits for its request
// (answer_first.go: parked when evicted, not tapped for the fallbacks, as
// once it is read).
func (c *Conn) IsWebSocket() bool { return c.hasHS() || c.ws || c.ex != nil && c.ex.held != nil }

// Done reports whether nothing more will be decoded from either side, so
// the caller may stop feeding bytes. A connection that is reported (a
// handshake, or framing found) is never done: the bytes of a side no
// longer decoded are counted as skipped, or lost.
func (c *Conn) Done() bool {
	return c.half[0].mode == modeIgnore && c.half[1].mode == modeIgnore && c.tapDone() && !c.hasHS() && !c.ws
}

func (c *Conn) sideOf(d Dir) int {
	if c.clientSide < 0 {
		return int(d)
	}
	if d == ClientToServer {
		return int(c.clientSide)
	}
	return 1 - int(c.clientSide)
}

func (c *Conn) dirOf(side int) Dir {
	if side == int(c.clientSide) || c.clientSide < 0 && side == 0 {
		return ClientToServer
	}
	return ServerToClient
}

// Feed hands the decoder the next bytes of one side's stream, captured at
// ts. It never fails: what breaks a rule is reported as an anomaly.
func (c *Conn) Feed(side int, data []byte, ts time.Time) {
	if c.ended || len(data) == 0 {
		return
	}
	if c.sum.First.IsZero() {
		c.sum.First = ts
	}
	c.sum.advance(ts, c.late)
	c.feed(side, data, ts)
	c.tap(side, data, ts)
}

// feed dispatches bytes on the side's mode.
func (c *Conn) feed(side int, data []byte, ts time.Time) {
	h := &c.half[side]
	for len(data) > 0 {
		h.closeHTTP()
		switch h.mode {
		case modeHTTP:
			data = c.feedHTTP(side, data, ts)
			c.countHead(h)
		case modeAwait:
			h.openHTTP()
			n := min(len(data), c.cfg.MaxPending-len(h.buf))
			total := min(n, c.pendingRoom())
			h.buf = append(h.buf, data[:total]...)
			h.hold(total, &c.pendingHeld)
			if total < len(data) {
				// The client sent more than the limit before any answer:
				// this is no WebSocket client. (Bytes held after a request
				// that asked for no upgrade are given up without a word:
				// a CONNECT tunnel whose answer the capture lacks.)
				if c.hasHS() {
					if total < n {
						c.hit().PendingTotal++
					} else {
						c.hit().Pending++
					}
					c.sum.Anomalies |= AnomPendingLimit
					c.hsAnomaly(AnomPendingLimit)
				}
				c.ignore(side)
			}
			return
		case modeWS:
			c.feedFrames(side, data, ts)
			return
		case modeSniff:
			c.feedSniff(side, data, ts)
			return
		default:
			if c.hasHS() || c.ws {
				// A side no longer decoded of a connection that is
				// reported: its bytes are counted (after a refused
				// upgrade, what is no HTTP).
				c.rare(c.dirOf(side)).SkippedBytes += uint64(len(data))
			}
			return
		}
	}
	h.closeHTTP() // a head that switched the side (a 101 with nothing after)
}

// hold counts n more pending bytes of the side in total.
func (h *half) hold(n int, total *int) {
	h.held += n
	h.heldIn = total
	*total += n
}

// HoldPending counts n client bytes that the decoder of one of the
// connection's streams (HTTP/2: package h2) holds before its upgrade is
// answered in the total of the connection's Shared (MaxPendingTotal),
// and reports true; when they would pass it, it counts the stream
// (LimitHits.PendingTotal) and reports false. ReleasePending gives them
// back.
func (c *Conn) HoldPending(n int) bool {
	return c.holdTotal(n, func(h *LimitHits) *int { return &h.PendingTotal })
}

// holdTotal counts n bytes in MaxPendingTotal and reports true, or counts
// the refusal in the limit count over picks and reports false when they
// would pass it.
func (c *Conn) holdTotal(n int, over func(*LimitHits) *int) bool {
	if n > c.pendingRoom() {
		*over(c.hit())++
		return false
	}
	c.pendingHeld += n
	return true
}

// pendingRoom is what MaxPendingTotal leaves to hold: the bytes held
// before upgrades (HTTP/1.1 clients', held 101s', HTTP/2 streams') taken
// away.
func (c *Conn) pendingRoom() int { return c.cfg.MaxPendingTotal - c.pendingHeld }

// HoldEarly counts n bytes of a TLS connection's 0-RTT early data, held
// until the server accepts or rejects it (package tlsdec, up to 256 KiB a
// connection), in MaxPendingTotal with the clients' bytes held before
// upgrades, and reports true; when they would pass it, it counts the
// connection (LimitHits.EarlyTotal) and reports false: its early data is
// then passed on as if accepted. ReleasePending gives them back. Until
// session 37 no total bounded them: 1 280 connections each holding
// 256 KiB held 320 MiB.
func (c *Conn) HoldEarly(n int) bool {
	return c.holdTotal(n, func(h *LimitHits) *int { return &h.EarlyTotal })
}

// HoldStart counts n bytes of a connection's first bytes held while a
// chain of TLS record headers is searched for in them (package
// reassembly), in MaxPendingTotal as HoldEarly's, and reports true; when
// they would pass it, it counts the connection (LimitHits.HeldStartTotal)
// and reports false: the bytes then go to the decoder as they came.
func (c *Conn) HoldStart(n int) bool {
	return c.holdTotal(n, func(h *LimitHits) *int { return &h.HeldStartTotal })
}

// ReleasePending gives back n bytes that HoldPending, HoldEarly or
// HoldStart counted.
func (c *Conn) ReleasePending(n int) { c.pendingHeld -= n }

// unhold gives the side's pending bytes back to the total they count in.
func (h *half) unhold() {
	if h.held > 0 {
		*h.heldIn -= h.held
		h.held, h.heldIn = 0, nil
	}
}

// ignore stops decoding a side.
func (c *Conn) ignore(side int) {
	h := &c.half[side]
	if h.mode == modeWS {
		// A frame or message under way is reported as cut short, not
		// dropped: the summary has counted it.
		if h.inPayload {
			h.cur.Anomalies |= AnomPayloadIncomplete
			c.endFrame(side, c.sum.last())
		}
		if h.msgOpen {
			h.msg.Anomalies |= AnomMessageIncomplete
			c.emitMessage(h, h.msg.Dir)
		}
		h.idle()
	}
	h.mode = modeIgnore
	h.dropHTTP()
	h.dropSniff()
}

// Gap tells the decoder that n bytes of a side's stream were lost from the
// capture. A gap inside a payload is skipped (the frame is marked
// payload_incomplete and the masking phase stays aligned); a gap anywhere
// else loses the frame boundaries, and the side stops being decoded.
func (c *Conn) Gap(side int, n int, ts time.Time) { c.lose(side, n, true, ts) }

// GapUnsure is Gap for a count that is only an upper bound (the plaintext
// of TLS 1.3 records lost: their padding is not known): the frame
// boundaries after it are searched for, never counted to. Skipping n bytes
// inside a payload, as Gap does, would read the next frame's header from
// up to n bytes past it, and frames made of payload bytes after it.
func (c *Conn) GapUnsure(side int, n int, ts time.Time) { c.lose(side, n, false, ts) }

// lose is Gap, the count exact (sure) or an upper bound.
func (c *Conn) lose(side int, n int, sure bool, ts time.Time) {
	if c.ended || n <= 0 {
		return
	}
	c.releaseHeld()
	c.tapGap(side, n, ts)
	h := &c.half[side]
	if h.mode != modeIgnore || !c.tapDone() || c.hasHS() || c.ws {
		// Lost from a side still decoded, as WebSocket or HTTP here or
		// by the fallback decoder (which reads on after this decoder
		// stopped at bytes that are no HTTP).
		c.rare(c.dirOf(side)).LostBytes += uint64(n)
	}
	c.gap(side, n, sure, ts)
}

// End finishes the connection: an unfinished frame or message is reported
// as incomplete, then the summary. Nothing is reported after End.
func (c *Conn) End(ts time.Time) { c.end(ts, "") }

func (c *Conn) end(ts time.Time, connect string) { c.endWith(ts, connect, "", nil) }

// EndEmpty is End for a connection that sent no bytes: first and last are
// its first and latest packets' times and connect how its TCP connect went
// (Connect*), reported in its Summary (First, Last, Connect) with
// Config.EndAll.
func (c *Conn) EndEmpty(first, last time.Time, connect string, ts time.Time) {
	if c.sum.First.IsZero() {
		c.sum.First = first
		c.sum.setLast(last)
	}
	c.end(ts, connect)
}

// free gives back the buffers of an ended connection: the Conn itself may
// live on (held by the caller) but decodes nothing more.
func (c *Conn) free() {
	for side := range c.half {
		h := &c.half[side]
		h.dropHTTP()
		h.dropSniff()
		c.wake(h, false)
		h.dropChunks()
		c.wakeFrame(h, false)
		h.inPayload, h.msgOpen = false, false
		h.idle()
		if h.inflater != nil {
			h.inflater.close()
			h.inflater = nil
		}
	}
}
