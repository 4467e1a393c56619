package wsparse

import (
	"strings"
	"testing"
)

// TestLongHeadFallbacks: heads over MaxHTTPHeader whose kept part cannot
// be used (the start line alone is over the limit) or that never end (a
// byte no head holds comes first): the bytes after them are searched for
// frames as after a gap, and what was passed over is counted.
func TestLongHeadFallbacks(t *testing.T) {
	frames := func(masked bool, who string) []byte {
		var out []byte
		for i := 0; i < 5; i++ {
			var key []byte
			if masked {
				key = testMask
			}
			out = append(out, frame(true, 0, OpText, key, who+" says hello "+itoa(i))...)
		}
		return out
	}
	for _, tc := range []struct{ name, request string }{
		{"start line over the limit", "GET /" + strings.Repeat("u", 200) + " HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"},
		{"head never ends", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nX-Pad: " + strings.Repeat("p", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{MaxHTTPHeader: 100}, s)
			c.Feed(0, []byte(tc.request), testTime)
			c.Feed(0, frames(true, "client"), testTime)
			c.Feed(1, frames(false, "server"), testTime)
			c.End(testTime)
			c2s, s2c := wsFrames(s.lines)
			if len(c2s) != 5 || len(s2c) != 5 {
				t.Fatalf("%d c2s and %d s2c frames, want 5 each:\n%s", len(c2s), len(s2c), s)
			}
			last := s.lines[len(s.lines)-1]
			skipped := "SkippedBytes:" + itoa(len(tc.request)) + " "
			if !strings.Contains(last, "http_header_too_long") || !strings.Contains(last[:strings.Index(last, "s2c=")], skipped) {
				t.Errorf("summary: %s", last)
			}
			if h := c.LimitHits(); h.HTTPHeader != 1 {
				t.Errorf("limit hits %+v", h)
			}
		})
	}
}
