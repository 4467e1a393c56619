package appproto

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// benchWire turns msgs into the messages a benchmark decodes, with their
// bytes in all, and sets the benchmark's bytes per operation.
func benchWire(b *testing.B, msgs []msg) ([]wsparse.Message, int64) {
	var size int64
	wm := make([]wsparse.Message, len(msgs))
	for i, m := range msgs {
		wm[i] = wsparse.Message{Dir: m.dir, Opcode: m.op, Data: []byte(m.s), Len: uint64(len(m.s)), Frames: 1, TS: t0}
		size += int64(len(m.s))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	return wm, size
}

// benchMessages decodes msgs again and again on one session per b.N batch.
func benchMessages(b *testing.B, hs *wsparse.Handshake, msgs ...msg) {
	wm, _ := benchWire(b, msgs)
	s := New(hs, ModeAuto)
	for i := 0; i < b.N; i++ {
		for j := range wm {
			s.Message(&wm[j])
		}
	}
}

func BenchmarkSTOMPMessage(b *testing.B) {
	body := strings.Repeat("x", 1000)
	benchMessages(b, hsProto("v12.stomp"),
		s2c("MESSAGE\ndestination:/topic/a\nmessage-id:1\nsubscription:s\ncontent-length:1000\n\n"+body+"\x00"), s2c("\n"))
}

func BenchmarkSTOMPSplit16K(b *testing.B) {
	frame := "SEND\ndestination:/topic/a\ncontent-length:40000\n\n" + strings.Repeat("y", 40000) + "\x00"
	benchMessages(b, hsProto("v12.stomp"), c2s(frame[:16384]), c2s(frame[16384:32768]), c2s(frame[32768:]))
}

func BenchmarkSockJSArray(b *testing.B) {
	benchMessages(b, &wsparse.Handshake{URI: "/s/1/x/websocket", Status: 101}, s2c("o"),
		s2c(`a["MESSAGE\ndestination:/t\n\nhello\u0000","MESSAGE\ndestination:/t\n\nworld\u0000"]`), s2c("h"))
}

func BenchmarkSocketIOEvent(b *testing.B) {
	benchMessages(b, &wsparse.Handshake{URI: "/socket.io/?EIO=4", Status: 101},
		c2s(`42["chat",{"user":"alice","text":"hello there, how are you?"}]`), s2c("2"), c2s("3"))
}

func BenchmarkMQTTPublish(b *testing.B) {
	pub := mqttPacket(0x32, mqttStr("sensors/room1/temp")+"\x00\x05"+strings.Repeat("z", 200))
	benchMessages(b, hsProto("mqtt"), c2sBin(pub), s2cBin(mqttPacket(0x40, "\x00\x05")))
}

func BenchmarkGraphQLNext(b *testing.B) {
	benchMessages(b, hsProto("graphql-transport-ws"), s2c(`{"id":"op-1","type":"next","payload":{"data":{"tick":1}}}`))
}

func BenchmarkJSONRPC(b *testing.B) {
	benchMessages(b, nil, c2s(`{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2,3]}`), s2c(`{"jsonrpc":"2.0","id":1,"result":6}`))
}

// benchChat is a typical small message of the node ws captures.
const benchChat = `{"type":"chat","seq":1042,"from":"heidi","to":"dave","text":"see you at the standup tomorrow, bring the notes","ts":1732600000123}`

// benchChatArray is a JSON array of chat objects, about 64 KiB.
func benchChatArray() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for sb.Len() < 64<<10-len(benchChat)-1 {
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		sb.WriteString(benchChat)
	}
	sb.WriteByte(']')
	return sb.String()
}

func BenchmarkJSONObject(b *testing.B) {
	benchMessages(b, nil, s2c(benchChat))
}

func BenchmarkJSONArray64K(b *testing.B) {
	benchMessages(b, nil, s2c(benchChatArray()))
}
