package report

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

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

// TestTranscriptEndTCPOrder: follow's end line of a connection that ended
// without a Close says who sent the FIN (or RST), and who first: it said
// only "fin_without_close", the question of who went away left to conns.
func TestTranscriptEndTCPOrder(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, tc := range []struct {
		end      wsparse.End
		fin, rst [2]bool
		ends     [2]time.Time
		want     string
	}{
		{wsparse.EndFINWithoutClose, [2]bool{true, true}, [2]bool{}, [2]time.Time{t0.Add(2 * time.Millisecond), t0.Add(time.Millisecond)},
			"=== conn 1 end at 1.000000: fin_without_close, FIN from server first, then client, 3/4 messages\n\n"},
		{wsparse.EndFINWithoutClose, [2]bool{true, false}, [2]bool{}, [2]time.Time{t0, {}},
			"=== conn 1 end at 1.000000: fin_without_close, FIN from client, 3/4 messages\n\n"},
		{wsparse.EndRSTWithoutClose, [2]bool{}, [2]bool{false, true}, [2]time.Time{{}, t0},
			"=== conn 1 end at 1.000000: rst_without_close, RST from server, 3/4 messages\n\n"},
		{wsparse.EndClean, [2]bool{true, true}, [2]bool{}, [2]time.Time{t0, t0.Add(time.Millisecond)},
			"=== conn 1 end at 1.000000: clean, 3/4 messages\n\n"},
	} {
		var out bytes.Buffer
		tr := NewTranscript(&out, TranscriptOptions{})
		tr.SetOrigin(t0.Add(-time.Second))
		c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
		s := &wsparse.Summary{Last: t0, End: tc.end, Handshake: &wsparse.Handshake{Status: 101}, TCPFin: tc.fin, TCPRst: tc.rst, TCPEndTS: tc.ends}
		s.Stats[0].Messages, s.Stats[1].Messages = 3, 4
		tr.End(c, s)
		if err := tr.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
