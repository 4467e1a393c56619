package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestTranscriptFallbackSession: follow's head of a SockJS or Engine.IO
// session over HTTP says the session and its carrier, as the table and
// CSV do ("-> polling"): it said "-> 101 fallback polling", a status no
// server sent (the joiner's mark of a session, fbjoin; its first poll was
// answered 200). A WebSocket's head is as it was.
func TestTranscriptFallbackSession(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, tc := range []struct {
		name string
		hs   wsparse.Handshake
		want string
	}{
		{"Engine.IO", wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=polling", HTTPVersion: "HTTP/1.1", Host: "h",
			Status: 101, Reason: "fallback polling", Transport: "polling"}, "    -> session over polling\n"},
		{"SockJS", wsparse.Handshake{Method: "POST", URI: "/stomp/1/a/xhr_streaming", HTTPVersion: "HTTP/1.1", Host: "h",
			Status: 101, Reason: "fallback xhr-streaming", Transport: "xhr-streaming"}, "    -> session over xhr-streaming\n"},
		{"WebSocket", wsparse.Handshake{Method: "GET", URI: "/chat", HTTPVersion: "HTTP/1.1", Host: "h",
			Status: 101, Reason: "Switching Protocols"}, "    -> 101 Switching Protocols\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tr := NewTranscript(&out, TranscriptOptions{})
			tr.SetOrigin(t0)
			c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
			h := tc.hs
			h.RequestTS, h.TS = t0, t0
			tr.Handshake(c, &h)
			if err := tr.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); !strings.Contains(got, tc.want) {
				t.Errorf("got\n%s\nwant a line %q", got, tc.want)
			}
		})
	}
}
