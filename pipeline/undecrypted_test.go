package pipeline

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

type discard struct{}

func (discard) Put(*record.Record) {}

// TestUndecryptedFirst: the notice's "first" is the lowest-numbered
// connection, not the first to end (the Arkime capture's said connection
// 81 while lint listed 32 first).
func TestUndecryptedFirst(t *testing.T) {
	u := &undecrypted{next: discard{}}
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	for _, id := range []int{81, 32, 44} {
		c := wsparse.NewView(id, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), srv})
		u.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{Server: srv, Info: &wsparse.TLSInfo{Error: "no key"}}})
	}
	var b strings.Builder
	u.notice(&b, "", "are not shown")
	if want := "3 TLS connections were not decrypted, so their WebSockets, if any, are not shown (the first: connection 32, to 10.0.0.2:443: no key)"; !strings.Contains(b.String(), want) {
		t.Errorf("notice %q, want %q", b.String(), want)
	}
}

// TestUndecryptedLate: connections captured after their TLS handshakes
// are not offered a key log as the remedy (session 35: mid-session TLS is
// listed as TLS).
func TestUndecryptedLate(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	for _, tc := range []struct {
		errs []string
		want string
	}{
		{[]string{tlsdec.NoHandshake}, "; it was captured after its TLS handshake, which no key log makes up for\n"},
		{[]string{tlsdec.NoHandshake + "; client guessed: the first side seen"}, "; it was captured after its TLS handshake, which no key log makes up for\n"},
		{[]string{tlsdec.NoHandshake, tlsdec.NoHandshake}, "; they were captured after their TLS handshakes, which no key log makes up for\n"},
		{[]string{"no key", tlsdec.NoHandshake}, "; a key log with their keys (--keylog FILE) decrypts them, but for the 1 captured after their TLS handshakes\n"},
		{[]string{"no key"}, "; a key log with its keys (--keylog FILE) decrypts it\n"},
	} {
		u := &undecrypted{next: discard{}}
		for i, e := range tc.errs {
			c := wsparse.NewView(i+1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), srv})
			u.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{Server: srv, Info: &wsparse.TLSInfo{Error: e}}})
		}
		var b strings.Builder
		u.notice(&b, "", "are not shown")
		if !strings.HasSuffix(b.String(), tc.want) {
			t.Errorf("%v: notice %q, want ...%q", tc.errs, b.String(), tc.want)
		}
	}
}
