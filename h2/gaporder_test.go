package h2

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestGapOrder: bytes lost under several WebSocket streams with messages
// under way report those messages cut short in the streams' order, the
// same on every run (not the order of a Go map).
func TestGapOrder(t *testing.T) {
	var first string
	for run := 0; run < 20; run++ {
		h := synth.NewH2()
		sink := &logSink{}
		c := NewConn(wsparse.NewConn(1, cli, srv, wsparse.Config{EndAll: true}, sink), 0, Config{Decoder: wsparse.Config{EndAll: true}}, sink)
		c.Feed(0, h.Preface(), epoch)
		c.Feed(1, h.ConnectProtocol(), epoch)
		for id := uint32(1); id <= 15; id += 2 {
			c.Feed(0, h.Headers(true, id, false, synth.ExtendedConnect(fmt.Sprint("/", id))...), epoch)
			c.Feed(1, h.Headers(false, id, false, ":status", "200"), epoch)
			frag := wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: 2})
			c.Feed(1, h.Data(false, id, false, append(frag, "hi"...)), epoch)
		}
		sink.lines = nil
		c.Gap(1, 100, epoch)
		got := strings.Join(sink.lines, "\n")
		if run == 0 {
			first = got
			if !strings.HasPrefix(got, "1/1 M") {
				t.Fatalf("after the gap:\n%s\nwant stream 1/1 first", got)
			}
		} else if got != first {
			t.Fatalf("run %d after the gap:\n%s\nrun 0:\n%s", run, got, first)
		}
	}
}
