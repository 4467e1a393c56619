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

// hostileHead is one of the reviewer's heads: the client's and server's
// bytes as a capture delivers them (1460-byte segments, in order), the
// number of frames each side sent after its head, and what the record
// must say about the heads.
type hostileHead struct {
	name          string
	cfg           Config
	steps         []headStep
	c2s, s2c      int    // frames sent
	anomaly       string // in the summary ("" none beyond the usual)
	handshake     string // "" no handshake record expected; else in its line
	noAnomalyLike string // must not be in the summary
}

type headStep struct {
	side int
	b    []byte
}

// runHeadSteps feeds the steps in 1460-byte segments.
func runHeadSteps(hh hostileHead) (*logSink, *Conn) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, hh.cfg, s)
	for _, st := range hh.steps {
		for b := st.b; len(b) > 0; {
			n := min(len(b), 1460)
			c.Feed(st.side, b[:n], testTime)
			b = b[n:]
		}
	}
	c.End(testTime)
	return s, c
}

// hostileHeads builds the reviewer's variants (review items 3 and 4): heads
// over the limit wherever the padding sits, and heads the parser rejects.
func hostileHeads() []hostileHead {
	pad := "X-Pad: " + strings.Repeat("p", 70000) + "\r\n"
	padFirst := func(head string) string {
		line, rest, _ := strings.Cut(head, "\r\n")
		return line + "\r\n" + pad + rest
	}
	req, resp := upgradeRequest(""), upgradeResponse("")
	clientFrame := func(i int) []byte { return frame(true, 0, OpText, testMask, "client message "+itoa(i)) }
	serverFrame := func(i int) []byte { return frame(true, 0, OpText, nil, "server message "+itoa(i)) }
	// conv: the request, early client frames, the response, then n frames
	// each way and a closing handshake.
	conv := func(req, resp string, early []byte, n int) []headStep {
		steps := []headStep{{0, []byte(req)}}
		if early != nil {
			steps = append(steps, headStep{0, early})
		}
		steps = append(steps, headStep{1, []byte(resp)})
		for i := 0; i < n; i++ {
			steps = append(steps, headStep{0, clientFrame(i)}, headStep{1, serverFrame(i)})
		}
		return append(steps, headStep{0, frame(true, 0, OpClose, testMask, "\x03\xe8")}, headStep{1, frame(true, 0, OpClose, nil, "\x03\xe8")})
	}
	var early []byte
	for i := 0; i < 5; i++ {
		early = append(early, frame(true, 0, OpText, testMask, "hello")...)
	}
	manyLines := strings.Repeat("X-a: b\r\n", 10000)
	line, rest, _ := strings.Cut(req, "\r\n")
	rs, rrest, _ := strings.Cut(resp, "\r\n")
	tt := []hostileHead{
		{name: "h9 both padded first", steps: conv(padFirst(req), padFirst(resp), nil, 40), c2s: 41, s2c: 41,
			anomaly: "http_header_too_long", handshake: "status=101"},
		{name: "h10 padded first, early frame", steps: conv(padFirst(req), resp, frame(true, 0, OpText, testMask, "early"), 3), c2s: 5, s2c: 4,
			anomaly: "http_header_too_long", handshake: "status=101"},
		{name: "h8 pipelined long head", steps: conv(line+"\r\n"+manyLines+rest, resp, nil, 3)[0:0], c2s: 9, s2c: 4,
			anomaly: "http_header_too_long", handshake: "status=101"},
		{name: "h3 long status line", steps: conv(req, rs+strings.Repeat("x", 70000)+"\r\n"+rrest, nil, 40), c2s: 41, s2c: 41,
			anomaly: "http_header_too_long", handshake: "anomalies=http_header_too_long"},
		{name: "mal space in uri", steps: conv(strings.Replace(req, "/chat", "/a b", 1), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "http_nonconforming", handshake: "status=101 accept_valid=true"},
		{name: "mal trailing space", steps: conv(strings.Replace(req, "HTTP/1.1\r\n", "HTTP/1.1 \r\n", 1), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "http_nonconforming", handshake: "status=101 accept_valid=true"},
		{name: "mal line without colon", steps: conv(strings.Replace(req, "Upgrade:", "JunkLine\r\nUpgrade:", 1), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "http_nonconforming", handshake: "status=101 accept_valid=true"},
		{name: "mal leading CRLF", steps: conv("\r\n"+req, resp, nil, 3), c2s: 4, s2c: 4,
			handshake: "status=101 accept_valid=true", noAnomalyLike: "http_"},
		{name: "mal lowercase method", steps: conv("get"+strings.TrimPrefix(req, "GET"), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "method_not_get", handshake: "status=101 accept_valid=true"},
		{name: "mal tabs", steps: conv(strings.Replace(req, "GET /chat ", "GET\t/chat\t", 1), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "http_nonconforming", handshake: "status=101 accept_valid=true"},
		{name: "mal unparseable request, 101", steps: conv(strings.Replace(req, "GET /chat HTTP/1.1", "GET /chat HTTP/1.1 x", 1), resp, nil, 3), c2s: 4, s2c: 4,
			anomaly: "http_malformed", handshake: "status=101"},
		{name: "mal folded line (control)", steps: conv(strings.Replace(req, "Upgrade:", "X-F: a\r\n  b\r\nUpgrade:", 1), resp, nil, 3), c2s: 4, s2c: 4,
			handshake: "status=101 accept_valid=true", noAnomalyLike: "http_"},
	}
	// h8: the request, with 10 000 short lines before the upgrade fields,
	// and 5 frames in the same segments; then the 101.
	h8 := &tt[2]
	h8.steps = append([]headStep{{0, cat([]byte(line+"\r\n"+manyLines+rest), early)}}, conv(req, resp, nil, 3)[1:]...)
	for n := 17; n <= 49; n += 4 {
		tt = append(tt, hostileHead{name: "plain, limit " + itoa(n), cfg: Config{MaxHTTPHeader: n}, steps: conv(req, resp, nil, 5), c2s: 6, s2c: 6,
			anomaly: "http_header_too_long"})
	}
	return tt
}

// TestHostileHeads: a head that cannot be fully used (over the limit
// wherever its padding sits, a start line over the limit, a head the parser
// rejects) never hides the conversation: every frame after it is decoded,
// on both sides, and the record says why the head was not used.
func TestHostileHeads(t *testing.T) {
	for _, hh := range hostileHeads() {
		t.Run(hh.name, func(t *testing.T) {
			s, _ := runHeadSteps(hh)
			c2s, s2c := wsFrames(s.lines)
			if len(c2s) != hh.c2s || len(s2c) != hh.s2c {
				t.Errorf("%d c2s and %d s2c frames, want %d and %d", len(c2s), len(s2c), hh.c2s, hh.s2c)
			}
			var hs, end string
			for _, l := range s.lines {
				switch l[0] {
				case 'H':
					hs = l
				case 'E':
					end = l
				}
			}
			if !strings.Contains(end, "anomalies=") || !strings.Contains(end[strings.Index(end, "anomalies="):], hh.anomaly) {
				t.Errorf("summary lacks %q: %s", hh.anomaly, end)
			}
			if hh.noAnomalyLike != "" && strings.Contains(end[strings.Index(end, "anomalies="):], hh.noAnomalyLike) {
				t.Errorf("summary has %q: %s", hh.noAnomalyLike, end)
			}
			if hh.handshake != "" && !strings.Contains(hs, hh.handshake) {
				t.Errorf("handshake %q, want %q", hs, hh.handshake)
			}
			if t.Failed() {
				t.Logf("%d records; handshake: %s\nsummary: %s", len(s.lines), hs, end)
			}
		})
	}
}
