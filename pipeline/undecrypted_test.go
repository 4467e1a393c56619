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
// Nor are those whose hellos were lost with their first bytes.
func TestUndecryptedLate(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	const lost = tlsdec.HelloLost + ": lost with the first 260 bytes of side 0"
	for _, tc := range []struct {
		errs []string
		want string
	}{
		{[]string{tlsdec.NoHandshake}, "; it was captured after its TLS handshake, which no key log makes up for\n"},
		{[]string{tlsdec.NoHandshake + "; client guessed: the first side seen"}, "; it was captured after its TLS handshake, which no key log makes up for\n"},
		{[]string{tlsdec.NoHandshake, tlsdec.NoHandshake}, "; they were captured after their TLS handshakes, which no key log makes up for\n"},
		{[]string{"no key", tlsdec.NoHandshake}, "; a key log with their keys (--keylog FILE) decrypts them, but for the 1 captured after their TLS handshakes\n"},
		{[]string{"no key"}, "; a key log with its keys (--keylog FILE) decrypts it\n"},
		{[]string{lost}, "; its TLS hello was not captured, which no key log makes up for\n"},
		{[]string{lost, lost}, "; their TLS hellos were not captured, which no key log makes up for\n"},
		{[]string{lost, tlsdec.NoHandshake}, "; they were captured without their TLS hellos, which no key log makes up for\n"},
		{[]string{"no key", lost, tlsdec.NoHandshake}, "; a key log with their keys (--keylog FILE) decrypts them, but for the 2 captured without their TLS hellos\n"},
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

// TestStoppedNotice: the WebSocket connections whose decryption stopped
// partway are counted in one notice naming the lowest-numbered three
// (whatever order they ended in), each reason short and escaped; a
// connection whose decryption went on past a failure is not counted.
func TestStoppedNotice(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	end := func(u *undecrypted, id int, tls *wsparse.TLSInfo) {
		c := wsparse.NewView(id, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), srv})
		u.Put(&record.Record{Kind: record.End, Conn: c, Summary: &wsparse.Summary{End: wsparse.EndOpen, TLS: tls}})
	}
	stop := func(e string) *wsparse.TLSInfo { return &wsparse.TLSInfo{Stopped: true, Error: e} }

	u := &undecrypted{next: discard{}}
	end(u, 9, stop("side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00): more"))
	end(u, 3, &wsparse.TLSInfo{Error: "side 0: 70 bytes lost, records lost: 1, decryption goes on"})
	end(u, 7, stop("side 1: \x1b[2J\nrecord 4: wrong"))
	end(u, 2, nil)
	end(u, 5, stop("side 0: 10 bytes lost, TLS records not followed past them"))
	end(u, 8, stop("side 1: record 2: bad (wrong key?)"))
	var b strings.Builder
	u.stoppedNotice(&b, "cap.pcap")
	want := `wsdump: cap.pcap: 4 wss connections' TLS decryption stopped partway, so what they carried after that is not shown: their bytes count as lost (the first: connection 5: side 0: 10 bytes lost, TLS records not followed past them; connection 7: side 1: \x1b[2J\nrecord 4: wrong; connection 8: side 1: record 2: bad)` + "\n"
	if b.String() != want {
		t.Errorf("notice\n%q, want\n%q", b.String(), want)
	}

	u = &undecrypted{next: discard{}}
	end(u, 1, stop("side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00): more"))
	b.Reset()
	u.stoppedNotice(&b, "")
	if want := "wsdump: 1 wss connection's TLS decryption stopped partway, so what it carried after that is not shown: its bytes count as lost (connection 1: side 0: renegotiation 1 to keys not known)\n"; b.String() != want {
		t.Errorf("notice %q, want %q", b.String(), want)
	}
	// The stop, not the first failure passed over (until session 39 the
	// first).
	u = &undecrypted{next: discard{}}
	end(u, 4, &wsparse.TLSInfo{Stopped: true, Error: "side 1: record 9 cut by lost bytes: 40 bytes of plaintext lost, decryption goes on",
		StopError: "side 0: 10 bytes lost, TLS records not followed past them"})
	b.Reset()
	u.stoppedNotice(&b, "")
	if want := "wsdump: 1 wss connection's TLS decryption stopped partway, so what it carried after that is not shown: its bytes count as lost (connection 4: side 0: 10 bytes lost, TLS records not followed past them)\n"; b.String() != want {
		t.Errorf("notice %q, want %q", b.String(), want)
	}
	u = &undecrypted{next: discard{}}
	end(u, 1, &wsparse.TLSInfo{Error: "side 0: 70 bytes lost, decryption goes on"})
	b.Reset()
	if u.stoppedNotice(&b, ""); b.String() != "" {
		t.Errorf("notice %q for a decryption that went on", b.String())
	}
}
