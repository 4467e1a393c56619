package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestParquetFilterAttempts: under a filter the Parquet reconnect_groups
// are made of the connections and of the attempts that never reached
// WebSocket that it selects, as conns' groups (the same selection,
// filter.Filter.AttemptSelected): gen__reconnect-dead with another
// client's refused loop beside it, each filter's Parquet groups equal to
// conns' jsonl ones. Before, the export under a filter had no refused,
// unanswered or closed connect in any group (--host 127.0.0.1:47365: 1
// attempt of 10, --host 10.0.0.2 no group). -j 1 and -j 2 the same.
func TestParquetFilterAttempts(t *testing.T) {
	file := besideRefusedLoop(t, "gen__reconnect-dead")
	for _, c := range []struct {
		args     []string
		attempts []int // of each group, in conns' order
	}{
		{[]string{"--host", "127.0.0.1:47365"}, []int{10}},
		{[]string{"--host", "10.0.0.2"}, []int{4}},
		{[]string{"--host", "127.0.0.1", "--host", "10.0.0.2"}, []int{10, 4}},
		{[]string{"--conn", "11"}, []int{1}},
		{[]string{"--host", "10.0.0.9"}, nil},
	} {
		out, errs, code := runWsdump(t, nil, append([]string{"conns", "-r", file, "--format", "jsonl"}, c.args...)...)
		if code != 0 {
			t.Fatalf("conns %v: exit %d: %s", c.args, code, errs)
		}
		var want []groupRow
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, `"type":"client_group"`) {
				var g groupRow
				if err := json.Unmarshal([]byte(l), &g); err != nil {
					t.Fatal(err)
				}
				want = append(want, g)
			}
		}
		var n []int
		for _, g := range want {
			n = append(n, g.Attempts)
		}
		if !slices.Equal(n, c.attempts) {
			t.Errorf("conns %v: groups of %v attempts, want %v", c.args, n, c.attempts)
		}
		for _, jobs := range []string{"1", "2"} {
			dir := t.TempDir()
			_, errs, code := runWsdump(t, nil, append([]string{"-r", file, "--format", "parquet", "-o", dir, "-j", jobs}, c.args...)...)
			if code != 0 {
				t.Fatalf("parquet %v: exit %d: %s", c.args, code, errs)
			}
			if g, w := jsonOf(parquetGroups(t, dir)), jsonOf(want); g != w {
				t.Errorf("%v -j %s: parquet reconnect_groups\n%s\nwant conns'\n%s", c.args, jobs, g, w)
			}
		}
	}
}

// groupRow is what a reconnect group's Parquet row and conns' jsonl
// client_group say of it and of its attempts.
type groupRow struct {
	ClientIP string `json:"client_ip" parquet:"client_ip"`
	Server   string `json:"server" parquet:"server"`
	Attempts int    `json:"attempts" parquet:"attempts"`
	Refused  int    `json:"refused" parquet:"refused"`
	Failed   int    `json:"failed" parquet:"failed"`
	Timeline []struct {
		Conn    int    `json:"conn" parquet:"conn"`
		Outcome string `json:"outcome" parquet:"outcome"`
	} `json:"timeline" parquet:"timeline,list"`
}

// parquetGroups reads the reconnect_groups rows of the datasets in dir.
func parquetGroups(t *testing.T, dir string) []groupRow {
	t.Helper()
	return readDataset[groupRow](t, dir, "reconnect_groups")
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
