package httpfb

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

type discard struct{ n int }

func (d *discard) Message(m *Msg)     { d.n++ }
func (d *discard) Request(r *Request) {}

// BenchmarkStreamingBody feeds one endless xhr_streaming response (64 MiB
// of frames, chunked, in 64 KiB segments) and one line without a newline
// (64 MiB) and reports the peak heap: a streamed body is decoded line by
// line, never held, and a line is held up to MaxBody.
//
//	go test ./httpfb -run XXX -bench BenchmarkStreamingBody -benchtime 1x
func BenchmarkStreamingBody(b *testing.B) {
	frame := []byte(`a["MESSAGE\ndestination:/topic/news\n\n` + strings.Repeat("x", 200) + `\u0000"]` + "\n")
	chunk := bytes.Repeat(frame, (64<<10)/len(frame)+1)[:64<<10] // frames run across the chunks
	noNL := bytes.Repeat([]byte("a"), 64<<10)
	for _, tc := range []struct {
		name string
		body []byte
	}{{"frames", chunk}, {"one-line", noNL}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(64 << 20)
			b.ReportAllocs()
			var peak uint64
			var ms runtime.MemStats
			for i := 0; i < b.N; i++ {
				d := &discard{}
				c := NewConn(d)
				ts := time.Unix(0, 0)
				c.Feed(true, []byte("POST /s/1/a/xhr_streaming HTTP/1.1\r\n\r\n"), ts)
				c.Feed(false, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), ts)
				hdr := []byte("10000\r\n")
				for n := 0; n < 1024; n++ {
					seg := append(append(append([]byte{}, hdr...), tc.body[:64<<10]...), '\r', '\n')
					c.Feed(false, seg, ts)
					if n%64 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
				c.End(ts)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
