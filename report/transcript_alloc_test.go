package report

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestTranscriptEndOfInputAllocs: what follow writes for a connection
// still open at the end of the input (its handshake, its message so far,
// 1 000 B of text, and its End) allocates nothing once the Transcript has
// written one: 100 000 of them are written at once, while those
// connections' memory is still held, and ~4 KB of garbage each raised the
// peak of follow on 100 000 open connections past issue 16's bound.
func TestTranscriptEndOfInputAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under -race")
	}
	c := wsparse.NewView(12345, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")})
	t0 := time.Unix(100, 0)
	text := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 39)[:1000]
	m := &wsparse.Message{TS: t0.Add(time.Second), Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Index: 1,
		Len: 1000, WireLen: 1000, Frames: 1, Data: text, Anomalies: wsparse.AnomMessageIncomplete}
	s := &wsparse.Summary{Last: t0.Add(time.Second), End: wsparse.EndOpen, Handshake: &wsparse.Handshake{},
		Anomalies: wsparse.AnomMessageIncomplete}
	s.Stats[1].Messages = 1
	h := &wsparse.Handshake{RequestTS: t0, Method: "GET", URI: "/x", HTTPVersion: "HTTP/1.1", Host: "h", Status: 101,
		Reason: "Switching Protocols", Subprotocol: "chat", Extensions: "permessage-deflate"}
	for _, color := range []bool{false, true} {
		tr := NewTranscript(io.Discard, TranscriptOptions{MaxBytes: 4096, Pretty: true, Color: color})
		tr.SetOrigin(t0)
		if n := testing.AllocsPerRun(100, func() {
			tr.Handshake(c, h)
			tr.MessageApps(c, m, nil)
			tr.End(c, s)
		}); n != 0 {
			t.Errorf("color %v: %.1f allocations per open connection's handshake, message and End, want 0", color, n)
		}
	}
}
