package wsparse

import "testing"

// TestSetTLSLeavesSentHandshake: a handshake already handed to the sink
// (kept whole, as a hostile one is) is not changed by a later SetTLS; the
// connection's own becomes a new one that names the TLS layer.
func TestSetTLSLeavesSentHandshake(t *testing.T) {
	c := NewConn(1, testClient, testServer, Config{}, nopSink{})
	sent := &Handshake{URI: "/x", Status: 101}
	c.hs = sent
	info := &TLSInfo{}
	c.SetTLS(info)
	if sent.TLS != nil {
		t.Errorf("SetTLS changed the handshake already sent (the -j merger holds it)")
	}
	if c.hs.TLS != info || c.hs.URI != "/x" {
		t.Errorf("the connection's handshake does not name the TLS layer: %+v", c.hs)
	}
	again := c.hs
	c.SetTLS(info)
	if c.hs != again {
		t.Errorf("SetTLS with the same layer made another handshake")
	}
}
