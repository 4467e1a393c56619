package report

import (
	"testing"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestCloseTextTCPOrder: the conns table's CLOSE says who ended first
// when both sides did at different times (health.Close.TCPFirst): a
// server that went away (killed, crashed) reads "FIN from server first,
// then client", where "FIN from both" did not say who left.
func TestCloseTextTCPOrder(t *testing.T) {
	for _, tc := range []struct {
		name          string
		end           wsparse.End
		fin, rst, fst [2]bool
		want          string
	}{
		{"server first", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]bool{false, true}, "FIN from server first, then client, no Close"},
		{"client first", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]bool{true, false}, "FIN from client first, then server, no Close"},
		{"at once", wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]bool{}, "FIN from both, no Close"},
		{"one side", wsparse.EndFINWithoutClose, [2]bool{false, true}, [2]bool{}, [2]bool{}, "FIN from server, no Close"},
		{"RST, server first", wsparse.EndRSTWithoutClose, [2]bool{}, [2]bool{true, true}, [2]bool{false, true}, "RST from server first, then client, no Close"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &health.Conn{Status: 101}
			c.Close.End, c.Close.TCPFin, c.Close.TCPRst, c.Close.TCPFirst = tc.end, tc.fin, tc.rst, tc.fst
			if got := CloseText(c); got != tc.want {
				t.Errorf("CloseText gives %q, want %q", got, tc.want)
			}
		})
	}
}
