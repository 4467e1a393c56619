package wsparse

import (
	"testing"
	"time"
)

// TestSetTLSLeavesSentHandshake: a handshake kept whole (its request
// centuries after the connection's first byte) is not changed by a later
// SetTLS once sent (the -j merger holds it unchanged); the connection's
// own names the TLS layer.
func TestSetTLSLeavesSentHandshake(t *testing.T) {
	c, s, _ := keptWhole(t)
	info := &TLSInfo{}
	c.SetTLS(info)
	if s.sent[0].TLS != nil {
		t.Errorf("SetTLS changed the handshake already sent (the -j merger holds it)")
	}
	if c.hs.TLS != info || c.hs.URI != "/ws" {
		t.Errorf("the connection's handshake does not name the TLS layer: %+v", c.hs)
	}
}

// keptWhole returns a connection whose refused upgrade was sent as a
// handshake kept whole (its request, at t1, centuries after the
// connection's first byte), and the sink that holds it.
func keptWhole(t *testing.T) (c *Conn, s *sentSink, t1 time.Time) {
	t.Helper()
	s = &sentSink{}
	c = NewConn(1, testClient, testServer, Config{}, s)
	t0 := time.Date(1974, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2274, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Feed(0, []byte("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), t0)
	c.Feed(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), t0)
	c.Feed(0, []byte("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), t1)
	c.Feed(1, []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), t1)
	if len(s.sent) != 1 || c.hs == nil {
		t.Fatalf("%d handshakes sent, kept whole: %v; want 1 kept whole", len(s.sent), c.hs != nil)
	}
	return c, s, t1
}

// sentSink keeps the handshakes sent and their anomalies when sent.
type sentSink struct {
	nopSink
	sent  []*Handshake
	anoms []Anomalies
}

func (s *sentSink) Handshake(_ *Conn, h *Handshake) {
	s.sent, s.anoms = append(s.sent, h), append(s.anoms, h.Anomalies)
}

// TestKeptWholeLeavesSentHandshake: a handshake kept whole (its request
// centuries after the connection's first byte) is not changed once sent by
// an anomaly found later (a response no request asked for): the -j
// merger holds the sent one until it hands it on, and printed
// unexpected_response on the handshake with -j 2, not with -j 1.
func TestKeptWholeLeavesSentHandshake(t *testing.T) {
	c, s, t1 := keptWhole(t)
	c.Feed(1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), t1)
	if got := s.sent[0].Anomalies; got != s.anoms[0] {
		t.Errorf("the sent handshake changed after it was sent: %v, was %v", got, s.anoms[0])
	}
	if c.hs.Anomalies&AnomUnexpectedResponse == 0 {
		t.Errorf("the connection's handshake lost the later anomaly: %v", c.hs.Anomalies)
	}
}
