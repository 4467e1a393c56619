package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestJSONLStableClientsNumberedWhereShown: with --stable, a client's
// port becomes its number in the order clients appear in the output. A
// message record shows no client, so it must not number one: with -Y
// 'type == "message"' and --since past the handshakes, the messages of
// connections A then B come before B's conn record, which must name B's
// client 1 (the first client shown), and A's 2.
func TestJSONLStableClientsNumberedWhereShown(t *testing.T) {
	ap := netip.MustParseAddrPort
	srv := ap("10.0.0.9:80")
	a := wsparse.NewView(1, [2]netip.AddrPort{ap("10.0.0.1:5000"), srv})
	b := wsparse.NewView(2, [2]netip.AddrPort{ap("10.0.0.1:5001"), srv})
	ts := time.Unix(1700000000, 0)
	var out bytes.Buffer
	j := newJSONL(&out)
	j.st = NewStabilizer(true)
	for _, c := range []*wsparse.Conn{a, b} {
		j.MessageApps(c, &wsparse.Message{TS: ts, Dir: wsparse.ClientToServer, Opcode: wsparse.OpText, Frames: 1, Len: 1, Data: []byte("x")}, nil)
	}
	for _, c := range []*wsparse.Conn{b, a} {
		j.End(c, &wsparse.Summary{First: ts, Last: ts})
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var ends []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, `{"type":"conn"`) {
			ends = append(ends, line)
		}
	}
	if len(ends) != 2 || !strings.Contains(ends[0], `"client":"10.0.0.1:1"`) || !strings.Contains(ends[1], `"client":"10.0.0.1:2"`) {
		t.Fatalf("conn records of b then a should name clients 1 then 2:\n%s", out.String())
	}
}
