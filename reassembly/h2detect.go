// HTTP/2 detection in a connection's first bytes (the client preface, the
// server's SETTINGS, ALPN h2, an HTTP/1.1 Upgrade: h2c), decided by
// h2.Router: the stream feeds each side's bytes to the decoder it says.

package reassembly

import (
	"time"

	"github.com/wsdump/wsdump/wsparse"

	"github.com/wsdump/wsdump/h2"
)

// feed hands a side's bytes (decrypted, over TLS) on: to the HTTP/2
// decoder when the connection's first bytes are the client preface (h2c
// with prior knowledge) or TLS chose ALPN "h2", else to conn.
func (s *stream) feed(sd int, data []byte, ts time.Time, alpn string) {
	s.a.feeding = s
	if s.http1 {
		s.conn.Feed(sd, data, ts)
		return
	}
	route := s.router()
	if route == nil {
		route = new(h2.Router)
		s.more().route = route
	}
	tlsClient := -1
	if alpn == "h2" && s.tlsLayer() != nil && !route.Decided() {
		tlsClient = s.tlsLayer().Info().Client
	}
	r := route.Route(sd, data, alpn, tlsClient)
	if r.HTTP1 {
		s.conn.Feed(sd, r.Data[:r.N], ts)
	}
	if r.Open {
		if r.Upgraded {
			s.more().h2 = h2.NewUpgraded(s.conn, r.Client, h2.Config{Decoder: s.a.opts.Decoder}, s.a)
		} else {
			s.more().h2 = h2.NewConn(s.conn, r.Client, h2.Config{Decoder: s.a.opts.Decoder}, s.a)
		}
		if t := s.tlsLayer(); t != nil {
			s.h2Layer().TLSRenegotiations(t.Renegotiations()) // those before its preface, allowed
		}
	}
	if r.HTTP2 {
		s.h2Layer().Feed(sd, r.Data[r.N:], ts)
	}
	// The other side's first bytes, held: after this side's, on the
	// decoder chosen.
	s.feedHeld(ts)
	if route := s.router(); route != nil && route.Settled() {
		// Not HTTP/2, nothing held or watched: the bytes go to conn
		// from now on, and the Router (64 bytes) goes.
		s.dropRouter()
		s.http1 = true
	}
}

// feedHeld feeds the bytes held while it was not known whether the
// connection is HTTP/2 (see feed).
func (s *stream) feedHeld(ts time.Time) {
	route := s.router()
	if route == nil {
		return
	}
	if sd, b, ok := route.Release(); ok {
		s.feed(sd, b, ts, "")
	}
}

// sideSeen says whether a side of the connection being fed has sent any
// packet, bytes or not (wsparse.Shared.SideSeen: a 101 waits for its
// request only if its client was seen).
func (a *Assembler) sideSeen(c *wsparse.Conn, side int) bool {
	s := a.feeding
	return s != nil && s.conn == c && s.firstSet[side]
}
