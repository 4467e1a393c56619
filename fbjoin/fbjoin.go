// Package fbjoin joins the records of SockJS and Engine.IO HTTP fallback
// sessions (wsparse.Config.Fallback: Messages with Fallback set, on the TCP
// connections of their requests) into one conversation per session, with
// the Engine.IO WebSocket upgrade of the same sid, so that every view sees
// a session as it sees a WebSocket connection. It sits where records come
// out of the reassembly in order (after the -j merge): the output is the
// same for any number of workers.
package fbjoin

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/wsdump/wsdump/httpfb"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// MaxSessions bounds the sessions held at once. At the bound, a new
// session first retires the session that has been finished longest
// (closed, or its Engine.IO WebSocket ended, and every TCP connection of
// it ended): its End goes out then, not at the end of the capture. When
// none is finished, it ends early the session idle longest (every TCP
// connection of it ended, not closed: End open, counted in
// Dropped.EndedEarly); a later request of that session starts a new
// conversation flagged connection_resumed, as the reassembly does for
// connections ended early. When every session has a connection open, it
// retires the one least recently active, ended early unless finished
// (behind a proxy, a few keep-alive connections carry every session for
// hours). Only when every session has an Engine.IO WebSocket open are new
// sessions not decoded: their messages are counted (Dropped) and said on
// stderr.
const MaxSessions = 1 << 16

// Dropped counts the fallback messages of the sessions past MaxSessions,
// not decoded, and their payload bytes; and their HTTP requests (which
// carry no message of their own: an empty poll, a send's request).
// EndedEarly counts the sessions ended early to make room (not closed).
// AfterEnd counts the bytes lost or passed over on TCP connections whose
// last session was retired while they were open, which no session's End
// counts.
type Dropped struct{ Messages, Bytes, Requests, EndedEarly, AfterEnd int }

// Joiner is a record.Sink in front of next.
type Joiner struct {
	next     record.Sink
	sess     record.Sink    // where the sessions' records go
	in       *record.Record // the Message record being put: its Apps go on with it
	rec      record.Record  // handed to next and sess, reused
	sessions map[string]*session
	order    []*session                 // in start order; retired ones are skipped
	retired  int                        // sessions in order that were retired
	live     map[int]*liveConn          // open TCP connection -> the sessions it carried
	held     map[heldKey]struct{}       // the sessions in live, by connection
	gone     map[int]bool               // held connections that ended (heldEnds)
	done     queue                      // finished sessions, by when their last connection ended
	idle     queue                      // the others without an open connection, likewise
	busy     lru                        // sessions without an open WebSocket, least recently active first
	tombs    map[string]int             // sessions ended early, by key: their place in tombList
	tombList queue                      // their keys, oldest first, at most maxSessions
	ws       map[*wsparse.Conn]*session // Engine.IO WebSocket upgrades joined to a polling session
	tapped   map[int]*session           // TCP connection numbers that carried a session's requests
	// Engine.IO sessions seen only in their handshake poll (no request
	// has named the sid yet): held back, as the client may have given up
	// on them (a reconnect attempt that timed out is no conversation).
	pending   map[string][]held
	heldConn  map[int]string // connection number -> the pending session it carried
	heldOn    map[int]int    // connection number -> the messages held in pending it carried
	heldEnds  []heldEnd      // their Ends, in order
	replaying bool
	heldBytes int // Data bytes held in pending, at most maxHeldBytes

	maxSessions int // MaxSessions, or SetMaxSessions's
	dropped     Dropped
}

// maxHeld and maxHeldBytes bound what an Engine.IO session's handshake
// polls may hold before a request names its sid (one open packet, as a
// rule): past them the session is started.
const (
	maxHeld      = 64
	maxHeldBytes = 1 << 20
)

// heldEnd is the End of a connection that carried only pending records.
type heldEnd struct {
	c *wsparse.Conn
	s *wsparse.Summary
}

// held is a message of a pending session.
type held struct {
	c *wsparse.Conn
	m wsparse.Message
}

type session struct {
	key       string
	view      *wsparse.Conn
	hs        *wsparse.Handshake
	idx       [2]int
	frames    [2]int
	sum       wsparse.Summary
	conns     []int
	reqs      int
	closed    bool
	wsEnd     *wsparse.Summary
	transport string
	opened    bool          // an o frame or open packet came
	pollLimit time.Duration // Engine.IO: pingInterval + pingTimeout, from the open packet
	open      int           // its TCP connections not ended
	gen       int           // times it went from no open connection to one
	queued    bool          // in done for this gen
	retired   bool
	wsOpen    int      // its Engine.IO WebSockets not ended
	upgraded  bool     // the client sent its upgrade packet (5) on a WebSocket: it polls no more
	prev      *session // in busy, by last activity
	next      *session
	inBusy    bool
}

// New returns a Joiner passing records on to next.
func New(next record.Sink) *Joiner {
	return NewSplit(next, next)
}

// NewSplit returns a Joiner passing the sessions' records to sess and all
// others to next (with -j, the workers decoded the application messages
// of the others; the sessions' decoding is done on sess).
func NewSplit(next, sess record.Sink) *Joiner {
	return &Joiner{next: next, sess: sess, sessions: map[string]*session{}, ws: map[*wsparse.Conn]*session{}, tapped: map[int]*session{},
		pending: map[string][]held{}, heldConn: map[int]string{}, heldOn: map[int]int{}, live: map[int]*liveConn{}, held: map[heldKey]struct{}{}, gone: map[int]bool{}, tombs: map[string]int{}, maxSessions: MaxSessions}
}

// SetMaxSessions sets the bound on sessions held to n (MaxSessions by
// default; n <= 0: MaxSessions), before the first record is put.
func (j *Joiner) SetMaxSessions(n int) {
	if n <= 0 {
		n = MaxSessions
	}
	j.maxSessions = n
}

// Dropped returns what the sessions past the bound carried so far.
func (j *Joiner) Dropped() Dropped { return j.dropped }

// Put joins r's connection's records to their session or passes r on.
// Beat and Negotiated records of a joined Engine.IO WebSocket go on as
// its session's.
func (j *Joiner) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		if s := j.upgrade(r.Conn, r.Handshake); s != nil {
			return
		}
		j.next.Put(r)
	case record.Frame:
		j.frame(r)
	case record.Message:
		if r.Message.Fallback == nil && j.ws[r.Conn] == nil {
			j.next.Put(r) // what message would hand on, its Apps with it
			return
		}
		j.in = r
		j.message(r.Conn, r.Message)
		j.in = nil
	case record.End:
		j.end(r.Conn, r.Summary)
	case record.Beat, record.Negotiated:
		if s := j.ws[r.Conn]; s != nil {
			cp := *r
			cp.Conn, cp.Beat.Conn, cp.Negotiated.Conn = s.view, s.view.ID, s.view.ID
			j.next.Put(&cp)
			return
		}
		j.next.Put(r)
	default:
		j.next.Put(r)
	}
}

// put hands a record to next or sess; a Message record takes the Apps of
// the record being put.
func (j *Joiner) put(to record.Sink, r record.Record) {
	if r.Kind == record.Message && j.in != nil {
		r.Apps, r.Decoded = j.in.Apps, j.in.Decoded
	}
	j.rec = r
	to.Put(&j.rec)
}

// upgrade joins an Engine.IO WebSocket to the polling session of its sid.
func (j *Joiner) upgrade(c *wsparse.Conn, h *wsparse.Handshake) *session {
	_, q, _ := strings.Cut(h.URI, "?")
	sid := param(q, "sid")
	if sid == "" || param(q, "transport") != "websocket" {
		return nil
	}
	key := httpfb.EngineIO + " " + sid
	j.confirm(key, c)
	s := j.sessions[key]
	if s == nil || !h.Upgraded() {
		return nil // a refused upgrade: the session goes on polling, the attempt is a connection of its own
	}
	j.ws[c] = s
	s.wsOpen++
	j.busy.remove(s) // ended with its WebSocket, as a WebSocket connection
	if _, ok := j.held[heldKey{c.ID, s}]; !ok {
		s.conns = append(s.conns, c.ID) // not when its polls came on it too
	}
	delete(j.tapped, c.ID) // its End is the WebSocket's
	j.hold(s, c.ID)
	s.transport = "polling+websocket"
	return s
}

func param(q, key string) string {
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// frame numbers the frames of a WebSocket joined to a session in it;
// any other goes on as it came.
func (j *Joiner) frame(r *record.Record) {
	s := j.ws[r.Conn]
	if s == nil {
		j.next.Put(r) // as it came, not copied
		return
	}
	cp := *r.Frame
	s.frames[cp.Dir]++
	cp.Index = s.frames[cp.Dir]
	j.put(j.next, record.Record{Kind: record.Frame, Conn: s.view, Frame: &cp})
}

func (j *Joiner) message(c *wsparse.Conn, m *wsparse.Message) {
	if s := j.ws[c]; s != nil {
		cp := *m
		cp.Fallback = &wsparse.Fallback{Proto: httpfb.EngineIO, Session: s.key, Transport: httpfb.WebSocket, Joined: true}
		if m.Dir == wsparse.ClientToServer && m.Opcode == wsparse.OpText && string(m.Data) == "5" {
			s.upgraded = true // the client's upgrade packet: polling is over
		}
		j.count(s, &cp)
		j.put(j.next, record.Record{Kind: record.Message, Conn: s.view, Message: &cp})
		return
	}
	fb := m.Fallback
	if fb == nil {
		j.put(j.next, record.Record{Kind: record.Message, Conn: c, Message: m})
		return
	}
	key := fb.Proto + " " + fb.Session
	if fb.Proto == httpfb.EngineIO && j.sessions[key] == nil && !j.replaying {
		h, ok := j.pending[key]
		if !strings.Contains(fb.URI, "sid=") && (ok || len(j.pending) < j.maxSessions) &&
			len(h) < maxHeld && j.heldBytes+len(m.Data) <= maxHeldBytes {
			cp := *m
			cp.Data = append([]byte(nil), m.Data...)
			j.pending[key] = append(h, held{c: c, m: cp})
			j.heldConn[c.ID] = key
			j.heldOn[c.ID]++
			j.heldBytes += len(cp.Data)
			return
		}
		// A request names the sid, or the handshake polls carry more
		// than a given-up attempt would: a session.
		j.confirm(key, c)
	}
	s := j.session(c, m)
	if s == nil {
		// Over MaxSessions, none to retire: not decoded, counted.
		if fb.Request != nil {
			j.dropped.Requests++
		} else {
			j.dropped.Messages++
			j.dropped.Bytes += int(m.WireLen)
		}
		return
	}
	j.busy.touch(s)
	if fb.Request != nil {
		s.reqs++
		if s.sum.Last.Before(m.TS) {
			s.sum.Last = m.TS
		}
		if fb.Request.Anomalies&(httpfb.AnomFraming|httpfb.AnomTruncated|httpfb.AnomInflate) != 0 {
			s.sum.Anomalies |= wsparse.AnomFallbackFraming
		}
		// The bytes its bodies held that were not decoded (a body over
		// 1 MiB, broken framing): counted, as the anomaly says.
		s.sum.Stats[wsparse.ClientToServer].SkippedBytes += uint64(fb.Request.UndecodedC2S)
		s.sum.Stats[wsparse.ServerToClient].SkippedBytes += uint64(fb.Request.UndecodedBytes - fb.Request.UndecodedC2S)
		if fb.Request.Anomalies&httpfb.AnomIncomplete != 0 {
			s.sum.Anomalies |= wsparse.AnomCaptureTruncated
		}
		if r := fb.Request; s.pollLimit > 0 && r.Method == "GET" {
			end := r.RespTS
			if end.IsZero() {
				end = r.EndTS
			}
			if !end.IsZero() && end.Sub(r.TS) > s.pollLimit {
				s.sum.Anomalies |= wsparse.AnomFallbackPollTimeout
			}
		}
		if len(s.sum.Requests) < wsparse.MaxRequestsKept {
			r := fb.Request
			s.sum.Requests = append(s.sum.Requests, wsparse.HTTPRequest{TS: r.TS, Method: r.Method, URI: r.URI, Status: r.Status, RespTS: r.RespTS})
		} else {
			s.sum.MoreRequests++
		}
		return
	}
	cp := *m
	if fb.Proto == httpfb.SockJS && m.Dir == wsparse.ServerToClient && len(m.Data) > 0 && m.Data[0] == 'c' {
		var v []json.RawMessage
		if json.Unmarshal(m.Data[1:], &v) == nil && len(v) == 2 {
			var code uint16
			var reason string
			json.Unmarshal(v[0], &code)
			json.Unmarshal(v[1], &reason)
			s.sum.Close[wsparse.ServerToClient] = wsparse.CloseInfo{TS: m.TS, Code: code, HasCode: true, Reason: reason, Sent: true}
			s.sum.Initiator = wsparse.ServerToClient
			s.closed = true
		}
	}
	j.opening(s, fb.Proto, &cp)
	if fb.Proto == httpfb.EngineIO && cp.Opcode == wsparse.OpText && string(cp.Data) == "1" && !s.closed {
		// An Engine.IO close packet: the session ends there.
		s.sum.Close[cp.Dir] = wsparse.CloseInfo{TS: cp.TS, Sent: true}
		s.sum.Initiator = cp.Dir
		s.closed = true
	}
	f := *fb
	f.Joined = true
	cp.Fallback = &f
	j.count(s, &cp)
	// The frame views list a fallback message as one final frame: what a
	// WebSocket would have carried.
	s.frames[cp.Dir]++
	fr := wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: cp.Opcode, Length: cp.Len}, Dir: cp.Dir, TS: cp.TS,
		Index: s.frames[cp.Dir], MessageOpcode: cp.Opcode, Payload: cp.Data, Anomalies: cp.Anomalies}
	j.put(j.sess, record.Record{Kind: record.Frame, Conn: s.view, Frame: &fr})
	j.put(j.sess, record.Record{Kind: record.Message, Conn: s.view, Message: &cp})
}

// opening notes a session's opening (SockJS o, Engine.IO open packet): a
// second one reuses the session id; an Engine.IO open gives the bound on a
// poll.
func (j *Joiner) opening(s *session, proto string, m *wsparse.Message) {
	if m.Dir != wsparse.ServerToClient || len(m.Data) == 0 || m.Data[0] != 'o' && m.Data[0] != '0' {
		return
	}
	switch {
	case proto == httpfb.SockJS && len(m.Data) == 1 && m.Data[0] == 'o':
	case proto == httpfb.EngineIO && m.Data[0] == '0' && m.Opcode == wsparse.OpText:
		var open struct {
			PingInterval, PingTimeout int64
		}
		if json.Unmarshal(m.Data[1:], &open) == nil && open.PingInterval > 0 {
			s.pollLimit = time.Duration(open.PingInterval+open.PingTimeout) * time.Millisecond
		}
	default:
		return
	}
	if s.opened {
		m.Anomalies |= wsparse.AnomFallbackSessionReused
	}
	s.opened = true
}

// confirm starts a pending Engine.IO session with the records held; c is
// the connection that confirms it.
func (j *Joiner) confirm(key string, c *wsparse.Conn) {
	h, ok := j.pending[key]
	if !ok {
		return
	}
	delete(j.pending, key)
	for i := range h {
		j.heldBytes -= len(h[i].m.Data)
	}
	j.replaying = true
	in := j.in
	j.in = nil // held messages are not the one being put
	for i := range h {
		j.message(h[i].c, &h[i].m)
		delete(j.heldConn, h[i].c.ID)
	}
	j.in, j.replaying = in, false
	for i := range h {
		id := h[i].c.ID
		if j.heldOn[id]--; j.heldOn[id] > 0 {
			continue
		}
		delete(j.heldOn, id)
		if _, ok := j.tapped[id]; ok && j.gone[id] {
			// It ended before a request named its session, and holds
			// nothing more: its End is the session's (Finish passes
			// it over), and nothing comes on it any more. Kept, it
			// held its session (retired or not) for the whole capture.
			delete(j.gone, id)
			delete(j.tapped, id)
		}
	}
}

// count numbers a message in its session and counts it.
func (j *Joiner) count(s *session, m *wsparse.Message) {
	s.idx[m.Dir]++
	m.Index = s.idx[m.Dir]
	st := &s.sum.Stats[m.Dir]
	st.Messages++
	st.Frames += m.Frames
	st.PayloadBytes += m.WireLen
	s.sum.Anomalies |= m.Anomalies
	if s.sum.Last.Before(m.TS) {
		s.sum.Last = m.TS
	}
}

// session returns the session of a fallback record, starting it (and its
// conversation, with a handshake made from the first request) when new.
func (j *Joiner) session(c *wsparse.Conn, m *wsparse.Message) *session {
	fb := m.Fallback
	key := fb.Proto + " " + fb.Session
	s := j.sessions[key]
	if s == nil {
		if len(j.sessions) >= j.maxSessions && !j.retire() {
			return nil
		}
		view := wsparse.NewView(c.ID, c.Addr)
		view.SetClientSide(c.ClientSide())
		view.SetEncapID(c.EncapID())
		view.SetInput(c.Input())
		uri, ts := fb.URI, fb.ReqTS
		s = &session{key: key, view: view, transport: fb.Transport}
		s.hs = &wsparse.Handshake{RequestTS: ts, TS: ts, Method: fb.Method, URI: uri, HTTPVersion: "HTTP/1.1", Host: fb.Host,
			Status: 101, Reason: "fallback " + fb.Transport, Transport: fb.Transport}
		s.sum.First, s.sum.Last = ts, ts
		if _, ok := j.tombs[key]; ok {
			// Ended early, it goes on: decoded afresh.
			s.sum.Anomalies |= wsparse.AnomResumed
			delete(j.tombs, key)
		}
		j.sessions[key] = s
		j.order = append(j.order, s)
		j.busy.push(s)
		j.put(j.sess, record.Record{Kind: record.Handshake, Conn: view, Handshake: s.hs})
	}
	if t := j.tapped[c.ID]; t != s {
		j.tapped[c.ID] = s
		if _, ok := j.held[heldKey{c.ID, s}]; !ok {
			// Listed once: sessions taking turns on a keep-alive
			// connection listed it again at each turn.
			s.conns = append(s.conns, c.ID)
		}
		j.hold(s, c.ID)
	}
	switch {
	case strings.HasSuffix(fb.Transport, "-send") || strings.Contains(s.transport, fb.Transport):
		// The client's sends ride beside the session's transport.
	case strings.HasSuffix(s.transport, "-send"):
		s.transport = fb.Transport
	default:
		s.transport += "+" + fb.Transport
	}
	return s
}

func (j *Joiner) end(c *wsparse.Conn, sum *wsparse.Summary) {
	defer j.release(c.ID) // once what it ends is known (a WebSocket's end)
	if s := j.ws[c]; s != nil {
		s.wsEnd = keptSummary(sum)
		delete(j.ws, c)
		if s.wsOpen--; s.wsOpen == 0 && !s.retired {
			j.busy.push(s)
		}
		return
	}
	if _, ok := j.heldConn[c.ID]; ok && sum.End == wsparse.EndNotWebSocket {
		// It carried only a handshake poll so far: held until the
		// session is confirmed (and swallowed) or the capture ends
		// (passed on as the HTTP connection it was). An End for the
		// joiner only (no view shows it) is not kept: Finish would drop
		// it, and a capture of days holds one per attempt given up.
		if !sum.JoinOnly {
			if len(j.heldEnds) > 2*len(j.gone)+1024 {
				// Drop those whose sessions were confirmed since.
				kept := j.heldEnds[:0]
				for _, e := range j.heldEnds {
					if j.gone[e.c.ID] {
						kept = append(kept, e)
					}
				}
				clear(j.heldEnds[len(kept):])
				j.heldEnds = kept
			}
			j.heldEnds = append(j.heldEnds, heldEnd{c, keptSummary(sum)})
		}
		j.gone[c.ID] = true
		return
	}
	if s, ok := j.tapped[c.ID]; ok && sum.End == wsparse.EndNotWebSocket {
		delete(j.tapped, c.ID)
		if sum.JoinEndOnly {
			return // only that it ended
		}
		// A connection of a session: the session's row tells, with the
		// bytes the connection lost or passed over and its anomalies.
		counted := uint64(0)
		for d := range sum.Stats {
			s.sum.Stats[d].LostBytes += sum.Stats[d].LostBytes
			s.sum.Stats[d].SkippedBytes += sum.Stats[d].SkippedBytes
			counted += sum.Stats[d].LostBytes + sum.Stats[d].SkippedBytes
		}
		s.sum.Anomalies |= sum.Anomalies
		if s.retired {
			// Its last session was ended (at the bound) while it was
			// open: its bytes are in no session's counts, but here.
			j.dropped.AfterEnd += int(counted)
			return
		}
		// Bytes counted for the session came until the connection's
		// end: the session's end is no earlier.
		if counted > 0 && sum.Last.After(s.sum.Last) {
			s.sum.Last = sum.Last
		}
		return
	}
	if sum.JoinOnly {
		return // ended for a session that did not take it: no view's
	}
	j.put(j.next, record.Record{Kind: record.End, Conn: c, Summary: sum})
}

// keptSummary copies an End's summary to be kept past the call: with what
// it points to that its sender reuses once End returns (wsparse.Sink: the
// decoder its Summary and rebuilt handshake, a -j worker's chunk the TLS
// layer), the handshake, the TLS layer and the HTTP/2 counts.
func keptSummary(sum *wsparse.Summary) *wsparse.Summary {
	cp := *sum
	if h := sum.Handshake; h != nil {
		hc := *h
		cp.Handshake = &hc
	}
	if t := sum.TLS; t != nil {
		tc := *t
		cp.TLS = &tc
		if cp.Handshake != nil && cp.Handshake.TLS == t {
			cp.Handshake.TLS = &tc
		}
	}
	if x := sum.HTTP2; x != nil {
		xc := *x
		cp.HTTP2 = &xc
	}
	return &cp
}

// Finish ends every session not yet retired, in the order they started.
// Call it after the reassembly has finished.
func (j *Joiner) Finish() {
	for _, s := range j.order {
		if !s.retired {
			j.endSession(s)
		}
	}
	j.order, j.retired = nil, 0
	clear(j.sessions)
	clear(j.live)
	clear(j.held)
	clear(j.tombs)
	j.done, j.idle, j.tombList, j.busy = queue{}, queue{}, queue{}, lru{}
	// Sessions that never went past their handshake poll: their
	// connections end as the HTTP connections they were, in order.
	for _, e := range j.heldEnds {
		if _, ok := j.tapped[e.c.ID]; !ok && j.gone[e.c.ID] && !e.s.JoinOnly {
			j.put(j.next, record.Record{Kind: record.End, Conn: e.c, Summary: e.s})
		}
	}
	j.heldEnds = nil
	clear(j.gone)
	clear(j.heldOn)
	clear(j.pending)
	j.heldBytes = 0
	clear(j.heldConn)
}
