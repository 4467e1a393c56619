package synth

import (
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Views returns n connection views, numbered from 1, each from its own
// client address (10.1.x.x:40000) to 10.0.0.2:8080: the connections a
// sink sees after a parallel merge, made before a memory measurement so
// that it counts only what the measured code keeps of them.
func Views(n int) []*wsparse.Conn {
	cs := make([]*wsparse.Conn, n)
	for i := range cs {
		cs[i] = wsparse.NewView(i+1, [2]netip.AddrPort{
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000),
			netip.MustParseAddrPort("10.0.0.2:8080")})
	}
	return cs
}

// Handshakes returns n accepted handshakes of a STOMP client, a
// millisecond apart, all with the same host, URI and subprotocol.
func Handshakes(n int) []*wsparse.Handshake {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	hs := make([]*wsparse.Handshake, n)
	for i := range hs {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		hs[i] = &wsparse.Handshake{RequestTS: at, TS: at, Method: "GET", URI: "/ws/stomp", HTTPVersion: "HTTP/1.1",
			Host: "example.com:8080", Status: 101, Subprotocol: "v12.stomp", Origin: "http://example.com", UserAgent: "test"}
	}
	return hs
}
