package h2

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

type nopSink struct{}

func (nopSink) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (nopSink) Frame(*wsparse.Conn, *wsparse.Frame)         {}
func (nopSink) Message(*wsparse.Conn, *wsparse.Message)     {}
func (nopSink) End(*wsparse.Conn, *wsparse.Summary)         {}

// streamsConversation opens n WebSocket streams on one connection, each
// answered and carrying one message each way, none ended.
func streamsConversation(n int, path string) (client, server []byte) {
	h := synth.NewH2()
	client = h.Preface()
	server = h.ConnectProtocol()
	for i := 0; i < n; i++ {
		id := uint32(2*i + 1)
		client = append(client, h.Headers(true, id, false, synth.ExtendedConnect(path)...)...)
		client = append(client, h.Data(true, id, false, synth.WSFrame(true, wsparse.OpText, []byte("hello")))...)
		server = append(server, h.Headers(false, id, false, ":status", "200")...)
		server = append(server, h.Data(false, id, false, synth.WSFrame(false, wsparse.OpText, []byte("world")))...)
	}
	return client, server
}

// BenchmarkOpenStreams measures the heap one connection holds with
// DefaultMaxStreams WebSocket streams open (the bound on streams followed
// at once): heap-bytes/op is that heap, per connection.
func BenchmarkOpenStreams(b *testing.B) { benchOpenStreams(b, "/s") }

// BenchmarkOpenStreamsLongPaths is BenchmarkOpenStreams with a 60 000-byte
// :path on every CONNECT (under the 64 KiB header list bound): what a
// hostile client can make one connection hold.
func BenchmarkOpenStreamsLongPaths(b *testing.B) {
	benchOpenStreams(b, "/"+strings.Repeat("p", 60000))
}

func benchOpenStreams(b *testing.B, path string) {
	client, server := streamsConversation(DefaultMaxStreams, path)
	b.SetBytes(int64(len(client) + len(server)))
	b.ReportAllocs()
	var heap uint64
	for i := 0; i < b.N; i++ {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		parent := wsparse.NewConn(1, cli, srv, wsparse.Config{}, nopSink{})
		c := NewConn(parent, 0, Config{}, nopSink{})
		c.Feed(1, server[:15], epoch) // the server's SETTINGS first
		c.Feed(0, client, epoch)
		c.Feed(1, server[15:], epoch.Add(time.Millisecond))
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap += m1.HeapInuse - m0.HeapInuse
		if c.WebSockets() != DefaultMaxStreams {
			b.Fatalf("%d streams", c.WebSockets())
		}
		c.End(epoch)
	}
	b.ReportMetric(float64(heap)/float64(b.N), "heap-bytes/op")
}

// BenchmarkMalformedFlood measures a flood of malformed frames (empty
// CONTINUATIONs with no header block) on a connection with
// DefaultMaxStreams WebSocket streams open: each flags h2_malformed, which
// must not cost a walk over every open stream each time (MB/s).
func BenchmarkMalformedFlood(b *testing.B) {
	client, server := streamsConversation(DefaultMaxStreams, "/s")
	var flood []byte
	for i := 0; i < 10000; i++ {
		flood = append(flood, 0, 0, 0, frameContinuation, 0, 0, 0, 0, 1)
	}
	parent := wsparse.NewConn(1, cli, srv, wsparse.Config{}, nopSink{})
	c := NewConn(parent, 0, Config{}, nopSink{})
	c.Feed(1, server[:15], epoch)
	c.Feed(0, client, epoch)
	c.Feed(1, server[15:], epoch)
	b.SetBytes(int64(len(flood)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Feed(0, flood, epoch)
	}
}
