package dataset

import (
	"path/filepath"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestUrgentSegments: the conns rows carry jsonl's urgent_segments per
// direction (segments with the TCP URG flag), null where there were none,
// as jsonl leaves the field out.
func TestUrgentSegments(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir})
	for id, u := range [][2]int{1: {2, 0}, 2: {0, 0}} {
		if id == 0 {
			continue
		}
		c := wsparse.NewView(id, ends)
		s := &wsparse.Summary{First: t0, Last: t0, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean}
		s.Stats[0].Urgent, s.Stats[1].Urgent = u[0], u[1]
		w.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Status: 101})
		w.End(c, s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	type side struct {
		Urgent *int64 `parquet:"urgent_segments,optional"`
	}
	type row struct {
		Conn int64 `parquet:"conn"`
		C2S  side  `parquet:"c2s"`
		S2C  side  `parquet:"s2c"`
	}
	rows := readRows[row](t, filepath.Join(dir, "conns", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if r.S2C.Urgent != nil || (r.Conn == 1) != (r.C2S.Urgent != nil) || r.C2S.Urgent != nil && *r.C2S.Urgent != 2 {
			t.Errorf("conn %d: urgent_segments c2s %v s2c %v, want 2 and null on conn 1, nulls on conn 2", r.Conn, r.C2S.Urgent, r.S2C.Urgent)
		}
	}
}
