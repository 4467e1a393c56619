package wsparse

import (
	"net/netip"
	"strconv"
	"time"
)

// WebSockets over HTTP/2 (RFC 8441): the h2 package de-frames the
// connection and hands each extended CONNECT stream's DATA bytes here, to
// a Conn made by NewStreamConn, without an HTTP/1 handshake.

// streamShift places an HTTP/2 stream's number above its connection's in a
// Conn.ID: the ID stays one int that every view keys by, and a view made
// from it alone (NewView, after a parallel merge) still knows the stream.
const streamShift = 32

// StreamID returns the Conn.ID of stream on the connection numbered conn.
func StreamID(conn int, stream uint32) int { return conn | int(uint64(stream)<<streamShift) }

// SplitID returns the connection number and the HTTP/2 stream (0: none) of
// a Conn.ID.
func SplitID(id int) (conn int, stream uint32) {
	return int(uint64(id) & (1<<streamShift - 1)), uint32(uint64(id) >> streamShift)
}

// ConnLabel is how views name a connection: its number, or
// "connection/stream" for a WebSocket in an HTTP/2 stream ("3/5").
func ConnLabel(id int) string { return string(AppendConnLabel(nil, id)) }

// AppendConnLabel appends ConnLabel(id) to b.
func AppendConnLabel(b []byte, id int) []byte {
	conn, stream := SplitID(id)
	if stream == 0 {
		return strconv.AppendInt(b, int64(id), 10)
	}
	b = strconv.AppendInt(b, int64(conn), 10)
	b = append(b, '/')
	return strconv.AppendUint(b, uint64(stream), 10)
}

// Stream returns the HTTP/2 stream the connection is carried in, 0 for a
// TCP connection of its own.
func (c *Conn) Stream() uint32 {
	_, s := SplitID(c.ID)
	return s
}

// NewStreamConn returns a decoder for the WebSocket of one HTTP/2 stream
// (RFC 8441): req is its extended CONNECT (Method, URI from :path, Host
// from :authority, HTTPVersion "HTTP/2", Protocol "websocket", the offers),
// id is StreamID(connection, stream), clientSide the side that sent the
// connection preface. Its bytes are DATA payloads (Feed), held until
// StreamResponse accepts the stream; END_STREAM is TCPEnd(side, false),
// RST_STREAM TCPEnd(side, true); EndStream ends it.
func NewStreamConn(id int, addr [2]netip.AddrPort, clientSide int, cfg Config, sink Sink, req *Handshake) *Conn {
	c := NewConn(id, addr[0], addr[1], cfg, sink)
	c.clientSide = int8(clientSide)
	req.TS = req.RequestTS
	if !deflateOffersValid(req.OfferedExtensions) {
		req.Anomalies |= AnomDeflateParamsInvalid
	}
	req.compact()
	c.hs = req
	if req.TLS != nil {
		// The TLS layer of the HTTP/2 connection, updated in place: its
		// summary says it, as a wss connection's does (until session 39
		// the conn record had no tls, the handshake record only the
		// TLS layer as its preface left it).
		c.SetTLS(req.TLS)
	}
	c.upgrading = true
	c.half[0].mode, c.half[1].mode = modeAwait, modeAwait
	return c
}

// StreamResponse takes the server's response HEADERS: a 2xx status accepts
// the WebSocket (RFC 8441 §5), and the DATA bytes held so far are decoded
// as frames; any other refuses it, and later DATA is not decoded. anoms are
// the rules the response broke (h2 ones).
func (c *Conn) StreamResponse(status int, subprotocol, extensions string, anoms Anomalies, ts time.Time) {
	if c.ended || c.hs == nil || !c.upgrading {
		return
	}
	c.upgrading = false
	hs := c.hs
	hs.TS, hs.Status = ts, status
	hs.Subprotocol, hs.Extensions = subprotocol, extensions
	hs.Anomalies |= anoms
	ok := status/100 == 2
	if ok {
		hs.negotiate()
	} else {
		hs.Anomalies |= AnomUpgradeRefused
	}
	hs.compact()
	c.sink.Handshake(c, hs)
	c.keepHandshake()
	for side := range c.half {
		h := &c.half[side]
		pending := h.httpBuf()
		h.dropHTTP()
		if !ok {
			c.StreamSkipped(side, len(pending))
			h.mode = modeIgnore
			continue
		}
		c.ws = true
		h.mode = modeWS
		if len(pending) > 0 {
			c.feedFrames(side, pending, ts)
		}
	}
}

// StreamNotFollowed counts a stream of an HTTP/2 connection not followed
// because as many as it follows at once were open (LimitHits.H2Streams),
// and flags the connection h2_streams_over_limit: its End is reported
// with or without Config.EndAll, so that a record says so.
func (c *Conn) StreamNotFollowed() {
	c.hit().H2Streams++
	c.sum.Anomalies |= AnomH2StreamsOverLimit
}

// StreamSkipped counts n bytes of a side's DATA that were not decoded (a
// refused stream's, or ones over the pending limit).
func (c *Conn) StreamSkipped(side, n int) {
	if n > 0 {
		c.rare(c.dirOf(side)).SkippedBytes += uint64(n)
	}
}

// StreamLost counts n bytes of a side the capture lost (an HTTP/2
// connection's: which streams they belonged to is unknown).
func (c *Conn) StreamLost(side, n int) {
	if n > 0 {
		c.rare(c.dirOf(side)).LostBytes += uint64(n)
	}
}

// StreamCut stops decoding a side of a stream whose bytes can no longer be
// told apart (the HTTP/2 connection lost its frame boundaries): a frame
// or message under way is reported cut short.
func (c *Conn) StreamCut(side int) {
	if !c.ended {
		c.ignore(side)
	}
}

// StreamAnomaly adds an anomaly to the stream's handshake (and so to its
// summary).
func (c *Conn) StreamAnomaly(a Anomalies) {
	if c.hasHS() {
		c.hsAnomaly(a)
	} else {
		c.sum.Anomalies |= a
	}
}

// EndStream ends a stream's WebSocket as End does; how says how the
// stream ended (Summary.StreamEnd).
func (c *Conn) EndStream(ts time.Time, how string) { c.endWith(ts, "", how, nil) }

// Carried records that the connection's bytes, at ts, went to an HTTP/2
// decoder rather than to Feed: its first and last times.
func (c *Conn) Carried(ts time.Time) {
	if c.sum.First.IsZero() {
		c.sum.First = ts
	}
	c.sum.advance(ts, c.late)
}

// HTTP2Request lists an ordinary request of an HTTP/2 connection (the
// first MaxRequestsKept; the rest are counted) for its summary.
func (c *Conn) HTTP2Request(r HTTPRequest) {
	ex := c.exchange()
	if len(ex.log) < MaxRequestsKept {
		ex.log = append(ex.log, r)
	} else {
		ex.more++
	}
}

// EndHTTP2 ends an HTTP/2 connection as End does, with its counts
// (Summary.HTTP2, reported with Config.EndAll).
func (c *Conn) EndHTTP2(ts time.Time, n HTTP2Counts, anoms Anomalies) {
	c.sum.Anomalies |= anoms
	c.endWith(ts, "", "", &n)
}
