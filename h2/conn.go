package h2

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/wsdump/wsdump/wsparse"
)

// wsAnomMalformed is the anomaly for framing or HPACK this decoder could
// not follow.
const wsAnomMalformed = wsparse.AnomH2Malformed

// DefaultMaxStreams bounds the streams a connection tracks at once; past
// it new streams are counted, not followed.
const DefaultMaxStreams = 1000

// Config holds the decoder's limits. Zero values take the defaults.
type Config struct {
	Decoder       wsparse.Config // for the WebSocket streams
	MaxHeaderList int            // bytes of one decoded header list, RFC 7541 §4.1 sizes (default Decoder.MaxHTTPHeader, else 64 KiB)
	MaxStreams    int            // open streams followed at once (default DefaultMaxStreams)
}

// Conn decodes one HTTP/2 connection. Sides are the TCP directions as the
// caller numbers them; the client is the side that sends the preface.
type Conn struct {
	parent *wsparse.Conn // the TCP connection: its summary counts the streams
	sink   wsparse.Sink
	cfg    Config
	client int
	dir    [2]reader

	streams   map[uint32]*stream
	connectOK bool // the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1
	goAwayBy  int  // side that sent GOAWAY, or -1
	counts    wsparse.HTTP2Counts
	anoms     wsparse.Anomalies
	ended     bool
	pending   int // DATA bytes held for streams not answered yet, all streams: at most maxPending
	// TLS 1.2 renegotiations of the session under it when it opened
	// (-1: not told yet), see TLSRenegotiations.
	renegBase int
}

// stream is one stream the decoder follows.
type stream struct {
	ws      *wsparse.Conn // an extended CONNECT for websocket; nil for an ordinary request
	req     wsparse.HTTPRequest
	ended   [2]bool // END_STREAM seen, by side
	refused bool    // the CONNECT was answered with no 2xx
	logged  bool    // an ordinary request was listed on the parent
	// Before the response, the WebSocket's DATA bytes are held (by its
	// decoder): pending counts them, against the connection's budget
	// and in the total of all connections' (overTotal: past it).
	answered  bool
	pending   int
	overTotal bool
}

// NewConn returns a decoder for an HTTP/2 connection whose TCP connection
// parent decodes nothing else (its summary counts the streams); client is
// the side that sends the preface. WebSocket streams report to sink under
// wsparse.StreamID(parent.ID, stream).
func NewConn(parent *wsparse.Conn, client int, cfg Config, sink wsparse.Sink) *Conn {
	if cfg.MaxHeaderList <= 0 {
		cfg.MaxHeaderList = cfg.Decoder.MaxHTTPHeader
		if cfg.MaxHeaderList <= 0 {
			cfg.MaxHeaderList = 64 << 10
		}
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	c := &Conn{parent: parent, sink: sink, cfg: cfg, client: client, goAwayBy: -1, streams: map[uint32]*stream{}, renegBase: -1}
	parent.SetClientSide(client)
	for side := range c.dir {
		c.dir[side].side = side
	}
	c.dir[client].preface = len(Preface)
	return c
}

// Feed hands the decoder the next bytes of one side's stream, captured at
// ts. It never fails: what breaks a rule is an anomaly.
func (c *Conn) Feed(side int, p []byte, ts time.Time) {
	if c.ended || len(p) == 0 || side < 0 || side > 1 {
		return
	}
	c.parent.Carried(ts)
	c.feed(&c.dir[side], p, ts)
}

// Gap records n bytes of a side lost from the capture: its frame
// boundaries are lost with them, and the side is not decoded further.
func (c *Conn) Gap(side, n int, ts time.Time) {
	if c.ended || n <= 0 || side < 0 || side > 1 {
		return
	}
	c.parent.StreamLost(side, n)
	if r := &c.dir[side]; !r.dead {
		c.desync(r, ts)
	}
}

// TLSRenegotiations tells the decoder of an HTTP/2 connection over TLS
// how many TLS 1.2 renegotiations its session has begun so far, and
// returns how many of them came after the connection preface: the first
// call, as the connection opens (at its preface), sets how many came
// before it, which RFC 9113 §9.2.1 allows; any after it is a connection
// error there (PROTOCOL_ERROR).
func (c *Conn) TLSRenegotiations(n int) int {
	if c.renegBase < 0 {
		c.renegBase = n
	}
	return max(n-c.renegBase, 0)
}

// TCPEnd records that a side sent FIN (rst false) or RST: the open
// WebSocket streams end with it.
func (c *Conn) TCPEnd(side int, rst bool, ts time.Time) {
	if c.ended {
		return
	}
	for _, s := range c.streams {
		if s.ws != nil {
			s.ws.TCPEnd(side, rst, ts)
		}
	}
}

// End ends the open streams (after a GOAWAY, or under the TCP end), then
// the connection, whose summary carries the counts (with
// wsparse.Config.EndAll).
func (c *Conn) End(ts time.Time) {
	if c.ended {
		return
	}
	how := ""
	if c.goAwayBy >= 0 {
		how = "goaway " + c.counts.GoAway
	}
	for _, id := range c.openIDs() {
		c.finish(id, c.streams[id], how, ts)
	}
	c.ended = true
	c.parent.EndHTTP2(ts, c.counts, c.anoms)
}

// openIDs returns the open streams' numbers in order: ends come out in a
// fixed order, not the map's.
func (c *Conn) openIDs() []uint32 {
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// WebSockets returns how many extended CONNECT streams for websocket the
// connection has opened so far.
func (c *Conn) WebSockets() int { return c.counts.WebSockets }

// flag adds a connection-level anomaly: on the connection's summary and
// on every open WebSocket stream's.
func (c *Conn) flag(a wsparse.Anomalies) {
	if c.anoms&a == a {
		return // the open streams have it, and new ones start with c.anoms
	}
	c.anoms |= a
	for _, s := range c.streams {
		if s.ws != nil {
			s.ws.StreamAnomaly(a)
		}
	}
}

// skipped counts bytes of a side not decoded (after a desync, or DATA of
// a stream not followed).
func (c *Conn) skipped(side, n int) { c.parent.StreamSkipped(side, n) }

// lostSide tells the open WebSocket streams that a side's bytes are lost:
// what they were assembling is cut short, and nothing more of that side
// is decoded.
func (c *Conn) lostSide(side int, ts time.Time) {
	for _, id := range c.openIDs() { // in order: what is cut short is reported
		if s := c.streams[id]; s.ws != nil && !s.ended[side] {
			s.ws.StreamCut(side)
		}
	}
}

// setting applies one SETTINGS parameter a side sent.
func (c *Conn) setting(r *reader, id uint16, v uint32) {
	switch id {
	case settingEnableConnectProtocol:
		if r.side != c.client {
			c.connectOK = v == 1
		}
	case settingHeaderTableSize:
		// The size the peer's encoder may use: lenient (never below what
		// was allowed), bounded by maxTable.
		peer := &c.dir[1-r.side]
		if v = min(v, maxTable); v > peer.allowTable || peer.allowTable == 0 {
			peer.allowTable = max(v, 4096)
			if peer.dec != nil {
				peer.dec.SetAllowedMaxDynamicTableSize(peer.allowTable)
			}
		}
	}
}

// data hands a piece of a DATA frame to its stream.
func (c *Conn) data(r *reader, p []byte, ts time.Time) {
	s := c.streams[r.stream]
	if s != nil && s.ws != nil {
		s.ws.FeedLate(c.parent.Late()) // bytes the connection's hole held
	}
	switch {
	case s == nil || s.ws == nil:
		if s == nil {
			c.skipped(r.side, len(p)) // a stream not followed (opened before the capture, or over the bound)
		} else {
			c.counts.RequestBytes += int64(len(p)) // an ordinary request's body: counted, not decoded
		}
	case s.refused:
		s.ws.StreamAnomaly(wsparse.AnomH2DataAfterRefusal)
		s.ws.StreamSkipped(r.side, len(p))
	case !s.answered && (s.overTotal || c.pending+len(p) > c.maxPending() || !c.holdTotal(s, len(p))):
		// Held bytes of unanswered streams are bounded per connection,
		// not per stream: a thousand streams would hold a thousand times
		// --max-pending; and with those of every connection
		// (--max-pending-total): past it, the stream's bytes are skipped
		// until it is answered.
		s.ws.StreamAnomaly(wsparse.AnomPendingLimit)
		s.ws.StreamSkipped(r.side, len(p))
	case !s.answered:
		c.pending += len(p)
		s.pending += len(p)
		s.ws.Feed(r.side, p, ts)
	default:
		s.ws.Feed(r.side, p, ts)
	}
}

// endSide records END_STREAM from a side; a stream both sides ended is
// over.
func (c *Conn) endSide(id uint32, side int, ts time.Time) {
	s := c.streams[id]
	if s == nil {
		return
	}
	if !s.ended[side] {
		s.ended[side] = true
		if s.ws != nil {
			s.ws.TCPEnd(side, false, ts)
		}
	}
	if s.ended[0] && s.ended[1] {
		c.finish(id, s, "end_stream", ts)
	}
}

// reset ends a stream by RST_STREAM.
func (c *Conn) reset(id uint32, side int, code uint32, ts time.Time) {
	s := c.streams[id]
	if s == nil {
		return
	}
	if s.ws != nil {
		s.ws.TCPEnd(side, true, ts)
		s.ws.StreamAnomaly(wsparse.AnomH2StreamReset)
	}
	c.finish(id, s, "rst_stream "+ErrCodeName(code), ts)
}

// goAway records a GOAWAY: the streams still open end with the connection.
func (c *Conn) goAway(side int, code uint32) {
	if c.goAwayBy < 0 {
		c.goAwayBy = side
		c.counts.GoAway = ErrCodeName(code)
	}
}

// holdTotal counts n bytes held for stream s in the total of the
// connections' (--max-pending-total), or marks s over it.
func (c *Conn) holdTotal(s *stream, n int) bool {
	if c.parent.HoldPending(n) {
		return true
	}
	s.overTotal = true
	return false
}

// maxPending is the connection's budget of DATA bytes held for streams
// not answered yet: the decoder's --max-pending.
func (c *Conn) maxPending() int {
	if n := c.cfg.Decoder.MaxPending; n > 0 {
		return n
	}
	return 1 << 20
}

// finish ends a stream and forgets it.
func (c *Conn) finish(id uint32, s *stream, how string, ts time.Time) {
	delete(c.streams, id)
	c.pending -= s.pending
	c.parent.ReleasePending(s.pending)
	if s.ws != nil {
		s.ws.EndStream(ts, how)
		return
	}
	if !s.logged {
		s.logged = true
		c.parent.HTTP2Request(s.req)
	}
}

// headersLost handles a header block that could not be decoded: a new
// stream is counted, not followed.
func (c *Conn) headersLost(id uint32, side int, ts time.Time) {
	if side == c.client && c.streams[id] == nil {
		c.counts.Streams++
	}
}

// headers acts on a decoded header block of a HEADERS frame.
func (c *Conn) headers(r *reader, id uint32, fields []hpack.HeaderField, ts time.Time) {
	h := readFields(fields)
	if r.listOver {
		h.anoms |= wsparse.AnomHTTPHeaderTooLong
	}
	s := c.streams[id]
	if r.side == c.client {
		if s != nil {
			return // trailers
		}
		c.counts.Streams++
		if len(c.streams) >= c.cfg.MaxStreams {
			c.counts.NotFollowed++
			c.parent.StreamNotFollowed()
			return
		}
		c.request(id, &h, ts)
		return
	}
	if s == nil || h.status == 0 || h.status/100 == 1 {
		return // a stream not followed, trailers, an interim response
	}
	if s.ws == nil {
		if !s.logged {
			s.req.Status, s.req.RespTS, s.logged = h.status, ts, true
			c.parent.HTTP2Request(s.req)
		}
		return
	}
	s.refused = h.status/100 != 2
	s.answered = true
	c.pending -= s.pending
	c.parent.ReleasePending(s.pending)
	s.pending = 0
	s.ws.StreamResponse(h.status, h.subprotocol, h.extensions, h.anoms, ts)
}

// request opens a stream for a client's request.
func (c *Conn) request(id uint32, h *fields, ts time.Time) {
	s := &stream{req: wsparse.HTTPRequest{TS: ts, Method: cut(h.method), Host: cut(h.authority), URI: cut(h.path)}}
	c.streams[id] = s
	if !strings.EqualFold(h.protocol, "websocket") {
		c.counts.Requests++
		return
	}
	// An extended CONNECT (RFC 8441 §4): a WebSocket.
	c.counts.WebSockets++
	an := h.anoms | c.anoms
	if !c.connectOK {
		an |= wsparse.AnomH2ConnectWithoutSetting
	}
	if h.method != "CONNECT" {
		an |= wsparse.AnomH2ProtocolNotConnect
	}
	if h.scheme == "" || h.path == "" {
		an |= wsparse.AnomH2PseudoMissing
	}
	hs := &wsparse.Handshake{RequestTS: ts, Method: h.method, URI: h.path, HTTPVersion: "HTTP/2", Host: h.authority,
		Origin: h.origin, UserAgent: h.userAgent, Version: h.version, OfferedProtocols: h.protocols,
		OfferedExtensions: h.offered, TLS: c.parent.TLS(), Protocol: "websocket", Anomalies: an}
	addr := c.parent.Addr
	s.ws = wsparse.NewStreamConn(wsparse.StreamID(c.parent.ID, id), addr, c.client, c.cfg.Decoder, c.sink, hs)
	s.ws.SetEncapID(c.parent.EncapID())
	s.ws.SetInput(c.parent.Input())
	s.ws.Carried(ts)
}

// maxKept bounds each string an ordinary request keeps while its stream is
// open: a thousand open streams with 64 KiB paths would otherwise hold
// 64 MB.
const maxKept = 256

// cut returns v cut to maxKept bytes, copied (not holding a longer string).
func cut(v string) string {
	if len(v) <= maxKept {
		return v
	}
	return strings.Clone(v[:maxKept])
}

// fields is what the decoder reads of a header list.
type fields struct {
	method, scheme, path, authority, protocol string
	status                                    int
	origin, userAgent, version                string
	protocols, offered                        string // sec-websocket-protocol, -extensions (request)
	subprotocol, extensions                   string // the same (response)
	anoms                                     wsparse.Anomalies
}

// readFields picks the fields the decoder needs, and flags those HTTP/2
// forbids on a WebSocket (RFC 8441 §5, RFC 9113 §8.2.2).
func readFields(list []hpack.HeaderField) fields {
	var h fields
	for _, f := range list {
		switch f.Name {
		case ":method":
			h.method = f.Value
		case ":scheme":
			h.scheme = f.Value
		case ":path":
			h.path = f.Value
		case ":authority":
			h.authority = f.Value
		case ":protocol":
			h.protocol = f.Value
		case ":status":
			h.status, _ = strconv.Atoi(f.Value)
		case "origin":
			h.origin = f.Value
		case "user-agent":
			h.userAgent = f.Value
		case "sec-websocket-version":
			h.version = f.Value
		case "sec-websocket-protocol":
			h.protocols, h.subprotocol = join(h.protocols, f.Value), join(h.subprotocol, f.Value)
		case "sec-websocket-extensions":
			h.offered, h.extensions = join(h.offered, f.Value), join(h.extensions, f.Value)
		case "sec-websocket-key", "sec-websocket-accept", "upgrade", "connection":
			h.anoms |= wsparse.AnomH2ForbiddenHeader
		}
	}
	return h
}

// join appends a field's value to a comma-separated list (a field sent
// more than once).
func join(list, v string) string {
	if list == "" {
		return v
	}
	return list + ", " + v
}

// ErrCodeName returns the name of an HTTP/2 error code (RFC 9113 §7).
func ErrCodeName(code uint32) string {
	names := [...]string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
		"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
		"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}
	if int(code) < len(names) {
		return names[code]
	}
	return "0x" + strconv.FormatUint(uint64(code), 16)
}
