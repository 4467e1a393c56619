package wsparse

import (
	"bytes"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Dir is the direction of a frame or message.
type Dir uint8

const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// Config holds the limits of a connection's decoder. Zero values take the
// defaults.
type Config struct {
	MaxPayload    int // frame payload bytes kept per frame (default 16 MiB)
	MaxMessage    int // message bytes kept per message (default 16 MiB)
	MaxHTTPHeader int // bytes of one HTTP head (default 64 KiB)
	MaxPending    int // client bytes buffered while the upgrade is unanswered (default 1 MiB)
	MaxSniff      int // bytes of one side searched for frame boundaries without a handshake (default 256 KiB)

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
)

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
	if c.MaxPending <= 0 {
		c.MaxPending = defaultMaxPending
	}
	if c.MaxSniff <= 0 {
		c.MaxSniff = defaultMaxSniff
	}
	if c.MaxInflateRatio <= 0 {
		c.MaxInflateRatio = DefaultMaxInflateRatio
	}
	return c
}

// Frame is one decoded frame. Payload and the Frame itself are only valid
// during the Sink call.
type Frame struct {
	Header
	Dir   Dir
	TS    time.Time
	Index int // 1-based ordinal of the frame in its direction

	// MessageOpcode is the opcode of the message a data frame belongs to:
	// the frame's own for text and binary, the open message's for a
	// continuation (0 when there is none), 0 for control frames.
	MessageOpcode Opcode

	// Payload is the unmasked payload as sent (still compressed when RSV1
	// marks a compressed message). It is shorter than Length when the
	// payload was cut by a limit or lost from the capture: see Anomalies.
	Payload []byte

	// Close frames only.
	CloseCode    uint16
	HasCloseCode bool
	CloseReason  string

	Anomalies Anomalies
}

// Message is a complete data message: one unfragmented frame or a run of
// fragments. Data is only valid during the Sink call.
type Message struct {
	Dir        Dir
	Opcode     Opcode    // OpText or OpBinary
	Compressed bool      // RSV1 on the first frame with permessage-deflate
	LenUnknown bool      // compressed and not inflated to its end (bytes lost, an error, a bound): Len is only what was inflated
	TS         time.Time // when the last frame completed
	Frames     int
	Len        uint64 // message bytes: inflated when compressed (see Anomalies when shorter than Len)
	WireLen    uint64 // payload bytes on the wire, summed over the frames
	Data       []byte // the message bytes kept, inflated when compressed
	Index      int    // 1-based ordinal of the message in its direction
	Anomalies  Anomalies
	Fallback   *Fallback // an HTTP fallback transport's message (Config.Fallback), nil on WebSocket
}

// DirStats counts one direction's traffic.
type DirStats struct {
	Frames        int
	Messages      int
	ControlFrames int
	PayloadBytes  uint64 // payload lengths summed
	WireBytes     uint64 // header and payload bytes of WebSocket frames
	LostBytes     uint64 // bytes the capture lost (gaps)
	SkippedBytes  uint64 // bytes passed over to find a frame boundary (mid-frame start, resync)
	Resyncs       int    // times the frame boundaries were found again after a gap
	Conflicts     int    // retransmitted segments whose bytes differed from the first copy

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
	// (Last - First) from here.
	First, Last time.Time
	Handshake   *Handshake  // nil when none was seen
	Confidence  Confidence  // how the connection was recognised as WebSocket
	TLS         *TLSInfo    // wss: the TLS layer, nil for plain TCP
	Stats       [2]DirStats // by Dir
	Close       [2]CloseInfo
	Initiator   Dir // the side whose Close came first (valid when a Close was sent)
	TCPFin      [2]bool
	TCPRst      [2]bool
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
}

// HTTP2Counts counts what an HTTP/2 connection carried: its streams, the
// ordinary requests among them (listed in Summary.Requests), and the
// extended CONNECT streams that became WebSocket connections.
type HTTP2Counts struct {
	Streams, Requests, WebSockets int
	RequestBytes                  int64  // DATA bytes (both sides, padding out) of the ordinary requests: counted, not decoded
	GoAway                        string // the GOAWAY's error code name, if one was sent
}

// Sink receives a connection's records in the order they complete.
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

// half is one side's decoder state. What only an HTTP side or an open
// frame or message needs is allocated while it is needed (httpHalf,
// frameState): an idle WebSocket direction holds neither.
type half struct {
	*httpHalf   // HTTP heads and bodies: nil outside modeHTTP and modeAwait
	*frameState // the frame being assembled: nil outside a payload
	*msgState   // the message being assembled: nil when none is open

	mode      mode
	midStream bool // decoding started inside a message: a first continuation is expected
	masked    int8 // masking this side's frames used so far (-1 none yet)

	inPayload bool
	holed     bool // a gap hit the current payload
	msgOpen   bool // a message is being assembled
	closed    bool // this side sent a Close frame
	deflating bool // the current frame belongs to a compressed message (that may stream into the inflater)
	msgCut    bool // bytes of the open message were not kept: nothing after them is
	phase     int8 // masking key phase

	sniff    *sniffer
	inflater *inflater // permessage-deflate, made at the first compressed message
	frames   int
	messages int
}

// httpHalf is the state of a side that speaks HTTP.
type httpHalf struct {
	buf []byte // head being accumulated, or pending client bytes in modeAwait
	// A head over MaxHTTPHeader: its first MaxHTTPHeader bytes stay in buf
	// and the rest is passed over (counted in over) up to its blank line;
	// nl is how much of a line end was seen (1 after LF, 2 after LF CR).
	long    bool
	nl      int8
	body    bodyKind
	over    int
	bodyLen int64
	chunks  chunkSkipper
}

// frameState is the frame a side is assembling, taken from framePool when
// the frame starts and given back when it ends.
type frameState struct {
	cur  Frame
	left uint64 // payload bytes still to come

	// Frame header being accumulated across feeds (before cur starts).
	hdr  [MaxHeaderLen]byte
	hdrN int8

	payload  []byte
	unmasked []byte // scratch for streamed payload bytes past the limits
}

// msgState is the message a side is assembling, taken from msgPool when
// the message starts and given back when it has been reported.
type msgState struct {
	msg    Message
	msgBuf []byte
	lastTS time.Time // when the message's direction last completed a frame
}

var (
	framePool = sync.Pool{New: func() any { return new(frameState) }}
	msgPool   = sync.Pool{New: func() any { return new(msgState) }}
)

// openHTTP gives a side its HTTP state.
func (h *half) openHTTP() {
	if h.httpHalf == nil {
		h.httpHalf = new(httpHalf)
	}
}

// dropBuf forgets the head or pending bytes a side holds.
func (h *half) dropBuf() {
	if h.httpHalf != nil {
		h.buf = nil
	}
}

// httpBuf returns the head or pending bytes a side holds.
func (h *half) httpBuf() []byte {
	if h.httpHalf == nil {
		return nil
	}
	return h.buf
}

// closeHTTP drops a side's HTTP state once it speaks HTTP no more.
func (h *half) closeHTTP() {
	if h.mode != modeHTTP && h.mode != modeAwait {
		h.httpHalf = nil
	}
}

// openFrame gives a side its frame state.
func (h *half) openFrame() {
	if h.frameState == nil {
		h.frameState = framePool.Get().(*frameState)
	}
}

// openMsg gives a side its message state.
func (h *half) openMsg(ts time.Time) {
	if h.msgState == nil {
		h.msgState = msgPool.Get().(*msgState)
	}
	h.lastTS = ts
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
		putBuf(h.msgBuf)
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
	clientSide int               // -1 until known

	// The decoder, nil in a view (NewView): the sinks after a parallel
	// merge hold a view per open connection, and need only the above.
	*decoder
}

type decoder struct {
	cfg       *Config // shared by the connections with the same limits
	sink      Sink
	half      [2]half
	hs        *Handshake     // the handshake until its record is out
	kept      *keptHandshake // then what the connection keeps of it
	ex        *httpExchange  // HTTP requests awaiting responses: nil until one, and after the upgrade
	upgrading bool           // the last request asked for an upgrade
	ws        bool           // the upgrade succeeded, or framing was recognised
	forced    bool           // --ws-port: decode as WebSocket whatever the evidence
	sniffed   [2]bool        // by side: framing recognised without a handshake
	ended     bool
	headCut   bool // an HTTP head was over MaxHTTPHeader
	cut       bool // the head being handled is cut: fields after the limit are unknown
	reqBad    bool // the parser rejected the client's request: a 101 websocket answer is believed
	lenient   bool // a head was read leniently (http_nonconforming)
	tls       *TLSInfo
	sum       summary
	limits    *LimitHits   // nil until a limit is hit
	fb        *fallbackTap // Config.Fallback: nil until the connection's first HTTP bytes
	fed       uint64       // frame bytes decoded, both sides: the base of the inflate ratio bound
	inflated  uint64       // bytes inflated (kept or not), all messages
}

// httpExchange is the HTTP request/response state of a connection.
type httpExchange struct {
	reqs   []string  // methods of requests awaiting responses, oldest first
	cutReq *httpHead // a cut request that did not show an upgrade (its Upgrade field may be past the cut)

	// Config.EndAll: the first requests, how many came after them, and
	// how many responses were matched to them.
	log      []HTTPRequest
	more     int
	answered int
}

// exchange returns the connection's HTTP exchange state, made at the first
// head.
func (c *Conn) exchange() *httpExchange {
	if c.ex == nil {
		c.ex = new(httpExchange)
	}
	return c.ex
}

// summary is what a decoder accumulates of its Summary; the rest is set
// when the connection ends.
type summary struct {
	First, Last time.Time
	Stats       [2]dirCounts
	rare        *[2]DirStats  // the rest of DirStats: nil until counted
	Close       *[2]CloseInfo // nil until a Close frame
	Initiator   Dir
	TCPFin      [2]bool
	TCPRst      [2]bool
	TCPEndTS    *[2]time.Time // nil until a FIN or RST
	Anomalies   Anomalies
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
	if c.sum.rare == nil {
		c.sum.rare = new([2]DirStats)
	}
	return &c.sum.rare[d]
}

// hit returns the connection's limit counts, made at the first hit.
func (c *Conn) hit() *LimitHits {
	if c.limits == nil {
		c.limits = new(LimitHits)
	}
	return c.limits
}

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
	Pending    int // more than MaxPending client bytes before the upgrade was answered
	Sniff      int // MaxSniff bytes searched without finding frame boundaries
	// InflateRatio counts messages whose inflation stopped at
	// MaxInflateRatio (also inflate_ratio on the message).
	InflateRatio int
}

// LimitHits returns the limits the connection has run into so far.
func (c *Conn) LimitHits() LimitHits {
	if c.limits == nil {
		return LimitHits{}
	}
	return *c.limits
}

// NewConn returns a decoder for a connection whose side 0 is a and side 1 is b.
func NewConn(id int, a, b netip.AddrPort, cfg Config, sink Sink) *Conn {
	c := &Conn{ID: id, Addr: [2]netip.AddrPort{a, b}, clientSide: -1, decoder: &decoder{cfg: internConfig(cfg), sink: sink}}
	c.half[0].masked, c.half[1].masked = -1, -1
	return c
}

// TLSInfo describes the TLS layer a connection's bytes were decrypted from
// (wss), or the TLS connection that could not be looked into.
type TLSInfo struct {
	Version   string // "TLS 1.2", "TLS 1.3"
	Cipher    string // IANA name of the suite
	SNI       string
	ALPN      string   // protocol the server chose, when visible
	Offered   []string // ALPN protocols the client offered
	Decrypted bool
	Error     string   // why not (no key, wrong key, unsupported suite, lost bytes)
	Bytes     [2]int64 // TLS bytes sent by the client and by the server
}

// SetTLS records the TLS layer under the connection; the handshake record
// and the summary carry it.
func (c *Conn) SetTLS(t *TLSInfo) {
	c.tls = t
	if c.hs != nil {
		c.hs.TLS = t
	}
	if c.kept != nil {
		c.kept.tls = t
	}
}

// TLS returns what SetTLS recorded, or nil.
func (c *Conn) TLS() *TLSInfo { return c.tls }

// Force makes the connection decode as WebSocket even without a handshake
// or convincing framing (like tshark's decode-as); serverSide is the side
// on the forced port. Call it before feeding any bytes.
func (c *Conn) Force(serverSide int) {
	c.forced = true
	c.clientSide = 1 - serverSide
}

// ClientSide returns the side that is the client, or -1 while unknown.
func (c *Conn) ClientSide() int { return c.clientSide }

// NewView returns a Conn that decodes nothing and only names a connection
// for a Sink: its number, addresses and client side (see SetClientSide);
// it has no decoder (Feed, End and the like must not be called on it).
// Callers that decode on other goroutines hand sinks views.
func NewView(id int, addr [2]netip.AddrPort) *Conn {
	return &Conn{ID: id, Addr: addr, clientSide: -1}
}

// SetClientSide sets which side a view names as the client (-1: unknown).
func (c *Conn) SetClientSide(side int) { c.clientSide = side }

// Client returns the client's address (side 0's while unknown).
func (c *Conn) Client() netip.AddrPort { return c.Addr[c.sideOf(ClientToServer)] }

// Server returns the server's address.
func (c *Conn) Server() netip.AddrPort { return c.Addr[c.sideOf(ServerToClient)] }

// IsWebSocket reports whether an upgrade request was seen or WebSocket
// framing was recognised.
func (c *Conn) IsWebSocket() bool { return c.hasHS() || c.ws }

// Done reports whether nothing more will be decoded from either side, so
// the caller may stop feeding bytes.
func (c *Conn) Done() bool {
	return c.half[0].mode == modeIgnore && c.half[1].mode == modeIgnore && c.tapDone()
}

func (c *Conn) sideOf(d Dir) int {
	if c.clientSide < 0 {
		return int(d)
	}
	if d == ClientToServer {
		return c.clientSide
	}
	return 1 - c.clientSide
}

func (c *Conn) dirOf(side int) Dir {
	if side == c.clientSide || c.clientSide < 0 && side == 0 {
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
	c.sum.Last = ts
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
		case modeAwait:
			h.openHTTP()
			n := min(len(data), c.cfg.MaxPending-len(h.buf))
			h.buf = append(h.buf, data[:n]...)
			if n < len(data) {
				// The client sent more than the limit before any answer:
				// this is no WebSocket client.
				c.hit().Pending++
				c.sum.Anomalies |= AnomPendingLimit
				c.hsAnomaly(AnomPendingLimit)
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
			return
		}
	}
	h.closeHTTP() // a head that switched the side (a 101 with nothing after)
}

// ignore stops decoding a side.
func (c *Conn) ignore(side int) {
	h := &c.half[side]
	if h.mode == modeWS {
		// A frame or message under way is reported as cut short, not
		// dropped: the summary has counted it.
		if h.inPayload {
			h.cur.Anomalies |= AnomPayloadIncomplete
			c.endFrame(side, c.sum.Last)
		}
		if h.msgOpen {
			h.msg.Anomalies |= AnomMessageIncomplete
			c.emitMessage(h, h.msg.Dir)
		}
		h.idle()
	}
	h.mode = modeIgnore
	h.httpHalf = nil
	h.sniff = nil
}

// feedHTTP decodes HTTP heads and skips bodies until a side switches mode; it
// returns the bytes it did not consume.
func (c *Conn) feedHTTP(side int, data []byte, ts time.Time) []byte {
	h := &c.half[side]
	h.openHTTP()
	for len(data) > 0 && h.mode == modeHTTP {
		if h.long {
			data = c.skipLongHead(side, data, ts)
			continue
		}
		switch h.body {
		case bodyLength:
			n := int64(min(int64(len(data)), h.bodyLen))
			data = data[n:]
			if h.bodyLen -= n; h.bodyLen == 0 {
				h.body = bodyNone
			}
			continue
		case bodyChunked:
			rest, done, broken := h.chunks.skip(data)
			data = rest
			if broken {
				c.failHTTP(side)
			} else if done {
				h.body = bodyNone
			}
			continue
		case bodyUntilClose:
			return nil
		}
		if len(h.buf) == 0 || httpStart(h.buf) == 0 {
			// Not yet known to be a head: held until its first line tells.
			b := data
			if len(h.buf) > 0 {
				b = append(h.buf[:len(h.buf):len(h.buf)], data...)
			}
			switch httpStart(b) {
			case -1:
				held := h.buf
				h.buf = nil
				if c.startSniff(side, b, false) {
					if len(held) > 0 {
						c.feedSniff(side, held, ts)
					}
					return data
				}
				c.failHTTP(side)
				return nil
			case 0:
				h.buf = append(h.buf, data...)
				return nil
			}
			// Empty lines before the start line are passed over (RFC 9112 §2.2).
			if n := leadingEmpty(h.buf); n == len(h.buf) {
				h.buf = h.buf[:0]
				data = data[leadingEmpty(data):]
			} else if n > 0 {
				h.buf = append(h.buf[:0], h.buf[n:]...)
			}
			if len(data) == 0 {
				return nil
			}
		}
		start := len(h.buf)
		room := c.cfg.MaxHTTPHeader - start
		take := min(len(data), room+1)
		h.buf = append(h.buf, data[:take]...)
		end := headEnd(h.buf, start)
		if end < 0 {
			data = data[take:]
			if len(h.buf) > c.cfg.MaxHTTPHeader {
				// Over the limit: keep what fits, pass over the rest up to
				// the blank line, and decode what follows.
				c.hit().HTTPHeader++
				c.headCut = true
				c.sum.Anomalies |= AnomHTTPHeaderTooLong
				c.hsAnomaly(AnomHTTPHeaderTooLong)
				h.long, h.over = true, 0
				last := h.buf[len(h.buf)-1]
				h.buf = h.buf[:len(h.buf)-1]
				h.nl = 0
				if n := len(h.buf); n > 0 && h.buf[n-1] == '\n' {
					h.nl = 1
				} else if n > 1 && h.buf[n-1] == '\r' && h.buf[n-2] == '\n' {
					h.nl = 2
				}
				data = c.skipLongHead(side, append([]byte{last}, data...), ts)
			}
			continue
		}
		data = data[end-start:]
		head, ok := parseHead(h.buf[:end])
		response := bytes.HasPrefix(h.buf, []byte("HTTP/"))
		h.buf = nil // not kept for the rest of the connection
		if !ok {
			c.hsAnomaly(AnomHTTPMalformed)
			c.sum.Anomalies |= AnomHTTPMalformed
			if !c.hasHS() && (c.ex == nil || len(c.ex.reqs) == 0) && c.clientSide != 1-side && !response {
				// A request the parser rejects: what the server answers
				// tells whether the upgrade happened, and the client's bytes
				// after it wait for that answer.
				c.clientSide = side
				c.reqBad = true
				h.mode = modeAwait
				return data
			}
			if c.hasHS() && c.upgrading && side != c.clientSide && c.startSniff(side, nil, true) {
				// The answer to the upgrade cannot be read: what follows
				// it is searched for frames, on both sides.
				c.rare(c.dirOf(side)).Resyncs++
				c.rare(c.dirOf(side)).SkippedBytes += uint64(end)
				c.resyncClient(side, ts)
				return data
			}
			c.failHTTP(side)
			return nil
		}
		if head.lenient {
			c.sum.Anomalies |= AnomHTTPNonconforming
			c.lenient = true
			c.hsAnomaly(AnomHTTPNonconforming)
		}
		if head.request {
			c.onRequest(side, &head, ts)
		} else {
			c.onResponse(side, &head, ts)
		}
	}
	return data
}

// skipLongHead passes over the rest of a head longer than MaxHTTPHeader,
// looking for its blank line with a few bits of state, and returns the bytes
// after it. The head is then handled from its lines that fit (Upgrade and
// the like may be past the cut); when not even its start line fits, or a
// byte no head may hold shows that the head ended unseen, the bytes after
// it are searched for WebSocket frames as after a gap.
func (c *Conn) skipLongHead(side int, data []byte, ts time.Time) []byte {
	h := &c.half[side]
	for i, b := range data {
		switch {
		case b == '\n' && h.nl > 0:
			h.over += i + 1
			return c.endLongHead(side, data[i+1:], ts, true)
		case b == '\n':
			h.nl = 1
		case b == '\r' && h.nl == 1:
			h.nl = 2
		case b < 0x20 && b != '\t' && b != '\r' || b == 0x7f:
			// Not in any head (RFC 9110 §5.5): what follows is something
			// else, starting a frame header's length before this byte.
			j := max(0, i-(MaxHeaderLen-1))
			h.over += j
			return c.endLongHead(side, data[j:], ts, false)
		default:
			h.nl = 0
		}
	}
	h.over += len(data)
	return nil
}

// endLongHead handles a head that was over the limit once its end is found
// (ended) or guessed, and returns the bytes after it for the side's new mode.
func (c *Conn) endLongHead(side int, rest []byte, ts time.Time, ended bool) []byte {
	h := &c.half[side]
	head, ok := partialHead(h.buf)
	kept := len(h.buf)
	h.long, h.buf = false, nil
	over := h.over
	h.over, h.nl = 0, 0
	if !ok || !ended {
		if !c.startSniff(side, nil, true) {
			c.failHTTP(side)
			return nil
		}
		c.rare(c.dirOf(side)).SkippedBytes += uint64(kept + over)
		if c.clientSide >= 0 && side != c.clientSide {
			// The server's answer is lost in its head: the client's
			// bytes after its request are searched for frames too.
			c.resyncClient(side, ts)
		}
		if len(rest) > 0 {
			c.feedSniff(side, rest, ts)
		}
		return nil
	}
	c.cut = true
	if head.request {
		c.onRequest(side, &head, ts)
		if !c.hasHS() && c.clientSide == side && h.mode == modeHTTP && h.body == bodyNone {
			// Its Upgrade field may be past the cut: the client's next
			// bytes wait for the answer, as after an upgrade request.
			c.exchange().cutReq = &head
			h.mode = modeAwait
		}
	} else {
		c.onResponse(side, &head, ts)
	}
	c.cut = false
	c.rare(c.dirOf(side)).SkippedBytes += uint64(over)
	return rest
}

// resyncClient searches the client's bytes held after its request for
// frames, as after a gap, when the server's answer (from serverSide) could
// not be read.
func (c *Conn) resyncClient(serverSide int, ts time.Time) {
	side := 1 - serverSide
	client := &c.half[side]
	if client.mode != modeAwait {
		return
	}
	pending := client.httpBuf()
	client.dropBuf()
	client.mode = modeSniff
	client.sniff = newSniffer(1, 1, true, c.cfg.MaxSniff)
	c.rare(c.dirOf(side)).Resyncs++
	if len(pending) > 0 {
		c.feedSniff(side, pending, ts)
	}
}

// cutFields returns the anomalies a cut head shows only because its
// fields past the cut are unknown.
func cutFields(head *httpHead, request bool) Anomalies {
	var a Anomalies
	if !head.has("Connection") {
		a |= AnomMissingConnectionUpgrade
	}
	if request {
		if !head.has("Sec-WebSocket-Key") {
			a |= AnomKeyMissing
		}
		if !head.has("Sec-WebSocket-Version") {
			a |= AnomVersionNot13
		}
	} else if !head.has("Sec-WebSocket-Accept") {
		a |= AnomAcceptMissing
	}
	return a
}

// failHTTP gives up on a side that does not speak HTTP/1.x. A connection that
// never asked for an upgrade is of no interest at all.
func (c *Conn) failHTTP(side int) {
	c.ignore(side)
	if !c.hasHS() && !c.ws {
		c.ignore(1 - side)
	}
}

func (c *Conn) onRequest(side int, head *httpHead, ts time.Time) {
	if c.clientSide < 0 {
		c.clientSide = side
	} else if c.clientSide != side {
		c.failHTTP(side) // requests from both ends: not a client/server exchange we know
		return
	}
	h := &c.half[side]
	ex := c.exchange()
	if len(ex.reqs) < 64 {
		ex.reqs = append(ex.reqs, strings.Clone(head.method)) // not a piece of the whole head
	}
	if c.cfg.EndAll {
		if len(ex.log) < MaxRequestsKept {
			ex.log = append(ex.log, HTTPRequest{TS: ts, Method: strings.Clone(head.method),
				Host: strings.Clone(head.get("Host")), URI: strings.Clone(head.uri)})
		} else {
			ex.more++
		}
	}
	if isUpgradeRequest(head) && !c.hasHS() {
		c.hs = &Handshake{TLS: c.tls}
		c.hs.fromRequest(head, ts)
		if c.cut {
			c.hs.Anomalies &^= cutFields(head, true)
		}
		if c.headCut {
			c.hs.Anomalies |= AnomHTTPHeaderTooLong
		}
		if c.lenient {
			c.hs.Anomalies |= AnomHTTPNonconforming
		}
		c.upgrading = true
		h.mode = modeAwait
		return
	}
	h.body, h.bodyLen = requestBody(head)
	if h.body == bodyChunked {
		h.chunks = chunkSkipper{}
	}
}

func (c *Conn) onResponse(side int, head *httpHead, ts time.Time) {
	if c.clientSide < 0 {
		c.clientSide = 1 - side
	} else if c.clientSide == side {
		c.failHTTP(side)
		return
	}
	h := &c.half[side]
	if head.status/100 == 1 && head.status != 101 {
		return // interim response: the request is still pending
	}
	ex := c.exchange()
	if (len(ex.reqs) == 0 || ex.cutReq != nil) && !c.hasHS() && head.status == 101 && (head.hasToken("Upgrade", "websocket") || c.cut && !head.has("Upgrade")) {
		// The request was lost or cut short (a snap length, a lost
		// segment, a head over the limit) but the server switched:
		// believe the server.
		c.hs = &Handshake{Anomalies: AnomRequestIncomplete, TLS: c.tls}
		if req := ex.cutReq; req != nil {
			c.hs.fromRequest(req, ts)
			c.hs.Anomalies &^= cutFields(req, true)
		} else if c.half[1-side].mode == modeHTTP {
			if req, ok := partialHead(c.half[1-side].httpBuf()); ok && req.request {
				c.hs.fromRequest(&req, ts)
			}
		}
		c.hs.Anomalies |= AnomRequestIncomplete
		if c.reqBad {
			c.hs.Anomalies |= AnomHTTPMalformed
		}
		if c.lenient {
			c.hs.Anomalies |= AnomHTTPNonconforming
		}
		if c.headCut {
			c.hs.Anomalies |= AnomHTTPHeaderTooLong
		}
		ex.cutReq = nil
		ex.reqs = append(ex.reqs[:0], "GET")
		c.upgrading = true
		client := &c.half[1-side]
		if client.mode == modeHTTP {
			client.dropBuf() // part of the request: no frames
			client.mode = modeAwait
		}
	}
	if len(ex.reqs) == 0 {
		c.hsAnomaly(AnomUnexpectedResponse)
		c.failHTTP(side)
		return
	}
	method := ex.reqs[0]
	ex.reqs = ex.reqs[1:]
	if ex.answered < len(ex.log) {
		ex.log[ex.answered].Status, ex.log[ex.answered].RespTS = head.status, ts
	}
	ex.answered++
	if !(c.upgrading && len(ex.reqs) == 0) {
		h.body, h.bodyLen = responseBody(head, method)
		if h.body == bodyChunked {
			h.chunks = chunkSkipper{}
		}
		if ex.cutReq != nil {
			// The cut request was no upgrade: the client's bytes held
			// since are HTTP again.
			ex.cutReq = nil
			if client := &c.half[1-side]; client.mode == modeAwait {
				pending := client.httpBuf()
				client.dropBuf()
				client.mode = modeHTTP
				if len(pending) > 0 {
					c.Feed(1-side, pending, ts)
				}
			}
		}
		return
	}
	// The answer to the upgrade request.
	c.upgrading = false
	c.hs.fromResponse(head, ts)
	if c.cut {
		c.hs.Anomalies &^= cutFields(head, false)
	}
	if c.hs.Anomalies&(AnomHTTPHeaderTooLong|AnomRequestIncomplete) == AnomHTTPHeaderTooLong|AnomRequestIncomplete && c.hs.Key == "" {
		c.hs.Anomalies &^= AnomAcceptMismatch // the key was past the request's cut
	}
	c.sink.Handshake(c, c.hs)
	malformed := c.hs.Anomalies&AnomHTTPMalformed != 0
	c.keepHandshake()
	client := &c.half[1-side]
	pending := client.httpBuf()
	client.dropBuf()
	if head.status == 101 {
		// A cut 101 whose Upgrade field is past the cut answers the
		// upgrade request: the client asked for websocket only.
		if (!malformed || c.reqBad) && (head.hasToken("Upgrade", "websocket") || c.cut && !head.has("Upgrade")) {
			c.ws = true
			c.ex = nil // no request is pending
			h.mode = modeWS
			switch client.mode {
			case modeAwait:
				client.mode = modeWS
			case modeIgnore:
				// Over the pending limit, the client's bytes were dropped
				// mid-stream: find its frame boundaries again.
				client.mode = modeSniff
				client.sniff = newSniffer(1, 1, true, c.cfg.MaxSniff)
				c.rare(ClientToServer).Resyncs++
			}
			// (modeSniff: a gap hit the client's bytes; the search goes on.)
			client.closeHTTP()
			if len(pending) > 0 {
				c.feedFrames(1-side, pending, ts)
			}
			return
		}
		// Switched to some other protocol.
		c.ignore(side)
		c.ignore(1 - side)
		return
	}
	// Refused: the connection goes on as HTTP.
	h.body, h.bodyLen = responseBody(head, method)
	if h.body == bodyChunked {
		h.chunks = chunkSkipper{}
	}
	client.mode = modeHTTP
	if len(pending) > 0 {
		c.Feed(1-side, pending, ts)
	}
}

// feedFrames decodes WebSocket frames.
func (c *Conn) feedFrames(side int, data []byte, ts time.Time) {
	h := &c.half[side]
	for len(data) > 0 {
		if h.inPayload {
			n := int(min(uint64(len(data)), h.left))
			c.payloadBytes(h, data[:n])
			data = data[n:]
			h.left -= uint64(n)
			if h.left == 0 {
				c.endFrame(side, ts)
			}
			continue
		}
		var hdr Header
		var n int
		if h.frameState == nil || h.hdrN == 0 {
			hdr, n = ParseHeader(data)
			if n > 0 {
				data = data[n:]
			}
		}
		if n == 0 {
			// The header straddles feeds: gather it in h.hdr.
			h.openFrame()
			hn := int(h.hdrN)
			need := MaxHeaderLen
			if hn >= 2 {
				need = HeaderSize(h.hdr[0], h.hdr[1])
			} else if hn+len(data) >= 2 {
				b1 := data[1-hn]
				if hn == 1 {
					b1 = data[0]
				}
				b0 := h.hdr[0]
				if hn == 0 {
					b0 = data[0]
				}
				need = HeaderSize(b0, b1)
			}
			take := min(need-hn, len(data))
			copy(h.hdr[hn:], data[:take])
			hn += take
			h.hdrN = int8(hn)
			data = data[take:]
			if hn < need {
				return
			}
			hdr, _ = ParseHeader(h.hdr[:h.hdrN])
			h.hdrN = 0
		}
		c.startFrame(side, hdr)
		if h.left == 0 {
			c.endFrame(side, ts)
		}
	}
}

func (c *Conn) startFrame(side int, hdr Header) {
	h := &c.half[side]
	dir := c.dirOf(side)
	h.frames++
	h.openFrame()
	h.cur = Frame{Header: hdr, Dir: dir, Index: h.frames}
	a := hdr.Rules()
	if dir == ClientToServer && !hdr.Masked {
		a |= AnomClientUnmasked
	}
	if dir == ServerToClient && hdr.Masked {
		a |= AnomServerMasked
	}
	deflate := c.deflate()
	if hdr.RSV&^4 != 0 || hdr.RSV&4 != 0 && !deflate {
		a |= AnomRSVWithoutExt
	} else if hdr.RSV&4 != 0 {
		if hdr.Opcode == OpContinuation {
			a |= AnomRSV1OnContinuation
		} else if hdr.Opcode.IsControl() {
			a |= AnomRSV1OnControl
		}
	}
	if h.closed {
		a |= AnomDataAfterClose
	}
	switch {
	case hdr.Opcode == OpContinuation && !h.msgOpen && !h.midStream:
		a |= AnomOrphanContinuation
	case (hdr.Opcode == OpText || hdr.Opcode == OpBinary) && h.msgOpen:
		a |= AnomInterruptedMessage
	}
	if hdr.Opcode == OpText || hdr.Opcode == OpBinary || hdr.Opcode.IsControl() {
		h.midStream = false
	}
	if hdr.Masked {
		h.masked = 1
	} else {
		h.masked = 0
	}
	switch hdr.Opcode {
	case OpText, OpBinary:
		h.cur.MessageOpcode = hdr.Opcode
	case OpContinuation:
		if h.msgOpen {
			h.cur.MessageOpcode = h.msg.Opcode
		}
	}
	h.cur.Anomalies = a
	switch hdr.Opcode {
	case OpText, OpBinary:
		// Not while another message is open (interrupted_message): its
		// inflation comes first.
		h.deflating = hdr.RSV&4 != 0 && deflate && !h.msgOpen
	case OpContinuation:
		h.deflating = h.msgOpen && h.msg.Compressed && !h.msgCut
	default:
		h.deflating = false
	}
	h.inPayload = true
	h.left = hdr.Length
	h.phase = 0
	h.holed = false
	h.payload = h.payload[:0]
	if want := int(min(hdr.Length, uint64(c.cfg.MaxPayload), 1<<20)); want > cap(h.payload) {
		// Sized for the frame at once rather than by doubling; a header
		// claiming more than 1 MiB gets it as the bytes come.
		h.payload = grow(h.payload, want)
	}
	st := &c.sum.Stats[dir]
	st.Frames++
	if hdr.Opcode.IsControl() {
		st.ControlFrames++
	}
	st.PayloadBytes += hdr.Length
	st.WireBytes += uint64(hdr.Size) + hdr.Length
	c.fed += uint64(hdr.Size)
}

// payloadBytes keeps (up to the limit) and unmasks the next payload bytes of
// the current frame. The bytes of a compressed message too big to keep
// whole go to the inflater as they come (see stream).
func (c *Conn) payloadBytes(h *half, b []byte) {
	c.fed += uint64(len(b))
	z := h.inflater
	streaming := h.deflating && !h.holed && z != nil && z.streaming()
	if h.deflating && !h.holed && !streaming && c.overflows(h, len(b)) {
		z = c.inflaterFor(h, h.cur.Dir)
		z.startStream(c.cfg.MaxMessage, c.inflateBudget())
		if h.cur.Opcode == OpContinuation && h.msgState != nil {
			z.push(h.msgBuf, c.inflateBudget())
		}
		z.push(h.payload, c.inflateBudget())
		streaming = true
	}
	room := c.cfg.MaxPayload - len(h.payload)
	if h.holed {
		room = 0
	}
	keep := b
	if len(b) > room {
		keep = b[:max(room, 0)]
		if !h.holed {
			h.cur.Anomalies |= AnomPayloadTruncated
		}
	}
	if len(keep) > 0 {
		start := len(h.payload)
		h.payload = append(grow(h.payload, len(keep)), keep...)
		if h.cur.Masked {
			h.phase = int8(Unmask(h.cur.MaskKey, int(h.phase), h.payload[start:]))
		}
		if streaming {
			z.push(h.payload[start:], c.inflateBudget())
		}
	}
	rest := b[len(keep):]
	if !streaming {
		h.phase = int8((int(h.phase) + len(rest)) & 3)
		return
	}
	if h.unmasked == nil {
		h.unmasked = getBuf(32 << 10)[:32<<10]
	}
	for len(rest) > 0 {
		p := h.unmasked[:copy(h.unmasked, rest)]
		rest = rest[len(p):]
		if h.cur.Masked {
			h.phase = int8(Unmask(h.cur.MaskKey, int(h.phase), p))
		}
		z.push(p, c.inflateBudget())
	}
}

// overflows reports whether n more payload bytes of the current frame
// would not all be kept, in the frame or in its message.
func (c *Conn) overflows(h *half, n int) bool {
	kept := len(h.payload) + n
	if h.cur.Opcode == OpContinuation && h.msgState != nil {
		return kept > c.cfg.MaxPayload || len(h.msgBuf)+kept > c.cfg.MaxMessage
	}
	return kept > min(c.cfg.MaxPayload, c.cfg.MaxMessage)
}

// inflateAllowance is inflated output every connection may have beyond
// MaxInflateRatio times its bytes, so that a first message that compresses
// very well is not cut for coming first.
const inflateAllowance = 64 << 10

// inflateBudget is what the connection may still inflate under
// MaxInflateRatio.
func (c *Conn) inflateBudget() uint64 {
	r := uint64(c.cfg.MaxInflateRatio)
	if c.fed > (noBudget-inflateAllowance)/r {
		return noBudget
	}
	if b := c.fed*r + inflateAllowance; b > c.inflated {
		return b - c.inflated
	}
	return 0
}

// endFrame reports the finished current frame and any message it completes,
// then gives its buffers back to the pools (the message buffer once the
// message is done): an idle direction holds none.
func (c *Conn) endFrame(side int, ts time.Time) {
	c.emitFrame(side, ts)
	h := &c.half[side]
	h.payload = release(h.payload)
	h.cur.Payload = nil
	h.idle()
}

// emitFrame reports the finished current frame and any message it completes.
func (c *Conn) emitFrame(side int, ts time.Time) {
	h := &c.half[side]
	f := &h.cur
	h.inPayload = false
	f.TS = ts
	f.Payload = h.payload
	if h.msgState != nil {
		h.lastTS = ts
	}
	if f.Opcode == OpClose {
		code, has, reason, a := ParseClose(f.Payload)
		f.CloseCode, f.HasCloseCode, f.CloseReason = code, has, reason
		f.Anomalies |= a
		if !h.closed {
			h.closed = true
			if c.sum.Close == nil {
				c.sum.Close = new([2]CloseInfo)
			}
			cl := &c.sum.Close[f.Dir]
			*cl = CloseInfo{Sent: true, TS: ts, Code: code, HasCode: has, Reason: reason}
			if !c.sum.Close[1-f.Dir].Sent {
				c.sum.Initiator = f.Dir
			}
		}
	}
	c.sum.Anomalies |= f.Anomalies
	c.sink.Frame(c, f)

	switch f.Opcode {
	case OpText, OpBinary:
		if h.msgOpen {
			h.msg.Anomalies |= AnomMessageIncomplete
			c.emitMessage(h, f.Dir)
		}
		h.messages++
		h.openMsg(ts)
		h.msg = Message{Dir: f.Dir, Opcode: f.Opcode, Frames: 1, Len: f.Length, WireLen: f.Length, Index: h.messages,
			Compressed: f.RSV&4 != 0 && c.deflate()}
		h.msgCut = false
		streamed := h.msg.Compressed && h.inflater != nil && h.inflater.streaming()
		c.frameCut(h, f, streamed)
		if f.Fin {
			// Unfragmented: the frame's payload is the message.
			h.msg.TS = ts
			if !streamed {
				h.msg.Data = f.Payload
				if len(f.Payload) > c.cfg.MaxMessage {
					// --max-message below --max-payload: the message limit holds.
					h.msg.Data = f.Payload[:c.cfg.MaxMessage]
					h.msg.Anomalies |= AnomMessageTruncated
				}
			}
			c.finishMessage(h)
			return
		}
		h.msgOpen = true
		h.msgBuf = h.msgBuf[:0]
		if !streamed {
			keep := f.Payload[:min(len(f.Payload), c.cfg.MaxMessage)]
			if len(keep) < len(f.Payload) {
				h.msg.Anomalies |= AnomMessageTruncated
				h.msgCut = true
			}
			h.msgBuf = append(grow(h.msgBuf, len(keep)), keep...)
		}
	case OpContinuation:
		if !h.msgOpen {
			return
		}
		h.msg.Frames++
		h.msg.Len += f.Length
		h.msg.WireLen += f.Length
		streamed := h.msg.Compressed && h.inflater != nil && h.inflater.streaming()
		wasCut := h.msgCut
		c.frameCut(h, f, streamed)
		if !wasCut && !streamed {
			// Nothing after a cut is kept: the data stays what was sent,
			// in one piece.
			room := c.cfg.MaxMessage - len(h.msgBuf)
			keep := f.Payload[:min(len(f.Payload), max(room, 0))]
			if len(keep) < len(f.Payload) {
				h.msg.Anomalies |= AnomMessageTruncated
				h.msgCut = true
			}
			h.msgBuf = append(grow(h.msgBuf, len(keep)), keep...)
		}
		if f.Fin {
			h.msg.TS = ts
			h.msg.Data = h.msgBuf
			h.msgOpen = false
			c.finishMessage(h)
		}
	}
}

// frameCut marks the open message when the frame that just ended lost
// bytes: to the capture (capture_truncated), or to --max-payload
// (message_truncated) unless they streamed into the inflater. The message
// keeps nothing after them.
func (c *Conn) frameCut(h *half, f *Frame, streamed bool) {
	cut := false
	if f.Anomalies&AnomPayloadIncomplete != 0 {
		h.msg.Anomalies |= AnomCaptureTruncated
		cut = true
	}
	if f.Anomalies&AnomPayloadTruncated != 0 && !streamed {
		h.msg.Anomalies |= AnomMessageTruncated
		cut = true
	}
	if cut {
		h.msgCut = true
	}
}

// emitMessage reports an unfinished message (at a protocol error or the end).
func (c *Conn) emitMessage(h *half, dir Dir) {
	h.msg.TS = h.lastTS
	h.msg.Data = h.msgBuf
	h.msgOpen = false
	c.finishMessage(h)
}

func (c *Conn) finishMessage(h *half) {
	m := &h.msg
	if m.Compressed {
		c.inflateMessage(h, m)
	}
	undecoded := m.Anomalies&(AnomInflateNoContext|AnomInflateFailed) != 0
	cut := m.Anomalies&(AnomMessageTruncated|AnomMessageIncomplete|AnomCaptureTruncated|AnomInflateRatio) != 0
	if m.Opcode == OpText && !undecoded && !validUTF8Prefix(m.Data, cut) {
		m.Anomalies |= AnomInvalidUTF8
	}
	st := &c.sum.Stats[m.Dir]
	st.Messages++
	c.sum.Anomalies |= m.Anomalies
	c.sink.Message(c, m)
	if m.Compressed && h.inflater != nil {
		h.inflater.release()
	}
	m.Data = nil
}

// inflaterFor returns the inflater of a side, made at its first
// compressed message.
func (c *Conn) inflaterFor(h *half, d Dir) *inflater {
	if h.inflater == nil {
		if !c.hasHS() {
			// Parameters unknown, window unknown: messages inflate while
			// they refer only to what was inflated since (see inflate).
			h.inflater = &inflater{lost: true}
		} else {
			p := c.kept.params
			if c.hs != nil {
				p = c.hs.DeflateParams
			}
			noCtx := p.ClientNoContextTakeover
			if d == ServerToClient {
				noCtx = p.ServerNoContextTakeover
			}
			h.inflater = &inflater{noCtx: noCtx}
		}
	}
	return h.inflater
}

// inflateMessage replaces a compressed message's data by its inflated
// bytes, and its length by the inflated length when it inflated to its end.
func (c *Conn) inflateMessage(h *half, m *Message) {
	z := c.inflaterFor(h, m.Dir)
	complete := m.Anomalies&(AnomMessageTruncated|AnomMessageIncomplete|AnomCaptureTruncated) == 0
	var res inflated
	if z.streaming() {
		res = z.finish(complete, c.inflateBudget())
		if h.frameState != nil {
			h.unmasked = release(h.unmasked)
		}
	} else {
		res = z.inflateMsg(m.Data, complete, c.cfg.MaxMessage, c.inflateBudget())
	}
	c.inflated += res.total
	if res.a&AnomInflateRatio != 0 {
		c.hit().InflateRatio++
	}
	m.Anomalies |= res.a
	m.Data = res.out
	m.Len = res.total
	st := c.rare(m.Dir)
	st.CompressedMessages++
	if !res.whole {
		// The inflated length is not known: only what was inflated.
		m.Len, m.LenUnknown = uint64(len(res.out)), true
		return
	}
	st.CompressedBytes += m.WireLen
	st.InflatedBytes += m.Len
}

// validUTF8Prefix reports whether b is UTF-8; when cut is true, b may end in
// the middle of a code point.
func validUTF8Prefix(b []byte, cut bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if !cut {
		return false
	}
	// Drop up to three bytes of a code point cut short at the end.
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			return !utf8.FullRune(b[len(b)-i:]) && utf8.Valid(b[:len(b)-i])
		}
	}
	return false
}

// Gap tells the decoder that n bytes of a side's stream were lost from the
// capture. A gap inside a payload is skipped (the frame is marked
// payload_incomplete and the masking phase stays aligned); a gap anywhere
// else loses the frame boundaries, and the side stops being decoded.
func (c *Conn) Gap(side int, n int, ts time.Time) {
	if c.ended || n <= 0 {
		return
	}
	c.tapGap(side, n, ts)
	h := &c.half[side]
	if h.mode != modeIgnore {
		c.rare(c.dirOf(side)).LostBytes += uint64(n)
	}
	c.gap(side, n, ts)
}

// gap skips n lost bytes of a side's stream (Gap, and replays of sniffed
// bytes with holes in them).
func (c *Conn) gap(side int, n int, ts time.Time) {
	h := &c.half[side]
	switch h.mode {
	case modeSniff:
		// Chains may run through the hole inside a payload.
		h.sniff.gap(n)
		h.sniff.lock = -1 // the frame start chosen may be lost: look again
		return
	case modeWS:
	case modeHTTP, modeAwait:
		// A gap in the handshake (a snap length cut the heads short, a
		// segment was lost): the upgrade may have happened unseen, so look
		// for frames after it.
		if c.startSniff(side, nil, true) {
			h.httpHalf = nil
			return
		}
		c.ignore(side)
		return
	default:
		c.ignore(side)
		return
	}
	if h.inPayload && uint64(n) <= h.left {
		h.cur.Anomalies |= AnomPayloadIncomplete
		h.phase = int8((int(h.phase) + n) & 3)
		h.left -= uint64(n)
		// What is kept must stay contiguous: keep nothing more of this frame.
		h.holed = true
		if h.left == 0 {
			c.endFrame(side, ts)
		}
		return
	}
	if h.inPayload {
		h.cur.Anomalies |= AnomPayloadIncomplete
		c.endFrame(side, ts)
	}
	// The frame boundaries are lost: find them again. Whole compressed
	// messages may have been lost with them, and the window with them.
	if h.frameState != nil {
		h.hdrN = 0
	}
	if h.inflater != nil {
		h.inflater.forget()
	}
	if h.msgOpen {
		h.msg.Anomalies |= AnomMessageIncomplete
		c.emitMessage(h, h.msg.Dir)
	}
	h.idle()
	h.mode = modeSniff
	h.sniff = newSniffer(h.masked, 1, true, c.cfg.MaxSniff)
	c.rare(c.dirOf(side)).Resyncs++
}

// RetransmitConflict records that a side retransmitted a segment with
// other bytes than the copy already decoded. Which copy the receiver used
// cannot be told from the capture; the first is the one decoded.
func (c *Conn) RetransmitConflict(side int) {
	c.rare(c.dirOf(side)).Conflicts++
	c.sum.Anomalies |= AnomRetransmitConflict
}

// Resumed records that the connection was ended early (the reassembly's
// connection limit) and went on: what follows is decoded afresh, as from
// the middle of a connection.
func (c *Conn) Resumed() { c.sum.Anomalies |= AnomResumed }

// TCPEnd records that a side sent FIN (rst false) or RST at ts.
func (c *Conn) TCPEnd(side int, rst bool, ts time.Time) {
	d := c.dirOf(side)
	if c.sum.TCPEndTS == nil {
		c.sum.TCPEndTS = new([2]time.Time)
	}
	if c.sum.TCPEndTS[d].IsZero() || rst && !c.sum.TCPRst[d] {
		c.sum.TCPEndTS[d] = ts // a RST after a FIN is what ended the side
	}
	if rst {
		c.sum.TCPRst[d] = true
	} else {
		c.sum.TCPFin[d] = true
	}
}

// End finishes the connection: an unfinished frame or message is reported
// as incomplete, then the summary. Nothing is reported after End.
func (c *Conn) End(ts time.Time) { c.end(ts, "") }

func (c *Conn) end(ts time.Time, connect string) { c.endWith(ts, connect, "", nil) }

// endWith is end with what an HTTP/2 stream or connection adds to the
// summary (Summary.StreamEnd, Summary.HTTP2).
func (c *Conn) endWith(ts time.Time, connect, streamEnd string, h2 *HTTP2Counts) {
	if c.ended {
		return
	}
	c.ended = true
	defer c.free()
	c.tapEnd(ts)
	for side := range c.half {
		c.endHeld(side, ts)
	}
	c.sniffPair(ts)
	if !c.hasHS() && !c.ws {
		if c.cfg.EndAll {
			c.endNotWebSocket(connect, h2)
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
	s := &Summary{First: cs.First, Last: cs.Last, Initiator: cs.Initiator,
		TCPFin: cs.TCPFin, TCPRst: cs.TCPRst, Anomalies: cs.Anomalies}
	s.Stats = c.stats()
	if cs.Close != nil {
		s.Close = *cs.Close
	}
	c.endTimes(s)
	s.Handshake = c.hs
	if c.kept != nil {
		s.Handshake = c.kept.handshake()
	}
	s.TLS = c.tls
	switch {
	case c.hasHS():
		s.Confidence = ConfidenceHandshake
	case c.forced:
		s.Confidence = ConfidenceForced
	case c.sniffed[0] && c.sniffed[1] && c.half[c.sideOf(ClientToServer)].masked == 1 && c.half[c.sideOf(ServerToClient)].masked == 0:
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

// endTimes sets the summary's TCP end times and takes its Last from the
// packet that ended the connection when that came after the last data.
func (c *Conn) endTimes(s *Summary) {
	if c.sum.TCPEndTS == nil {
		return
	}
	s.TCPEndTS = *c.sum.TCPEndTS
	for _, ts := range s.TCPEndTS {
		if ts.After(s.Last) {
			s.Last = ts // the FIN or RST that ended it, after the last data
		}
	}
}

// stats is the traffic per direction for the summary: the counters kept
// always and the rare ones where any was needed.
func (c *Conn) stats() [2]DirStats {
	var out [2]DirStats
	if c.sum.rare != nil {
		out = *c.sum.rare
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
func (c *Conn) endNotWebSocket(connect string, h2 *HTTP2Counts) {
	cs := &c.sum
	s := &Summary{First: cs.First, Last: cs.Last, Stats: c.stats(), TCPFin: cs.TCPFin, TCPRst: cs.TCPRst,
		Anomalies: cs.Anomalies, End: EndNotWebSocket, TLS: c.tls, Connect: connect, HTTP2: h2}
	c.endTimes(s)
	if c.ex != nil {
		s.Requests, s.MoreRequests = c.ex.log, c.ex.more
	}
	c.sink.End(c, s)
}

// EndEmpty is End for a connection that sent no bytes: first and last are
// its first and latest packets' times and connect how its TCP connect went
// (Connect*), reported in its Summary (First, Last, Connect) with
// Config.EndAll.
func (c *Conn) EndEmpty(first, last time.Time, connect string, ts time.Time) {
	if c.sum.First.IsZero() {
		c.sum.First, c.sum.Last = first, last
	}
	c.end(ts, connect)
}

// endHeld searches the bytes a client held for an answer that the capture
// does not have (after an upgrade request, or a request cut or rejected)
// for frames, as after a gap, at the end of the connection; what is not
// decoded is counted in skipped_bytes.
func (c *Conn) endHeld(side int, ts time.Time) {
	h := &c.half[side]
	if h.mode != modeAwait {
		return
	}
	pending := h.httpBuf()
	h.httpHalf = nil
	if len(pending) == 0 {
		h.mode = modeIgnore
		return
	}
	h.mode = modeSniff
	h.sniff = newSniffer(1, 1, true, c.cfg.MaxSniff)
	c.rare(c.dirOf(side)).Resyncs++
	c.feedSniff(side, pending, ts)
	if h.mode == modeSniff && h.sniff.lock < 0 {
		if i := h.sniff.decide(true); i >= 0 {
			c.acceptChain(side, i, ts)
		}
	}
	if h.mode == modeSniff {
		// No frame boundary found, or the chain's frames left the window.
		c.rare(c.dirOf(side)).SkippedBytes += uint64(h.sniff.searched) // held bytes have no holes
		h.sniff = nil
		h.mode = modeIgnore
	}
}

// free gives back the buffers of an ended connection: the Conn itself may
// live on (held by the caller) but decodes nothing more.
func (c *Conn) free() {
	for side := range c.half {
		h := &c.half[side]
		h.httpHalf, h.sniff = nil, nil
		h.inPayload, h.msgOpen = false, false
		h.idle()
		if h.inflater != nil {
			h.inflater.close()
			h.inflater = nil
		}
	}
}

// deflate reports whether RSV1 means permessage-deflate: negotiated in the
// handshake, or (without one) assumed, since it is the only extension in use.
func (c *Conn) deflate() bool {
	if c.hs != nil {
		return c.hs.Deflate
	}
	if c.kept != nil {
		return c.kept.deflate
	}
	return c.ws
}

// startSniff starts looking for WebSocket framing on a side that does not
// speak HTTP, given its first bytes. It reports false where that makes no
// sense: sniffing is off, the other side already speaks HTTP, or the
// stream opens like another protocol (TLS, SSH).
func (c *Conn) startSniff(side int, first []byte, afterGap bool) bool {
	switch {
	case c.cfg.NoSniff && !c.forced:
		return false
	case afterGap:
		// The handshake was cut: frames may well follow.
	case c.hasHS() || c.clientSide >= 0 && !c.forced && !c.ws:
		return false
	}
	if !c.forced && !c.ws && otherProtocol(first) {
		return false
	}
	h := &c.half[side]
	want, minimum := int8(-1), sniffMinFrames
	if o := &c.half[1-side]; o.mode == modeWS && o.masked >= 0 {
		want, minimum = 1-o.masked, 1
	}
	if c.forced {
		want, minimum = -1, 1
	}
	h.mode = modeSniff
	h.sniff = newSniffer(want, minimum, false, c.cfg.MaxSniff)
	return true
}

// feedSniff looks for frame boundaries in a side's bytes; once found, the
// side is decoded as WebSocket from there. The search keeps only a window of
// the last bytes: after a gap on a connection known to be WebSocket it goes
// on as far as the data goes (a gap never ends the decoding of a
// direction); without that knowledge it gives up after MaxSniff bytes.
func (c *Conn) feedSniff(side int, data []byte, ts time.Time) {
	h := &c.half[side]
	s := h.sniff
	s.add(data)
	if s.lock >= 0 {
		if s.end() >= s.lock {
			c.acceptAt(side, s.lock, ts)
			return
		}
		s.trim()
		return
	}
	if i := s.decide(false); i >= 0 {
		c.acceptChain(side, i, ts)
		return
	}
	if s.searched > s.limit && !s.lenient && !c.hasHS() && !c.ws && !c.forced {
		c.hit().Sniff++
		c.rare(c.dirOf(side)).SkippedBytes += uint64(s.searched)
		c.ignore(side)
		return
	}
	s.trim()
}

// acceptChain decodes a side as WebSocket along the chain s.cands[i]: from
// its start, or from its earliest frame still in the window, or (when even
// its last frame started before the window) from where its frame ends.
func (c *Conn) acceptChain(side, i int, ts time.Time) {
	s := c.half[side].sniff
	ch := &s.cands[i]
	if p := s.replayFrom(ch); p >= 0 {
		c.acceptAt(side, p, ts)
		return
	}
	s.lock = ch.next
	if s.end() >= s.lock {
		c.acceptAt(side, s.lock, ts)
		return
	}
	s.cands, s.want = s.cands[:0], ch.masked // nothing else to follow
	s.trim()
}

// acceptAt decodes a side as WebSocket from the frame boundary found at
// offset start of its sniffed bytes (start >= s.base, <= s.end()).
func (c *Conn) acceptAt(side, start int, ts time.Time) {
	h := &c.half[side]
	s := h.sniff
	if start < s.end() {
		masked := s.buf[start-s.base+1]&maskBit != 0
		if start+1 >= s.end() {
			masked = s.want == 1
		}
		if c.clientSide < 0 {
			if masked {
				c.clientSide = side
			} else {
				c.clientSide = 1 - side
			}
		}
	} else if c.clientSide < 0 && s.want >= 0 {
		c.clientSide = side
		if s.want == 0 {
			c.clientSide = 1 - side
		}
	}
	c.ws = true
	c.sniffed[side] = true
	h.mode = modeWS
	h.midStream = true
	buf, base, holes := s.buf, s.base, s.holes
	h.sniff = nil
	c.rare(c.dirOf(side)).SkippedBytes += uint64(start - s.lostBefore(start)) // lost, not skipped
	if c.sum.First.IsZero() {
		c.sum.First = ts
	}
	// Replay the bytes from the boundary, holes as gaps.
	p := start
	for _, hl := range holes {
		if hl[1] <= p {
			continue
		}
		if hl[0] > p {
			c.feed(side, buf[p-base:hl[0]-base], ts)
		}
		c.gap(side, hl[1]-max(hl[0], p), ts)
		p = hl[1]
	}
	if p < base+len(buf) {
		c.feed(side, buf[p-base:], ts)
	}
	// The other side now knows what to expect.
	if o := &c.half[1-side]; o.mode == modeSniff && !c.forced && h.masked >= 0 {
		o.sniff.want, o.sniff.minimum = 1-h.masked, 1
		if i := o.sniff.decide(false); i >= 0 {
			c.acceptChain(1-side, i, ts)
		}
	}
}

// sniffPair takes, at the end of a connection neither of whose sides was
// recognised, two sides that are each nothing but whole frames with content
// that proves them (a connection caught at its closing handshake: one Close
// each way), the client's masked and the server's not.
func (c *Conn) sniffPair(ts time.Time) {
	a, b := &c.half[0], &c.half[1]
	if c.ws || c.hasHS() || a.mode != modeSniff || b.mode != modeSniff {
		return
	}
	ma, okA := a.sniff.pairable()
	mb, okB := b.sniff.pairable()
	if !okA || !okB || ma == mb {
		return
	}
	for side, m := range [2]int8{ma, mb} {
		if m == 1 {
			c.clientSide = side
		}
		c.half[side].sniff.want = m
	}
	c.sniffed = [2]bool{true, true}
	c.acceptAt(0, 0, ts)
	if c.half[1].mode == modeSniff {
		c.acceptAt(1, 0, ts)
	}
}

// otherProtocol recognises the openings of common protocols that are not
// WebSocket, so their connections are dropped at once rather than sniffed.
func otherProtocol(b []byte) bool {
	switch {
	case len(b) >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04: // TLS handshake record
		return true
	case len(b) >= 4 && string(b[:4]) == "SSH-":
		return true
	}
	return false
}
