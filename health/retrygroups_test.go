package health

import (
	"encoding/json"
	"net/netip"
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestRetryGroupsOnlyBytes: with RetryGroupsOnly (lint), the report of
// 10 000 open connections, each a client of its own, makes no group of
// one attempt: it keeps 200 bytes a connection fewer than without (the
// groups, their attempts and items and the grouping's maps; measured
// ~494 -> ~60 bytes here), and the clients with two connections still
// have their groups, as without it.
func TestRetryGroupsOnlyBytes(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	track := func(only bool) *Tracker {
		tr := New(nil, Options{})
		tr.FinishAtEnd()
		tr.AwaitCaptureEnd()
		tr.HeadsAtEnd()
		if only {
			tr.RetryGroupsOnly()
		}
		for i, c := range views {
			tr.Handshake(c, hss[i])
			tr.End(c, &wsparse.Summary{End: wsparse.EndOpen, First: hss[i].RequestTS, Last: at(i + 5), Handshake: hss[i]})
		}
		// Two clients of two connections each: the first's and the
		// last's again, on another port.
		for _, i := range []int{0, n - 1} {
			c := wsparse.NewView(n+1+i, [2]netip.AddrPort{netip.AddrPortFrom(views[i].Client().Addr(), 60000), views[i].Server()})
			tr.Handshake(c, hss[i])
			tr.End(c, &wsparse.Summary{End: wsparse.EndOpen, First: hss[i].RequestTS, Last: at(n + 5), Handshake: hss[i]})
		}
		tr.CaptureEnd(at(n + 10))
		return tr
	}
	var all, only *Report
	trAll, trOnly := track(false), track(true)
	perAll := bytesPer(n, func() { all = trAll.ReportEach() })
	perOnly := bytesPer(n, func() { only = trOnly.ReportEach() })
	t.Logf("%.0f bytes per connection of the report, %.0f with RetryGroupsOnly; %d and %d groups", perAll, perOnly, len(all.Groups), len(only.Groups))
	if perOnly > perAll-200 {
		t.Errorf("%.0f bytes per connection with RetryGroupsOnly, %.0f without: want 200 fewer", perOnly, perAll)
	}
	var multi []*Group
	for _, g := range all.Groups {
		if len(g.Attempts) >= 2 {
			multi = append(multi, g)
		}
	}
	if len(multi) != 2 || len(only.Groups) != len(multi) {
		t.Fatalf("%d groups with RetryGroupsOnly, want the %d of two attempts or more (2)", len(only.Groups), len(multi))
	}
	for i, g := range only.Groups {
		a, _ := json.Marshal(g)
		b, _ := json.Marshal(multi[i])
		if string(a) != string(b) {
			t.Errorf("group %d:\n%s\nwithout RetryGroupsOnly\n%s", i, a, b)
		}
	}
	runtime.KeepAlive(trAll)
	runtime.KeepAlive(trOnly)
}
