package lint

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestUrgentFinding: WS315 names each side that sent segments with the
// TCP URG flag (wsparse.DirStats.Urgent), with their count; none for a
// connection without; told of a connection open at the end, ended
// without a handshake, or cleanly.
func TestUrgentFinding(t *testing.T) {
	for _, tc := range []struct {
		urgent [2]int
		end    wsparse.End
		want   string
	}{
		{[2]int{0, 0}, wsparse.EndClean, "[]"},
		{[2]int{1, 0}, wsparse.EndClean, "[c2s 1 segment with the URG flag: a receiver without SO_OOBINLINE takes the byte an urgent pointer marks out of the stream, one for a pointer however many segments repeat it]"},
		{[2]int{0, 3}, wsparse.EndOpen, "[s2c 3 segments with the URG flag: a receiver without SO_OOBINLINE takes the byte an urgent pointer marks out of the stream, one for a pointer however many segments repeat it]"},
		{[2]int{2, 1}, wsparse.EndFINWithoutClose, "[c2s 2 segments with the URG flag: a receiver without SO_OOBINLINE takes the byte an urgent pointer marks out of the stream, one for a pointer however many segments repeat it s2c 1 segment with the URG flag: a receiver without SO_OOBINLINE takes the byte an urgent pointer marks out of the stream, one for a pointer however many segments repeat it]"},
	} {
		l := New()
		c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")})
		s := &wsparse.Summary{End: tc.end, Handshake: &wsparse.Handshake{}}
		s.Stats[0].Urgent, s.Stats[1].Urgent = tc.urgent[0], tc.urgent[1]
		l.End(c, s)
		var got []string
		for _, f := range l.Findings() {
			if f.Rule.Name == "tcp-urgent-data" {
				if f.Rule.ID != "WS315" || f.Rule.Severity != Warning || f.Record != "connection" || f.Conn != 1 {
					t.Errorf("finding %+v", f)
				}
				got = append(got, f.Dir+" "+f.Detail)
			}
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("urgent %v: WS315 %q, want %s", tc.urgent, got, tc.want)
		}
	}
}
