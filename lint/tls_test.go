package lint

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTLSNotDecryptedReason: WS309's detail says why, and when the
// decoder recorded no reason (a TLS connection of which too little was
// captured) says so; it ended "TLS to 10.0.18.1:443: " (the Arkime
// capture's connection 32).
func TestTLSNotDecryptedReason(t *testing.T) {
	l := New()
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")})
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	l.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{TS: time.Unix(1, 0), Server: srv, Info: &wsparse.TLSInfo{Error: "no key for client random 00"}}})
	l.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{TS: time.Unix(2, 0), Server: srv, Info: &wsparse.TLSInfo{}}})
	l.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{TS: time.Unix(3, 0), Server: srv, Info: &wsparse.TLSInfo{Decrypted: true}}})
	f := l.Findings()
	if len(f) != 2 {
		t.Fatalf("%d findings, want 2 (the decrypted connection none): %+v", len(f), f)
	}
	for i, want := range []string{"TLS to 10.0.0.2:443: no key for client random 00", "TLS to 10.0.0.2:443: no reason recorded: too little of it captured"} {
		if f[i].Rule.ID != "WS309" || f[i].Detail != want || strings.HasSuffix(f[i].Detail, ": ") {
			t.Errorf("finding %d: %s %q, want WS309 %q", i, f[i].Rule.ID, f[i].Detail, want)
		}
	}
}

// TestTLSDecryptionStopped: WS314 is told of a WebSocket's connection
// whose decryption stopped partway, its detail the TLS error escaped;
// not of one whose decryption went on past a failure, nor of plain ws.
func TestTLSDecryptionStopped(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  *wsparse.TLSInfo
		want string // WS314's detail; "" none
	}{
		{"stopped", &wsparse.TLSInfo{Stopped: true, Error: "side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00)"},
			"side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00)"},
		{"escaped", &wsparse.TLSInfo{Stopped: true, Error: "side 1: \x1b[2J\nx"}, `side 1: \x1b[2J\nx`},
		// The stop, not the first failure, which was passed over (until
		// session 39 the first).
		{"stop after a failure passed over", &wsparse.TLSInfo{Stopped: true, Error: "side 1: record 9 cut by lost bytes: 40 bytes of plaintext lost, decryption goes on",
			StopError: "side 0: 70 bytes lost, TLS records not followed past them"}, "side 0: 70 bytes lost, TLS records not followed past them"},
		{"goes on", &wsparse.TLSInfo{Error: "side 0: 70 bytes lost, records lost: 1 (40 bytes of plaintext), decryption goes on"}, ""},
		{"plain", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")})
			l.End(c, &wsparse.Summary{End: wsparse.EndOpen, Handshake: &wsparse.Handshake{}, TLS: tc.tls})
			var got []string
			for _, f := range l.Findings() {
				if f.Rule.Name == "tls-decryption-stopped" {
					if f.Rule.ID != "WS314" || f.Rule.Severity != Info || f.Record != "connection" || f.Conn != 1 {
						t.Errorf("finding %+v", f)
					}
					got = append(got, f.Detail)
				}
			}
			if tc.want == "" && len(got) != 0 || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Errorf("WS314 details %q, want %q", got, tc.want)
			}
		})
	}
}
