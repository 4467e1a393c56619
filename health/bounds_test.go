package health

import (
	"fmt"
	"net/netip"
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

// TestHTTP2NotFollowedKept: past the first maxHTTP2Kept HTTP/2
// connections, those not wholly followed (a WebSocket may be in what was
// not decoded) are still listed, up to maxHTTP2NotFollowedKept more; the
// others are counted, and so are those not followed past that bound. One
// not followed after 1 000 ordinary ones was only counted.
func TestHTTP2NotFollowedKept(t *testing.T) {
	tr := New(nil, Options{})
	ends := [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:443")}
	id := 0
	end := func(notFollowed int, anom wsparse.Anomalies) {
		id++
		tr.End(wsparse.NewView(id, ends), &wsparse.Summary{End: wsparse.EndNotWebSocket, First: at(id), Last: at(id),
			HTTP2: &wsparse.HTTP2Counts{Streams: 2, Requests: 2, NotFollowed: notFollowed}, Anomalies: anom})
	}
	for range maxHTTP2Kept + 5 {
		end(0, 0)
	}
	end(3, wsparse.AnomH2StreamsOverLimit)
	end(0, wsparse.AnomH2Malformed)
	for range maxHTTP2NotFollowedKept {
		end(1, wsparse.AnomH2StreamsOverLimit)
	}
	r := tr.Report()
	if len(r.HTTP2) != maxHTTP2Kept+maxHTTP2NotFollowedKept || r.HTTP2More != 5+2 || r.HTTP2MoreNotFollowed != 2 {
		t.Fatalf("%d listed, %d more, %d of them not followed; want %d, 7, 2", len(r.HTTP2), r.HTTP2More, r.HTTP2MoreNotFollowed, maxHTTP2Kept+maxHTTP2NotFollowedKept)
	}
	if h := r.HTTP2[maxHTTP2Kept]; h.ID != maxHTTP2Kept+6 || !h.NotAllFollowed() {
		t.Errorf("first listed past the bound: conn %d %+v, want %d not wholly followed", h.ID, h, maxHTTP2Kept+6)
	}
}
