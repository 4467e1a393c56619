package fbjoin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/httpfb"
	"github.com/wsdump/wsdump/wsparse"
)

// sockjs gives j a SockJS session s on c: its o frame and poll at sec,
// and its c frame when closed.
func sockjs(j joinerWS, c *wsparse.Conn, s string, sec int, closed bool) {
	j.Message(c, msg(wsparse.ServerToClient, s, httpfb.SockJS, httpfb.XHRPolling, "o", sec))
	j.Message(c, req(s, httpfb.SockJS, httpfb.XHRPolling, "POST", sec, sec))
	if closed {
		j.Message(c, msg(wsparse.ServerToClient, s, httpfb.SockJS, httpfb.XHRPolling, `c[3000,"Go away!"]`, sec))
		j.Message(c, req(s, httpfb.SockJS, httpfb.XHRPolling, "POST", sec, sec))
	}
}

func endHTTP(j joinerWS, c *wsparse.Conn) {
	j.End(c, &wsparse.Summary{End: wsparse.EndNotWebSocket, JoinOnly: true, JoinEndOnly: true})
}

// wantEnds checks r's End lines and handshakes against want, in order.
func wantEnds(t *testing.T, r *rec, want []string) {
	t.Helper()
	if got := ends(r); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// ends lists r's End lines and handshakes, in order.
func ends(r *rec) string {
	var out []string
	for _, l := range r.out {
		if strings.Contains(l, " end ") || strings.Contains(l, " handshake ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestFinishedRetiredAtBound: at the session bound, a new session retires
// the sessions that closed and whose connections all ended (their Ends
// going out then) and is decoded: on a long capture, every session past
// MaxSessions was counted as dropped, not decoded.
func TestFinishedRetiredAtBound(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 2
	for i, s := range []string{"A", "B", "C", "D"} {
		c := conn(i + 1)
		sockjs(j, c, s, i, true)
		endHTTP(j, c)
	}
	j.Finish()
	if d := j.Dropped(); d != (Dropped{}) {
		t.Errorf("dropped %+v, want nothing", d)
	}
	want := []string{
		"1 handshake GET /u/?sid=A xhr-polling",
		"2 handshake GET /u/?sid=B xhr-polling",
		"1 end clean  xhr-polling conns [1] requests 2",
		"3 handshake GET /u/?sid=C xhr-polling",
		"2 end clean  xhr-polling conns [2] requests 2",
		"4 handshake GET /u/?sid=D xhr-polling",
		"3 end clean  xhr-polling conns [3] requests 2",
		"4 end clean  xhr-polling conns [4] requests 2",
	}
	wantEnds(t, r, want)
	if len(j.sessions) != 0 || len(j.order) != 0 || len(j.live) != 0 {
		t.Errorf("after Finish: %d sessions, %d in order, %d live connections", len(j.sessions), len(j.order), len(j.live))
	}
}

// TestBusyRetired: at the bound with every session's connection open
// (a proxy's keep-alive connections carry them all), the session least
// recently active is retired: a finished one with its End clean, one not
// finished ended early (End open, counted). Sessions with an Engine.IO
// WebSocket open are not: when every session held has one, a new
// session is counted as dropped. New sessions were all dropped once every
// session had a connection open, for the rest of the capture.
func TestBusyRetired(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 4
	c1, c2, c3, c5, c6 := conn(1), conn(2), conn(3), conn(5), conn(6)
	sockjs(j, c1, "A", 0, true)  // closed, its connection open
	sockjs(j, c2, "B", 1, false) // not closed, its connection open
	sockjs(j, c3, "C", 2, false)
	// An Engine.IO session whose WebSocket is open, its polling ended.
	j.Message(c5, msg(wsparse.ServerToClient, "E", httpfb.EngineIO, httpfb.Polling, `0{"sid":"E"}`, 3))
	j.Message(c5, req("E", httpfb.EngineIO, httpfb.Polling, "GET", 3, 3))
	j.Handshake(c6, &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket&sid=E", Status: 101})
	endHTTP(j, c5)
	// B is active again: C is now the least recently active but A.
	j.Message(c2, req("B", httpfb.SockJS, httpfb.XHRPolling, "POST", 4, 4))
	sockjs(j, conn(7), "F", 5, false) // retires A
	sockjs(j, conn(8), "G", 6, false) // ends C early
	sockjs(j, c3, "C", 7, false)      // ends B early; C goes on, flagged
	if d := j.Dropped(); d != (Dropped{EndedEarly: 2}) {
		t.Errorf("dropped %+v, want B and C ended early", d)
	}
	want := []string{
		"1 handshake GET /u/?sid=A xhr-polling",
		"2 handshake GET /u/?sid=B xhr-polling",
		"3 handshake GET /u/?sid=C xhr-polling",
		"5 handshake GET /u/?sid=E polling",
		"1 end clean  xhr-polling conns [1] requests 2",
		"7 handshake GET /u/?sid=F xhr-polling",
		"3 end open  xhr-polling conns [3] requests 1",
		"8 handshake GET /u/?sid=G xhr-polling",
		"2 end open  xhr-polling conns [2] requests 2",
		"3 handshake GET /u/?sid=C xhr-polling",
	}
	wantEnds(t, r, want)
	// The bytes a connection lost after its last session was retired
	// are counted: no session's End has them.
	var lost wsparse.Summary
	lost.End, lost.JoinOnly = wsparse.EndNotWebSocket, true
	lost.Stats[wsparse.ClientToServer].LostBytes, lost.Stats[wsparse.ServerToClient].SkippedBytes = 30, 7
	j.End(c1, &lost)
	if d := j.Dropped(); d.AfterEnd != 37 {
		t.Errorf("dropped %+v, want A's connection's 37 bytes after A's End", d)
	}
}

// eio gives j an Engine.IO session s polled on c at sec, upgraded to a
// WebSocket on ws (left open).
func eio(j joinerWS, c, ws *wsparse.Conn, s string, sec int) {
	j.Message(c, msg(wsparse.ServerToClient, s, httpfb.EngineIO, httpfb.Polling, `0{"sid":"`+s+`"}`, sec))
	j.Message(c, req(s, httpfb.EngineIO, httpfb.Polling, "GET", sec, sec))
	j.Handshake(ws, &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket&sid=" + s, Status: 101})
}

// TestWebSocketSessionsNotRetired: a session with its Engine.IO WebSocket
// open is never retired (the WebSocket's records go on as the session's):
// when every session held has one, a new session is not decoded, counted.
// Once a WebSocket ends, its session goes first.
func TestWebSocketSessionsNotRetired(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 2
	ws := conn(4)
	eio(j, conn(1), conn(2), "E", 0)
	eio(j, conn(3), ws, "F", 1)
	sockjs(j, conn(5), "H", 2, false)
	if d := j.Dropped(); d != (Dropped{Messages: 1, Requests: 1}) {
		t.Errorf("dropped %+v, want H's message and request", d)
	}
	j.End(ws, &wsparse.Summary{End: wsparse.EndClean})
	sockjs(j, conn(6), "I", 3, false)
	if d := j.Dropped(); d != (Dropped{Messages: 1, Requests: 1}) {
		t.Errorf("dropped %+v, want I decoded, F retired", d)
	}
	if got, want := ends(r), "3 end clean  polling+websocket conns [3 4] requests 1\n6 handshake GET /u/?sid=I xhr-polling"; !strings.HasSuffix(got, want) {
		t.Errorf("got\n%s\nwant it to end with F's End and I's handshake\n%s", got, want)
	}
}

// TestRetireOrder: the session finished longest goes first, whatever the
// order the sessions started in; the rest end at Finish in start order.
func TestRetireOrder(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 3
	c1, c2, c3 := conn(1), conn(2), conn(3)
	sockjs(j, c1, "A", 0, true)
	sockjs(j, c2, "B", 1, true)
	sockjs(j, c3, "C", 2, true)
	endHTTP(j, c3)
	endHTTP(j, c1)
	sockjs(j, conn(4), "D", 3, false)
	endHTTP(j, c2)
	sockjs(j, conn(5), "E", 4, false)
	j.Finish()
	want := []string{
		"1 handshake GET /u/?sid=A xhr-polling",
		"2 handshake GET /u/?sid=B xhr-polling",
		"3 handshake GET /u/?sid=C xhr-polling",
		"3 end clean  xhr-polling conns [3] requests 2",
		"4 handshake GET /u/?sid=D xhr-polling",
		"1 end clean  xhr-polling conns [1] requests 2",
		"5 handshake GET /u/?sid=E xhr-polling",
		"2 end clean  xhr-polling conns [2] requests 2",
		"4 end open  xhr-polling conns [4] requests 1",
		"5 end open  xhr-polling conns [5] requests 1",
	}
	wantEnds(t, r, want)
}

// TestSessionAfterRetire: a request naming a retired session (a late poll
// after the c frame, which SockJS servers answer with the c frame again)
// starts a new conversation of the same session id, numbered after its
// connection and decoded; it is neither lost nor joined to the retired one.
func TestSessionAfterRetire(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 1
	c1, c2, c3 := conn(1), conn(2), conn(3)
	sockjs(j, c1, "A", 0, true)
	endHTTP(j, c1)
	sockjs(j, c2, "B", 1, true) // retires A
	endHTTP(j, c2)
	j.Message(c3, msg(wsparse.ServerToClient, "A", httpfb.SockJS, httpfb.XHRPolling, `c[3000,"Go away!"]`, 2)) // retires B
	j.Message(c3, req("A", httpfb.SockJS, httpfb.XHRPolling, "POST", 2, 2))
	j.Finish()
	if d := j.Dropped(); d != (Dropped{}) {
		t.Errorf("dropped %+v, want nothing", d)
	}
	want := []string{
		"1 handshake GET /u/?sid=A xhr-polling",
		"1 end clean  xhr-polling conns [1] requests 2",
		"2 handshake GET /u/?sid=B xhr-polling",
		"2 end clean  xhr-polling conns [2] requests 2",
		"3 handshake GET /u/?sid=A xhr-polling",
		"3 end clean  xhr-polling conns [3] requests 1",
	}
	wantEnds(t, r, want)
	if !strings.Contains(strings.Join(r.out, "\n"), `3 message s2c 1 "c[3000,\"Go away!\"]" xhr-polling`) {
		t.Errorf("the late c frame is not A's second conversation's first message:\n%s", strings.Join(r.out, "\n"))
	}
}

// TestEndOnlyAddsNothing: an End that only says a session's connection
// ended (Summary.JoinEndOnly) adds none of the connection's anomalies to
// the session: without Config.EndAll they were not added before either.
func TestEndOnlyAddsNothing(t *testing.T) {
	r := &sumRec{}
	j := newWS(r)
	c1 := conn(1)
	sockjs(j, c1, "A", 0, false)
	j.End(c1, &wsparse.Summary{End: wsparse.EndNotWebSocket, JoinOnly: true, JoinEndOnly: true, Anomalies: wsparse.AnomHTTPNonconforming})
	j.Finish()
	if len(r.sums) != 1 || r.sums[0].Anomalies != 0 {
		t.Errorf("%d summaries, the session's anomalies %v; want one, none", len(r.sums), r.sums)
	}
}

// TestDoneBounded: a session that goes without a connection and gets one
// again, over and over (a poll per TCP connection), leaves the queue of
// finished sessions bounded.
func TestDoneBounded(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1 := conn(1)
	sockjs(j, c1, "A", 0, true)
	endHTTP(j, c1)
	most := 0
	for i := 2; i < 20000; i++ {
		c := conn(i)
		j.Message(c, req("A", httpfb.SockJS, httpfb.XHRPolling, "POST", 1, 1))
		endHTTP(j, c)
		most = max(most, j.done.len())
	}
	if most > 2000 {
		t.Errorf("done held %d entries for one session", most)
	}
}

// TestIdleEndedEarly: at the bound with no finished session, the session
// idle longest (not closed, every connection ended) ends early, End open,
// counted; a finished one goes first. A later request of one ended early
// starts a new conversation flagged connection_resumed, as a connection
// the reassembly ended early that goes on.
func TestIdleEndedEarly(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 3
	c1, c2, c3, c4, c6 := conn(1), conn(2), conn(3), conn(4), conn(6)
	sockjs(j, c1, "A", 0, false)
	sockjs(j, c2, "B", 1, false)
	sockjs(j, c3, "C", 2, true)
	endHTTP(j, c2)
	endHTTP(j, c1)
	endHTTP(j, c3)
	sockjs(j, c4, "D", 3, false)      // retires C, finished
	sockjs(j, conn(5), "E", 4, false) // ends B early: idle longer than A
	sockjs(j, c6, "B", 5, false)      // ends A early; B goes on
	j.Finish()
	if d := j.Dropped(); d != (Dropped{EndedEarly: 2}) {
		t.Errorf("dropped %+v, want 2 sessions ended early", d)
	}
	want := []string{
		"1 handshake GET /u/?sid=A xhr-polling",
		"2 handshake GET /u/?sid=B xhr-polling",
		"3 handshake GET /u/?sid=C xhr-polling",
		"3 end clean  xhr-polling conns [3] requests 2",
		"4 handshake GET /u/?sid=D xhr-polling",
		"2 end open  xhr-polling conns [2] requests 1",
		"5 handshake GET /u/?sid=E xhr-polling",
		"1 end open  xhr-polling conns [1] requests 1",
		"6 handshake GET /u/?sid=B xhr-polling",
		"4 end open  xhr-polling conns [4] requests 1",
		"5 end open  xhr-polling conns [5] requests 1",
		"6 end open connection_resumed xhr-polling conns [6] requests 1",
	}
	wantEnds(t, r, want)
}

// TestTombsBounded: the keys of the sessions ended early are kept to flag
// their return for at most maxSessions of them.
func TestTombsBounded(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 4
	for i := range 5000 {
		c := conn(i + 1)
		sockjs(j, c, fmt.Sprint(i), i, false)
		endHTTP(j, c)
	}
	if d := j.Dropped(); len(j.tombs) > 4 || j.tombList.len() > 4 || d != (Dropped{EndedEarly: 4996}) {
		t.Errorf("%d tombs, %d in their list, dropped %+v; want at most 4, 4996 ended early", len(j.tombs), j.tombList.len(), d)
	}
	// The most recent ones are flagged when they come back.
	sockjs(j, conn(9999), "4994", 9999, false)
	j.Finish()
	if got := r.out[len(r.out)-1]; !strings.Contains(got, "9999 end open connection_resumed") {
		t.Errorf("last record %q, want the session back flagged", got)
	}
}

// TestBusyBounded: sessions one after another on one keep-alive
// connection that never ends (a proxy's) are retired at the bound, least
// recently active first, and what the joiner holds stays bounded.
func TestBusyBounded(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 4
	c := conn(1)
	for i := range 5000 {
		sockjs(j, c, fmt.Sprint(i), i, i%2 == 0)
		if len(j.sessions) > 4 || len(j.order) > 2048 || len(j.tombs) > 4 || len(j.live[1].ss) > 4+1+64+1 || len(j.held) > 4+1+64+1 {
			t.Fatalf("after %d sessions: %d held, %d in order, %d tombs, %d listed on the connection, %d (connection, session) pairs",
				i+1, len(j.sessions), len(j.order), len(j.tombs), len(j.live[1].ss), len(j.held))
		}
	}
	if d := j.Dropped(); d != (Dropped{EndedEarly: 2498}) {
		t.Errorf("dropped %+v, want the 2 498 sessions not closed of the 4 996 retired ended early", d)
	}
	j.Finish()
	if got := strings.Count(ends(r), " end "); got != 5000 {
		t.Errorf("%d sessions ended, want 5 000", got)
	}
}

// TestTakingTurnsListedOnce: sessions taking turns on the same keep-alive
// connections (a poll of one, a send of the other, over a pool) are
// listed once per connection: the lists grew by one at each turn, for as
// long as the connection stayed open. Once both connections end, the
// sessions have none open and are retired first.
func TestTakingTurnsListedOnce(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 2
	c1, c2 := conn(1), conn(2)
	for i := range 5000 {
		for _, s := range []string{"A", "B"} {
			j.Message(c1, req(s, httpfb.SockJS, httpfb.XHRPolling, "POST", i, i))
			j.Message(c2, req(s, httpfb.SockJS, httpfb.XHRSend, "POST", i, i))
		}
	}
	if a, b := len(j.live[1].ss), len(j.live[2].ss); a != 2 || b != 2 || len(j.held) != 4 {
		t.Errorf("%d and %d sessions listed on the connections, %d pairs; want 2, 2, 4", a, b, len(j.held))
	}
	endHTTP(j, c1)
	endHTTP(j, c2)
	if len(j.live) != 0 || len(j.held) != 0 || j.idle.len() != 2 {
		t.Errorf("%d live connections, %d pairs, %d sessions idle; want 0, 0, 2", len(j.live), len(j.held), j.idle.len())
	}
}

// TestHeldEndsJoinOnlyNotKept: the Ends of connections that carried only
// a handshake poll are kept until Finish only when a view shows them (not
// JoinOnly): one was kept per attempt given up, for the whole capture,
// and dropped at Finish.
func TestHeldEndsJoinOnlyNotKept(t *testing.T) {
	for _, joinOnly := range []bool{true, false} {
		r := &rec{}
		j := newWS(r)
		for i := range 100 {
			c := conn(i + 1)
			sid := fmt.Sprint("T", i)
			m := msg(wsparse.ServerToClient, sid, httpfb.EngineIO, httpfb.Polling, `0{"sid":"`+sid+`"}`, 0)
			m.Fallback.URI = "/socket.io/?EIO=4&transport=polling"
			j.Message(c, m)
			j.End(c, &wsparse.Summary{End: wsparse.EndNotWebSocket, JoinOnly: joinOnly})
		}
		if want := map[bool]int{true: 0, false: 100}[joinOnly]; len(j.heldEnds) != want {
			t.Errorf("JoinOnly %v: %d Ends kept, want %d", joinOnly, len(j.heldEnds), want)
		}
		j.Finish()
		if want := map[bool]int{true: 0, false: 100}[joinOnly]; strings.Count(strings.Join(r.out, "\n"), " end ") != want {
			t.Errorf("JoinOnly %v: %d Ends passed on, want %d", joinOnly, strings.Count(strings.Join(r.out, "\n"), " end "), want)
		}
	}
}

// TestConfirmedHeldConnsForgotten: a connection that carried only an
// Engine.IO handshake poll and ended before a request named its sid (the
// client's next poll on another connection) is forgotten once the session
// is confirmed: it was kept ended (gone), tapped (holding its session,
// retired or not) and its End held until Finish, one per session for the
// whole capture. One that carries another session's handshake poll still
// is not (that session is started on it as ended); an attempt given up
// ends at Finish as the HTTP connection it was.
func TestConfirmedHeldConnsForgotten(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 4
	poll := func(c *wsparse.Conn, sid string, sec int) {
		m := msg(wsparse.ServerToClient, sid, httpfb.EngineIO, httpfb.Polling, `0{"sid":"`+sid+`"}`, sec)
		m.Fallback.URI = "/socket.io/?EIO=4&transport=polling"
		j.Message(c, m)
	}
	for i := range 3000 {
		c, d := conn(2*i+1), conn(2*i+2)
		sid := fmt.Sprint("T", i)
		poll(c, sid, i)
		j.End(c, &wsparse.Summary{End: wsparse.EndNotWebSocket})
		j.Message(d, req(sid, httpfb.EngineIO, httpfb.Polling, "GET", i, i))
		endHTTP(j, d)
		if len(j.gone) > 0 || len(j.tapped) > 0 || len(j.heldEnds) > 1025 {
			t.Fatalf("after %d sessions: %d connections gone, %d tapped, %d Ends held", i+1, len(j.gone), len(j.tapped), len(j.heldEnds))
		}
	}
	// Two handshake polls on one connection, ended; P is confirmed: Q's
	// connection is still gone, and Q, confirmed, has none open.
	c := conn(10001)
	poll(c, "P", 4000)
	poll(c, "Q", 4000)
	j.End(c, &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.Message(conn(10002), req("P", httpfb.EngineIO, httpfb.Polling, "GET", 4000, 4000))
	endHTTP(j, conn(10002))
	j.Message(conn(10003), req("Q", httpfb.EngineIO, httpfb.Polling, "GET", 4001, 4001))
	endHTTP(j, conn(10003))
	if s := j.sessions[httpfb.EngineIO+" Q"]; s == nil || s.open != 0 {
		t.Errorf("session Q held %v, want it held with no connection open", s != nil)
		if s != nil {
			t.Errorf("%d connections of Q open, want 0", s.open)
		}
	}
	// An attempt given up.
	poll(conn(10004), "G", 4002)
	j.End(conn(10004), &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.Finish()
	out := strings.Join(r.out, "\n")
	if n, m := strings.Count(out, " end not_websocket"), strings.Count(out, " end open "); n != 1 || m != 3002 || !strings.Contains(out, "10004 end not_websocket") {
		t.Errorf("%d HTTP connections ended (want 10004's alone), %d sessions (want 3 002)", n, m)
	}
}

// TestTakingTurnsConnsOnce: a session lists each connection that carried
// it once, in order, however many turns it took on it with other
// sessions: it listed a connection again at each turn (conns [1 2 1 2
// ...], "(10 000 conns, ...)" in the conns table, for 2 connections).
func TestTakingTurnsConnsOnce(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1, c2 := conn(1), conn(2)
	for i := range 5000 {
		for _, s := range []string{"A", "B"} {
			j.Message(c1, req(s, httpfb.SockJS, httpfb.XHRPolling, "POST", i, i))
			j.Message(c2, req(s, httpfb.SockJS, httpfb.XHRSend, "POST", i, i))
		}
	}
	j.Finish()
	want := "1 end open  xhr-polling conns [1 2] requests 10000\n1 end open  xhr-polling conns [1 2] requests 10000"
	if got := ends(r); !strings.HasSuffix(got, want) || len(got) > 500 {
		t.Errorf("got\n%.500s\nwant it to end with\n%s", got, want)
	}
}
