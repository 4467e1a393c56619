package health

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestEndedFinishedBytes: with FinishAtEnd a connection that pinged,
// was pinged and closed cleanly (the bench captures' 9 600) is kept
// until Report as its result packed into one string (packConn), not as
// its connState, endState, Close frames, ping results and heartbeat
// Series: 1 742 bytes a connection before, 428 now (266 of them the
// string, the rest its size class and the map); the report is the
// same.
func TestEndedFinishedBytes(t *testing.T) {
	const n = 5000
	var trs [2]*Tracker
	var per [2]float64
	for k := range trs {
		per[k] = bytesPer(n, func() {
			trs[k] = New(nil, Options{})
			if k == 1 {
				trs[k].FinishAtEnd()
			}
			playClosed(trs[k], n)
		})
	}

	t.Logf("bytes per ended connection: %.0f kept for Report, %.0f with FinishAtEnd", per[0], per[1])
	if per[1] > 500 {
		t.Errorf("%.0f bytes per ended connection with FinishAtEnd, want at most 500", per[1])
	}
	r0, r1 := trs[0].Report(), trs[1].Report()
	if len(r0.Conns) != n || len(r1.Conns) != n {
		t.Fatalf("%d, %d connections", len(r0.Conns), len(r1.Conns))
	}
	if !reflect.DeepEqual(r0, r1) {
		t.Errorf("the reports differ")
	}
	runtime.KeepAlive(trs)
}

// playClosed drives tr with n connections that pinged, were pinged and
// closed cleanly, one after the other.
func playClosed(tr *Tracker, n int) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	for i := range n {
		id, base := i+1, i*10000
		v := newConv(tr, id, fmt.Sprintf("10.1.%d.%d:5000", i>>8, i&255), 101, "/bench/1?seed=1&conns=600", base)
		v.ping(c2s, base+10, "a").pong(s2c, base+12, "a")
		v.ping(s2c, base+20, "b").pong(c2s, base+23, "b")
		s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(base + 5000), Handshake: v.hs, End: wsparse.EndClean,
			Initiator: s2c, TCPFin: [2]bool{true, true}}
		s.Close[1], s.Close[0] = closed(base+4990, 1001, "server going away"), closed(base+4991, 1001, "server going away")
		s.Stats[0] = wsparse.DirStats{Frames: 84, Messages: 79, ControlFrames: 3, PayloadBytes: 125086, WireBytes: 125660}
		s.Stats[1] = wsparse.DirStats{Frames: 67, Messages: 64, ControlFrames: 3, PayloadBytes: 212042, WireBytes: 212226}
		tr.End(v.c, s)
	}
}
