package appproto

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// The BenchmarkDecode* benchmarks (issue 17) decode one message shape at
// two sizes, 10x apart, and render every App as jsonl does (MarshalJSON):
// the cost per byte (ns/op over bytes, or MB/s) should not grow with the
// size. Run them with
//
//	go test ./appproto -run '^$' -bench Decode -benchtime 20x

// benchDecode decodes msgs on one session per run (the Apps' JSON is
// report's: BenchmarkAppJSON there).
func benchDecode(b *testing.B, hs *wsparse.Handshake, msgs []msg) {
	wm, size := benchWire(b, msgs)
	for b.Loop() {
		s := New(hs, ModeAuto)
		for j := range wm {
			s.Message(&wm[j])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/byte")
}

// benchSizes runs shape at n and 10n.
func benchSizes(b *testing.B, n int, shape func(b *testing.B, n int)) {
	for _, k := range []int{n, 10 * n} {
		b.Run("n="+strconv.Itoa(k), func(b *testing.B) { shape(b, k) })
	}
}

// BenchmarkDecodeMembers: one object of n small members, keys distinct,
// in pairs, or all the same (10 000 and 100 000 members).
func BenchmarkDecodeMembers(b *testing.B) {
	for _, sh := range memberShapes {
		b.Run(sh.name, func(b *testing.B) {
			benchSizes(b, 10000, func(b *testing.B, n int) {
				benchDecode(b, nil, []msg{s2c(jsonMembers(n, sh.key(n)))})
			})
		})
	}
}

// BenchmarkDecodeDeep: nested objects and arrays, 1000 and 10 000 levels.
func BenchmarkDecodeDeep(b *testing.B) {
	benchSizes(b, 1000, func(b *testing.B, n int) {
		benchDecode(b, nil, []msg{s2c(deepJSON(n))})
	})
}

// BenchmarkDecodeLargeObject: one object {"n":..,"items":[chat, ...]} of 1
// and 10 MB.
func BenchmarkDecodeLargeObject(b *testing.B) {
	benchSizes(b, 1<<20, func(b *testing.B, n int) {
		var sb strings.Builder
		sb.WriteString(`{"n":1,"items":[`)
		for sb.Len() < n {
			sb.WriteString(benchChat + ",")
		}
		sb.WriteString(benchChat + `]}`)
		benchDecode(b, nil, []msg{s2c(sb.String())})
	})
}

// BenchmarkDecodeSmallMessages: a conversation of n small STOMP or
// Socket.IO messages (1000 and 10 000).
func BenchmarkDecodeSmallMessages(b *testing.B) {
	b.Run("stomp", func(b *testing.B) {
		benchSizes(b, 1000, func(b *testing.B, n int) {
			msgs := []msg{c2s("CONNECT\naccept-version:1.2\nhost:h\n\n\x00"), s2c("CONNECTED\nversion:1.2\n\n\x00")}
			for i := 0; len(msgs) < n; i++ {
				msgs = append(msgs, s2c("MESSAGE\ndestination:/topic/a\nmessage-id:"+itoa(i)+"\nsubscription:s\n\n"+benchChat+"\x00"))
			}
			benchDecode(b, hsProto("v12.stomp"), msgs)
		})
	})
	b.Run("socketio", func(b *testing.B) {
		benchSizes(b, 1000, func(b *testing.B, n int) {
			msgs := []msg{s2c(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`), c2s("40"), s2c(`40{"sid":"x"}`)}
			for i := 0; len(msgs) < n; i++ {
				msgs = append(msgs, c2s(`42["chat",{"seq":`+itoa(i)+`,"text":"hello there, how are you?"}]`))
			}
			benchDecode(b, &wsparse.Handshake{URI: "/socket.io/?EIO=4&transport=websocket", Status: 101}, msgs)
		})
	})
}
