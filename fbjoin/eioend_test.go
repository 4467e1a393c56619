package fbjoin

import (
	"testing"

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
	j.End(ws, &wsparse.Summary{End: wsparse.EndFINWithoutClose})
	if got := ends(r); got != "1 handshake GET /u/?sid=E polling" {
		t.Errorf("with its poll connection open, got\n%s\nwant only E's handshake: a request may still come", got)
	}
	endHTTP(j, poll)
	eio(j, conn(3), conn(4), "F", 5)
	j.Finish()
	wantEnds(t, r, []string{
		"1 handshake GET /u/?sid=E polling",
		"1 end fin_without_close  polling+websocket conns [1 2] requests 1",
		"3 handshake GET /u/?sid=F polling",
		"3 end open  polling+websocket conns [3 4] requests 1",
	})
}
