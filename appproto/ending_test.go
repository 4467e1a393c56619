package appproto

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestEndOf: the words of a STOMP ERROR and of a SockJS close frame,
// decoded from a SockJS session over WebSocket and from STOMP alone;
// the other messages say nothing of an end.
func TestEndOf(t *testing.T) {
	sockjs := &wsparse.Handshake{URI: "/stomp/123/abcdefgh/websocket"}
	stomp := &wsparse.Handshake{Subprotocol: "v12.stomp"}
	for _, tc := range []struct {
		hs   *wsparse.Handshake
		in   []msg
		want string
	}{
		{sockjs, []msg{s2c("o"), c2s(`["CONNECT\naccept-version:1.1\n\n\u0000"]`),
			s2c(`a["ERROR\nmessage:Bad CONNECT\n\nAccess refused\u0000"]`), s2c(`c[3000,"Go away!"]`)},
			`STOMP ERROR "Bad CONNECT" failed; SockJS close 3000 "Go away!" failed`},
		{sockjs, []msg{s2c("o"), s2c(`a["CONNECTED\nversion:1.1\n\n\u0000"]`), s2c("h"), s2c(`c[1000,"Normal closure"]`)},
			`SockJS close 1000 "Normal closure"`},
		{sockjs, []msg{s2c("o"), s2c(`c[1001]`)}, `SockJS close failed`},                              // not [code, reason]: broken
		{sockjs, []msg{s2c("o"), s2c("c[{\"a\":\n1},\"x\"]")}, `SockJS close "{"a":\n1}" "x" failed`}, // a code that is no number: quoted, cut to a preview
		{stomp, []msg{c2s("CONNECT\naccept-version:1.2\n\n\x00"), s2c("ERROR\n\n\x00"), s2c("\n")}, `STOMP ERROR failed`},
		{stomp, []msg{s2c("CONNECTED\nversion:1.2\n\n\x00"), s2c("MESSAGE\ndestination:/q/ERROR\nmessage:x\n\n\x00")}, ``},
	} {
		var got []string
		for _, a := range run(New(tc.hs, ModeAuto), tc.in...) {
			if text, failed, ok := EndOf(&a); ok {
				if failed {
					text += " failed"
				}
				got = append(got, text)
			}
		}
		if s := strings.Join(got, "; "); s != tc.want {
			t.Errorf("%v: got %q, want %q", tc.in, s, tc.want)
		}
	}
}
