package health

import (
	"reflect"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestUnpackableTimesKeptWhole: with FinishAtEnd a connection whose times
// do not pack (another zone, a monotonic reading, a year out of range) is
// kept as it was (a local time packs), and reads the same through Report and ReportEach as
// without FinishAtEnd.
func TestUnpackableTimesKeptWhole(t *testing.T) {
	c2s, s2c := wsparse.ClientToServer, wsparse.ServerToClient
	now := time.Now()
	shifts := []func(time.Time) time.Time{
		func(x time.Time) time.Time { return x.In(time.FixedZone("X", 3600)) },
		func(x time.Time) time.Time { return x.AddDate(-500, 0, 0) },
		func(x time.Time) time.Time { return x.AddDate(300, 0, 0) },
		func(x time.Time) time.Time { return now.Add(x.Sub(t0)) },
		func(x time.Time) time.Time { return x.Local() },
	}
	for k, shift := range shifts {
		var reps [3]*Report
		for m := range 3 {
			tr := New(nil, Options{})
			if m > 0 {
				tr.FinishAtEnd()
			}
			for id := 1; id <= 3; id++ {
				v := newConv(tr, id, "10.1.0.1:5000", 101, "/ws", 0)
				if id == 2 {
					v.hs.RequestTS = shift(v.hs.RequestTS)
					v.hs.TS = shift(v.hs.TS)
					tr.Handshake(v.c, v.hs)
				}
				v.ping(c2s, 10, "a").pong(s2c, 12, "a")
				s := &wsparse.Summary{First: v.hs.RequestTS, Last: at(5000), Handshake: v.hs, End: wsparse.EndClean, Initiator: s2c}
				s.Close[1], s.Close[0] = closed(4990, 1001, "x"), closed(4991, 1001, "x")
				if id == 2 {
					s.Close[1].TS = shift(s.Close[1].TS)
					s.Last = shift(s.Last)
				}
				tr.End(v.c, s)
			}
			if _, ok := tr.packed[2]; m > 0 && (ok != (k == 4) || tr.packed[1] == "") {
				t.Fatalf("shift %d: connection 2 packed %v, connection 1 not", k, ok)
			}
			if m == 2 {
				r := tr.ReportEach()
				reps[m] = &Report{Groups: r.Groups, ConnectsUncounted: r.ConnectsUncounted, HTTP2: r.HTTP2, HTTP2More: r.HTTP2More}
				for i := range r.Len() {
					reps[m].Conns = append(reps[m].Conns, r.Conn(i))
				}
			} else {
				reps[m] = tr.Report()
			}
		}
		for m := 1; m < 3; m++ {
			if !reflect.DeepEqual(reps[0], reps[m]) {
				t.Errorf("shift %d, way %d: got\n%+v\nwant\n%+v", k, m, reps[m].Conns[1], reps[0].Conns[1])
			}
		}
	}
}
