package health

import (
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestPingAfterPackedEnd: with FinishAtEnd, a ping and its pong that
// arrive after the End of a connection with no pings nor Closes are
// counted, as they were before ended packed the result: unpack rebuilds
// the state with final (empty) results, which then hide them.
func TestPingAfterPackedEnd(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	for _, finish := range []bool{false, true} {
		tr := New(nil, Options{})
		if finish {
			tr.FinishAtEnd()
		}
		v := newConv(tr, 1, "10.1.0.1:5000", 101, "/ws", 0)
		// A StreamEnd does not pack in the head (endBytes): the state keeps an endState.
		s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(5000), Handshake: v.hs, End: wsparse.EndFINWithoutClose,
			StreamEnd: "RST_STREAM CANCEL"}
		tr.End(v.c, s)
		v.ping(c2s, 6000, "a").pong(s2c, 6002, "a")
		r := tr.Report()
		if len(r.Conns) != 1 || r.Conns[0].Ping[c2s].Pings != 1 || r.Conns[0].Ping[c2s].Answered != 1 {
			t.Errorf("FinishAtEnd %v: a ping after the End: %+v", finish, r.Conns[0].Ping[c2s])
		}
	}
}
