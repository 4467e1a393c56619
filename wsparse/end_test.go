package wsparse

import (
	"strings"
	"testing"
	"time"
)

// chunked feeds b to a side in pieces of n bytes (n <= 0: in one piece).
func chunked(c *Conn, side int, b []byte, n int) {
	if n <= 0 {
		n = len(b)
	}
	for len(b) > 0 {
		k := min(n, len(b))
		c.Feed(side, b[:k], testTime)
		b = b[k:]
	}
}

// summaryLine returns the E line of a log, "" when there is none.
func summaryLine(s *logSink) string {
	for _, l := range s.lines {
		if strings.HasPrefix(l, "E ") {
			return l
		}
	}
	return ""
}

// TestEndHeldClientBytes: a client whose request is never answered in the
// capture (an upgrade request, a request cut over --max-http-header, one the
// parser rejects) has its following bytes held for the answer. At the end
// they are searched for frames as after a gap: the frames in them are
// reported, and the bytes that are not frames are counted in skipped_bytes.
func TestEndHeldClientBytes(t *testing.T) {
	var frames []byte
	for i := 0; i < 4; i++ {
		frames = append(frames, frame(true, 0, OpText, testMask, "client says hello "+itoa(i))...)
	}
	req := upgradeRequest("")
	cutReq := strings.Replace(req, "Upgrade:", "X-Pad: "+strings.Repeat("p", 150)+"\r\nUpgrade:", 1)
	badReq := strings.Replace(req, "GET /chat HTTP/1.1", "GET /chat HTTP/1.1 x", 1)
	junk := []byte(strings.Repeat("\x00\xff junk that is no frame ", 4))
	for _, tc := range []struct {
		name    string
		cfg     Config
		req     string
		held    []byte
		frames  int
		skipped int
		anomaly string
	}{
		{"upgrade unanswered", Config{}, req, frames, 4, 0, ""},
		{"cut request unanswered", Config{MaxHTTPHeader: 100}, cutReq, frames, 4, len(cutReq) - 100, "http_header_too_long"}, // the head past the limit is skipped
		{"rejected request unanswered", Config{}, badReq, frames, 4, 0, "http_malformed"},
		{"upgrade unanswered, junk then frames", Config{}, req, cat(junk, frames), 4, len(junk), ""},
		{"upgrade unanswered, junk only", Config{}, req, junk, 0, len(junk), ""},
	} {
		for _, n := range []int{0, 1, 7, 1460} {
			t.Run(tc.name+"/chunks "+itoa(n), func(t *testing.T) {
				s := &logSink{}
				c := NewConn(1, testClient, testServer, tc.cfg, s)
				chunked(c, 0, []byte(tc.req), n)
				chunked(c, 0, tc.held, n)
				c.End(testTime)
				c2s, _ := wsFrames(s.lines)
				end := summaryLine(s)
				if len(c2s) != tc.frames {
					t.Errorf("%d c2s frames, want %d", len(c2s), tc.frames)
				}
				if end == "" {
					t.Errorf("no summary")
				} else if got := s.sum.Stats[ClientToServer].SkippedBytes; got != uint64(tc.skipped) {
					t.Errorf("c2s skipped_bytes %d, want %d", got, tc.skipped)
				}
				if !strings.Contains(end, tc.anomaly) {
					t.Errorf("summary lacks %q", tc.anomaly)
				}
				if t.Failed() {
					t.Logf("records:\n%s", s)
				}
			})
		}
	}
}

// TestEndCutFrameHeader: the capture ends inside a frame header. Its bytes
// are counted in the direction's skipped_bytes and the summary is marked
// capture_truncated, as when it ends inside a payload; an open message the
// header would have continued is marked so too. The same however the bytes
// are split.
func TestEndCutFrameHeader(t *testing.T) {
	long := frame(true, 0, OpBinary, testMask, strings.Repeat("x", 300)) // 2+2+4 header bytes
	for _, tc := range []struct {
		name   string
		frames []byte
		cut    int    // header bytes captured
		msg    string // in the last message record ("" no check)
	}{
		{"one byte", frame(true, 0, OpText, testMask, "hello"), 1, ""},
		{"before the mask key", frame(true, 0, OpText, testMask, "hello"), 2, ""},
		{"inside the mask key", frame(true, 0, OpText, testMask, "hello"), 5, ""},
		{"inside the extended length", long, 3, ""},
		{"continuation of an open message", frame(true, 0, OpContinuation, testMask, "tail"), 4, "message_incomplete,capture_truncated"},
	} {
		before := cat(frame(true, 0, OpText, testMask, "first message"), frame(false, 0, OpText, testMask, "head of a fragmented one"))
		if tc.msg == "" {
			before = frame(true, 0, OpText, testMask, "first message")
		}
		client := cat([]byte(upgradeRequest("")), before, tc.frames[:tc.cut])
		server := []byte(upgradeResponse(""))
		for _, n := range []int{0, 1, 3, 1460} {
			t.Run(tc.name+"/chunks "+itoa(n), func(t *testing.T) {
				s := &logSink{}
				c := NewConn(1, testClient, testServer, Config{}, s)
				chunked(c, 0, []byte(upgradeRequest("")), n)
				chunked(c, 1, server, n)
				chunked(c, 0, client[len(upgradeRequest("")):], n)
				c.End(testTime)
				end := summaryLine(s)
				if got := s.sum.Stats[ClientToServer].SkippedBytes; got != uint64(tc.cut) {
					t.Errorf("c2s skipped_bytes %d, want %d", got, tc.cut)
				}
				if !strings.Contains(end[strings.Index(end, "anomalies="):], "capture_truncated") {
					t.Errorf("summary lacks capture_truncated")
				}
				if tc.msg != "" {
					var last string
					for _, l := range s.lines {
						if strings.HasPrefix(l, "M c2s") {
							last = l
						}
					}
					if !strings.HasSuffix(last, "anomalies="+tc.msg) {
						t.Errorf("last message %q, want anomalies=%s", last, tc.msg)
					}
				}
				if t.Failed() {
					t.Logf("records:\n%s", s)
				}
			})
		}
	}
}

// TestEndTime: a summary's Last is when the connection ended, the packet
// that ended it: a RST (even after that side's FIN), else the later FIN,
// else the last data; Last - First is its duration in every view.
func TestEndTime(t *testing.T) {
	at := func(ms int) time.Time { return testTime.Add(time.Duration(ms) * time.Millisecond) }
	type tcpEnd struct {
		side int
		rst  bool
		ms   int
	}
	for _, tc := range []struct {
		name string
		ends []tcpEnd
		want int // ms
	}{
		{"no FIN, no RST: the last data", nil, 20},
		{"RST after the data", []tcpEnd{{1, true, 400}}, 400},
		{"FIN from both: the later", []tcpEnd{{0, false, 500}, {1, false, 520}}, 520},
		{"FIN then RST from the same side", []tcpEnd{{1, false, 300}, {1, true, 900}}, 900},
		{"RST then FIN: the RST ended it", []tcpEnd{{0, true, 300}, {0, false, 900}}, 300},
		{"FIN before the last data", []tcpEnd{{0, false, 15}}, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			c.Feed(0, []byte(upgradeRequest("")), at(0))
			c.Feed(1, []byte(upgradeResponse("")), at(10))
			c.Feed(1, frame(true, 0, OpText, nil, "last data"), at(20))
			for _, e := range tc.ends {
				c.TCPEnd(e.side, e.rst, at(e.ms))
			}
			c.End(at(1000))
			if got := s.sum.Last; !got.Equal(at(tc.want)) {
				t.Errorf("Last at %v, want %d ms", got.Sub(testTime), tc.want)
			}
			if !s.sum.First.Equal(at(0)) {
				t.Errorf("First at %v, want 0", s.sum.First.Sub(testTime))
			}
		})
	}
}

// TestEndTimeFarApart: a summary's Last is the latest bytes' time even when
// it lies more than a time.Duration (292 years) from First, either way: a
// hostile pcapng's 64-bit timestamps, or a file merged out of order.
func TestEndTimeFarApart(t *testing.T) {
	year := 365 * 24 * time.Hour
	for _, tc := range []struct {
		name string
		last time.Time
	}{
		{"300 years later", testTime.Add(150 * year).Add(150 * year)},
		{"300 years earlier", testTime.Add(-150 * year).Add(-150 * year)},
		{"100 000 years earlier", time.Unix(-3e12, 5)},
		{"one second later", testTime.Add(time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &logSink{}
			c := NewConn(1, testClient, testServer, Config{}, s)
			c.Feed(0, []byte(upgradeRequest("")), testTime)
			c.Feed(1, []byte(upgradeResponse("")), testTime.Add(time.Millisecond))
			c.Feed(1, frame(true, 0, OpText, nil, "last data"), tc.last)
			c.End(tc.last)
			if !s.sum.Last.Equal(tc.last) {
				t.Errorf("Last %v, want %v", s.sum.Last, tc.last)
			}
			if !s.sum.First.Equal(testTime) {
				t.Errorf("First %v, want %v", s.sum.First, testTime)
			}
		})
	}
}
