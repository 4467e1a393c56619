package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestH2RenegotiationsParquet: the conns dataset's tls group has jsonl's
// tls.h2_renegotiations (TLS 1.2 renegotiations after an HTTP/2
// connection's preface, which RFC 9113 §9.2.1 forbids), 0 where none: the
// real capture that renegotiates after its preface has 1 on its WebSocket
// stream's row, the one that renegotiates before it 0, as jsonl says.
// Before, Parquet had no such column: it read null, and the anomaly was
// in no dataset.
func TestH2RenegotiationsParquet(t *testing.T) {
	type tlsCols struct {
		Renegotiations   int64 `json:"renegotiations" parquet:"renegotiations"`
		H2Renegotiations int64 `json:"h2_renegotiations" parquet:"h2_renegotiations"`
		ClientBytes      int64 `json:"client_bytes" parquet:"client_bytes"`
	}
	type row struct {
		Conn   int64    `json:"conn" parquet:"conn"`
		Stream *int64   `json:"stream" parquet:"stream,optional"`
		TLS    *tlsCols `json:"tls" parquet:"tls,optional"`
	}
	show := func(rs []row) string {
		var s []string
		for _, r := range rs {
			st := int64(-1)
			if r.Stream != nil {
				st = *r.Stream
			}
			s = append(s, fmt.Sprintf("conn %d stream %d tls %+v", r.Conn, st, r.TLS))
		}
		slices.Sort(s)
		return strings.Join(s, "; ")
	}
	for _, tc := range []struct {
		name string
		h2   int64
	}{{"gen__h2-tls12-reneg", 1}, {"gen__h2-tls12-reneg-before-preface", 0}} {
		f := filepath.Join("..", "..", "testdata", "pcaps", tc.name+".pcap")
		out, errs, code := runWsdump(t, nil, append([]string{"-r", f, "--format", "jsonl"}, keylogArgs(f)...)...)
		if code != 0 {
			t.Fatalf("%s: jsonl: exit %d: %s", tc.name, code, errs)
		}
		var want []row
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, `{"type":"conn"`) {
				var r row
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatal(err)
				}
				want = append(want, r)
			}
		}
		dir := t.TempDir()
		writeParquet(t, f, dir)
		got := readDataset[row](t, dir, "conns")
		h2 := int64(0)
		for _, r := range want {
			if r.TLS != nil && r.Stream != nil {
				h2 = max(h2, r.TLS.H2Renegotiations)
			}
		}
		if h2 != tc.h2 || show(got) != show(want) {
			t.Errorf("%s: parquet conns %s\n    want the jsonl's %s (h2_renegotiations %d)", tc.name, show(got), show(want), tc.h2)
		}
	}
}
