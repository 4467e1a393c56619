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
