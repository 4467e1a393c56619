package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// sharedInputFlags are the flags every command that reads a capture takes
// (issue 15): key logs, ports, -j, the resource limits and what changes the
// WebSocket decoding (--max-payload, --max-message, --no-sniff).
var sharedInputFlags = []string{
	"keylog", "ws-port", "jobs",
	"max-connections", "max-http-header", "max-http-header-total", "max-pending", "max-pending-total", "max-sniff", "max-sniff-total",
	"max-reorder", "max-reorder-total", "max-inflate-ratio", "spill-above",
	"max-payload", "max-message", "no-sniff",
}

// viewFilters are the filters each view takes: every one for the views of
// frames and messages, those that pick whole connections for conns (its
// rows are connections); --decode where application protocols are
// decoded.
var viewFilters = map[string][]string{
	"":       {"conn", "dir", "opcode", "host", "path", "since", "until", "grep", "count", "decode"},
	"lint":   {"conn", "dir", "opcode", "host", "path", "since", "until", "grep", "count"},
	"follow": {"conn", "dir", "opcode", "host", "path", "since", "until", "grep", "count"},
	"diff":   {"conn", "dir", "opcode", "host", "path", "since", "until", "grep", "count"},
	"export": {"conn", "dir", "opcode", "host", "path", "since", "until", "grep", "count"},
	"conns":  {"conn", "host", "path", "decode"},
}

// TestFlagFiltersOnEveryView: each view takes the filters that make sense
// for it, each with one definition (the same help, default and type in
// every view; the main view's --host and -c are the live capture's).
func TestFlagFiltersOnEveryView(t *testing.T) {
	root := newRootCmd(nil, io.Discard, io.Discard)
	lint, _, _ := root.Find([]string{"lint"})
	for name, flags := range viewFilters {
		cmd := root
		if name != "" {
			cmd, _, _ = root.Find([]string{name})
		}
		for _, flag := range flags {
			f := cmd.Flags().Lookup(flag)
			if f == nil {
				t.Errorf("wsdump %s has no --%s", name, flag)
				continue
			}
			ref := lint.Flags().Lookup(flag)
			if ref == nil || cmd == root && (flag == "host" || flag == "count") {
				ref = root.Flags().Lookup(flag)
			}
			if f.Usage != ref.Usage || f.DefValue != ref.DefValue || f.Value.Type() != ref.Value.Type() || f.Shorthand != ref.Shorthand {
				t.Errorf("wsdump %s --%s: %q (default %s), elsewhere %q (default %s)", name, flag, f.Usage, f.DefValue, ref.Usage, ref.DefValue)
			}
		}
	}
}

// TestFlagInputOnEveryCaptureCommand: the main view, conns, lint, follow,
// diff and export all take each input flag, with the main view's meaning.
func TestFlagInputOnEveryCaptureCommand(t *testing.T) {
	root := newRootCmd(nil, io.Discard, io.Discard)
	for _, name := range []string{"", "conns", "lint", "follow", "diff", "export"} {
		cmd := root
		if name != "" {
			c, _, err := root.Find([]string{name})
			if err != nil || c == root {
				t.Fatalf("%s: no such command (%v)", name, err)
			}
			cmd = c
		}
		for _, flag := range sharedInputFlags {
			t.Run(name+"/"+flag, func(t *testing.T) {
				f := cmd.Flags().Lookup(flag)
				if f == nil {
					t.Fatalf("wsdump %s has no --%s", name, flag)
				}
				if want := root.Flags().Lookup(flag); f.Usage != want.Usage || f.DefValue != want.DefValue || f.Value.Type() != want.Value.Type() {
					t.Errorf("wsdump %s --%s: %q (default %s), the main view's: %q (default %s)", name, flag, f.Usage, f.DefValue, want.Usage, want.DefValue)
				}
				if flag == "jobs" && f.Shorthand != "j" {
					t.Errorf("wsdump %s --jobs: shorthand %q", name, f.Shorthand)
				}
			})
		}
	}
}

// TestConnsKeylog: conns decrypts wss with --keylog, and counts the
// messages and heartbeats inside.
func TestConnsKeylog(t *testing.T) {
	const base = "../../testdata/pcaps/gen__wss-go-tls13"
	out, errs, code := runWsdump(t, nil, "conns", "--keylog", base+".keys", "-r", base+".pcap", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tsv, err := os.ReadFile(base + ".messages.tsv")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n")[1:] {
		dir, _, _ := strings.Cut(line, "\t")
		want[dir]++
	}
	type side struct{ Messages int }
	var conns int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Type      string
			Status    int
			C2S, S2C  side
			Heartbeat struct {
				Glance string
				Series []struct{ Count int }
			}
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r.Type != "conn" {
			continue
		}
		conns++
		beats := 0
		for _, s := range r.Heartbeat.Series {
			beats += s.Count
		}
		t.Logf("status %d, messages c2s %d s2c %d, heartbeats %d (%s)", r.Status, r.C2S.Messages, r.S2C.Messages, beats, r.Heartbeat.Glance)
		if r.Status != 101 || r.C2S.Messages != want["c2s"] || r.S2C.Messages != want["s2c"] {
			t.Errorf("status %d, messages c2s %d s2c %d, want 101 and %v", r.Status, r.C2S.Messages, r.S2C.Messages, want)
		}
		if beats == 0 || !strings.HasPrefix(r.Heartbeat.Glance, "ws-ping") || strings.Contains(r.Heartbeat.Glance, "unanswered") {
			t.Errorf("heartbeats %d (%q): the pings inside TLS not seen", beats, r.Heartbeat.Glance)
		}
	}
	if conns != 1 {
		t.Errorf("%d conn records, want 1:\n%s", conns, out)
	}
}

// TestFlagLimitReachesLint: a limit flag given to a subcommand reaches its
// decoder: lint --max-http-header under the capture's heads finds WS212,
// without it none.
func TestFlagLimitReachesLint(t *testing.T) {
	path := wsCapture(t, serverFrame(0x1, "hello"))
	for _, tc := range []struct {
		args  []string
		ws212 bool
	}{
		{nil, false},
		{[]string{"--max-http-header", "100"}, true},
	} {
		out, errs, code := runWsdump(t, nil, append([]string{"lint", "-r", path, "--fail-on", "none"}, tc.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errs)
		}
		if strings.Contains(out, "WS212") != tc.ws212 {
			t.Errorf("%v: WS212 found: %v, want %v:\n%s", tc.args, !tc.ws212, tc.ws212, out)
		}
	}
}

// TestFlagMaxMessageReachesViews: --max-message, once the main view's
// alone, cuts the messages of lint (WS404), follow and export too.
func TestFlagMaxMessageReachesViews(t *testing.T) {
	path := wsCapture(t, serverFrame(0x1, "hello, world"))
	out, errs, code := runWsdump(t, nil, "lint", "-r", path, "--fail-on", "none", "--max-message", "5")
	if code != 0 || !strings.Contains(out, "WS404") {
		t.Errorf("lint --max-message 5: exit %d, no WS404: %s%s", code, out, errs)
	}
	out, errs, code = runWsdump(t, nil, "follow", "-r", path, "--max-message", "5", "--max-bytes", "0")
	if code != 0 || strings.Contains(out, "world") || !strings.Contains(out, "hello") {
		t.Errorf("follow --max-message 5: exit %d, message not cut to \"hello\": %s%s", code, out, errs)
	}
	dir := t.TempDir()
	if _, errs, code = runWsdump(t, nil, "export", "-r", path, "-o", dir, "--max-message", "5"); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	idx, err := os.ReadFile(dir + "/index.jsonl")
	if err != nil || !strings.Contains(string(idx), `"kept":5`) {
		t.Errorf("export --max-message 5: index %s (%v), want kept 5", idx, err)
	}
}
