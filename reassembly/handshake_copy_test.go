package reassembly

import (
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestCopyHandshakeOnlyTLS: the worker holds a plain handshake as it was
// sent (wsparse never changes a sent one), and copies one that names a
// TLS layer, whose TLSInfo the stream goes on updating.
func TestCopyHandshakeOnlyTLS(t *testing.T) {
	plain := &wsparse.Handshake{URI: "/x", Status: 101}
	if got := copyHandshake(plain); got != plain {
		t.Errorf("a plain handshake was copied (%p, sent %p): 384 bytes of garbage per connection with -j 2", got, plain)
	}
	info := &wsparse.TLSInfo{}
	tls := &wsparse.Handshake{URI: "/y", Status: 101, TLS: info}
	got := copyHandshake(tls)
	if got == tls || got.TLS == info || got.URI != "/y" || got.Status != 101 {
		t.Errorf("a TLS handshake was not copied whole: %+v", got)
	}
}
