// Package filter selects records on their way from the decoder to a view:
// a wsparse.Sink in front of another. Selectors come in two kinds.
//
// Connection selectors (Conns, Hosts, Paths) pick connections: every
// record of a connection that does not match is dropped, its handshake and
// summary included.
//
// Record selectors (Dirs, Opcodes, Grep) pick frames and messages. The
// handshake and summary of a selected connection still pass: they have no
// direction or opcode, and they frame what is shown.
//
// The time range (Since, Until) applies to every record by its time; a
// connection summary passes when the connection overlaps the range.
//
// Count stops the output after that many frames (messages with
// CountMessages); past it nothing more passes, except the summaries of
// connections that showed something. Those summaries are whole, as without
// the filter: Done, which lets the caller stop reading, waits for the
// connections shown to end.
package filter

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// Bound is one end of a time range: seconds after the first packet, or an
// absolute time.
type Bound struct {
	Set bool
	Rel time.Duration // when Abs is zero
	Abs time.Time
}

// ParseBound reads "12.5" (seconds after the first packet) or an RFC 3339
// time ("2024-01-19T18:20:23.69Z").
func ParseBound(s string) (Bound, error) {
	if s == "" {
		return Bound{}, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return Bound{}, fmt.Errorf("%q: seconds must not be negative", s)
		}
		return Bound{Set: true, Rel: time.Duration(f * float64(time.Second))}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Bound{}, fmt.Errorf("%q is neither seconds after the first packet nor an RFC 3339 time", s)
	}
	return Bound{Set: true, Abs: t}, nil
}

func (b Bound) at(origin time.Time) time.Time {
	if !b.Abs.IsZero() {
		return b.Abs
	}
	return origin.Add(b.Rel)
}

// ParseOpcode reads an opcode name (cont, text, binary, close, ping, pong)
// or number (0-15, decimal or 0x hex).
func ParseOpcode(s string) (wsparse.Opcode, error) {
	for o := wsparse.Opcode(0); o < 16; o++ {
		if strings.EqualFold(s, o.String()) {
			return o, nil
		}
	}
	if strings.EqualFold(s, "continuation") {
		return wsparse.OpContinuation, nil
	}
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil || n > 15 {
		return 0, fmt.Errorf("%q is not an opcode (cont, text, binary, close, ping, pong or 0-15)", s)
	}
	return wsparse.Opcode(n), nil
}

// Spec is what to select. The zero Spec selects everything.
type Spec struct {
	Conns   []int            // connection numbers
	Dirs    []wsparse.Dir    // directions
	Opcodes []wsparse.Opcode // frame or message opcodes
	// Hosts match the handshake's Host header, or either endpoint's IP
	// address exactly; Paths match the request URI. A pattern with a glob
	// character (* ? [) must match the whole value (path.Match; for a path,
	// with or without its query), any other is a substring. Hosts compare
	// without regard to case. Several patterns: any of them.
	Hosts []string
	Paths []string
	Since Bound
	Until Bound
	// Grep selects text messages whose (inflated) text matches, and the
	// frames of those messages. Binary messages, their frames and control
	// frames never match.
	Grep *regexp.Regexp
	// Expr (-Y) selects frames and messages for which it is true, like
	// the other record selectors (see expr.go for the environment).
	Expr *Expr
	// ConnHealth gives frames and messages their connection's conn.*
	// fields (health known at its end: a first pass over the file).
	ConnHealth func(conn int) *Health
	// Files name the inputs by number (wsparse.Conn.Input): a record's
	// file is its connection's. Nil: no file field (standard input).
	Files         []string
	Count         int  // stop after this many frames (0: no limit)
	CountMessages bool // Count counts messages instead of frames
}

// Validate checks the glob patterns.
func (s *Spec) Validate() error {
	for _, p := range append(append([]string(nil), s.Hosts...), s.Paths...) {
		if isGlob(p) {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("bad pattern %q: %w", p, err)
			}
		}
	}
	if s.Count < 0 {
		return fmt.Errorf("count must not be negative")
	}
	return nil
}

// IsZero reports whether the spec selects everything.
func (s *Spec) IsZero() bool {
	return len(s.Conns) == 0 && len(s.Dirs) == 0 && len(s.Opcodes) == 0 && len(s.Hosts) == 0 &&
		len(s.Paths) == 0 && !s.Since.Set && !s.Until.Set && s.Grep == nil && s.Count == 0 && s.Expr == nil
}

// Filter is a record.Sink that passes the selected records to the next.
type Filter struct {
	spec   Spec
	next   record.Sink
	rec    record.Record // handed to next, reused
	origin time.Time
	conns  map[*wsparse.Conn]*connState
	n      int
	open   int // connections shown that have not ended
	// need: the top-level fields the environments hold (uses), those the
	// expression reads (or Only's); nil: every field. A frame's text (its
	// payload copied), its addresses and time as text, its anomalies'
	// names are made only when read.
	need map[string]bool
	// perConn: a selector needs to know each connection (conns
	// selected, count, grep, the handshake's fields); else each
	// connection's state is every, kept once (selected, no count).
	perConn bool
	every   connState
	env     Env            // scratch
	vm      vm.VM          // Expr's, reused
	hst     HandshakeTable // the open connections' handshake fields
}

// connState is what the filter knows of one connection. It is kept only
// when a selector needs it (perConn): until the connection ends, for
// every connection open at once, so it is small.
type connState struct {
	decided, keep bool
	shown         bool        // something of it passed
	hs            uint32      // host, uri and subprotocol for Expr: a number in hst
	groups        *[2][]group // by direction: data messages waiting for Grep
}

// HandshakeFields are what a frame's or a message's environment takes
// from its connection's handshake, host, uri and subprotocol, in one
// string, kept from the handshake to the connection's end in a
// HandshakeTable: not a copy of the handshake (340 bytes), nor pieces of
// its strings, which would keep whatever they were cut from.
type HandshakeFields struct {
	all         string
	hostN, uriN int
}

// FieldsOf returns h's fields (h not nil).
func FieldsOf(h *wsparse.Handshake) HandshakeFields {
	return HandshakeFields{all: h.Host + h.URI + h.Subprotocol, hostN: len(h.Host), uriN: len(h.URI)}
}

// Host, URI and Subprotocol are the handshake's.
func (h *HandshakeFields) Host() string        { return h.all[:h.hostN] }
func (h *HandshakeFields) URI() string         { return h.all[h.hostN : h.hostN+h.uriN] }
func (h *HandshakeFields) Subprotocol() string { return h.all[h.hostN+h.uriN:] }

// group is the frames of one data message held until the message is
// complete and Grep can be tried on its text.
type group struct {
	frames []wsparse.Frame // copies, payloads included
}

// New returns a filter in front of next. A Message's application
// messages (Apps) pass on with it; TLS records pass as KeepTLS says; Beat
// and Negotiated records pass unfiltered.
func New(next record.Sink, spec Spec) *Filter {
	f := &Filter{spec: spec, next: next, conns: map[*wsparse.Conn]*connState{}}
	if x := spec.Expr; x != nil && !x.Uses("$env") {
		f.need = map[string]bool{}
		for n := range x.names {
			f.need[n] = true
		}
		if x.UsesConn {
			f.need[connField] = true
		}
		f.needEncap()
	}
	f.every = connState{decided: true, keep: true}
	f.perConn = len(spec.Conns) > 0 || len(spec.Hosts) > 0 || len(spec.Paths) > 0 || spec.Count > 0 ||
		spec.Grep != nil || spec.Expr != nil && f.UsesHandshake()
	return f
}

// UsesHandshake reports whether the environments hold fields of a
// connection's handshake (host, uri, subprotocol).
func (f *Filter) UsesHandshake() bool {
	return f.uses("host") || f.uses("uri") || f.uses("subprotocol")
}

// Only makes the environments hold the fields names (jsonl names, dotted
// for a field of an object: app.type, conn.heartbeat.missed) read, at
// their top level, and what every record has; the -e fields of -T fields.
func (f *Filter) Only(names []string) {
	f.need = map[string]bool{}
	for _, n := range names {
		top, _, dotted := strings.Cut(n, ".")
		if top == "conn" && dotted {
			top = connField
		}
		f.need[top] = true
	}
	f.needEncap()
}

// needEncap makes need hold "encap" when it holds vlan or vni, which
// are read from it (encapFields): common asks for one name, not three.
func (f *Filter) needEncap() {
	if f.need["vlan"] || f.need["vni"] {
		f.need["encap"] = true
	}
}

// uses reports whether the environments hold the top-level field name.
func (f *Filter) uses(name string) bool { return f.need == nil || f.need[name] }

// Put passes on the records the spec selects.
func (f *Filter) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		f.Handshake(r.Conn, r.Handshake)
	case record.Frame:
		f.Frame(r.Conn, r.Frame)
	case record.Message:
		f.message(r.Conn, r.Message, r.Apps, r.Decoded)
	case record.End:
		f.End(r.Conn, r.Summary)
	case record.TLS:
		if f.KeepTLS(r.Conn, r.TLS.TS, r.TLS.Client, r.TLS.Server) {
			f.next.Put(r)
		}
	default:
		f.next.Put(r)
	}
}

func (f *Filter) put(r record.Record) {
	f.rec = r
	f.next.Put(&f.rec)
}

// SetOrigin sets the time relative bounds count from: the first packet.
func (f *Filter) SetOrigin(t time.Time) {
	if f.origin.IsZero() {
		f.origin = t
	}
}

// full reports whether Count has been reached: nothing more is shown.
func (f *Filter) full() bool { return f.spec.Count > 0 && f.n >= f.spec.Count }

// Done reports whether Count has been reached and every connection shown
// has ended: the caller may stop reading. Reading on to their ends makes
// their summaries the same as without the filter.
func (f *Filter) Done() bool { return f.full() && f.open == 0 }

// show marks a connection as having shown something.
func (f *Filter) show(st *connState) {
	if !st.shown {
		st.shown = true
		f.open++
	}
}

func (f *Filter) state(c *wsparse.Conn, h *wsparse.Handshake) *connState {
	if !f.perConn {
		return &f.every
	}
	st := f.conns[c]
	if st == nil {
		st = &connState{}
		if f.spec.Grep != nil {
			st.groups = new([2][]group)
		}
		f.conns[c] = st
	}
	if h != nil && st.hs == 0 && f.spec.Expr != nil && f.UsesHandshake() {
		st.hs = f.hst.Add(h)
	}
	if !st.decided {
		st.decided = true
		st.keep = f.connMatches(c, h)
	}
	return st
}

// connMatches applies the connection selectors, with the handshake if the
// connection has one.
func (f *Filter) connMatches(c *wsparse.Conn, h *wsparse.Handshake) bool {
	if len(f.spec.Conns) > 0 && !contains(f.spec.Conns, connOf(c.ID)) {
		return false
	}
	if len(f.spec.Hosts) > 0 && !f.hostMatches(c.Client(), c.Server(), h) {
		return false
	}
	if len(f.spec.Paths) > 0 {
		if h == nil {
			return false
		}
		ok := false
		for _, p := range f.spec.Paths {
			if pathMatch(p, h.URI) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (f *Filter) hostMatches(client, server netip.AddrPort, h *wsparse.Handshake) bool {
	for _, p := range f.spec.Hosts {
		if ip, err := netip.ParseAddr(unbracket(p)); err == nil { // "[::1]" too
			if client.Addr().Unmap() == ip.Unmap() || server.Addr().Unmap() == ip.Unmap() {
				return true
			}
			continue
		}
		if _, err := netip.ParseAddrPort(p); err == nil || !isGlob(p) { // "[::1]:8080" is no glob
			if name, port, ok := hostPort(p); ok {
				host := ""
				if h != nil {
					host = h.Host
				}
				if hostPortMatches(name, port, client, server, host) {
					return true
				}
				continue
			}
		}
		if h != nil && h.Host != "" && match(strings.ToLower(p), strings.ToLower(h.Host)) {
			return true
		}
		if h != nil && isGlob(p) {
			// A glob without a port matches a Host with one.
			if host, _, ok := strings.Cut(h.Host, ":"); ok && !strings.HasPrefix(h.Host, "[") && match(strings.ToLower(p), strings.ToLower(host)) {
				return true
			}
			// A glob with a port matches a Host without one at the
			// server's port, as a name with a port does ('*.example.com:443'
			// a Host example.com to port 443).
			if _, _, ok := hostPort(h.Host); !ok && h.Host != "" && strings.Contains(p, ":") &&
				match(strings.ToLower(p), strings.ToLower(h.Host)+":"+strconv.Itoa(int(server.Port()))) {
				return true
			}
		}
	}
	return false
}

func pathMatch(p, uri string) bool {
	if match(p, uri) {
		return true
	}
	if pathOnly, _, ok := strings.Cut(uri, "?"); ok && isGlob(p) {
		return match(p, pathOnly)
	}
	return false
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func match(p, v string) bool {
	if isGlob(p) {
		ok, _ := path.Match(p, v)
		return ok
	}
	return strings.Contains(v, p)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (f *Filter) inRange(ts time.Time) bool {
	if f.origin.IsZero() {
		f.origin = ts
	}
	if f.spec.Since.Set && ts.Before(f.spec.Since.at(f.origin)) {
		return false
	}
	if f.spec.Until.Set && ts.After(f.spec.Until.at(f.origin)) {
		return false
	}
	return true
}

// KeepTLS reports whether a TLS connection that showed no WebSocket is
// selected: connection number, addresses and time (it has no handshake,
// direction or messages, so a path, record selector or count drops it).
func (f *Filter) KeepTLS(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort) bool {
	if len(f.spec.Paths) > 0 || len(f.spec.Dirs) > 0 || len(f.spec.Opcodes) > 0 || f.spec.Grep != nil || f.spec.Expr != nil || f.full() {
		return false
	}
	if len(f.spec.Conns) > 0 && !contains(f.spec.Conns, connOf(c.ID)) {
		return false
	}
	if len(f.spec.Hosts) > 0 && !f.hostMatches(client, server, nil) {
		return false
	}
	return f.inRange(ts)
}

// Handshake implements wsparse.Sink.
func (f *Filter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	st := f.state(c, h)
	if !st.keep || f.full() || !f.inRange(h.TS) {
		return
	}
	f.show(st)
	f.put(record.Record{Kind: record.Handshake, Conn: c, Handshake: h})
}

// recordMatches applies the record selectors but Grep.
func (f *Filter) recordMatches(dir wsparse.Dir, op, msgOp wsparse.Opcode, ts time.Time) bool {
	if len(f.spec.Dirs) > 0 && !contains(f.spec.Dirs, dir) {
		return false
	}
	if len(f.spec.Opcodes) > 0 && !contains(f.spec.Opcodes, op) && !(op == wsparse.OpContinuation && msgOp != 0 && contains(f.spec.Opcodes, msgOp)) {
		return false
	}
	return f.inRange(ts)
}

// Frame implements wsparse.Sink. With Grep, the frames of a data message
// are held until the message is complete.
func (f *Filter) Frame(c *wsparse.Conn, fr *wsparse.Frame) {
	st := f.state(c, nil)
	if !st.keep {
		return
	}
	if f.spec.Grep == nil {
		if f.full() || !f.recordMatches(fr.Dir, fr.Opcode, fr.MessageOpcode, fr.TS) {
			return
		}
		f.passFrame(c, st, fr)
		return
	}
	g := &st.groups[fr.Dir]
	switch {
	case fr.Opcode == wsparse.OpText || fr.Opcode == wsparse.OpBinary:
		*g = append(*g, group{})
	case fr.Opcode == wsparse.OpContinuation && fr.MessageOpcode != 0 && len(*g) > 0:
	default:
		return // control frames, orphan continuations: never text of a message
	}
	if fr.MessageOpcode != wsparse.OpText && fr.Opcode != wsparse.OpText {
		return // binary: the group only keeps the count of messages in step
	}
	if !f.recordMatches(fr.Dir, fr.Opcode, fr.MessageOpcode, fr.TS) {
		return
	}
	cp := *fr
	cp.Payload = append([]byte(nil), fr.Payload...)
	last := &(*g)[len(*g)-1]
	last.frames = append(last.frames, cp)
}

func (f *Filter) passFrame(c *wsparse.Conn, st *connState, fr *wsparse.Frame) {
	if f.full() {
		return
	}
	if f.spec.Expr != nil && !f.spec.Expr.match(&f.vm, f.frameEnv(f.scratch(), c, fr, f.hst.Get(st.hs))) {
		return
	}
	f.show(st)
	f.put(record.Record{Kind: record.Frame, Conn: c, Frame: fr})
	if !f.spec.CountMessages {
		f.n++
	}
}

// Message implements wsparse.Sink.
func (f *Filter) Message(c *wsparse.Conn, m *wsparse.Message) { f.message(c, m, nil, false) }

// MessageApps passes a message with its application messages on, to
// next's MessageApps if it has one.
func (f *Filter) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	f.message(c, m, apps, true)
}

func (f *Filter) message(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App, withApps bool) {
	st := f.state(c, nil)
	if !st.keep {
		return
	}
	var held []wsparse.Frame
	if f.spec.Grep != nil {
		g := &st.groups[m.Dir]
		if len(*g) > 0 {
			held = (*g)[0].frames
			*g = (*g)[1:]
		}
		if m.Opcode != wsparse.OpText || !f.spec.Grep.Match(m.Data) {
			return
		}
		for i := range held {
			f.passFrame(c, st, &held[i])
		}
	}
	if f.full() || !f.recordMatches(m.Dir, m.Opcode, 0, m.TS) || !f.messageMatches(c, m, f.hst.Get(st.hs), apps) {
		return
	}
	f.show(st)
	switch {
	case withApps:
		f.put(record.Record{Kind: record.Message, Conn: c, Message: m, Apps: apps, Decoded: true})
	default:
		f.put(record.Record{Kind: record.Message, Conn: c, Message: m})
	}
	if f.spec.CountMessages {
		f.n++
	}
}

// End implements wsparse.Sink.
func (f *Filter) End(c *wsparse.Conn, s *wsparse.Summary) {
	st := f.state(c, s.Handshake)
	delete(f.conns, c)
	f.hst.Release(st.hs)
	if st.shown && st != &f.every {
		f.open--
	}
	if !st.keep {
		return
	}
	if f.full() && !st.shown {
		return
	}
	if f.spec.Since.Set && s.Last.Before(f.spec.Since.at(f.origin)) {
		return
	}
	if f.spec.Until.Set && s.First.After(f.spec.Until.at(f.origin)) {
		return
	}
	f.put(record.Record{Kind: record.End, Conn: c, Summary: s})
}

// messageMatches applies Expr to a message: once with each of its
// application messages as app (a SockJS array of STOMP frames matches
// app.type == "ERROR" when one of them is an ERROR), or with no app.
func (f *Filter) messageMatches(c *wsparse.Conn, m *wsparse.Message, h *HandshakeFields, apps []appproto.App) bool {
	if f.spec.Expr == nil {
		return true
	}
	if len(apps) == 0 || !f.spec.Expr.Uses("app") {
		return f.spec.Expr.match(&f.vm, f.messageEnv(f.scratch(), c, m, h, nil))
	}
	for i := range apps {
		if f.spec.Expr.match(&f.vm, f.messageEnv(f.scratch(), c, m, h, &apps[i])) {
			return true
		}
	}
	return false
}

// connOf is the connection number of a Conn.ID: -c N selects every
// WebSocket stream of an HTTP/2 connection N too.
func connOf(id int) int {
	conn, _ := wsparse.SplitID(id)
	return conn
}
