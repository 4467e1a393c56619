package lint

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestLintBounds: a fault repeated on every frame is listed maxPerRule
// times per connection, with one line for the rest; counts (and so the
// summary and the exit status) stay exact.
func TestLintBounds(t *testing.T) {
	l := New()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	conns := []*wsparse.Conn{
		wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:80")}),
		wsparse.NewView(2, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:2"), netip.MustParseAddrPort("10.0.0.2:80")}),
	}
	frames := []int{maxPerRule + 1500, 10}
	for i, c := range conns {
		for n := 1; n <= frames[i]; n++ {
			l.Frame(c, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpPing, RSV: 2},
				Dir: wsparse.ServerToClient, TS: t0.Add(time.Duration(n) * time.Millisecond), Index: n, Anomalies: wsparse.AnomRSVWithoutExt})
		}
	}
	fs := l.Findings()
	if got, want := len(fs), maxPerRule+1+10; got != want {
		t.Fatalf("%d lines, want %d", got, want)
	}
	sum := fs[maxPerRule]
	if sum.Conn != 1 || sum.Omitted != 1500 || sum.Detail != "1500 more not listed" || sum.Dir != "s2c" ||
		!sum.TS.Equal(t0.Add((maxPerRule+1)*time.Millisecond)) || fs[maxPerRule-1].Index != maxPerRule {
		t.Errorf("summary line %+v after %+v", sum, fs[maxPerRule-1])
	}
	if c := l.Counts(); c != [3]int{Error: maxPerRule + 1510} || Worst(c) != Error {
		t.Errorf("counts %v, worst %v", c, Worst(c))
	}
	if Worst([3]int{}) != -1 || Worst([3]int{Info: 1}) != Info {
		t.Error("Worst of no findings, of info only")
	}
}
