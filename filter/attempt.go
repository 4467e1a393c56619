package filter

import (
	"github.com/wsdump/wsdump/wsparse"
)

// attemptFields are the fields a connection that never reached WebSocket
// has for -Y (a refused or unanswered connect, a connection closed before
// any request, an HTTP request before an upgrade): what its connection
// and its first request say, no frame, message or handshake field.
var attemptFields = map[string]bool{"type": true, "conn": true, "stream": true, "ts": true, "time": true,
	"client": true, "server": true, "host": true, "uri": true, "encap": true, "vlan": true, "vni": true, "file": true}

// AttemptSelected reports whether the spec selects a connection that
// never reached WebSocket, by its End (s.End wsparse.EndNotWebSocket):
// lint's reconnect groups are linted when one of their attempts is
// selected. Nothing else of such a connection passes the filter, so it
// is decided here, on its End alone, and Put is not called.
//
// The connection selectors apply to it as to a WebSocket connection: its
// number (Conns); Hosts by either endpoint's IP address, else the Host of
// its first request or, when it sent none, the server's address
// ("127.0.0.1:47367", as conns' URL column names a group of bare
// connects); Paths by its requests' URIs (a bare connect has none: not
// selected). The time range by the connection's span, as a summary. The
// record selectors (Dirs, Opcodes, Grep) select frames and messages and
// leave connections alone, so they pass it, as they pass a WebSocket
// connection's End. Expr is tried on the fields it has (attemptFields)
// when it reads no other; one that reads a field of frames, messages or
// handshakes (dir, opcode, status...) selects records, not connections,
// and passes it. Past Count nothing is selected.
func (f *Filter) AttemptSelected(c *wsparse.Conn, s *wsparse.Summary) bool {
	if f.full() {
		return false
	}
	if len(f.spec.Conns) > 0 && !contains(f.spec.Conns, connOf(c.ID)) {
		return false
	}
	var req *wsparse.HTTPRequest
	if len(s.Requests) > 0 {
		req = &s.Requests[0]
	}
	if len(f.spec.Hosts) > 0 && !f.attemptHostMatches(c, req) {
		return false
	}
	if len(f.spec.Paths) > 0 && !attemptPathMatches(f.spec.Paths, s.Requests) {
		return false
	}
	if f.spec.Since.Set && s.Last.Before(f.spec.Since.at(f.origin)) {
		return false
	}
	if f.spec.Until.Set && s.First.After(f.spec.Until.at(f.origin)) {
		return false
	}
	if req != nil {
		v := HandshakeFields{all: req.Host + req.URI, hostN: len(req.Host), uriN: len(req.URI)}
		return f.connExpr(c, s, &v)
	}
	return f.connExpr(c, s, nil)
}

// ConnSelected reports whether Expr, when it reads only the fields a
// connection has (attemptFields), selects a WebSocket connection by its
// End (its handshake's host and uri, its start as ts and time), as
// AttemptSelected selects an attempt that never reached WebSocket: lint
// judges the connections and groups it selects. An expression that
// reads any other field selects records, and passes every End.
func (f *Filter) ConnSelected(c *wsparse.Conn, s *wsparse.Summary) bool {
	if s.Handshake == nil {
		return f.connExpr(c, s, nil)
	}
	v := FieldsOf(s.Handshake)
	return f.connExpr(c, s, &v)
}

// connExpr tries Expr on a connection's fields when it reads no other.
func (f *Filter) connExpr(c *wsparse.Conn, s *wsparse.Summary, hf *HandshakeFields) bool {
	x := f.spec.Expr
	if x == nil || !x.OnAttempts() {
		return true
	}
	env := f.scratch()
	f.common(env, "conn", c, s.First, hf)
	delete(env, "subprotocol")
	return x.match(&f.vm, env)
}

// OnAttempts reports whether the expression reads only fields that a
// connection that never reached WebSocket has (attemptFields).
func (e *Expr) OnAttempts() bool {
	if e.UsesConn || e.names["$env"] {
		return false
	}
	for n := range e.names {
		if !attemptFields[n] {
			return false
		}
	}
	return true
}

// attemptHostMatches is hostMatches for a connection that never reached
// WebSocket: a name is matched with its request's Host, or, when it sent
// no request, with the server's address as if it were its Host
// ("10.0.0.2:8080": a glob without a port matches it too, "10.0.0.?").
func (f *Filter) attemptHostMatches(c *wsparse.Conn, req *wsparse.HTTPRequest) bool {
	client, server := c.Client(), c.Server()
	h := wsparse.Handshake{}
	switch {
	case req != nil && req.Host != "":
		h.Host = req.Host
	case server.IsValid():
		h.Host = server.String()
	}
	return f.hostMatches(client, server, &h)
}

func attemptPathMatches(paths []string, reqs []wsparse.HTTPRequest) bool {
	for _, r := range reqs {
		for _, p := range paths {
			if pathMatch(p, r.URI) {
				return true
			}
		}
	}
	return false
}
