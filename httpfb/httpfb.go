// Package httpfb decodes the HTTP fallback transports of SockJS and
// Engine.IO from the two byte streams of one HTTP/1.1 connection: it parses
// requests and responses (Content-Length, chunked transfer coding, gzip and
// deflate content coding, keep-alive and pipelining, responses matched to
// requests in order), recognises the requests of a SockJS session
// ({prefix}/{server}/{session}/{transport}) or of Engine.IO polling
// (?EIO=..&transport=polling&sid=..), and hands out each application
// message those carry, with the session it belongs to and the transport
// that carried it. Joining a session's connections is the caller's.
//
// Streaming bodies (xhr_streaming, eventsource, htmlfile) are decoded as
// they arrive, one line at a time: no body is held whole. Polling bodies
// are held up to MaxBody. Bytes that cannot be decoded are counted and
// reported as anomalies; Feed never fails.
package httpfb

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Anomalies of the fallback decoding (bits, mapped by the caller).
type Anomalies uint8

const (
	AnomFraming    Anomalies = 1 << iota // a body, chunk or frame that breaks its framing: its bytes were not decoded
	AnomTruncated                        // a body or line over MaxBody: only its head was decoded
	AnomInflate                          // a gzip or deflate body that does not inflate (or inflates past the ratio bound)
	AnomIncomplete                       // the connection ended (or lost bytes) inside a body
)

// MaxBody bounds a polling body, a send body and one streamed line (1 MiB).
const MaxBody = 1 << 20

// MaxInflateRatio bounds the bytes a compressed body inflates to per
// compressed byte, as wsparse.DefaultMaxInflateRatio does for messages.
const MaxInflateRatio = 1100

// Protocols.
const (
	SockJS   = "sockjs"
	EngineIO = "engine.io"
)

// Transports, as named in the messages' transport field.
const (
	XHRStreaming = "xhr-streaming"
	XHRPolling   = "xhr-polling"
	EventSource  = "eventsource"
	HTMLFile     = "htmlfile"
	JSONP        = "jsonp-polling"
	XHRSend      = "xhr-send"   // SockJS c2s messages of the xhr transports (xhr_send)
	JSONPSend    = "jsonp-send" // and of jsonp (jsonp_send)
	Polling      = "polling"
	WebSocket    = "websocket"
)

// Session names the session a request belongs to.
type Session struct {
	Proto     string // SockJS or EngineIO
	ID        string // SockJS: {prefix}/{server}/{session}; Engine.IO: the sid
	Transport string // the carrier (a transport constant)
	Send      bool   // a SockJS xhr_send or jsonp_send request (c2s)
	EIO       int    // Engine.IO protocol version (3 or 4)
}

// Classify returns the fallback session a request URI belongs to, if any.
// ok is false for any other request (SockJS /info, the Engine.IO handshake
// poll without sid is ok with an empty ID).
func Classify(method, uri string) (s Session, ok bool) {
	if method != "GET" && method != "POST" {
		return s, false // a CORS preflight (OPTIONS) carries no messages
	}
	path, query, _ := strings.Cut(uri, "?")
	if eio := queryParam(query, "EIO"); eio != "" {
		if queryParam(query, "transport") != "polling" {
			return s, false
		}
		v, _ := strconv.Atoi(eio)
		return Session{Proto: EngineIO, ID: queryParam(query, "sid"), Transport: Polling, EIO: v, Send: method == "POST"}, true
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := len(segs)
	if n < 3 {
		return s, false
	}
	var tr string
	send := false
	switch segs[n-1] {
	case "xhr_streaming":
		tr = XHRStreaming
	case "xhr":
		tr = XHRPolling
	case "xhr_send":
		tr, send = XHRSend, true
	case "eventsource":
		tr = EventSource
	case "htmlfile":
		tr = HTMLFile
	case "jsonp":
		tr = JSONP
	case "jsonp_send":
		tr, send = JSONPSend, true
	default:
		return s, false
	}
	for _, seg := range segs[n-3 : n-1] {
		if seg == "" || strings.Contains(seg, ".") {
			return s, false
		}
	}
	return Session{Proto: SockJS, ID: "/" + strings.Join(segs[:n-1], "/"), Transport: tr, Send: send}, true
}

func queryParam(query, key string) string {
	for _, kv := range strings.Split(query, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// Msg is one application message of a fallback session: a SockJS frame
// (o, h, a[...], c[...]; the client's JSON array) or an Engine.IO packet.
// Data is only valid during the Handler call.
type Msg struct {
	Session   Session
	C2S       bool
	TS        time.Time
	Data      []byte
	Binary    bool // an Engine.IO binary packet (base64 decoded)
	Anomalies Anomalies
	Method    string // the request that carried it
	URI, Host string
	ReqTS     time.Time // when that request came
}

// Request is one request of a fallback session with its response, reported
// when the response ends (or the connection does).
type Request struct {
	Session        Session
	Method, URI    string
	Host           string
	TS             time.Time
	Status         int       // 0: no response seen
	RespTS, EndTS  time.Time // response head, response end (zero: none)
	Messages       int       // application messages the exchange carried
	Anomalies      Anomalies
	UndecodedBytes int64 // body bytes not decoded (framing broken, over a bound)
	UndecodedC2S   int64 // those of UndecodedBytes that the client sent
}

// Handler receives what a connection carries.
type Handler interface {
	Message(m *Msg)
	Request(r *Request)
}

// Conn decodes one HTTP/1.1 connection. Dir 0 is client to server.
type Conn struct {
	h      Handler
	side   [2]side
	reqs   []*exchange // requests awaiting or receiving their response, oldest first
	dead   bool        // the connection switched protocol (101) or lost sync: nothing more
	forgot int         // responses still to come of requests forgotten (over 64 pipelined)
	// unowned counts the bytes not decoded that no fallback request
	// carries (they came between exchanges, or in one that is no
	// fallback's): 0 the client's, 1 the server's.
	unowned [2]int64
}

// Unowned is how many bytes one side sent that broke HTTP framing where no
// fallback request was there to count them (Request.UndecodedBytes).
func (c *Conn) Unowned(c2s bool) int64 { return c.unowned[dirIndex(c2s)] }

// exchange is one request and its response.
type exchange struct {
	Request
	ok     bool // a fallback session request
	method string
	// done: reported (its response ended, or the connection did). Bytes
	// counted on it later (its request body cut by a gap after the
	// response came, junk after a 204) go to its connection's unowned:
	// it was reported without them.
	done bool
}

// NewConn returns a decoder reporting to h.
func NewConn(h Handler) *Conn { return &Conn{h: h} }

// Active reports whether the connection has carried a fallback request.
func (c *Conn) Active() bool { return c.side[0].seen }

// Dead reports whether nothing more will be decoded nor counted: the
// connection switched protocols, or its client side broke HTTP framing
// before any fallback request. A connection that carried a fallback
// request is never dead while it has bytes: once both sides broke
// framing, what follows is decoded no more but counted (undecodable), as
// the bytes of a side broken alone are.
func (c *Conn) Dead() bool {
	return c.dead || c.side[0].broken && !c.side[0].seen
}

// side is one direction's parser state.
type side struct {
	head    []byte // head being accumulated
	inBody  bool
	body    body
	seen    bool // (client side) a fallback request was seen
	broken  bool
	current *exchange
}

// Feed hands the decoder the next bytes of one direction.
func (c *Conn) Feed(c2s bool, data []byte, ts time.Time) {
	d := 1
	if c2s {
		d = 0
	}
	s := &c.side[d]
	if s.broken && !c.dead {
		c.undecodable(s, c2s, int64(len(data)))
		return
	}
	for len(data) > 0 && !c.dead && !s.broken {
		if s.inBody {
			n, done := s.body.feed(data, ts, c, s.current, c2s)
			data = data[n:]
			if done {
				c.endBody(s, c2s, ts)
			}
			continue
		}
		// Accumulate a head up to its blank line.
		i := headEnd(s.head, data)
		if i < 0 {
			if len(s.head)+len(data) > 64<<10 {
				s.broken = true
				c.undecodable(s, c2s, int64(len(s.head)+len(data)))
				return
			}
			s.head = append(s.head, data...)
			return
		}
		s.head = append(s.head, data[:i]...)
		data = data[i:]
		head := s.head
		s.head = nil // an idle keep-alive connection holds no buffer
		if len(bytes.TrimLeft(head, "\r\n")) == 0 {
			continue
		}
		if c2s {
			c.request(s, bytes.TrimLeft(head, "\r\n"), ts)
		} else {
			c.response(s, bytes.TrimLeft(head, "\r\n"), ts)
		}
	}
	if s.broken && !c.dead && len(data) > 0 {
		// The rest of what came with a head that broke framing: counted
		// as the bytes after it are.
		c.undecodable(s, c2s, int64(len(data)))
	}
}

// headEnd returns how many bytes of data complete the head begun in held
// (through its blank line), or -1.
func headEnd(held, data []byte) int {
	// Look across the boundary: up to 3 bytes of held.
	k := min(3, len(held))
	joined := append(append(make([]byte, 0, k+len(data)), held[len(held)-k:]...), data...)
	skip := 0
	if len(held) == 0 {
		// leading empty lines before a start line are passed over
		for skip < len(joined) && (joined[skip] == '\r' || joined[skip] == '\n') {
			skip++
		}
	}
	i := bytes.Index(joined[skip:], []byte("\n\r\n"))
	j := bytes.Index(joined[skip:], []byte("\n\n"))
	e := -1
	switch {
	case i >= 0 && (j < 0 || i < j):
		e = skip + i + 3
	case j >= 0:
		e = skip + j + 2
	}
	if e < 0 {
		return -1
	}
	return e - k
}

type headFields struct {
	startLine     string
	contentLength int64
	hasLength     bool
	chunked       bool
	encoding      string
	contentType   string
	host          string
	bad           bool
}

func parseFields(head []byte) headFields {
	var f headFields
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	f.startLine = lines[0]
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			f.bad = true
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				f.bad = true
				continue
			}
			f.contentLength, f.hasLength = n, true
		case "transfer-encoding":
			f.chunked = strings.HasSuffix(strings.ToLower(v), "chunked")
		case "content-encoding":
			f.encoding = strings.ToLower(v)
		case "content-type":
			f.contentType = strings.ToLower(v)
		case "host":
			f.host = v
		}
	}
	return f
}

func (c *Conn) request(s *side, head []byte, ts time.Time) {
	f := parseFields(head)
	parts := strings.Fields(f.startLine)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		s.broken = true
		c.undecodable(s, true, int64(len(head)))
		return
	}
	x := &exchange{method: parts[0]}
	x.Method, x.URI, x.TS, x.Host = parts[0], parts[1], ts, f.host
	x.Session, x.ok = Classify(parts[0], parts[1])
	if x.ok {
		s.seen = true
	}
	c.reqs = append(c.reqs, x)
	if len(c.reqs) > 64 { // pipelined far beyond any client: forget the oldest
		old := c.reqs[0]
		c.reqs = c.reqs[1:]
		if old.Status == 0 {
			// Its response, still to come, is passed over, not
			// matched to the next request (another session's).
			c.forgot++
			if old.ok {
				old.Anomalies |= AnomFraming
				c.h.Request(&old.Request)
			}
			old.done = true
		}
	}
	s.current = x
	switch {
	case f.chunked:
		s.body = body{kind: bodyChunked}
	case f.hasLength && f.contentLength > 0:
		s.body = body{kind: bodyLength, left: f.contentLength}
	default:
		c.endRequest(s, x)
		return
	}
	s.body.setup(x, true, f)
	s.inBody = true
}

func (c *Conn) response(s *side, head []byte, ts time.Time) {
	f := parseFields(head)
	parts := strings.Fields(f.startLine)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") {
		s.broken = true
		c.undecodable(s, false, int64(len(head)))
		return
	}
	status, _ := strconv.Atoi(parts[1])
	if status >= 100 && status < 200 && status != 101 {
		return // interim response: the real one follows
	}
	var x *exchange
	if c.forgot > 0 {
		c.forgot-- // the response of a request forgotten: x stays nil
	} else if len(c.reqs) > 0 && c.reqs[0].Status == 0 {
		for _, r := range c.reqs {
			if r.Status == 0 {
				x = r
				break
			}
		}
	}
	if x == nil {
		x = &exchange{}
	}
	x.Status, x.RespTS = status, ts
	s.current = x
	if status == 101 {
		c.dead = true
		c.finish(x, ts)
		return
	}
	switch {
	case x.method == "HEAD" || status == 204 || status == 304:
		c.finish(x, ts)
		return
	case f.chunked:
		s.body = body{kind: bodyChunked}
	case f.hasLength:
		if f.contentLength == 0 {
			c.finish(x, ts)
			return
		}
		s.body = body{kind: bodyLength, left: f.contentLength}
	default:
		s.body = body{kind: bodyUntilClose}
	}
	s.body.setup(x, false, f)
	s.inBody = true
}

// endRequest ends a request's body.
func (c *Conn) endRequest(s *side, x *exchange) {
	s.inBody = false
	s.current = nil
}

// endBody ends the body being read on a side.
func (c *Conn) endBody(s *side, c2s bool, ts time.Time) {
	s.body.end(ts, c, s.current, c2s, false)
	s.inBody = false
	if c2s {
		c.endRequest(s, s.current)
		return
	}
	c.finish(s.current, ts)
	s.current = nil
}

// finish reports an exchange whose response ended and forgets it.
func (c *Conn) finish(x *exchange, ts time.Time) {
	x.EndTS = ts
	for i, r := range c.reqs {
		if r == x {
			c.reqs = append(c.reqs[:i:i], c.reqs[i+1:]...)
			break
		}
	}
	if x.ok {
		c.h.Request(&x.Request)
	}
	x.done = true
}

// undecodable accounts for bytes that break HTTP framing.
func (c *Conn) undecodable(s *side, c2s bool, n int64) {
	if !s.seen && !c.side[0].seen {
		return // not a fallback connection: nothing to say
	}
	x := s.current
	if x == nil && len(c.reqs) > 0 {
		x = c.reqs[len(c.reqs)-1]
	}
	if x == nil || !x.ok || x.done {
		// No request would report them (one made up here was lost, or
		// was reported already).
		c.unowned[dirIndex(c2s)] += n
		return
	}
	x.Anomalies |= AnomFraming
	c.undecoded(x, c2s, n)
}

// undecoded counts n bytes of x that are not decoded, sent by the client
// when c2s; on c's unowned once x was reported.
func (c *Conn) undecoded(x *exchange, c2s bool, n int64) {
	if x.done {
		c.unowned[dirIndex(c2s)] += n
		return
	}
	x.UndecodedBytes += n
	if c2s {
		x.UndecodedC2S += n
	}
}

// Gap says n bytes of a direction were lost: the direction is decoded no
// more (HTTP framing cannot be found again reliably).
func (c *Conn) Gap(c2s bool, n int, ts time.Time) {
	d := 1
	if c2s {
		d = 0
	}
	s := &c.side[d]
	if s.inBody && s.current != nil {
		s.current.Anomalies |= AnomIncomplete
		s.body.end(ts, c, s.current, c2s, true)
		s.inBody = false
	}
	s.broken = true
}

// End finishes the connection: a body under way is decoded as far as it
// came, and the requests still open are reported.
func (c *Conn) End(ts time.Time) {
	for d := range c.side {
		s := &c.side[d]
		if s.inBody && s.current != nil && !s.broken {
			untilClose := s.body.kind == bodyUntilClose
			if !untilClose {
				s.current.Anomalies |= AnomIncomplete
			}
			s.body.end(ts, c, s.current, d == 0, !untilClose)
			s.inBody = false
			if untilClose {
				s.current.EndTS = ts
			}
		}
	}
	for _, x := range c.reqs {
		if x.ok {
			c.h.Request(&x.Request)
		}
		x.done = true
	}
	c.reqs = nil
}
