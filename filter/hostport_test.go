package filter

import (
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestHostPort: a --host value with a port selects that port only, never
// a longer one that starts with it (10.0.0.2:80 is not 10.0.0.2:8080, as
// a substring of the Host it was): an address with a port by either
// endpoint or a Host of that address and port, a name with a port by its
// Host (the name a substring, any case; the port the Host's, else the
// server's). Values without a port and globs are as before.
func TestHostPort(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, c := range []struct {
		host           string // --host
		client, server string
		hdr            string // the Host header ("-": no handshake)
		want           bool
	}{
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.2:80", "10.0.0.2:80", true},
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.2:8080", "10.0.0.2:8080", false}, // was a substring
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.2:8080", "-", false},             // a bare connect
		{"10.0.0.2:8080", "10.0.0.1:5000", "10.0.0.2:8080", "-", true},
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.2:80", "example.com", true},   // by the server's address
		{"10.0.0.1:5000", "10.0.0.1:5000", "10.0.0.2:80", "example.com", true}, // the client's
		{"10.0.0.1:500", "10.0.0.1:5000", "10.0.0.2:80", "example.com", false},
		{"0.0.2:80", "10.0.0.1:5000", "10.0.0.2:80", "110.0.0.2:80", true},   // not an address: a name, its Host 110.0.0.2 holds it
		{"0.0.0.2:80", "10.0.0.1:5000", "10.0.0.9:80", "10.0.0.2:80", false}, // an address exactly
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.9:80", "10.0.0.2:80", true}, // the Host's address and port
		{"10.0.0.2:80", "10.0.0.1:5000", "10.0.0.9:80", "10.0.0.2", true},    // the Host's address, the server's port
		{"[::1]:8080", "[::1]:5000", "[::1]:8080", "[::1]:8080", true},
		{"[::1]:80", "[::1]:5000", "[::1]:8080", "[::1]:8080", false},
		{"example.com:80", "10.0.0.1:5000", "10.0.0.2:8080", "example.com:80", true},
		{"example.com:80", "10.0.0.1:5000", "10.0.0.2:8080", "example.com:8080", false}, // was a substring
		{"example.com:80", "10.0.0.1:5000", "10.0.0.2:80", "api.Example.com", true},     // a name by substring, the server's port
		{"example.com:80", "10.0.0.1:5000", "10.0.0.2:8080", "example.com", false},
		{"example.com:8080", "10.0.0.1:5000", "10.0.0.2:80", "example.com:80", false},
		{"example.com", "10.0.0.1:5000", "10.0.0.2:8080", "example.com:8080", true}, // no port: as before
		{"10.0.0.2", "10.0.0.1:5000", "10.0.0.2:8080", "-", true},
		{"10.0.0.?:80", "10.0.0.1:5000", "10.0.0.2:80", "10.0.0.2:80", true}, // a glob: as before
		{"*:80", "10.0.0.1:5000", "10.0.0.2:8080", "10.0.0.2:8080", false},
		{"*:80*", "10.0.0.1:5000", "10.0.0.2:8080", "10.0.0.2:8080", true},
		{"::1", "[::1]:5000", "[::1]:8080", "-", true},                                 // an IPv6 address without brackets: no port
		{"[::1]:8080", "[::1]:5000", "[::1]:8080", "-", true},                          // a bracketed address with a port: no glob
		{"[::1]", "[::1]:5000", "[::1]:8080", "-", true},                               // a bracketed address without a port: the address, no glob
		{"[::1]", "[::2]:5000", "[::3]:8080", "1", false},                              // (the glob [::1] matched a Host "1")
		{"[::1]:8080", "[::2]:5000", "[::3]:8080", "[::1]", true},                      // the Host's bracketed address, the server's port
		{":8080", "10.0.0.1:5000", "10.0.0.2:8080", "-", true},                         // a port alone: an endpoint's
		{":80", "10.0.0.1:5000", "10.0.0.2:8080", "10.0.0.2:8080", false},              // was a substring
		{":8080", "10.0.0.1:5000", "10.0.0.9:80", "example.com:8080", true},            // the Host's port
		{":5000", "10.0.0.1:5000", "10.0.0.2:80", "example.com", true},                 // the client's
		{"*.example.com:80", "10.0.0.1:5000", "10.0.0.2:80", "a.example.com", true},    // a glob with a port, a Host without: the server's port
		{"*.example.com:80", "10.0.0.1:5000", "10.0.0.2:8080", "a.example.com", false}, // another port
		{"*.example.com", "10.0.0.1:5000", "10.0.0.2:80", "a.example.com", true},
	} {
		f := New(nil, Spec{Hosts: []string{c.host}})
		var h *wsparse.Handshake
		if c.hdr != "-" {
			h = &wsparse.Handshake{Host: c.hdr}
		}
		if got := f.hostMatches(ap(c.client), ap(c.server), h); got != c.want {
			t.Errorf("--host %s, %s to %s, Host %q: %v, want %v", c.host, c.client, c.server, c.hdr, got, c.want)
		}
		// A bare connect: its server's address as its Host.
		if c.hdr == "-" {
			conn := wsparse.NewConn(1, ap(c.client), ap(c.server), wsparse.Config{}, nil)
			if got := f.attemptHostMatches(conn, nil); got != c.want {
				t.Errorf("--host %s, a connect %s to %s: %v, want %v", c.host, c.client, c.server, got, c.want)
			}
		}
	}
}
