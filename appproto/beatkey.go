package appproto

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/wsdump/wsdump/wsparse"
)

// Shapes of application heartbeats. An application heartbeat is a small
// message that says the same thing every time: stompClient.send("ping")
// is a STOMP SEND to destination "ping" with an empty body (inside a
// SockJS array), socket.emit("heartbeat") a Socket.IO event, {"op":1,...}
// a JSON op, "ping" a whole text. ShapeOf names that shape; the health
// package decides from the timing which shapes are heartbeats.

// Bounds of a heartbeat-sized message.
const (
	maxShapeMessage = 512 // bytes of the WebSocket message
	maxShapeJSON    = 128 // bytes of a JSON value keyed by its type/op/event/method
	maxShapeText    = 32  // bytes of a text keyed by itself (and of a STOMP body in a key)
	maxShapeBody    = 128 // bytes of a Socket.IO event's data or a STOMP body keyed by JSON
)

// jsonShapeKeys are the members that name a JSON message, first found first.
var jsonShapeKeys = [...]string{"type", "op", "event", "method"}

// Shape is what a small application message says it is.
type Shape struct {
	// Proto is the protocol whose message it is: "stomp", "socketio",
	// "json" (JSON-RPC included), "text", or "sockjs" for a text inside a
	// SockJS frame that no protocol decoded.
	Proto string
	// Key is the shape: STOMP command and destination, then the body when
	// there is one ("SEND ping", `SEND /app/hb "alive"`); the Socket.IO
	// event name (after its namespace, if not "/"); the JSON member that
	// names the message ("type=ping", "op=1", "method=ping"), else the
	// whole short text ("ping", "{}").
	Key string
}

// Shapes appends to dst the shapes of message m, whose decoded
// application messages are apps, when it is small enough to hold a
// heartbeat: one for each key among its application messages that says
// what it is (a message of several, a SockJS array or STOMP frames in a
// row, gives each key once: a beat batched with other messages by
// sockjs-client's sender or the SockJS server's a[...] is still a beat).
// Protocol heartbeats (App.Heartbeat) are not shapes: they are beats
// already; neither are binary, cut or large messages, MQTT or GraphQL
// (which have their own keepalives).
func Shapes(dst []Shape, m *wsparse.Message, apps []App) []Shape {
	if m == nil || m.Opcode != wsparse.OpText || m.LenUnknown || m.Len != uint64(len(m.Data)) || len(m.Data) > maxShapeMessage {
		return dst
	}
	first := len(dst)
	add := func(sh Shape, ok bool) {
		if ok && !slices.Contains(dst[first:], sh) {
			dst = append(dst, sh)
		}
	}
	sockjs, beat, content, json := false, false, false, false
	for i := range apps {
		a := &apps[i]
		switch {
		case a.Heartbeat:
			beat = true
		case a.Protocol == SockJS && (a.Type == "a" || a.Type == "m"):
			sockjs = true
		case a.Protocol == STOMP:
			content = true
			add(stompShape(a))
		case a.Protocol == SocketIO:
			content = true
			add(socketioShape(a))
		case a.Protocol == JSON || a.Protocol == JSONRPC:
			json = true // keyed from the text below, as when JSON is not decoded
		default:
			content = true
		}
	}
	if content || beat && !json {
		return dst
	}
	text := m.Data
	proto := "text"
	if sockjs {
		for _, s := range sockjsStrings(m) {
			add(textKey([]byte(s), SockJS))
		}
		return dst
	}
	add(textKey(text, proto))
	return dst
}

// textKey is the shape of a text that no protocol decoded (or JSON).
func textKey(text []byte, proto string) (Shape, bool) {
	if k, ok := jsonShape(text); ok {
		return Shape{JSON, k}, true
	}
	if k, ok := textShape(text); ok {
		return Shape{proto, k}, true
	}
	return Shape{}, false
}

func stompShape(a *App) (Shape, bool) {
	if len(a.Body) > maxShapeBody || !stompCommands[a.Type] {
		return Shape{}, false
	}
	key := a.Type
	for _, f := range a.Fields[1:] {
		if f.Key == "destination" {
			if !printable(f.Value) {
				return Shape{}, false
			}
			key += " " + f.Value
			break
		}
	}
	if len(a.Body) > 0 {
		k, ok := jsonShape(a.Body)
		if !ok {
			if k, ok = textShape(a.Body); ok {
				k = strconv.Quote(k)
			}
		}
		if !ok {
			return Shape{}, false
		}
		key += " " + k
	}
	return Shape{STOMP, key}, true
}

func socketioShape(a *App) (Shape, bool) {
	if a.Type != "EVENT" || len(a.Body) > maxShapeBody {
		return Shape{}, false
	}
	var nsp, event string
	for _, f := range a.Fields {
		switch f.Key {
		case "nsp":
			nsp = f.Value
		case "event":
			event = f.Value
		}
	}
	if event == "" || len(event) > maxShapeText || !printable(event) || !printable(nsp) {
		return Shape{}, false
	}
	if nsp != "/" && nsp != "" {
		event = nsp + " " + event
	}
	return Shape{SocketIO, event}, true
}

// jsonShape keys a small JSON object by the first of its type, op, event
// and method members that is a short string or a scalar.
func jsonShape(b []byte) (string, bool) {
	if len(b) == 0 || len(b) > maxShapeJSON || b[0] != '{' {
		return "", false
	}
	var mb memberBuf
	members, ok := parseJSON(b, &mb)
	defer mb.release()
	if !ok {
		return "", false
	}
	for _, k := range jsonShapeKeys {
		raw, ok := member(b, members, k)
		if !ok || len(raw) == 0 || raw[0] == '{' || raw[0] == '[' {
			continue
		}
		v := jsonString(raw)
		if v == "" || len(v) > maxShapeText || !printable(v) {
			continue
		}
		return k + "=" + v, true
	}
	return "", false
}

// textShape keys a short printable text by itself.
func textShape(b []byte) (string, bool) {
	if len(b) == 0 || len(b) > maxShapeText || !printable(string(b)) {
		return "", false
	}
	return string(b), true
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if printableASCII(s) {
		return true
	}
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// sockjsStrings returns the messages of a SockJS frame: a client's array
// (or single string), a server's a[...] or m"..." frame.
func sockjsStrings(m *wsparse.Message) []string {
	b := m.Data
	if m.Dir == wsparse.ServerToClient {
		if len(b) == 0 || b[0] != 'a' && b[0] != 'm' {
			return nil
		}
		b = b[1:]
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if json.Unmarshal(b, &one) != nil {
			return nil
		}
		return []string{one}
	}
	var msgs []string
	if json.Unmarshal(b, &msgs) != nil {
		return nil
	}
	return msgs
}

// maxInnerTexts bounds the bytes of a message whose inner texts are
// looked at for --heartbeat-text.
const maxInnerTexts = 64 << 10

// InnerTexts returns what a user's heartbeat pattern is held against in m
// besides m itself: the texts inside a SockJS frame and, for each STOMP
// frame, its destination and body. A STOMP SEND to "ping" in a SockJS
// array (["SEND\ndestination:ping\n\n\u0000"]) gives the frame and
// "ping".
func InnerTexts(m *wsparse.Message, apps []App) []string {
	if m == nil || m.Opcode != wsparse.OpText || len(m.Data) > maxInnerTexts {
		return nil
	}
	var out []string
	for i := range apps {
		a := &apps[i]
		switch {
		case a.Protocol == SockJS && (a.Type == "a" || a.Type == "m"):
			out = append(out, sockjsStrings(m)...)
		case a.Protocol == STOMP && !a.Heartbeat && len(a.Fields) > 0:
			for _, f := range a.Fields[1:] {
				if f.Key == "destination" {
					out = append(out, f.Value)
					break
				}
			}
			if len(a.Body) > 0 {
				out = append(out, string(a.Body))
			}
		}
	}
	return out
}
