package fbjoin

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/httpfb"

	"github.com/wsdump/wsdump/wsparse"
)

// TestEngineIOEndPassedOn: an Engine.IO session whose WebSocket ended and
// whose every TCP connection ended too is over (its sid is dead to the
// server), and its End goes out then, in time order, before the records
// of a session that comes after it: it waited for Finish, so a capture of
// a client reconnecting after its server restarted printed the first
// session's end after the second session's frames
// (gen__socketio-restart-browser, gen__engineio-stall).
func TestEngineIOEndPassedOn(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	poll, ws := conn(1), conn(2)
	eio(j, poll, ws, "E", 0)
	upgradePacket(j, ws, 1)
	j.End(ws, &wsparse.Summary{End: wsparse.EndFINWithoutClose})
	if got := ends(r); got != "1 handshake GET /u/?sid=E polling" {
		t.Errorf("with its poll connection open, got\n%s\nwant only E's handshake: a request may still come", got)
	}
	endHTTP(j, poll)
	fws := conn(4)
	eio(j, conn(3), fws, "F", 5)
	upgradePacket(j, fws, 6)
	j.Finish()
	wantEnds(t, r, []string{
		"1 handshake GET /u/?sid=E polling",
		"1 end fin_without_close  polling+websocket conns [1 2] requests 1",
		"3 handshake GET /u/?sid=F polling",
		"3 end open  polling+websocket conns [3 4] requests 1",
	})
}

// upgradePacket gives j the client's Engine.IO upgrade packet (5) on the
// WebSocket ws at sec: the session moved onto it.
func upgradePacket(j joinerWS, ws *wsparse.Conn, sec int) {
	j.Message(ws, &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, TS: t0.Add(time.Duration(sec) * time.Second),
		Frames: 1, Len: 1, Data: []byte("5")})
}

// TestEngineIOProbeFailedPollingGoesOn: an Engine.IO WebSocket that ended
// before the session moved onto it (its probe failed: a proxy that let the
// 101 through and cut the connection) leaves the session polling on the
// same sid, on a new TCP connection where polls do not keep theirs alive
// (Connection: close). The session is not over: its later polls are its
// own, one conversation, not a second session of the same sid.
func TestEngineIOProbeFailedPollingGoesOn(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	poll, ws, poll2 := conn(1), conn(2), conn(3)
	eio(j, poll, ws, "E", 0)
	j.End(ws, &wsparse.Summary{End: wsparse.EndRSTWithoutClose})
	endHTTP(j, poll)
	j.Message(poll2, msg(wsparse.ServerToClient, "E", httpfb.EngineIO, httpfb.Polling, `2`, 3))
	j.Message(poll2, req("E", httpfb.EngineIO, httpfb.Polling, "GET", 1, 3))
	endHTTP(j, poll2)
	j.Finish()
	wantEnds(t, r, []string{
		"1 handshake GET /u/?sid=E polling",
		"1 end rst_without_close  polling+websocket conns [1 2 3] requests 2",
	})
}

// TestEngineIOOpenAtCaptureEnd: an Engine.IO session whose WebSocket was
// still open when the capture ended is not retired as its connections are
// flushed, one by one, at the end of the input: its end (at the capture's
// end, the latest time) waits for Finish, after the records the flush
// still passes on (a connection's handshake at its End), as before the
// sessions that ended were passed on at once.
func TestEngineIOOpenAtCaptureEnd(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	poll, ws, other := conn(1), conn(2), conn(9)
	eio(j, poll, ws, "E", 0)
	upgradePacket(j, ws, 1)
	endHTTP(j, poll)
	j.End(ws, &wsparse.Summary{End: wsparse.EndOpen}) // the flush at the end of the input
	j.Handshake(other, &wsparse.Handshake{Method: "GET", URI: "/late", Status: 404})
	j.End(other, &wsparse.Summary{End: wsparse.EndNotUpgraded})
	j.Finish()
	wantEnds(t, r, []string{
		"1 handshake GET /u/?sid=E polling",
		"9 handshake GET /late ",
		"9 end not_upgraded ",
		"1 end open  polling+websocket conns [1 2] requests 1",
	})
}
