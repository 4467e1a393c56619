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
// its frames as Messages with Fallback set (Config.Fallback), and none
// without it.
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
			want = "sockjs /stomp/1/ab xhr-streaming s2c \"o\" \nsockjs /stomp/1/ab xhr-streaming s2c \"h\" \nsockjs /stomp/1/ab xhr-streaming s2c \"x\" fallback_framing\nrequest /stomp/1/ab /stomp/1/ab/xhr_streaming 200"
		}
		if got != want {
			t.Errorf("Fallback %v:\n%s\nwant\n%s", on, got, want)
		}
	}
}
