package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestJobsIdentical checks that sharding connections across workers changes
// nothing: every fixture, every view, -j 1 against -j 4, byte for byte
// (stdout, stderr and exit status). The -j 1 run of the views TestGolden
// pins is TestGolden's (runShared).
func TestJobsIdentical(t *testing.T) {
	t.Parallel()
	views := []struct {
		name   string
		args   []string
		golden bool
	}{
		{"jsonl", []string{"--format", "jsonl"}, true},
		{"table", nil, true},
		{"messages", []string{"--messages"}, true},
		{"csv", []string{"--format", "csv"}, false},
		{"conns", []string{"conns"}, false},
		{"conns-jsonl", []string{"conns", "--format", "jsonl"}, false},
		// text heartbeats are matched in the workers with -j
		{"conns-text", []string{"conns", "--format", "jsonl", "--heartbeat-text", `ping|pong|\{"type":"(ping|pong)".*`}, false},
		{"lint", []string{"lint", "--format", "jsonl", "--fail-on", "none"}, false},
	}
	for _, f := range fixtures(t) {
		for _, v := range views {
			t.Run(filepath.Base(f)+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				args := append(append(append([]string(nil), v.args...), "-r", f), keylogArgs(f)...)
				if strings.HasPrefix(v.name, "conns") {
					args = append(append([]string(nil), v.args...), "-r", f) // conns takes no --keylog
				}
				var out1, err1 string
				var code1 int
				if v.golden {
					one := goldenArgs(f, v.args...) // ends in -j 1
					out1, err1, code1 = runShared(t, one...)
					args = slices.Clip(one[:len(one)-2])
				} else {
					out1, err1, code1 = runWsdump(t, nil, append(args, "-j", "1")...)
				}
				out4, err4, code4 := runWsdump(t, nil, append(args, "-j", "4")...)
				if code1 != code4 || err1 != err4 {
					t.Fatalf("-j 1: exit %d %q; -j 4: exit %d %q", code1, err1, code4, err4)
				}
				if out1 != out4 {
					t.Fatalf("-j 4 output differs from -j 1 (%d vs %d bytes)", len(out4), len(out1))
				}
			})
		}
	}
}
