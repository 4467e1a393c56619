package h2

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestPendingTotalAcrossConns: the DATA held for unanswered WebSocket
// streams counts, over all the connections whose parents share a
// wsparse.Shared, against MaxPendingTotal, as the client bytes held
// before an HTTP/1.1 upgrade do: the stream whose bytes would pass it
// has them skipped (pending_limit, LimitHits.PendingTotal on its
// connection), and a stream answered gives its bytes back.
func TestPendingTotalAcrossConns(t *testing.T) {
	p := newPendingH2()
	sink, open := p.sink, p.open
	answer := func(i int) { p.conns[i].Feed(1, p.hs[i].Headers(false, 1, false, ":status", "200"), epoch) }
	open()    // 76 held
	open()    // 152 would pass 150: skipped
	answer(0) // 76 given back
	open()    // 76 held
	answer(1)
	answer(2)
	for i, c := range p.conns {
		want := wsparse.LimitHits{}
		if i == 1 {
			want.PendingTotal = 1
		}
		if h := c.parent.LimitHits(); h != want {
			t.Errorf("conn %d: limit hits %+v", i+1, h)
		}
		c.End(epoch)
	}
	for label, want := range map[string]string{"1/1": "1 0 ", "2/1": "0 76 pending_limit", "3/1": "1 0 "} {
		s := sink.ends[label]
		if got := fmt.Sprintf("%d %d %s", s.Stats[0].Messages, s.Stats[0].SkippedBytes, s.Anomalies); got != want {
			t.Errorf("%s: messages, skipped, anomalies %q, want %q", label, got, want)
		}
	}
}

// TestPendingTotalGivenBack: a stream that ends unanswered (RST_STREAM,
// END_STREAM both ways, the connection's end) gives the DATA it held back
// to MaxPendingTotal, so that the next connection's are held; and a
// stream past the total has its later DATA skipped too until answered,
// though they would fit.
func TestPendingTotalGivenBack(t *testing.T) {
	small := synth.WSFrame(true, wsparse.OpText, []byte("b")) // 7 bytes
	for _, how := range []string{"rst", "end_stream", "conn_end"} {
		p := newPendingH2()
		sink, open := p.sink, p.open
		open() // 76 held
		switch h, c := p.hs[0], p.conns[0]; how {
		case "rst":
			c.Feed(0, h.RST(true, 1, 8), epoch)
		case "end_stream":
			c.Feed(0, h.Data(true, 1, true, nil), epoch)
			c.Feed(1, h.Data(false, 1, true, nil), epoch)
		case "conn_end":
			c.End(epoch)
		}
		open()                                                         // 76 held: the first's given back
		open()                                                         // 152 would pass 150: skipped
		p.conns[2].Feed(0, p.hs[2].Data(true, 1, false, small), epoch) // fits, but skipped until answered
		p.conns[2].Feed(1, p.hs[2].Headers(false, 1, false, ":status", "200"), epoch)
		for i, c := range p.conns {
			c.End(epoch)
			want := wsparse.LimitHits{}
			if i == 2 {
				want.PendingTotal = 1
			}
			if h := c.parent.LimitHits(); h != want {
				t.Errorf("%s: conn %d: limit hits %+v", how, i+1, h)
			}
		}
		if s := sink.ends["3/1"]; s == nil || s.Stats[0].SkippedBytes != 76+7 || s.Stats[0].Messages != 0 {
			t.Errorf("%s: conn 3: %+v, want 83 bytes skipped, no message", how, s)
		}
	}
}

// pendingH2 opens h2c connections whose parents share one wsparse.Shared
// (MaxPending 100, MaxPendingTotal 150), each with one WebSocket stream
// whose 76-byte frame waits for the answer.
type pendingH2 struct {
	sink  *endSink
	cfg   wsparse.Config
	sh    *wsparse.Shared
	conns []*Conn
	hs    []*synth.H2
}

func newPendingH2() *pendingH2 {
	p := &pendingH2{sink: &endSink{ends: map[string]*wsparse.Summary{}}, cfg: wsparse.Config{MaxPending: 100, MaxPendingTotal: 150}}
	p.sh = wsparse.NewShared(p.cfg, p.sink)
	return p
}

// open opens the next connection and sends its stream's frame.
func (p *pendingH2) open() {
	big := synth.WSFrame(true, wsparse.OpText, []byte(strings.Repeat("a", 70))) // 76 bytes
	h := synth.NewH2()
	c := NewConn(p.sh.NewConn(len(p.conns)+1, cli, srv), 0, Config{Decoder: p.cfg}, p.sink)
	c.Feed(0, h.Preface(), epoch)
	c.Feed(1, h.ConnectProtocol(), epoch)
	c.Feed(0, h.Headers(true, 1, false, synth.ExtendedConnect("/a")...), epoch)
	c.Feed(0, h.Data(true, 1, false, big), epoch)
	p.conns, p.hs = append(p.conns, c), append(p.hs, h)
}
