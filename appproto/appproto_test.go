package appproto

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// msg is a test message: direction, opcode and data.
type msg struct {
	dir wsparse.Dir
	op  wsparse.Opcode
	s   string
}

func c2s(s string) msg    { return msg{wsparse.ClientToServer, wsparse.OpText, s} }
func s2c(s string) msg    { return msg{wsparse.ServerToClient, wsparse.OpText, s} }
func c2sBin(s string) msg { return msg{wsparse.ClientToServer, wsparse.OpBinary, s} }
func s2cBin(s string) msg { return msg{wsparse.ServerToClient, wsparse.OpBinary, s} }

// run feeds msgs to a session, 10 ms apart, and returns every App.
func run(s *Session, msgs ...msg) []App {
	var out []App
	for i, m := range msgs {
		wm := wsparse.Message{Dir: m.dir, Opcode: m.op, TS: t0.Add(time.Duration(i) * 10 * time.Millisecond),
			Data: []byte(m.s), Len: uint64(len(m.s)), Frames: 1, Index: i + 1}
		out = append(out, s.Message(&wm)...)
	}
	return out
}

// short renders Apps as "proto type key [hb] [anomalies] | summary".
func short(apps []App) []string {
	var out []string
	for _, a := range apps {
		s := a.Protocol + " " + a.Type + " " + a.Key
		if a.Heartbeat {
			s += " hb"
		}
		if len(a.Anomalies) > 0 {
			s += " !" + strings.Join(a.Anomalies, ",")
		}
		out = append(out, s+" | "+a.Summary)
	}
	return out
}

type appCase struct {
	name string
	hs   *wsparse.Handshake
	mode string
	in   []msg
	want []string
}

func runCases(t *testing.T, cases []appCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mode := c.mode
			if mode == "" {
				mode = ModeAuto
			}
			got := short(run(New(c.hs, mode), c.in...))
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
		})
	}
}

func hsProto(p string) *wsparse.Handshake {
	return &wsparse.Handshake{URI: "/ws", Status: 101, Subprotocol: p, OfferedProtocols: p}
}

func TestSTOMP(t *testing.T) {
	stomp := hsProto("v12.stomp")
	runCases(t, []appCase{
		{"connect and connected", stomp, "", []msg{
			c2s("CONNECT\naccept-version:1.2,1.1\nhost:/\nheart-beat:1000,2000\n\n\x00"),
			s2c("CONNECTED\nversion:1.2\nheart-beat:3000,500\n\n\x00\n"),
		}, []string{
			"stomp CONNECT - | STOMP CONNECT host=/ accept-version=1.2,1.1 heart-beat=1000,2000",
			"stomp CONNECTED - | STOMP CONNECTED version=1.2 heart-beat=3000,500",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
		}},
		{"send with content-length and NUL inside", stomp, "", []msg{
			c2s("SEND\ndestination:/topic/a\ncontent-length:5\n\na\x00b\x00c\x00"),
		}, []string{"stomp SEND destination=/topic/a | STOMP SEND /topic/a 5 B"}},
		{"several frames in one message, CRLF", stomp, "", []msg{
			c2s("SUBSCRIBE\r\nid:0\r\ndestination:/queue/q\r\n\r\n\x00\r\nUNSUBSCRIBE\nid:0\n\n\x00"),
		}, []string{
			"stomp SUBSCRIBE destination=/queue/q | STOMP SUBSCRIBE /queue/q id=0",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
			"stomp UNSUBSCRIBE - | STOMP UNSUBSCRIBE id=0",
		}},
		{"frame split across messages", stomp, "", []msg{
			c2s("SEND\ndestination:/t\n\nhello "), c2s("wor"), c2s("ld\x00\n"),
		}, []string{
			"stomp SEND destination=/t | STOMP SEND /t 11 B",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
		}},
		{"heart-beats", stomp, "", []msg{s2c("\n"), c2s("\r\n"), s2c("\n\n")}, []string{
			"stomp HEARTBEAT - hb | STOMP heart-beat",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
			"stomp HEARTBEAT - hb | STOMP heart-beat",
		}},
		{"1.2 escapes", stomp, "", []msg{
			s2c("MESSAGE\ndestination:/a\\cb\nx:\\\\\\n\n\n\x00"),
			s2c("MESSAGE\ndestination:/a\\tb\n\n\x00"),
		}, []string{
			"stomp MESSAGE destination=/a:b | STOMP MESSAGE /a:b 0 B",
			"stomp MESSAGE destination=/a\\tb !stomp_bad_escape | STOMP MESSAGE /a\\tb 0 B",
		}},
		{"other commands", stomp, "", []msg{
			c2s("ACK\nid:m1\n\n\x00NACK\nid:m2\n\n\x00BEGIN\ntransaction:tx\n\n\x00COMMIT\ntransaction:tx\n\n\x00ABORT\ntransaction:tx\n\n\x00DISCONNECT\nreceipt:77\n\n\x00"),
			s2c("RECEIPT\nreceipt-id:77\n\n\x00ERROR\nmessage:bad thing\ncontent-length:3\n\nwhy\x00"),
		}, []string{
			"stomp ACK - | STOMP ACK id=m1",
			"stomp NACK - | STOMP NACK id=m2",
			"stomp BEGIN - | STOMP BEGIN transaction=tx",
			"stomp COMMIT - | STOMP COMMIT transaction=tx",
			"stomp ABORT - | STOMP ABORT transaction=tx",
			"stomp DISCONNECT - | STOMP DISCONNECT receipt=77",
			"stomp RECEIPT - | STOMP RECEIPT receipt-id=77",
			"stomp ERROR - | STOMP ERROR \"bad thing\"",
		}},
		{"malformed", stomp, "", []msg{
			c2s("BOGUS\nnocolon\ncontent-length:x\n\n\x00"),
			c2s("SEND\ncontent-length:2\n\nabc\x00"),
		}, []string{
			"stomp BOGUS - !stomp_unknown_command,stomp_bad_header,stomp_bad_content_length | STOMP \"BOGUS\"",
			"stomp SEND - !stomp_content_length_mismatch | STOMP SEND  3 B",
		}},
		{"sniffed", nil, "", []msg{c2s("STOMP\naccept-version:1.2\nhost:h\n\n\x00")}, []string{
			"stomp STOMP - | STOMP STOMP host=h accept-version=1.2",
		}},
	})
}

func TestSTOMPKeepalive(t *testing.T) {
	s := New(hsProto("v12.stomp"), ModeAuto)
	run(s, c2s("CONNECT\nheart-beat:1000,2000\n\n\x00"), s2c("CONNECTED\nheart-beat:3000,500\n\n\x00"))
	// At: the CONNECTED that completed the negotiation, the second message.
	want := Keepalive{Source: "stomp heart-beat", Interval: [2]time.Duration{time.Second, 3 * time.Second}, At: t0.Add(10 * time.Millisecond)}
	if got := s.Keepalive(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestSTOMPSecondConnect: a second CONNECT on a connected session keeps
// the first negotiation and its time (the broker's timers run from the
// first CONNECTED); it moved At to the second, and a gap from the first
// CONNECTED to the first beat was judged from the second.
func TestSTOMPSecondConnect(t *testing.T) {
	s := New(hsProto("v12.stomp"), ModeAuto)
	run(s, c2s("CONNECT\nheart-beat:1000,2000\n\n\x00"), s2c("CONNECTED\nheart-beat:3000,500\n\n\x00"),
		c2s("CONNECT\nheart-beat:5000,5000\n\n\x00"), s2c("CONNECTED\nheart-beat:5000,5000\n\n\x00"))
	want := Keepalive{Source: "stomp heart-beat", Interval: [2]time.Duration{time.Second, 3 * time.Second}, At: t0.Add(10 * time.Millisecond)}
	if got := s.Keepalive(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestSTOMPBody(t *testing.T) {
	apps := run(New(hsProto("v11.stomp"), ModeAuto), s2c("MESSAGE\ndestination:/x\ncontent-length:3\n\n\x00\xff\x01\x00"))
	if len(apps) != 1 || string(apps[0].Body) != "\x00\xff\x01" {
		t.Fatalf("got %q", short(apps))
	}
}

func TestSTOMPTooLarge(t *testing.T) {
	s := New(hsProto("v12.stomp"), ModeAuto)
	big := "SEND\ndestination:/a\n\n" + strings.Repeat("x", MaxBuffered)
	got := short(run(s, c2s(big), c2s("yyy\x00SEND\ndestination:/b\n\n\x00")))
	want := []string{
		"stomp  - !stomp_frame_too_large | STOMP frame too large, skipped",
		"stomp SEND destination=/b | STOMP SEND /b 0 B",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
}

func TestSockJS(t *testing.T) {
	sj := &wsparse.Handshake{URI: "/stomp/123/abcdefgh/websocket", Status: 101}
	runCases(t, []appCase{
		{"open, heartbeat, array with STOMP, close", sj, "", []msg{
			s2c("o"),
			c2s(`["CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\u0000"]`),
			s2c(`a["CONNECTED\nversion:1.2\n\n\u0000","MESSAGE\ndestination:/t\n\nhi\u0000"]`),
			s2c("h"),
			s2c(`c[3000,"Go away!"]`),
		}, []string{
			"sockjs o - | SockJS open",
			"sockjs a n=1 | SockJS a[1]",
			"stomp CONNECT - | STOMP CONNECT accept-version=1.2 heart-beat=0,0",
			"sockjs a n=2 | SockJS a[2]",
			"stomp CONNECTED - | STOMP CONNECTED version=1.2",
			"stomp MESSAGE destination=/t | STOMP MESSAGE /t 2 B",
			"sockjs h - hb | SockJS h",
			"sockjs c code=3000 | SockJS close 3000 \"Go away!\"",
		}},
		{"STOMP frame split across SockJS messages", sj, "", []msg{
			c2s(`["CONNECT\n\n\u0000"]`),
			c2s(`["SEND\ndestination:/a\n\nab"]`),
			c2s(`["cd\u0000"]`),
		}, []string{
			"sockjs a n=1 | SockJS a[1]",
			"stomp CONNECT - | STOMP CONNECT",
			"sockjs a n=1 | SockJS a[1] (part of a stomp frame)",
			"sockjs a n=1 | SockJS a[1]",
			"stomp SEND destination=/a | STOMP SEND /a 4 B",
		}},
		{"m frame and unknown inner", sj, "", []msg{s2c("o"), s2c(`m"plain"`)}, []string{
			"sockjs o - | SockJS open",
			"sockjs m - | SockJS m",
		}},
		{"malformed", sj, "", []msg{s2c("a[1,"), s2c("x"), s2c(`c[1]`), s2c(""), s2cBin("o"), s2c("oo")}, []string{
			"sockjs a - !sockjs_bad_json | SockJS a (invalid JSON)",
			"sockjs  - !sockjs_bad_frame | SockJS unknown frame \"x\"",
			"sockjs c - !sockjs_bad_json | SockJS close",
			"sockjs  - !sockjs_bad_frame | SockJS empty frame",
			"sockjs binary - !sockjs_binary_frame | SockJS binary message",
			"sockjs o - !sockjs_bad_frame | SockJS open",
		}},
		{"sniffed from o", &wsparse.Handshake{URI: "/x", Status: 101}, "", []msg{s2c("o"), s2c("h")}, []string{
			"sockjs o - | SockJS open",
			"sockjs h - hb | SockJS h",
		}},
	})
}

func TestSocketIO(t *testing.T) {
	sio := &wsparse.Handshake{URI: "/socket.io/?EIO=4&transport=websocket", Status: 101}
	runCases(t, []appCase{
		{"v4 session", sio, "", []msg{
			s2c(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`),
			c2s("40"),
			s2c(`40{"sid":"xyz"}`),
			c2s(`42["chat","hi"]`),
			c2s(`421["chat","hi"]`),
			s2c(`431[{"ok":true}]`),
			c2s(`40/admin,`),
			s2c(`42/admin,["welcome",{"a":1}]`),
			c2s(`42/admin,7["kick","x"]`),
			s2c("2"), c2s("3"),
			c2s(`451-["blob","pic",{"_placeholder":true,"num":0}]`),
			c2sBin("\x01\x02\x03"),
			s2c(`461-/admin,3[{"_placeholder":true,"num":0}]`),
			s2cBin("zz"),
			c2s(`44{"message":"nope"}`),
			c2s("41"),
			c2s("1"),
		}, []string{
			"engineio open - | EIO open sid=abc ping=25000/20000ms",
			"socketio CONNECT nsp=/ | SIO connect /",
			`socketio CONNECT nsp=/ | SIO connect / {"sid":"xyz"}`,
			`socketio EVENT nsp=/,event=chat | SIO event "chat"`,
			`socketio EVENT nsp=/,event=chat,id=1 | SIO event "chat" id=1`,
			`socketio ACK nsp=/,id=1 | SIO ack id=1 [{"ok":true}]`,
			"socketio CONNECT nsp=/admin | SIO connect /admin",
			`socketio EVENT nsp=/admin,event=welcome | SIO event "welcome" /admin`,
			`socketio EVENT nsp=/admin,event=kick,id=7 | SIO event "kick" /admin id=7`,
			"engineio ping - hb | EIO ping",
			"engineio pong - hb | EIO pong",
			`socketio BINARY_EVENT nsp=/,event=blob,attachments=1 | SIO event "blob" +1 attachment`,
			"socketio ATTACHMENT n=1 | SIO attachment 1/1 3 B",
			`socketio BINARY_ACK nsp=/admin,id=3,attachments=1 | SIO ack /admin id=3 +1 attachment [{"_placeholder":true,"num":0}]`,
			"socketio ATTACHMENT n=1 | SIO attachment 1/1 2 B",
			`socketio CONNECT_ERROR nsp=/ | SIO connect_error / {"message":"nope"}`,
			"socketio DISCONNECT nsp=/ | SIO disconnect /",
			"engineio close - | EIO close",
		}},
		{"probe and upgrade", sio, "", []msg{c2s("2probe"), s2c("3probe"), c2s("5"), s2c("6")}, []string{
			"engineio ping probe | EIO ping probe",
			"engineio pong probe | EIO pong probe",
			"engineio upgrade - | EIO upgrade",
			"engineio noop - | EIO noop",
		}},
		{"v3 binary prefix", &wsparse.Handshake{URI: "/socket.io/?EIO=3&transport=websocket", Status: 101}, "", []msg{
			c2s(`451-["b",{"_placeholder":true,"num":0}]`), c2sBin("\x04abc"),
		}, []string{
			`socketio BINARY_EVENT nsp=/,event=b,attachments=1 | SIO event "b" +1 attachment`,
			"socketio ATTACHMENT n=1 | SIO attachment 1/1 3 B",
		}},
		{"malformed", sio, "", []msg{
			c2s("9"), c2s(""), c2s("4x"), c2s(`42["a"`), c2s(`42{}`), c2s(`45x-[]`), c2sBin("q"),
			c2s(`451-["a",{"_placeholder":true,"num":0}]`), c2s("2"), s2c(`0{bad`),
		}, []string{
			`engineio  - !engineio_bad_packet | EIO invalid packet "9"`,
			`engineio  - !engineio_bad_packet | EIO invalid packet ""`,
			`socketio  - !socketio_bad_packet | EIO message "x"`,
			`socketio EVENT nsp=/ !socketio_bad_json | SIO event ""`,
			`socketio EVENT nsp=/ !socketio_bad_event | SIO event ""`,
			`socketio BINARY_EVENT nsp=/,attachments=0 !socketio_bad_attachments,socketio_bad_json | SIO event ""`,
			"socketio ATTACHMENT - !socketio_unexpected_binary | SIO attachment 1 B",
			`socketio BINARY_EVENT nsp=/,event=a,attachments=1 | SIO event "a" +1 attachment`,
			"engineio ping - hb !socketio_missing_attachments | EIO ping",
			"engineio open - !engineio_bad_open | EIO open",
		}},
		{"sniffed open", nil, "", []msg{s2c(`0{"sid":"s","pingInterval":1,"pingTimeout":2}`)}, []string{
			"engineio open - | EIO open sid=s ping=1/2ms",
		}},
	})
}

func TestSocketIOKeepalive(t *testing.T) {
	s := New(&wsparse.Handshake{URI: "/socket.io/?EIO=4", Status: 101}, ModeAuto)
	run(s, s2c(`0{"sid":"abc","pingInterval":25000,"pingTimeout":20000}`))
	want := Keepalive{Source: "engine.io open", Interval: [2]time.Duration{25 * time.Second, 25 * time.Second}, Timeout: 45 * time.Second, At: t0}
	if got := s.Keepalive(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// mqttPacket builds a packet from its first byte and remaining bytes.
func mqttPacket(first byte, rest string) string {
	// the remaining length: MQTT's variable byte integer, as Go's varint
	return string(binary.AppendUvarint([]byte{first}, uint64(len(rest)))) + rest
}

func mqttStr(s string) string { return string([]byte{byte(len(s) >> 8), byte(len(s))}) + s }

func TestMQTT(t *testing.T) {
	mq := hsProto("mqtt")
	connect311 := mqttPacket(0x10, mqttStr("MQTT")+"\x04\xc2\x00\x3c"+mqttStr("cid")+mqttStr("user")+mqttStr("pw"))
	connect5 := mqttPacket(0x10, mqttStr("MQTT")+"\x05\x02\x00\x0a"+"\x05\x11\x00\x00\x00\x3c"+mqttStr("c5"))
	pub := mqttPacket(0x32, mqttStr("t/1")+"\x00\x05"+"hello")
	runCases(t, []appCase{
		{"3.1.1 session", mq, "", []msg{
			c2sBin(connect311),
			s2cBin(mqttPacket(0x20, "\x00\x00")),
			c2sBin(mqttPacket(0x82, "\x00\x01"+mqttStr("a/#")+"\x01"+mqttStr("b")+"\x00")),
			s2cBin(mqttPacket(0x90, "\x00\x01\x01\x00")),
			c2sBin(pub),
			s2cBin(mqttPacket(0x40, "\x00\x05")),
			c2sBin(mqttPacket(0x34, mqttStr("q2")+"\x00\x06"+"x")),
			s2cBin(mqttPacket(0x50, "\x00\x06")),
			c2sBin(mqttPacket(0x62, "\x00\x06")),
			s2cBin(mqttPacket(0x70, "\x00\x06")),
			s2cBin(mqttPacket(0x31, mqttStr("r")+"\x00\x09")),
			c2sBin(mqttPacket(0xa2, "\x00\x02"+mqttStr("a/#"))),
			s2cBin(mqttPacket(0xb0, "\x00\x02")),
			c2sBin(mqttPacket(0xc0, "")),
			s2cBin(mqttPacket(0xd0, "")),
			c2sBin(mqttPacket(0xe0, "")),
		}, []string{
			`mqtt CONNECT client=cid,keepalive=60,v=4 | MQTT CONNECT client="cid" v4 keepalive=60s`,
			"mqtt CONNACK rc=0 | MQTT CONNACK rc=0",
			"mqtt SUBSCRIBE id=1,topics=a/#|b | MQTT SUBSCRIBE a/# b id=1",
			"mqtt SUBACK id=1 | MQTT SUBACK id=1 [1,0]",
			"mqtt PUBLISH topic=t/1,qos=1,id=5 | MQTT PUBLISH t/1 qos1 id=5 5 B",
			"mqtt PUBACK id=5 | MQTT PUBACK id=5",
			"mqtt PUBLISH topic=q2,qos=2,id=6 | MQTT PUBLISH q2 qos2 id=6 1 B",
			"mqtt PUBREC id=6 | MQTT PUBREC id=6",
			"mqtt PUBREL id=6 | MQTT PUBREL id=6",
			"mqtt PUBCOMP id=6 | MQTT PUBCOMP id=6",
			"mqtt PUBLISH topic=r,qos=0 | MQTT PUBLISH r qos0 retain 2 B",
			"mqtt UNSUBSCRIBE id=2,topics=a/# | MQTT UNSUBSCRIBE a/# id=2",
			"mqtt UNSUBACK id=2 | MQTT UNSUBACK id=2",
			"mqtt PINGREQ - hb | MQTT PINGREQ",
			"mqtt PINGRESP - hb | MQTT PINGRESP",
			"mqtt DISCONNECT - | MQTT DISCONNECT",
		}},
		{"5.0 with properties", mq, "", []msg{
			c2sBin(connect5),
			s2cBin(mqttPacket(0x20, "\x00\x00\x03\x13\x00\x14")),
			c2sBin(mqttPacket(0x30, mqttStr("t")+"\x05\x03\x00\x02ct"+"body")),
			s2cBin(mqttPacket(0x40, "\x00\x07\x10\x00")),
			s2cBin(mqttPacket(0xb0, "\x00\x02\x00\x00\x11")),
			c2sBin(mqttPacket(0xe0, "\x04\x00")),
		}, []string{
			`mqtt CONNECT client=c5,keepalive=10,v=5 | MQTT CONNECT client="c5" v5 keepalive=10s`,
			"mqtt CONNACK rc=0 | MQTT CONNACK rc=0",
			"mqtt PUBLISH topic=t,qos=0 | MQTT PUBLISH t qos0 4 B",
			"mqtt PUBACK id=7 | MQTT PUBACK id=7",
			"mqtt UNSUBACK id=2 | MQTT UNSUBACK id=2",
			"mqtt DISCONNECT - | MQTT DISCONNECT rc=4",
		}},
		{"packets spanning and sharing messages", mq, "", []msg{
			c2sBin(connect311[:3]), c2sBin(connect311[3:10]), c2sBin(connect311[10:] + pub[:1]), c2sBin(pub[1:] + mqttPacket(0xc0, "")),
		}, []string{
			`mqtt CONNECT client=cid,keepalive=60,v=4 | MQTT CONNECT client="cid" v4 keepalive=60s`,
			"mqtt PUBLISH topic=t/1,qos=1,id=5 | MQTT PUBLISH t/1 qos1 id=5 5 B",
			"mqtt PINGREQ - hb | MQTT PINGREQ",
		}},
		{"malformed", mq, "", []msg{
			c2sBin(mqttPacket(0x00, "")),
			c2sBin(mqttPacket(0x83, "\x00\x01")),
			c2sBin(mqttPacket(0x36, mqttStr("t"))),
			c2sBin(mqttPacket(0xc0, "x")),
			c2s(mqttPacket(0xc0, "")),
			c2sBin("\x30\xff\xff\xff\xff\x01"),
		}, []string{
			"mqtt RESERVED - !mqtt_reserved_type | MQTT RESERVED",
			"mqtt SUBSCRIBE id=1 !mqtt_bad_flags,mqtt_no_topics | MQTT SUBSCRIBE  id=1",
			"mqtt PUBLISH topic=t,qos=3,id=0 !mqtt_bad_qos,mqtt_truncated_packet | MQTT PUBLISH t qos3 id=0 0 B",
			"mqtt PINGREQ - hb !mqtt_trailing_bytes | MQTT PINGREQ",
			"mqtt  - !mqtt_text_frame | MQTT in a text message",
			"mqtt PINGREQ - hb | MQTT PINGREQ",
			"mqtt  - !mqtt_bad_remaining_length | MQTT malformed remaining length",
		}},
		{"sniffed", nil, "", []msg{c2sBin(connect311)}, []string{
			`mqtt CONNECT client=cid,keepalive=60,v=4 | MQTT CONNECT client="cid" v4 keepalive=60s`,
		}},
	})
}

func TestMQTTKeepalive(t *testing.T) {
	s := New(hsProto("mqtt"), ModeAuto)
	run(s, c2sBin(mqttPacket(0x10, mqttStr("MQTT")+"\x05\x02\x00\x0a"+"\x00"+mqttStr("c"))),
		s2cBin(mqttPacket(0x20, "\x00\x00\x03\x13\x00\x14")))
	want := Keepalive{Source: "mqtt keep alive", Interval: [2]time.Duration{20 * time.Second, 0}, Timeout: 30 * time.Second, At: t0}
	if got := s.Keepalive(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestGraphQL(t *testing.T) {
	runCases(t, []appCase{
		{"graphql-transport-ws", hsProto("graphql-transport-ws"), "", []msg{
			c2s(`{"type":"connection_init","payload":{"token":"t"}}`),
			s2c(`{"type":"connection_ack"}`),
			c2s(`{"id":"1","type":"subscribe","payload":{"query":"subscription {\n  tick\n}"}}`),
			s2c(`{"id":"1","type":"next","payload":{"data":{"tick":1}}}`),
			s2c(`{"id":"1","type":"error","payload":[{"message":"x"}]}`),
			s2c(`{"id":"1","type":"complete"}`),
			c2s(`{"type":"ping"}`), s2c(`{"type":"pong"}`),
			c2s(`{"type":"start","id":"2"}`),
			c2s(`{"type":"what"}`), c2s(`nope`),
		}, []string{
			"graphql-transport-ws connection_init - | GQL connection_init",
			"graphql-transport-ws connection_ack - | GQL connection_ack",
			`graphql-transport-ws subscribe id=1 | GQL subscribe 1 "subscription { tick }"`,
			`graphql-transport-ws next id=1 | GQL next 1 {"data":{"tick":1}}`,
			`graphql-transport-ws error id=1 | GQL error 1 [{"message":"x"}]`,
			"graphql-transport-ws complete id=1 | GQL complete 1",
			"graphql-transport-ws ping - hb | GQL ping",
			"graphql-transport-ws pong - hb | GQL pong",
			"graphql-transport-ws start id=2 !graphql_wrong_dialect | GQL start 2",
			"graphql-transport-ws what - !graphql_unknown_type | GQL what",
			`graphql-transport-ws  - !graphql_bad_json | GQL invalid JSON "nope"`,
		}},
		{"legacy subscriptions-transport-ws", hsProto("graphql-ws"), "", []msg{
			c2s(`{"type":"connection_init","payload":{}}`),
			s2c(`{"type":"connection_ack"}`), s2c(`{"type":"ka"}`),
			c2s(`{"id":"1","type":"start","payload":{"query":"query { a }","operationName":"A"}}`),
			s2c(`{"id":"1","type":"data","payload":{"data":{"a":1}}}`),
			c2s(`{"id":"1","type":"stop"}`), c2s(`{"type":"connection_terminate"}`),
		}, []string{
			"graphql-ws connection_init - | GQL connection_init",
			"graphql-ws connection_ack - | GQL connection_ack",
			"graphql-ws ka - hb | GQL ka",
			`graphql-ws start id=1 | GQL start 1 "query { a }"`,
			`graphql-ws data id=1 | GQL data 1 {"data":{"a":1}}`,
			"graphql-ws stop id=1 | GQL stop 1",
			"graphql-ws connection_terminate - | GQL connection_terminate",
		}},
		{"sniffed legacy", nil, "", []msg{c2s(`{"type":"connection_init"}`), s2c(`{"type":"ka"}`)}, []string{
			"graphql-transport-ws connection_init - | GQL connection_init",
			"graphql-ws ka - hb | GQL ka",
		}},
	})
}

func TestJSON(t *testing.T) {
	runCases(t, []appCase{
		{"json-rpc", nil, "", []msg{
			c2s(`{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}`),
			c2s(`{"jsonrpc":"2.0","method":"log","params":["x"]}`),
			s2c(`{"jsonrpc":"2.0","id":1,"result":3}`),
			c2s(`[{"jsonrpc":"2.0","id":"a","method":"m"},{"jsonrpc":"2.0","id":"b","method":"n"}]`),
			s2c(`[{"jsonrpc":"2.0","id":"b","error":{"code":-1,"message":"no"}},{"jsonrpc":"2.0","id":"a","result":null}]`),
			s2c(`{"jsonrpc":"2.0","id":99,"result":0}`),
			s2c(`{"jsonrpc":"1.0","id":100,"method":"m"}`),
		}, []string{
			"jsonrpc request id=1,method=sum | RPC request sum id=1 [1,2]",
			`jsonrpc notification method=log | RPC notification log ["x"]`,
			"jsonrpc response id=1,method=sum | RPC response id=1 sum 20 ms 3",
			"jsonrpc request id=a,method=m | RPC request m id=a",
			"jsonrpc request id=b,method=n | RPC request n id=b",
			`jsonrpc error id=b,method=n | RPC error id=b n 10 ms {"code":-1,"message":"no"}`,
			"jsonrpc response id=a,method=m | RPC response id=a m 10 ms null",
			"jsonrpc response id=99 !jsonrpc_unmatched_response | RPC response id=99 0",
			"jsonrpc request id=100,method=m !jsonrpc_bad_version | RPC request m id=100",
		}},
		// Sniffed as JSON: messages that are not JSON are left alone.
		{"plain json", nil, "", []msg{c2s(`{"a": 1, "b": [1, 2]}`), c2s(`[1]`), c2s(`not json`), c2sBin(`{}`)}, []string{
			`json object - | JSON {"a":1,"b":[1,2]}`,
			"json array - | JSON [1]",
		}},
		// Asked for JSON: they are flagged.
		{"forced mode", nil, JSON, []msg{c2s(`"s"`), c2s(`12`), c2s(`not json`), c2sBin(`{}`)}, []string{
			`json string - | JSON "s"`,
			"json scalar - | JSON 12",
			`json invalid - !json_invalid | JSON invalid "not json"`,
			"json invalid - !json_binary_frame | binary message",
		}},
	})
}

func TestModes(t *testing.T) {
	stompMsg := c2s("CONNECT\n\n\x00")
	if got := run(New(hsProto("v12.stomp"), ModeNone), stompMsg); got != nil {
		t.Errorf("mode none decoded %v", short(got))
	}
	if got := short(run(New(hsProto("mqtt"), STOMP), stompMsg)); len(got) != 1 || !strings.HasPrefix(got[0], "stomp CONNECT") {
		t.Errorf("forced stomp: %v", got)
	}
	if got := run(New(nil, "bogus"), stompMsg); got != nil {
		t.Errorf("unknown mode decoded %v", short(got))
	}
	// auto gives up after sniffLimit undecidable messages
	s := New(nil, ModeAuto)
	for i := 0; i < sniffLimit; i++ {
		run(s, c2s("???"))
	}
	if got := run(s, stompMsg); got != nil || s.Protocol() != "" {
		t.Errorf("sniffed after the limit: %v", short(got))
	}
	for _, m := range Modes {
		if !ValidMode(m) {
			t.Errorf("ValidMode(%q) = false", m)
		}
	}
	if ValidMode("socket.io") {
		t.Error("ValidMode accepts socket.io")
	}
	for uri, want := range map[string]string{
		"/stomp/123/abc/websocket":          SockJS,
		"/websocket":                        "",
		"/a/b.c/d/websocket":                "",
		"/socket.io/?EIO=4&transport=x":     SocketIO,
		"/custom?EIO=3&transport=websocket": SocketIO,
		"/plain":                            "",
	} {
		if got := New(&wsparse.Handshake{URI: uri, Status: 101}, ModeAuto).Protocol(); got != want {
			t.Errorf("%s: protocol %q, want %q", uri, got, want)
		}
	}
	// offered protocol without a captured response
	if got := New(&wsparse.Handshake{URI: "/", OfferedProtocols: "mqtt"}, ModeAuto).Protocol(); got != MQTT {
		t.Errorf("offered mqtt: %q", got)
	}
}

func TestTruncatedMessage(t *testing.T) {
	s := New(hsProto("v12.stomp"), ModeAuto)
	m := wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: []byte("\n"), Len: 100}
	got := s.Message(&m)
	if len(got) != 1 || len(got[0].Anomalies) != 1 || got[0].Anomalies[0] != "message_truncated" {
		t.Errorf("got %v", short(got))
	}
}

func TestBodyOwned(t *testing.T) {
	s := New(hsProto("v12.stomp"), ModeAuto)
	data := []byte("SEND\ndestination:/a\n\nxyz\x00")
	m := wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: data, Len: uint64(len(data))}
	apps := s.Message(&m)
	copy(data, strings.Repeat("!", len(data)))
	if string(apps[0].Body) != "xyz" {
		t.Errorf("body aliases the message: %q", apps[0].Body)
	}
}

// TestSplitInvariance cuts STOMP and MQTT streams at every byte, and in
// one-byte messages: the application messages must not change.
func TestSplitInvariance(t *testing.T) {
	stomp := "CONNECT\nheart-beat:1,1\n\n\x00\nSEND\ndestination:/a\ncontent-length:4\n\na\x00b\n\x00\r\n" +
		"SEND\ndestination:/b\n\nno length\x00MESSAGE\ndestination:/c\\c\n\n\x00\n\n"
	mq := mqttPacket(0x10, mqttStr("MQTT")+"\x04\x02\x00\x3c"+mqttStr("c")) +
		mqttPacket(0x32, mqttStr("t/1")+"\x00\x05"+strings.Repeat("p", 300)) + mqttPacket(0xc0, "")
	for _, c := range []struct {
		name, data string
		hs         *wsparse.Handshake
		op         wsparse.Opcode
	}{
		{"stomp", stomp, hsProto("v12.stomp"), wsparse.OpText},
		{"mqtt", mq, hsProto("mqtt"), wsparse.OpBinary},
	} {
		whole := short(run(New(c.hs, ModeAuto), msg{wsparse.ClientToServer, c.op, c.data}))
		for cut := 0; cut <= len(c.data); cut++ {
			got := short(run(New(c.hs, ModeAuto), msg{wsparse.ClientToServer, c.op, c.data[:cut]}, msg{wsparse.ClientToServer, c.op, c.data[cut:]}))
			if strings.Join(got, "\n") != strings.Join(whole, "\n") {
				t.Fatalf("%s cut at %d:\n%s\nwant\n%s", c.name, cut, strings.Join(got, "\n"), strings.Join(whole, "\n"))
			}
		}
		var bytewise []msg
		for i := range c.data {
			bytewise = append(bytewise, msg{wsparse.ClientToServer, c.op, c.data[i : i+1]})
		}
		if got := short(run(New(c.hs, ModeAuto), bytewise...)); strings.Join(got, "\n") != strings.Join(whole, "\n") {
			t.Errorf("%s byte by byte:\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(whole, "\n"))
		}
		if len(whole) < 3 {
			t.Errorf("%s: only %d messages", c.name, len(whole))
		}
	}
}

// TestBodyBorrowed: with BorrowBodies (and LazyFields), a JSON message's
// App has the message's data as its Body, where the trimmed text starts;
// Rebase moves it onto a copy of the data, Own copies it; an object
// decoded into Fields, and any session without BorrowBodies, still copies.
func TestBodyBorrowed(t *testing.T) {
	var scratch Scratch
	var arena Arena
	var kept []App
	var keptFields []string
	decode := func(borrow, lazy bool, text string) ([]byte, App) {
		s := New(nil, JSON)
		if lazy {
			s.LazyFields()
		}
		if borrow {
			s.BorrowBodies()
		}
		data := []byte(text)
		m := wsparse.Message{Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Data: data, Len: uint64(len(data))}
		apps := s.MessageIn(&scratch, &m)
		if len(apps) != 1 {
			t.Fatalf("%q: %d apps", text, len(apps))
		}
		return data, apps[0]
	}
	for _, text := range []string{`{"a":1,"b":"x"}`, " \n\t{\"a\":[1,2],\"b\":{}} \r\n", `  [1,2,3] `, `"s"`, ` 42`} {
		data, a := decode(true, true, text)
		want := strings.TrimSpace(text)
		if !a.Borrowed() || string(a.Body) != want || &a.Body[0] != &data[len(text)-len(strings.TrimLeft(text, " \t\r\n"))] {
			t.Fatalf("%q: borrowed %v, body %q: not the message's own bytes", text, a.Borrowed(), a.Body)
		}
		fields := fmt.Sprint(a.AllFields())
		cp := append([]byte(nil), data...)
		moved := a
		if !moved.Rebase(cp, nil) || moved.Borrowed() || string(moved.Body) != want || fmt.Sprint(moved.AllFields()) != fields {
			t.Errorf("%q: rebased: borrowed %v, body %q, fields %s (want %s)", text, moved.Borrowed(), moved.Body, moved.AllFields(), fields)
		}
		if moved.Rebase(cp, nil) {
			t.Errorf("%q: rebased twice", text)
		}
		if cut := a; cut.Rebase(cp[:len(cp)-len(text)+len(strings.TrimRight(text, " \t\r\n"))-1], nil) {
			t.Errorf("%q: rebased onto data too short to hold its body", text)
		}
		inArena := a
		if !inArena.Rebase(append([]byte(nil), data...), &arena) || fmt.Sprint(inArena.AllFields()) != fields {
			t.Errorf("%q: rebased into an arena: fields %s (want %s)", text, inArena.AllFields(), fields)
		}
		kept = append(kept, inArena)
		keptFields = append(keptFields, fields)
		owned := a
		owned.Own()
		decode(true, true, `{"kk":1}`) // the next message, in the same Scratch: its member where the first was
		if a.NumFields() > 0 && fmt.Sprint(a.AllFields()) == fields {
			t.Errorf("%q: the fields are not lent from the Scratch: %s", text, fields)
		}
		copy(data, strings.Repeat("!", len(data)))
		copy(cp, strings.Repeat("?", len(cp)))
		if owned.Borrowed() || string(owned.Body) != want || fmt.Sprint(owned.AllFields()) != fields {
			t.Errorf("%q: owned: borrowed %v, body %q, fields %s", text, owned.Borrowed(), owned.Body, owned.AllFields())
		}
		if string(moved.Body) != strings.Repeat("?", len(want)) {
			t.Errorf("%q: rebased body %q is not of the copy", text, moved.Body)
		}
	}
	for i, a := range kept { // as the arena grew, what it held stayed
		if got := fmt.Sprint(a.AllFields()); got != keptFields[i] {
			t.Errorf("kept in the arena: %s, want %s", got, keptFields[i])
		}
	}
	for _, c := range []struct{ borrow, lazy bool }{{false, true}, {false, false}, {true, false}} {
		data, a := decode(c.borrow, c.lazy, `{"k":"v"}`)
		copy(data, strings.Repeat("!", len(data)))
		if a.Borrowed() || string(a.Body) != `{"k":"v"}` || fmt.Sprint(a.AllFields()) != "[{k \"v\"}]" {
			t.Errorf("borrow %v, lazy %v: body %q, fields %v: aliases the message", c.borrow, c.lazy, a.Body, a.AllFields())
		}
	}
}
