package health

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestHealthBounds: past the tracker's bounds, pings and beats are still
// counted exactly; the oldest outstanding pings are forgotten (a pong for
// one is mismatched) and the rhythm is measured on the beats kept.
func TestHealthBounds(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	tr := New(nil, Options{})
	v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
	n := maxOutstanding + 44
	for i := range n {
		v.ping(c2s, 10+i, fmt.Sprint("p", i))
	}
	v.pong(s2c, 10+n, fmt.Sprint("p", n-1)) // the latest: answered
	v.pong(s2c, 11+n, "p0")                 // forgotten: matched to the oldest remembered
	extra := 10
	for i := range maxBeatsKept + extra {
		tr.Beat(Beat{Conn: 1, Dir: s2c, TS: at(1000 + i), Kind: KindText})
	}
	c := v.end(1000+maxBeatsKept+extra+5000, wsparse.EndFINWithoutClose, [2]wsparse.CloseInfo{}, 0, 0)

	p := c.Ping[c2s]
	if p.Pings != n || p.Answered != 2 || p.Unanswered != n-2 || p.UnansweredTail != 0 || p.Mismatched != 1 {
		t.Errorf("pings: %+v", p)
	}
	if p.RTTMin != time.Millisecond || p.RTTMax < p.RTTMin {
		t.Errorf("round trips: %+v", p)
	}
	var text *Series
	for _, s := range c.Heartbeats {
		if s.Kind == KindText {
			text = s
		}
	}
	// The pings and pongs took their share of the budget first.
	if text == nil || text.Count != maxBeatsKept+extra || text.Unmeasured != extra+n+2 ||
		!text.Last.Equal(at(1000+maxBeatsKept+extra-1)) {
		t.Fatalf("text series: %+v", text)
	}
	if text.MaxGap != 5001*time.Millisecond {
		t.Errorf("max gap %v, want the trailing 5.001s from the last beat of all", text.MaxGap)
	}
}
