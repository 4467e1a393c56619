package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// TestParquetInFlight: the reconnect_groups dataset says which attempts
// were in flight at the capture's end, as conns jsonl does (the group's
// in_flight, the attempt's in_flight), so that a query counting failures
// from the timeline's outcomes can leave them out: rotated/load's first
// file, cut just after connection 31's upgrade request (its 101 in the
// next file). Before, the dataset had no such column: the attempt was a
// plain no_response.
func TestParquetInFlight(t *testing.T) {
	file := "../../testdata/pcaps/rotated/load/load_00000_20261204170218.pcap"
	out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("conns jsonl: exit %d: %s", code, errs)
	}
	type attempt struct {
		Conn     int  `json:"conn" parquet:"conn"`
		InFlight bool `json:"in_flight" parquet:"in_flight"`
	}
	type group struct {
		Group    int       `json:"group" parquet:"group"`
		InFlight int       `json:"in_flight" parquet:"in_flight"`
		Timeline []attempt `json:"timeline" parquet:"timeline,list"`
	}
	want := map[int]group{}
	flying := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(l, `"type":"client_group"`) {
			continue
		}
		var g group
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatal(err)
		}
		want[g.Group] = g
		flying += g.InFlight
	}
	if flying != 1 {
		t.Fatalf("conns jsonl: %d attempts in flight, want 1 (connection 31)", flying)
	}
	dir := t.TempDir()
	writeParquet(t, file, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "reconnect_groups", "*", "*.parquet"))
	n := 0
	for _, p := range files {
		rows, err := parquet.ReadFile[group](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rows {
			n++
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(want[g.Group])
			if string(gj) != string(wj) {
				t.Errorf("parquet reconnect_groups: group %s, conns jsonl's %s", gj, wj)
			}
		}
	}
	if n != len(want) {
		t.Errorf("parquet: %d groups, conns jsonl %d", n, len(want))
	}
}
