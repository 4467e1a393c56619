package wsparse

import (
	"time"

	"github.com/wsdump/wsdump/httpfb"
)

// Fallback marks a Message that a SockJS or Engine.IO HTTP fallback
// transport carried (Config.Fallback), on the TCP connection of its
// request: the caller joins a session's connections into one conversation.
// A Message with Request set carries no data: it reports one HTTP request
// of the session and its response.
type Fallback struct {
	Proto     string // httpfb.SockJS or httpfb.EngineIO
	Session   string // the session's name (SockJS {prefix}/{server}/{session}, Engine.IO sid)
	Transport string // the carrier (xhr-streaming, xhr-polling, eventsource, htmlfile, jsonp-polling, polling)
	Request   *httpfb.Request
	Method    string // the request that carried the message
	URI, Host string
	ReqTS     time.Time // and when it came
	Joined    bool      // on the session's conversation (fbjoin), no longer on its TCP connection
}

// fallbackTap feeds a connection that is not WebSocket to the fallback
// decoder.
type fallbackTap struct {
	c  *Conn
	fb *httpfb.Conn
	// session: it passed on a message or request of a session, so the
	// joiner holds the connection and adds what its End counts.
	session bool
}

func (c *Conn) tap(side int, data []byte, ts time.Time) {
	if !c.cfg.Fallback || c.IsWebSocket() {
		return
	}
	t := c.fallback()
	if t == nil {
		t = &fallbackTap{c: c}
		t.fb = httpfb.NewConn(t)
		c.more().fb = t
	}
	t.fb.Feed(c.dirOf(side) == ClientToServer, data, ts)
}

func (t *fallbackTap) Message(m *httpfb.Msg) {
	d := ServerToClient
	if m.C2S {
		d = ClientToServer
	}
	if m.Session.ID == "" {
		// An Engine.IO handshake poll whose open packet named no sid: no
		// session can take its messages, their bytes are counted.
		t.c.rare(d).SkippedBytes += uint64(len(m.Data))
		t.c.sum.Anomalies |= AnomFallbackFraming
		return
	}
	t.session = true
	op := OpText
	if m.Binary {
		op = OpBinary
	}
	var a Anomalies
	if m.Anomalies&httpfb.AnomFraming != 0 {
		a |= AnomFallbackFraming
	}
	t.c.sink.Message(t.c, &Message{Dir: d, Opcode: op, TS: m.TS, Frames: 1, Len: uint64(len(m.Data)),
		WireLen: uint64(len(m.Data)), Data: m.Data, Anomalies: a,
		Fallback: &Fallback{Proto: m.Session.Proto, Session: m.Session.ID, Transport: m.Session.Transport, Method: m.Method, URI: m.URI, Host: m.Host, ReqTS: m.ReqTS}})
}

func (t *fallbackTap) Request(r *httpfb.Request) {
	if r.Session.ID == "" {
		return
	}
	t.session = true
	cp := *r
	ts := r.EndTS
	if ts.IsZero() {
		ts = r.TS
	}
	t.c.sink.Message(t.c, &Message{Dir: ClientToServer, Opcode: OpText, TS: ts,
		Fallback: &Fallback{Proto: r.Session.Proto, Session: r.Session.ID, Transport: r.Session.Transport, Request: &cp, Method: r.Method, URI: r.URI, Host: r.Host, ReqTS: r.TS}})
}

// tapGap and tapEnd pass lost bytes and the end on. tapEnd counts the
// bytes the fallback decoder could give no request as skipped, and tells
// whether a connection that carried a session's requests lost or skipped
// bytes: its End must reach the joiner, which adds them to its session's
// (Config.EndAll or not); and whether it carried a session's requests at
// all: its End reaches the joiner too, which retires a finished session
// once its connections have ended. One that carried none ends as any HTTP
// connection does (Config.EndAll only).
func (c *Conn) tapGap(side int, n int, ts time.Time) {
	if t := c.fallback(); t != nil {
		t.fb.Gap(c.dirOf(side) == ClientToServer, n, ts)
	}
}

func (c *Conn) tapEnd(ts time.Time) (tell, carried bool) {
	t := c.fallback()
	if t == nil {
		return false, false
	}
	t.fb.End(ts)
	c.dx.fb = nil
	for _, d := range [...]Dir{ClientToServer, ServerToClient} {
		if t.session && c.sum.more != nil {
			// The fallback decoder accounts for every byte it was given:
			// what it could not decode is on its requests (UndecodedBytes)
			// or unowned (below). The frame search after a gap ran over
			// the same bytes and counted them as skipped; the joiner adds
			// both counts to the session, so only the decoder's stays.
			c.sum.more.rare[d].SkippedBytes = 0
		}
		if n := t.fb.Unowned(d == ClientToServer); n > 0 {
			c.rare(d).SkippedBytes += uint64(n)
			c.sum.Anomalies |= AnomFallbackFraming
		}
	}
	if !t.session {
		return false, false
	}
	for _, st := range c.stats() {
		if st.LostBytes > 0 || st.SkippedBytes > 0 {
			return true, true
		}
	}
	return false, true
}

// tapDone reports whether the fallback decoder wants no more bytes.
func (c *Conn) tapDone() bool {
	t := c.fallback()
	return !c.cfg.Fallback || c.IsWebSocket() || t == nil || t.fb.Dead()
}

// FallbackSummary is what a joined fallback session's Summary tells of the
// HTTP that carried it.
type FallbackSummary struct {
	Transport string // its transports, joined with "+" in the order they came (polling+websocket)
	Conns     []int  // the TCP connections that carried its requests (and its WebSocket), in order
	Requests  int    // its HTTP requests
}
