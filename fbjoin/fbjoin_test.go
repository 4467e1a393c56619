package fbjoin

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/httpfb"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

type rec struct{ out []string }

func (r *rec) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	r.out = append(r.out, fmt.Sprintf("%d handshake %s %s %s", c.ID, h.Method, h.URI, h.Transport))
}
func (r *rec) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	r.out = append(r.out, fmt.Sprintf("%d frame %s %d", c.ID, f.Dir, f.Index))
}
func (r *rec) Message(c *wsparse.Conn, m *wsparse.Message) {
	tr := ""
	if m.Fallback != nil {
		tr = m.Fallback.Transport
	}
	r.out = append(r.out, fmt.Sprintf("%d message %s %d %q %s %s", c.ID, m.Dir, m.Index, m.Data, tr, m.Anomalies))
}
func (r *rec) End(c *wsparse.Conn, s *wsparse.Summary) {
	x := ""
	if s.Fallback != nil {
		x = fmt.Sprintf(" %s conns %v requests %d", s.Fallback.Transport, s.Fallback.Conns, s.Fallback.Requests)
	}
	r.out = append(r.out, fmt.Sprintf("%d end %s %s%s", c.ID, s.End, s.Anomalies, x))
}

var t0 = time.Unix(100, 0)

func conn(id int) *wsparse.Conn {
	c := wsparse.NewView(id, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")})
	c.SetClientSide(0)
	return c
}

func msg(dir wsparse.Dir, s, proto, tr, data string, sec int) *wsparse.Message {
	return &wsparse.Message{Dir: dir, Opcode: wsparse.OpText, TS: t0.Add(time.Duration(sec) * time.Second), Frames: 1, Len: uint64(len(data)),
		Data: []byte(data), Fallback: &wsparse.Fallback{Proto: proto, Session: s, Transport: tr, Method: "GET", URI: "/u/?sid=" + s, ReqTS: t0}}
}

func req(s, proto, tr, method string, from, to int) *wsparse.Message {
	m := msg(wsparse.ClientToServer, s, proto, tr, "", to)
	m.Data = nil
	m.Fallback.Request = &httpfb.Request{Method: method, URI: "/u/" + s, TS: t0.Add(time.Duration(from) * time.Second),
		Status: 200, RespTS: t0.Add(time.Duration(to) * time.Second), EndTS: t0.Add(time.Duration(to) * time.Second)}
	return m
}

// TestJoin: a session's records on several TCP connections become one
// conversation numbered after its first connection; the Engine.IO
// WebSocket of the same sid joins it; a second open and an overlong poll
// are flagged; other records pass through.
func TestJoin(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1, c2, c3, c4 := conn(1), conn(2), conn(3), conn(4)
	// The handshake poll names no sid: held until a request names it.
	open, openReq := msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, `0{"sid":"S","pingInterval":1000,"pingTimeout":2000}`, 0),
		req("S", httpfb.EngineIO, httpfb.Polling, "GET", 0, 0)
	open.Fallback.URI, openReq.Fallback.URI = "/u/", "/u/"
	j.Message(c1, open)
	j.Message(c1, openReq)
	if len(r.out) != 0 {
		t.Fatalf("a handshake poll alone made records: %q", r.out)
	}
	j.Message(c2, msg(wsparse.ClientToServer, "S", httpfb.EngineIO, httpfb.Polling, "40", 1))
	j.Message(c2, req("S", httpfb.EngineIO, httpfb.Polling, "POST", 1, 1))
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, "2", 5))
	j.Message(c1, req("S", httpfb.EngineIO, httpfb.Polling, "GET", 1, 5)) // 4 s > 1 s + 2 s
	j.Handshake(c3, &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket&sid=S", Status: 101})
	j.Frame(c3, &wsparse.Frame{Dir: wsparse.ClientToServer, Index: 1})
	j.Message(c3, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: []byte("2probe"), Frames: 1, Index: 1})
	j.Message(c4, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: []byte("other"), Frames: 1, Index: 1})
	j.Message(c2, msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, `0{"sid":"S"}`, 6))
	j.End(c3, &wsparse.Summary{End: wsparse.EndClean})
	j.End(c2, &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.End(c4, &wsparse.Summary{End: wsparse.EndFINWithoutClose})
	j.Finish()
	want := []string{
		"1 handshake GET /u/ polling",
		"1 frame s2c 1",
		`1 message s2c 1 "0{\"sid\":\"S\",\"pingInterval\":1000,\"pingTimeout\":2000}" polling `,
		"1 frame c2s 1",
		`1 message c2s 1 "40" polling `,
		"1 frame s2c 2",
		`1 message s2c 2 "2" polling `,
		"1 frame c2s 2",
		`1 message c2s 2 "2probe" websocket `,
		`4 message c2s 1 "other"  `,
		"1 frame s2c 3",
		`1 message s2c 3 "0{\"sid\":\"S\"}" polling fallback_session_reused`,
		"4 end fin_without_close ",
		"1 end clean fallback_session_reused,fallback_poll_timeout polling+websocket conns [1 2 3] requests 3",
	}
	if got := strings.Join(r.out, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestPendingHandshake: an Engine.IO session that never goes past its
// handshake poll (a reconnect attempt the client gave up on) makes no
// conversation: its connection ends as the HTTP connection it was, at the
// end of the capture.
func TestPendingHandshake(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1 := conn(1)
	handshakePoll(j, c1)
	j.End(c1, &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.Finish()
	if got := strings.Join(r.out, "\n"); got != "1 end not_websocket " {
		t.Errorf("got %q", got)
	}
}

// handshakePoll gives j an Engine.IO handshake poll (its open packet) on
// c: held until a request names its sid.
func handshakePoll(j joinerWS, c *wsparse.Conn) {
	m := msg(wsparse.ServerToClient, "T", httpfb.EngineIO, httpfb.Polling, `0{"sid":"T"}`, 0)
	m.Fallback.URI = "/socket.io/?EIO=4&transport=polling"
	j.Message(c, m)
}

// tlsRec also writes the TLS layer and HTTP/2 counts of an End.
type tlsRec struct{ rec }

func (r *tlsRec) End(c *wsparse.Conn, s *wsparse.Summary) {
	r.rec.End(c, s)
	if s.TLS != nil {
		r.out = append(r.out, fmt.Sprintf("%d tls %s %s", c.ID, s.TLS.Version, s.TLS.SNI))
	}
	if s.HTTP2 != nil {
		r.out = append(r.out, fmt.Sprintf("%d http2 streams %d", c.ID, s.HTTP2.Streams))
	}
}

// TestHeldEndKept: the End of a connection held until Finish (it carried
// only a handshake poll) is passed on as it was, though its sender reuses
// the Summary and what it points to once End returns (wsparse.Sink; the
// summary was copied without its TLS layer and HTTP/2 counts before).
func TestHeldEndKept(t *testing.T) {
	r := &tlsRec{}
	j := newWS(r)
	c1 := conn(1)
	handshakePoll(j, c1)
	tls := &wsparse.TLSInfo{Version: "TLS 1.3", SNI: "a.example"}
	h2 := &wsparse.HTTP2Counts{Streams: 3}
	sum := &wsparse.Summary{End: wsparse.EndNotWebSocket, TLS: tls, HTTP2: h2}
	j.End(c1, sum)
	*tls, *h2, *sum = wsparse.TLSInfo{Version: "reused"}, wsparse.HTTP2Counts{Streams: 99}, wsparse.Summary{End: wsparse.EndClean}
	j.Finish()
	want := "1 end not_websocket \n1 tls TLS 1.3 a.example\n1 http2 streams 3"
	if got := strings.Join(r.out, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestUpgradeRefused: an Engine.IO WebSocket upgrade the server (or a
// proxy) refuses is not the session's carrier: the session goes on polling
// and ends as the polling session it is, and the refused attempt stays a
// connection of its own.
func TestUpgradeRefused(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1, c2 := conn(1), conn(2)
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, `0{"sid":"S"}`, 0))
	j.Message(c1, req("S", httpfb.EngineIO, httpfb.Polling, "GET", 0, 0))
	j.Handshake(c2, &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket&sid=S", Status: 400})
	j.End(c2, &wsparse.Summary{End: wsparse.EndNotUpgraded})
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, "2", 5))
	j.Finish()
	want := []string{
		"1 handshake GET /u/?sid=S polling",
		"1 frame s2c 1",
		`1 message s2c 1 "0{\"sid\":\"S\"}" polling `,
		"2 handshake GET /socket.io/?EIO=4&transport=websocket&sid=S ",
		"2 end not_upgraded ",
		"1 frame s2c 2",
		`1 message s2c 2 "2" polling `,
		"1 end open  polling conns [1] requests 1",
	}
	if got := strings.Join(r.out, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// TestUpgradeOnPollingConn: an Engine.IO WebSocket upgraded on the
// keep-alive connection that carried the session's polls lists it once,
// and leaves nothing of it tapped: conns [1 1], and the connection was
// tapped to the end of the capture (its End is the WebSocket's).
func TestUpgradeOnPollingConn(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1 := conn(1)
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.EngineIO, httpfb.Polling, `0{"sid":"S"}`, 0))
	j.Message(c1, req("S", httpfb.EngineIO, httpfb.Polling, "GET", 0, 0))
	j.Handshake(c1, &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket&sid=S", Status: 101})
	j.End(c1, &wsparse.Summary{End: wsparse.EndClean})
	if len(j.tapped) != 0 || len(j.live) != 0 {
		t.Errorf("%d connections tapped, %d live; want none", len(j.tapped), len(j.live))
	}
	j.Finish()
	if got, want := r.out[len(r.out)-1], "1 end clean  polling+websocket conns [1] requests 1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPendingBounded: an Engine.IO handshake poll is held until a request
// names its sid, but not without bound: one that carries many packets (or
// many handshake polls for one sid) is a session, started then, not bytes
// held until the end of the capture.
func TestPendingBounded(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	c1 := conn(1)
	const n = 5000
	most := 0
	for i := 0; i < n; i++ {
		m := msg(wsparse.ServerToClient, "P", httpfb.EngineIO, httpfb.Polling, "4"+strings.Repeat("x", 1000), 0)
		m.Fallback.URI = "/socket.io/?EIO=4&transport=polling"
		j.Message(c1, m)
		held := 0
		for _, h := range j.pending {
			held += len(h)
		}
		most = max(most, held)
	}
	j.Finish()
	got := 0
	for _, l := range r.out {
		if strings.Contains(l, " message ") {
			got++
		}
	}
	if most > 100 || got != n {
		t.Errorf("held at most %d messages (want <= 100), %d messages out of %d", most, got, n)
	}
}

// joinerWS is a Joiner fed by wsparse.Sink calls, as a connection feeds one.
type joinerWS struct {
	*Joiner
	*record.FromWS
}

func newWS(next wsparse.Sink) joinerWS {
	j := New(record.Adapt(next))
	return joinerWS{j, &record.FromWS{Out: j}}
}
