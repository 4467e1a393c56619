package dataset

import (
	"path/filepath"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestTLSSkipped: the tls group has jsonl's tls.client_skipped and
// tls.server_skipped (bytes searched for a record boundary after a loss
// inside a record, not decoded: the anomaly tls_record_resync), 0 where
// none, on the conns and handshakes rows. Before, Parquet had no trace of
// them: the columns were missing and read 0.
func TestTLSSkipped(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir})
	want := map[int64][2]int64{1: {70, 675}, 2: {0, 0}, 3: {0, 12}}
	for id := int64(1); id <= 3; id++ {
		i := &wsparse.TLSInfo{Version: "TLS 1.3", Bytes: [2]int64{1000, 2000}, Skipped: want[id]}
		c := wsparse.NewView(int(id), ends)
		w.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Status: 101, TLS: i})
		w.End(c, &wsparse.Summary{First: t0, Last: t0, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean, TLS: i})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Conn int64 `parquet:"conn"`
		TLS  *struct {
			ClientBytes   int64 `parquet:"client_bytes"`
			ClientSkipped int64 `parquet:"client_skipped"`
			ServerSkipped int64 `parquet:"server_skipped"`
		} `parquet:"tls,optional"`
	}
	for _, ds := range []string{"conns", "handshakes"} {
		rows := readRows[row](t, filepath.Join(dir, ds, "date=2026-12-04", "part-"+w.ID()+".parquet"))
		if len(rows) != 3 {
			t.Fatalf("%s: %d rows, want 3", ds, len(rows))
		}
		for _, r := range rows {
			if r.TLS == nil || [2]int64{r.TLS.ClientSkipped, r.TLS.ServerSkipped} != want[r.Conn] || r.TLS.ClientBytes != 1000 {
				t.Errorf("%s: conn %d: tls %+v, want skipped %v", ds, r.Conn, r.TLS, want[r.Conn])
			}
		}
	}
}
