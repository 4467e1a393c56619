package wsparse

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

type fbSink struct{ out []string }

func (s *fbSink) Handshake(c *Conn, h *Handshake) { s.out = append(s.out, "handshake "+h.URI) }
func (s *fbSink) Frame(c *Conn, f *Frame)         {}
func (s *fbSink) Message(c *Conn, m *Message) {
	if m.Fallback == nil {
		s.out = append(s.out, fmt.Sprintf("ws %s %q", m.Dir, m.Data))
		return
	}
	if m.Fallback.Request != nil {
		s.out = append(s.out, fmt.Sprintf("request %s %s %d", m.Fallback.Session, m.Fallback.Request.URI, m.Fallback.Request.Status))
		return
	}
	s.out = append(s.out, fmt.Sprintf("%s %s %s %s %q %s", m.Fallback.Proto, m.Fallback.Session, m.Fallback.Transport, m.Dir, m.Data, m.Anomalies))
}
func (s *fbSink) End(c *Conn, sum *Summary) { s.out = append(s.out, "end "+string(sum.End)) }

// TestFallbackTap: an HTTP connection carrying SockJS xhr-streaming gives
// its frames as Messages with Fallback set (Config.Fallback), and its End
// for the joiner; and none without it.
func TestFallbackTap(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	for _, on := range []bool{false, true} {
		s := &fbSink{}
		c := NewConn(1, a, b, Config{Fallback: on}, s)
		ts := time.Unix(1, 0)
		c.Feed(0, []byte("GET /stomp/1/ab/xhr_streaming HTTP/1.1\r\nHost: x\r\n\r\n"), ts)
		c.Feed(1, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), ts)
		c.Feed(1, []byte(fmt.Sprintf("%x\r\n%s\r\n", 2051, strings.Repeat("h", 2048)+"\no\n")), ts)
		c.Feed(1, []byte("4\r\nh\nx\n\r\n0\r\n\r\n"), ts)
		c.End(ts)
		got := strings.Join(s.out, "\n")
		want := ""
		if on {
			want = "sockjs /stomp/1/ab xhr-streaming s2c \"o\" \nsockjs /stomp/1/ab xhr-streaming s2c \"h\" \nsockjs /stomp/1/ab xhr-streaming s2c \"x\" fallback_framing\nrequest /stomp/1/ab /stomp/1/ab/xhr_streaming 200\nend not_websocket"
		}
		if got != want {
			t.Errorf("Fallback %v:\n%s\nwant\n%s", on, got, want)
		}
	}
}

type sumSink struct {
	fbSink
	sum Summary
}

func (s *sumSink) End(c *Conn, sum *Summary) { s.sum = *sum }

// TestFallbackHandshakeNoSid: an Engine.IO handshake poll whose open
// packet names no sid carries messages that no session can take: their
// bytes are counted (skipped_bytes, fallback_framing on the connection),
// not dropped without a trace.
func TestFallbackHandshakeNoSid(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	s := &sumSink{}
	c := NewConn(1, a, b, Config{Fallback: true, EndAll: true}, s)
	body := noSidPoll(c)
	st := s.sum.Stats[ServerToClient]
	if want := uint64(body - 1); st.SkippedBytes != want || s.sum.Anomalies&AnomFallbackFraming == 0 {
		t.Errorf("skipped %d (want %d), anomalies %s (want fallback_framing); records %q", st.SkippedBytes, want, s.sum.Anomalies, s.out)
	}
}

// noSidPoll feeds c an Engine.IO handshake poll whose open packet names
// no sid, and ends it; it returns the length of the response's body.
func noSidPoll(c *Conn) int {
	ts := time.Unix(1, 0)
	body := `0{"upgrades":[],"pingInterval":25000,"pingTimeout":5000}` + "\x1e" + `40`
	c.Feed(0, []byte("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"), ts)
	c.Feed(1, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)), ts)
	c.End(ts)
	return len(body)
}

// TestFallbackJunkCounted: bytes that break HTTP framing between a
// fallback connection's exchanges (junk from the server after a finished
// poll) are counted in skipped_bytes and flagged, and the connection's End
// is reported for the joiner to add them to its session even where other
// HTTP connections are not ended (Config.EndAll false): they went to a
// request made up on the spot and vanished.
func TestFallbackJunkCounted(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	for _, endAll := range []bool{false, true} {
		s := &sumSink{}
		c := NewConn(1, a, b, Config{Fallback: true, EndAll: endAll}, s)
		ts := time.Unix(1, 0)
		junk := strings.Repeat("junk", 20000)
		c.Feed(0, []byte("POST /s/1/a/xhr HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), ts)
		c.Feed(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"), ts)
		c.Feed(1, []byte(junk), ts)
		c.End(ts)
		if st := s.sum.Stats[ServerToClient]; st.SkippedBytes != uint64(len(junk)) || s.sum.Anomalies&AnomFallbackFraming == 0 {
			t.Errorf("EndAll %v: skipped %d (want %d), anomalies %s (want fallback_framing)", endAll, st.SkippedBytes, len(junk), s.sum.Anomalies)
		}
	}
}

// TestFallbackNoSessionNotEnded: a connection whose fallback requests
// reached no session (an Engine.IO handshake poll whose open packet names
// no sid) is ended only with Config.EndAll, as any HTTP connection: its
// skipped bytes are no session's, and its End would be a lone
// not_websocket row in the table and jsonl views.
func TestFallbackNoSessionNotEnded(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	for _, endAll := range []bool{false, true} {
		s := &fbSink{}
		c := NewConn(1, a, b, Config{Fallback: true, EndAll: endAll}, s)
		noSidPoll(c)
		want := ""
		if endAll {
			want = "end not_websocket"
		}
		if got := strings.Join(s.out, "\n"); got != want {
			t.Errorf("EndAll %v: records %q, want %q", endAll, got, want)
		}
	}
}

// reqSink keeps the fallback requests' undecoded bytes and the Summary.
type reqSink struct {
	sumSink
	undecoded int64
}

func (s *reqSink) Message(c *Conn, m *Message) {
	if m.Fallback != nil && m.Fallback.Request != nil {
		s.undecoded += m.Fallback.Request.UndecodedBytes
	}
}

// TestFallbackGapCountedOnce: after a gap in a SockJS stream, the fallback
// decoder counts the bytes it cannot decode on its request
// (UndecodedBytes, which the joiner adds to the session); the frame search
// that ran over the same bytes must not count them again in the
// connection's skipped bytes, which the joiner adds too (a lost segment
// in xhr_streaming showed each byte after it twice).
func TestFallbackGapCountedOnce(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	s := &reqSink{}
	c := NewConn(1, a, b, Config{Fallback: true}, s)
	ts := time.Unix(1, 0)
	chunk := func(p string) []byte { return []byte(fmt.Sprintf("%x\r\n%s\r\n", len(p), p)) }
	c.Feed(0, []byte("GET /stomp/1/ab/xhr_streaming HTTP/1.1\r\nHost: x\r\n\r\n"), ts)
	c.Feed(1, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), ts)
	c.Feed(1, chunk("o\n"), ts)
	frame := `a["` + strings.Repeat("x", 1480) + `"]` + "\n"
	c.Feed(1, chunk(frame), ts)
	c.Gap(1, len(chunk(frame)), ts)
	after := 0
	for range 200 {
		p := chunk(frame)
		after += len(p)
		c.Feed(1, p, ts)
	}
	c.End(ts)
	skipped := s.sum.Stats[ServerToClient].SkippedBytes
	if s.undecoded == 0 || s.undecoded > int64(after) || skipped+uint64(s.undecoded) > uint64(after) {
		t.Errorf("after the gap %d bytes: the request's undecoded %d, the connection's skipped %d; want them counted once", after, s.undecoded, skipped)
	}
}

// TestFallbackEndForJoiner: a connection that carried a session's requests
// ends for the joiner even without Config.EndAll, which retires a finished
// session once its connections have ended: JoinEndOnly when it lost or
// skipped nothing (only that it ended), JoinOnly alone when it did (the
// joiner adds the bytes), neither with EndAll.
func TestFallbackEndForJoiner(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")
	for _, tc := range []struct {
		endAll, junk      bool
		joinOnly, endOnly bool
	}{{false, false, true, true}, {false, true, true, false}, {true, false, false, false}, {true, true, false, false}} {
		s := &sumSink{}
		c := NewConn(1, a, b, Config{Fallback: true, EndAll: tc.endAll}, s)
		ts := time.Unix(1, 0)
		c.Feed(0, []byte("POST /s/1/a/xhr HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), ts)
		c.Feed(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"), ts)
		if tc.junk {
			c.Feed(1, []byte(strings.Repeat("junk", 20000)), ts)
		}
		c.End(ts)
		if s.sum.End != EndNotWebSocket || s.sum.JoinOnly != tc.joinOnly || s.sum.JoinEndOnly != tc.endOnly {
			t.Errorf("EndAll %v, junk %v: End %q, JoinOnly %v, JoinEndOnly %v; want not_websocket, %v, %v",
				tc.endAll, tc.junk, s.sum.End, s.sum.JoinOnly, s.sum.JoinEndOnly, tc.joinOnly, tc.endOnly)
		}
	}
}
