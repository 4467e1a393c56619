package appproto

import (
	"encoding/json"

	"github.com/wsdump/wsdump/wsparse"
)

// SockJS over its WebSocket transport (SockJS protocol 0.3, "Framing"): the
// server sends o (open), h (heartbeat), a["msg",...] (messages),
// m"msg" (one message, old servers) and c[code,"reason"] (close); the client
// sends JSON arrays of strings (or one string). The strings inside go to an
// inner session that sniffs its own protocol (STOMP in the classic browser
// stack).

type sockjsDecoder struct {
	inner *Session
}

func (d *sockjsDecoder) innerSession() *Session {
	if d.inner == nil {
		d.inner = &Session{auto: true, eio: 4, inner: true}
	}
	return d.inner
}

func (d *sockjsDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	b := m.Data
	if m.Opcode != wsparse.OpText {
		return append(out, App{Protocol: SockJS, Type: "binary", Key: "-", Summary: "SockJS binary message",
			Body: clone(b), Anomalies: []string{"sockjs_binary_frame"}})
	}
	if m.Dir == wsparse.ClientToServer {
		return d.messages(m, "a", b, out)
	}
	if len(b) == 0 {
		return append(out, App{Protocol: SockJS, Type: "", Key: "-", Summary: "SockJS empty frame",
			Anomalies: []string{"sockjs_bad_frame"}})
	}
	switch b[0] {
	case 'o':
		a := App{Protocol: SockJS, Type: "o", Key: "-", Summary: "SockJS open"}
		if len(b) != 1 {
			a.Anomalies = []string{"sockjs_bad_frame"}
		}
		return append(out, a)
	case 'h':
		a := App{Protocol: SockJS, Type: "h", Key: "-", Summary: "SockJS h", Heartbeat: true}
		if len(b) != 1 {
			a.Anomalies = []string{"sockjs_bad_frame"}
		}
		return append(out, a)
	case 'a', 'm':
		return d.messages(m, string(b[:1]), b[1:], out)
	case 'c':
		a := App{Protocol: SockJS, Type: "c", Key: "-", Summary: "SockJS close"}
		var v []json.RawMessage
		if json.Unmarshal(b[1:], &v) != nil || len(v) != 2 {
			a.Anomalies = []string{"sockjs_bad_json"}
			return append(out, a)
		}
		code, reason := string(v[0]), jsonString(v[1])
		a.Key = keyOf("code", code)
		a.Fields = []Field{{"code", code}, {"reason", reason}}
		a.Summary += " " + code + " " + quote(reason)
		return append(out, a)
	}
	return append(out, App{Protocol: SockJS, Type: "", Key: "-", Summary: "SockJS unknown frame " + quote(b),
		Anomalies: []string{"sockjs_bad_frame"}})
}

// messages decodes an array (or, for m frames and lenient clients, one
// string) of messages and hands each to the inner session.
func (d *sockjsDecoder) messages(m *wsparse.Message, typ string, b []byte, out []App) []App {
	var msgs []string
	var err error
	if typ == "m" || (len(b) > 0 && b[0] == '"') {
		var one string
		err = json.Unmarshal(b, &one)
		msgs = []string{one}
	} else {
		err = json.Unmarshal(b, &msgs)
	}
	a := App{Protocol: SockJS, Type: typ, Key: "-"}
	if err != nil {
		a.Summary = "SockJS " + typ + " (invalid JSON)"
		a.Anomalies = []string{"sockjs_bad_json"}
		a.Body = clone(b)
		return append(out, a)
	}
	if typ == "a" {
		a.Key = keyOf("n", itoa(len(msgs)))
		a.Summary = "SockJS a[" + itoa(len(msgs)) + "]"
	} else {
		a.Summary = "SockJS m"
	}
	a.Fields = []Field{{"messages", itoa(len(msgs))}}
	first := len(out)
	out = keep(out, a)
	in := d.innerSession()
	for _, s := range msgs {
		sub := wsparse.Message{Dir: m.Dir, TS: m.TS, Opcode: wsparse.OpText, Frames: 1,
			Len: uint64(len(s)), WireLen: uint64(len(s)), Data: []byte(s), Index: m.Index}
		for _, a := range in.Message(&sub) {
			out = keep(out, a)
		}
	}
	if len(msgs) > 0 && len(out) == first+1 && in.Protocol() != "" {
		out[first].Summary += " (part of a " + in.Protocol() + " frame)"
	}
	return out
}
