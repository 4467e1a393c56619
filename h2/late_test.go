package h2

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// stepSink keeps each connection's SteppedBack at its end.
type stepSink struct {
	logSink
	back map[int]time.Duration
}

func (s *stepSink) End(c *wsparse.Conn, sum *wsparse.Summary) { s.back[c.ID] = sum.SteppedBack }

// TestStreamLateNoStep: a WebSocket stream's bytes that the connection's
// reassembly held behind a hole come with their own, earlier, time
// (wsparse.Shared.FeedLate on the connection): the stream counts no step
// back of the clock for them, as the connection does not. Fed on time, the
// same times are a step back of 2 s.
func TestStreamLateNoStep(t *testing.T) {
	for _, late := range []bool{false, true} {
		h := synth.NewH2()
		sink := &stepSink{back: map[int]time.Duration{}}
		parent := wsparse.NewConn(1, cli, srv, wsparse.Config{EndAll: true}, sink)
		c := NewConn(parent, 0, Config{Decoder: wsparse.Config{EndAll: true}}, sink)
		c.Feed(0, h.Preface(), epoch)
		c.Feed(1, h.ConnectProtocol(), epoch)
		c.Feed(0, h.Headers(true, 1, false, synth.ExtendedConnect("/late")...), epoch)
		c.Feed(1, h.Headers(false, 1, false, ":status", "200"), epoch)
		c.Feed(1, h.Data(false, 1, false, synth.WSFrame(false, wsparse.OpText, []byte("s"))), epoch.Add(3*time.Second))
		parent.FeedLate(late)
		c.Feed(0, h.Data(true, 1, false, synth.WSFrame(true, wsparse.OpText, []byte("c"))), epoch.Add(time.Second))
		parent.FeedLate(false)
		c.Feed(1, h.Data(false, 1, false, synth.WSFrame(false, wsparse.OpText, []byte("s"))), epoch.Add(4*time.Second))
		c.End(epoch.Add(4 * time.Second))
		want := 2 * time.Second
		if late {
			want = 0
		}
		id := wsparse.StreamID(1, 1)
		if got, ok := sink.back[id]; !ok || got != want || sink.back[1] != want {
			t.Errorf("late %v: stream stepped back %v (ended %v), connection %v; want %v", late, got, ok, sink.back[1], want)
		}
	}
}
