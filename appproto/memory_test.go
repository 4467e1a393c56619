package appproto

import (
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestSessionBytes: every open WebSocket connection holds a session (made
// at its upgrade or first message); one that negotiated no keepalive holds
// no Keepalive (40 bytes) and small counters: 48 bytes, was 96 (10 MB over
// the 100 000 open connections of bench/memory.sh); 32 since the mode is
// two flags, not its name (a string). A negotiated keepalive still reads
// the same.
func TestSessionBytes(t *testing.T) {
	const n = 10000
	hs := &wsparse.Handshake{URI: "/x", Status: 101, Subprotocol: "v12.stomp"}
	plain := &wsparse.Handshake{URI: "/x", Status: 101}
	ss := make([]*Session, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range ss {
		ss[i] = New(plain, ModeAuto)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per session", per)
	if per > 40 {
		t.Errorf("%.0f bytes per session", per)
	}
	runtime.KeepAlive(ss)

	s := New(hs, ModeAuto)
	if ka := s.Keepalive(); ka != (Keepalive{}) {
		t.Errorf("keepalive before any frame: %+v", ka)
	}
	s.Message(&wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: []byte("CONNECT\naccept-version:1.2\nheart-beat:10000,10000\n\n\x00")})
	s.Message(&wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Data: []byte("CONNECTED\nversion:1.2\nheart-beat:5000,20000\n\n\x00")})
	ka := s.Keepalive()
	t.Logf("STOMP: %+v", ka)
	if ka.Source != "stomp heart-beat" || ka.Interval[wsparse.ClientToServer] == 0 || ka.Interval[wsparse.ServerToClient] == 0 {
		t.Errorf("STOMP keepalive: %+v", ka)
	}
}
