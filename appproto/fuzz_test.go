package appproto

import (
	"bytes"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// The fuzz targets feed data as two WebSocket messages cut at cut, in
// direction dir, to a session of one protocol: decoding must not panic,
// and the stream protocols (STOMP, MQTT) must give the same application
// messages however the bytes are split. Seeds in testdata/fuzz come from
// the gen__app-* captures.

func fuzzSession(t *testing.T, hs *wsparse.Handshake, mode string, op wsparse.Opcode, data []byte, cut uint16, toServer bool) []App {
	t.Helper()
	s := New(hs, mode)
	dir := wsparse.ServerToClient
	if toServer {
		dir = wsparse.ClientToServer
	}
	c := min(int(cut), len(data))
	var out []App
	for i, part := range [][]byte{data[:c], data[c:]} {
		m := wsparse.Message{Dir: dir, Opcode: op, Data: part, Len: uint64(len(part)), Frames: 1, Index: i + 1, TS: t0}
		apps := s.Message(&m)
		for _, sh := range Shapes(nil, &m, apps) {
			if sh.Proto == "" || sh.Key == "" || !printable(sh.Key) {
				t.Fatalf("bad shape %+v", sh)
			}
		}
		InnerTexts(&m, apps)
		for _, a := range apps {
			if a.Protocol == "" || a.Key == "" || a.Summary == "" {
				t.Fatalf("incomplete App %+v", a)
			}
			out = append(out, a)
		}
	}
	s.Keepalive()
	return out
}

// sameApps compares what matters of two decodings.
func sameApps(a, b []App) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Protocol != b[i].Protocol || a[i].Type != b[i].Type || a[i].Key != b[i].Key ||
			!bytes.Equal(a[i].Body, b[i].Body) || a[i].Summary != b[i].Summary {
			return false
		}
	}
	return true
}

func fuzzStream(f *testing.F, hs *wsparse.Handshake, op wsparse.Opcode) {
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, toServer bool) {
		split := fuzzSession(t, hs, ModeAuto, op, data, cut, toServer)
		whole := fuzzSession(t, hs, ModeAuto, op, data, uint16(min(len(data), 65535)), toServer)
		if len(data) <= 65535 && !sameApps(split, whole) {
			t.Fatalf("split at %d changes the result:\n%v\n%v", cut, short(split), short(whole))
		}
	})
}

func FuzzSTOMP(f *testing.F) {
	f.Add([]byte("SEND\ndestination:/a\ncontent-length:2\n\nhi\x00\n"), uint16(7), true)
	fuzzStream(f, hsProto("v12.stomp"), wsparse.OpText)
}

func FuzzMQTT(f *testing.F) {
	f.Add([]byte("\x30\x08\x00\x03t/1hello"), uint16(3), true)
	fuzzStream(f, hsProto("mqtt"), wsparse.OpBinary)
}

func fuzzMessages(f *testing.F, hs *wsparse.Handshake, mode string) {
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, toServer bool) {
		fuzzSession(t, hs, mode, wsparse.OpText, data, cut, toServer)
		fuzzSession(t, hs, mode, wsparse.OpBinary, data, cut, toServer)
	})
}

func FuzzSockJS(f *testing.F) {
	f.Add([]byte(`a["CONNECTED\nversion:1.2\n\n\u0000"]`), uint16(0), false)
	fuzzMessages(f, &wsparse.Handshake{URI: "/s/1/x/websocket", Status: 101}, ModeAuto)
}

func FuzzSocketIO(f *testing.F) {
	f.Add([]byte(`451-["blob",{"_placeholder":true,"num":0}]`), uint16(0), true)
	fuzzMessages(f, &wsparse.Handshake{URI: "/socket.io/?EIO=4&transport=websocket", Status: 101}, ModeAuto)
}

func FuzzGraphQL(f *testing.F) {
	f.Add([]byte(`{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}`), uint16(0), true)
	fuzzMessages(f, hsProto("graphql-transport-ws"), ModeAuto)
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}`), uint16(0), true)
	fuzzMessages(f, nil, JSON)
}

// FuzzSniff lets auto mode choose from content alone.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("CONNECT\n\n\x00"), uint16(0), true)
	fuzzMessages(f, nil, ModeAuto)
}
