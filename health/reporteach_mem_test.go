package health

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestReportEachPacksHeads: the report of a tracker that made each
// connection's result at its end (FinishAtEnd) holds the connections
// kept as a head with its end packed in it (the 100 000 open at the end
// of a capture: HeadsAtEnd) packed, not as results made for each at
// once (a Conn, ~760 bytes and its strings: 91 MB of lint's and conns'
// report on 100 000 open connections); each reads the same as Report's.
// Here every connection is a client of its own, a reconnect group each:
// 478 bytes a connection with the groups, 1 346 with the results made
// at once.
func TestReportEachPacksHeads(t *testing.T) {
	const n = 10000
	views, hss := openConns(n)
	track := func() *Tracker {
		tr := New(nil, Options{})
		tr.FinishAtEnd()
		tr.AwaitCaptureEnd()
		tr.HeadsAtEnd()
		for i, c := range views {
			tr.Handshake(c, hss[i])
			tr.End(c, &wsparse.Summary{End: wsparse.EndOpen, First: hss[i].RequestTS, Last: at(i + 5), Handshake: hss[i]})
		}
		tr.CaptureEnd(at(n + 10))
		return tr
	}
	tr := track()
	var rep *Report
	per := bytesPer(n, func() { rep = tr.ReportEach() })
	t.Logf("%.0f bytes per connection of the report", per)
	if per > 600 {
		t.Errorf("%.0f bytes per connection of the report, want at most 600", per)
	}
	want := track().Report()
	if rep.Len() != n || len(want.Conns) != n {
		t.Fatalf("%d connections, Report %d, want %d", rep.Len(), len(want.Conns), n)
	}
	for i := range rep.Len() {
		g, _ := json.Marshal(rep.Conn(i))
		w, _ := json.Marshal(want.Conns[i])
		if string(g) != string(w) {
			t.Fatalf("connection %d:\n%s\nReport's\n%s", i, g, w)
		}
		rep.Release(i)
	}
	runtime.KeepAlive(tr)
}
