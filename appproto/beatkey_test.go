package appproto

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// shapes feeds msgs to a session (BeatsOnly when beatsOnly, as wsdump
// conns decodes) and returns each message's shape ("proto|key", "" for
// none, several joined by commas).
func shapes(s *Session, msgs ...msg) []string {
	var out []string
	for i, m := range msgs {
		wm := wsparse.Message{Dir: m.dir, Opcode: m.op, TS: t0.Add(time.Duration(i) * 10 * time.Millisecond),
			Data: []byte(m.s), Len: uint64(len(m.s)), Frames: 1, Index: i + 1}
		var keys []string
		for _, sh := range Shapes(nil, &wm, s.Message(&wm)) {
			keys = append(keys, sh.Proto+"|"+sh.Key)
		}
		out = append(out, strings.Join(keys, ","))
	}
	return out
}

// TestShapeOf: the key of each small message, as the application protocol
// names it, and none for what cannot be a heartbeat.
func TestShapeOf(t *testing.T) {
	sockjs := &wsparse.Handshake{URI: "/stomp/123/abcdef/websocket", Status: 101}
	sio := &wsparse.Handshake{URI: "/socket.io/?EIO=4&transport=websocket", Status: 101}
	cases := []struct {
		name string
		hs   *wsparse.Handshake
		in   []msg
		want []string
	}{
		{"stompjs over SockJS: send(\"ping\")", sockjs, []msg{
			s2c("o"),
			c2s(`["CONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n\u0000"]`),
			s2c(`a["CONNECTED\nversion:1.1\nheart-beat:0,0\n\n\u0000"]`),
			c2s(`["SEND\ndestination:ping\n\n\u0000"]`),
			c2s(`["SEND\ndestination:/app/hb\ncontent-length:5\n\nalive\u0000"]`),
			c2s(`["SEND\ndestination:/app/hb\n\n{\"type\":\"hb\",\"ts\":1700000000000}\u0000"]`),
			s2c(`a["MESSAGE\ndestination:/topic/pong\nsubscription:sub-0\nmessage-id:m-17\ncontent-length:0\n\n\u0000"]`),
			s2c("h"),
			c2s(`["\n"]`),
			c2s(`["SEND\ndestination:ping\n\n\u0000","SEND\ndestination:ping\n\n\u0000"]`),
			c2s(`["SEND\ndestination:ping\n\n\u0000","SEND\ndestination:/app/x\n\nhello\u0000"]`),
			c2s(`["SEND\ndestination:ping\n\n\u0000SEND\ndestination:/app/chat\n\n` + strings.Repeat("x", 200) + `\u0000"]`),
			c2s(`["SEND\ndestination:/app/chat\n\n` + strings.Repeat("x", 200) + `\u0000"]`),
			s2c(`a["ping"]`),
			s2c(`a["ping","ping","{\"type\":\"tick\"}"]`),
		}, []string{"", "stomp|CONNECT", "stomp|CONNECTED", "stomp|SEND ping", `stomp|SEND /app/hb "alive"`, "stomp|SEND /app/hb type=hb",
			"stomp|MESSAGE /topic/pong", "", "", "stomp|SEND ping", `stomp|SEND ping,stomp|SEND /app/x "hello"`, "stomp|SEND ping", "",
			"sockjs|ping", "sockjs|ping,json|type=tick"}},
		{"Socket.IO events", sio, []msg{
			s2c(`0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`),
			s2c("2"),
			c2s(`42["heartbeat"]`),
			c2s(`42/admin,["heartbeat",{"at":1700000000000}]`),
			c2s(`421["ask",1]`),
			s2c(`430[{"ok":true}]`),
			c2s(`42["chat","` + strings.Repeat("y", 200) + `"]`),
		}, []string{"", "", "socketio|heartbeat", "socketio|/admin heartbeat", "socketio|ask", "", ""}},
		{"JSON, sniffed", nil, []msg{
			c2s(`{"op":"subscribe","topic":"prices"}`),
			c2s(`{"op":1,"d":251}`),
			s2c(`{"type":"pong","ts":1700000000123}`),
			c2s(`{"jsonrpc":"2.0","method":"ping","id":7}`),
			c2s(`{}`),
			c2s("ping"),
			c2s(`{"ts":1700000000000,"data":"` + strings.Repeat("z", 40) + `"}`),
			c2s("hello\x00"),
			c2sBin("ping"),
		}, []string{"json|op=subscribe", "json|op=1", "json|type=pong", "json|method=ping", "text|{}", "text|ping", "", "", ""}},
		{"MQTT and GraphQL have their own keepalives", hsProto("graphql-transport-ws"), []msg{
			c2s(`{"type":"connection_init"}`), s2c(`{"type":"connection_ack"}`), c2s(`{"type":"ping"}`), s2c(`{"type":"pong"}`),
		}, []string{"", "", "", ""}},
	}
	for _, tc := range cases {
		for _, beatsOnly := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				s := New(tc.hs, ModeAuto)
				if beatsOnly {
					s.BeatsOnly()
				}
				if got := shapes(s, tc.in...); !slices.Equal(got, tc.want) {
					t.Errorf("beats only %v:\ngot  %q\nwant %q", beatsOnly, got, tc.want)
				}
			})
		}
	}
}

// TestInnerTexts: --heartbeat-text is held against the texts inside a
// message too: the STOMP frame in a SockJS array and its destination.
func TestInnerTexts(t *testing.T) {
	s := New(&wsparse.Handshake{URI: "/stomp/1/x/websocket", Status: 101}, ModeAuto)
	s.BeatsOnly()
	run(s, s2c("o"), c2s(`["CONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n\u0000"]`))
	data := `["SEND\ndestination:ping\n\n\u0000"]`
	m := &wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, TS: t0, Data: []byte(data), Len: uint64(len(data)), Frames: 1}
	got := InnerTexts(m, s.Message(m))
	want := []string{"SEND\ndestination:ping\n\n\x00", "ping"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
