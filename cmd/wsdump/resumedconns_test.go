package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestResumedConnsRowWhole: a connection caught mid-stream (frames at 0,
// 1 and 2 s) ended early by --max-connections 1 when another opens at
// 10 s, going on at 20 s with a frame each way, has two conn records in
// the main view's jsonl (one a piece, the second connection_resumed), and
// one row in conns: the whole connection, from 0 s, every frame of both
// pieces counted, as without the bound. Before, the row was the second
// piece's alone (START 20.000, 1/1/8 each way): the first piece's three
// messages were in no conns row. -j 1 and -j 2 the same.
func TestResumedConnsRowWhole(t *testing.T) {
	a := synth.New("192.0.2.1:40050", "192.0.2.2:80")
	a.Frame(false, wsparse.OpText, []byte("server 0")).At(time.Second).Frame(true, wsparse.OpText, []byte("client 0"))
	a.At(2*time.Second).Frame(false, wsparse.OpText, []byte("server 0b"))
	a.At(20*time.Second).Frame(false, wsparse.OpText, []byte("server 1")).At(21*time.Second).Frame(true, wsparse.OpText, []byte("client 1"))
	b := synth.New("192.0.2.1:40051", "192.0.2.2:80").At(10*time.Second).Open().Upgrade().Frame(true, wsparse.OpText, []byte("b"))
	pkts := append(slices.Clone(a.Packets), b.Packets...)
	slices.SortStableFunc(pkts, func(x, y synth.Packet) int { return x.TS.Compare(y.TS) })
	file := filepath.Join(t.TempDir(), "resumed.pcap")
	writePackets(t, file, pkts)

	type dir struct {
		Frames   int `json:"frames"`
		Messages int `json:"messages"`
		Payload  int `json:"payload_bytes"`
	}
	type row struct {
		Conn      int       `json:"conn"`
		First     time.Time `json:"first_ts"`
		C2S       dir       `json:"c2s"`
		S2C       dir       `json:"s2c"`
		Anomalies []string  `json:"anomalies"`
	}
	rowOf := func(args ...string) row {
		t.Helper()
		out, errs, code := runWsdump(t, nil, append([]string{"conns", "-r", file, "--format", "jsonl"}, args...)...)
		if code != 0 {
			t.Fatalf("conns %v: exit %d: %s", args, code, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			var r row
			if strings.HasPrefix(l, `{"type":"conn",`) && json.Unmarshal([]byte(l), &r) == nil && r.Conn == 1 {
				return r
			}
		}
		t.Fatalf("conns %v: no row of conn 1:\n%s", args, out)
		return row{}
	}
	whole := rowOf()
	if whole.C2S != (dir{2, 2, 16}) || whole.S2C != (dir{3, 3, 25}) || !whole.First.Equal(synth.Start) {
		t.Fatalf("without the bound: %+v", whole)
	}
	var prev string
	for _, jobs := range []string{"1", "2"} {
		r := rowOf("--max-connections", "1", "-j", jobs)
		if r.C2S != whole.C2S || r.S2C != whole.S2C || !r.First.Equal(whole.First) {
			t.Errorf("-j %s: conn 1's row %+v, want the counts and start of %+v", jobs, r, whole)
		}
		if !slices.Contains(r.Anomalies, "connection_resumed") {
			t.Errorf("-j %s: anomalies %v lack connection_resumed", jobs, r.Anomalies)
		}
		tab, _, _ := runWsdump(t, nil, "conns", "-r", file, "--max-connections", "1", "-j", jobs)
		if prev != "" && tab != prev {
			t.Errorf("-j 2's table differs from -j 1's:\n%s\n%s", prev, tab)
		}
		prev = tab
	}
}
