package lint

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestTCPEndOrder: WS302 and WS303 say who ended first when both sides
// sent a FIN (or RST) at different times: a server killed mid-session
// FINs first, and "FIN from both" hid that it went away.
func TestTCPEndOrder(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(100, 0).Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name     string
		end      wsparse.End
		fin, rst [2]bool
		ends     [2]time.Time // by Dir
		rule     string
		want     string
	}{
		{"server FIN first", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]time.Time{at(9), at(1)}, "WS302", "FIN from server first, then client"},
		{"client FIN first", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]time.Time{at(1), at(9)}, "WS302", "FIN from client first, then server"},
		{"both at once", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]time.Time{at(1), at(1)}, "WS302", "FIN from both"},
		{"server only", wsparse.EndFINWithoutClose, [2]bool{false, true}, [2]bool{}, [2]time.Time{{}, at(1)}, "WS302", "FIN from server"},
		{"RST from server first", wsparse.EndRSTWithoutClose, [2]bool{}, [2]bool{true, true}, [2]time.Time{at(5), at(2)}, "WS303", "RST from server first, then client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")})
			l.End(c, &wsparse.Summary{End: tc.end, Handshake: &wsparse.Handshake{Status: 101}, TCPFin: tc.fin, TCPRst: tc.rst, TCPEndTS: tc.ends})
			var got []string
			for _, f := range l.Findings() {
				if f.Rule.ID == tc.rule {
					got = append(got, f.Detail)
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s details %q, want %q", tc.rule, got, tc.want)
			}
		})
	}
}
