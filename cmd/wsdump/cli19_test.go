package main

import (
	"encoding/csv"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsdump/wsdump/internal/buildinfo"
)

// Issue 19: the command line as a new user meets it.

const seedSockJS = "gen__seed-sockjs-stomp.pcap" // 9 connections: 1 and 8 SockJS /info over HTTP, 2 and 9 WebSocket

func TestVersion(t *testing.T) {
	flag, errs, code := runWsdump(t, nil, "--version")
	sub, _, code2 := runWsdump(t, nil, "version")
	if code != 0 || code2 != 0 || !strings.HasPrefix(flag, "wsdump version ") || flag != sub {
		t.Fatalf("--version %q (exit %d, %s), version %q (exit %d)", flag, code, errs, sub, code2)
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "c34a995e0123456789abcdef0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-04T17:00:00Z"},
		{Key: "vcs.modified", Value: "true"}}}
	if got, want := buildinfo.Format("dev", bi, true), "v1.4.0 (commit c34a995e0123, 2026-12-04T17:00:00Z, modified, go1.26.8)"; got != want {
		t.Errorf("formatVersion: %q, want %q", got, want)
	}
	if got := buildinfo.Format("v2.0.0", bi, true); !strings.HasPrefix(got, "v2.0.0 (commit c34a995e0123") {
		t.Errorf("-ldflags version: %q", got)
	}
}

func TestDiffReadFlag(t *testing.T) {
	a, b := pcap("gen__ws-node-basic.pcap"), pcap("gen__ws-node-ipv6.pcap")
	pos, _, code := runWsdump(t, nil, "diff", a, b)
	for _, args := range [][]string{{"diff", "-r", a, "-r", b}, {"diff", "-r", a, b}} {
		out, errs, c := runWsdump(t, nil, args...)
		if c != code || out != pos {
			t.Errorf("%v: exit %d (want %d) %s\n%s", args, c, code, errs, out)
		}
	}
	if _, errs, c := runWsdump(t, nil, "diff", "-r", a); c != exitUsage || !strings.Contains(errs, "two captures") {
		t.Errorf("one capture: exit %d %q", c, errs)
	}
	// The count agrees with its noun.
	_, errs, c := runWsdump(t, nil, "diff", a, pcap("gen__ws-node-chatty-mtu.pcap"))
	m := regexp.MustCompile(`diff: (\d+) (differences?)\n`).FindStringSubmatch(errs)
	if c != exitDiffer || m == nil || (m[1] == "1") != (m[2] == "difference") {
		t.Errorf("exit %d, stderr %q", c, errs)
	}
}

func TestHelpExitTableOnlyAtRoot(t *testing.T) {
	root, _, _ := runWsdump(t, nil, "--help")
	if !strings.Contains(root, "130  interrupted") {
		t.Errorf("root help has no exit statuses")
	}
	for _, sub := range []string{"conns", "follow", "export", "interfaces", "version"} {
		out, _, _ := runWsdump(t, nil, sub, "--help")
		if strings.Contains(out, "3  wsdump lint: findings") || !strings.Contains(out, "Exit status: see wsdump --help.") {
			t.Errorf("%s --help:\n%s", sub, out)
		}
	}
}

func TestHints(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", pcap(seedSockJS), "--format", "json"}, "--format jsonl"},
		{[]string{"conns", "-r", pcap(seedSockJS), "--format", "json"}, "--format jsonl"},
		{[]string{"-r", pcap(seedSockJS), "-Y", `websocket.payload contains "x"`}, `wsdump's is text`},
		{[]string{"follow", "-r", pcap(seedSockJS), "-Y", `websocket.payload contains "x"`}, `wsdump's is text`},
		{[]string{"lint", "-r", pcap(seedSockJS), "-T", "fields"}, "works on the main view and conns"},
		{[]string{"-r", pcap(seedSockJS), "-o", "json"}, "--format"},
		{[]string{"-r", pcap(seedSockJS), "--color", "sometimes"}, "auto, always or never"},
	} {
		_, errs, code := runWsdump(t, nil, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q (want %q)", c.args, code, errs, c.want)
		}
	}
}

func TestPositionalCapture(t *testing.T) {
	want, _, _ := runWsdump(t, nil, "-r", pcap(seedSockJS), "--messages")
	got, errs, code := runWsdump(t, nil, pcap(seedSockJS), "--messages")
	if code != 0 || got != want {
		t.Errorf("wsdump FILE: exit %d %s\n%s", code, errs, got)
	}
}

func TestConnsCSV(t *testing.T) {
	out, errs, code := runWsdump(t, nil, "conns", "-r", pcap(seedSockJS), "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "conn" || rows[1][0] != "2" || rows[2][0] != "9" {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(rows[1][len(rows[1])-1], "stomp heart-beat c2s 10.0s ok") {
		t.Errorf("heartbeat: %v", rows[1])
	}
}

// TestWidthFlag: --width fits the frame table, --messages and conns; not
// on a terminal and without it the output is the fixed one (-o wide).
func TestWidthFlag(t *testing.T) {
	for _, view := range [][]string{{"-r", pcap(seedSockJS)}, {"-r", pcap(seedSockJS), "--messages"}, {"conns", "-r", pcap(seedSockJS)}} {
		fixed, _, _ := runWsdump(t, nil, view...)
		wide, _, _ := runWsdump(t, nil, append(view, "-o", "wide", "--width", "80")...)
		if fixed != wide {
			t.Errorf("%v: -o wide differs from the fixed layout", view)
		}
		for _, w := range []int{60, 80, 120, 200} {
			out, errs, code := runWsdump(t, nil, append(view, "--width", itoa(w))...)
			if code != 0 {
				t.Fatalf("%v --width %d: exit %d %s", view, w, code, errs)
			}
			for _, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > w {
					t.Errorf("%v --width %d: line of %d: %q", view, w, n, l)
				}
			}
			if view[0] == "conns" {
				head := strings.SplitN(out, "\n", 3)
				if !strings.Contains(head[0], "HEARTBEAT") || !strings.Contains(head[1], "stomp SEND ping 10.0s ok") {
					t.Errorf("conns --width %d: HEARTBEAT not on the first line:\n%s", w, out)
				}
			}
		}
	}
}

func TestColorFlag(t *testing.T) {
	args := []string{"-r", pcap(seedSockJS), "-c", "3"}
	always, _, _ := runWsdump(t, nil, append(args, "--color", "always")...)
	never, _, _ := runWsdump(t, nil, append(args, "--color", "never")...)
	auto, _, _ := runWsdump(t, nil, args...) // not a terminal
	if !strings.Contains(always, "\x1b[33ms2c\x1b[0m") || strings.Contains(never, "\x1b") || auto != never {
		t.Errorf("always %q\nnever %q\nauto %q", always, never, auto)
	}
}

// TestEmptyResultExplained: a view that prints nothing says why.
func TestEmptyResultExplained(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", pcap(seedSockJS), "--messages", "--conn", "19"}, "wsdump: no connection 19; the capture has 1-9\n"},
		{[]string{"follow", "-r", pcap(seedSockJS), "--conn", "1"}, "wsdump: connection 1 is HTTP, not WebSocket: GET /stomp/info -> 200\n"},
		{[]string{"follow", "-r", pcap(seedSockJS), "--conn", "3"}, "wsdump: connection 3 is a TCP connect refused (RST), not WebSocket\n"},
	} {
		out, errs, code := runWsdump(t, nil, c.args...)
		if code != 0 || out != "" || errs != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want %q)", c.args, code, out, errs, c.want)
		}
	}
	// Not when something was printed.
	if _, errs, _ := runWsdump(t, nil, "follow", "-r", pcap(seedSockJS), "--conn", "2"); errs != "" {
		t.Errorf("stderr %q", errs)
	}
}

// TestFollowUnwrapsSockJSSTOMP: follow shows the STOMP frame inside the
// SockJS array as sent: command, headers, body; no doubled backslash.
func TestFollowUnwrapsSockJSSTOMP(t *testing.T) {
	out, _, _ := runWsdump(t, nil, "follow", "-r", pcap(seedSockJS), "--conn", "2", "-c", "3")
	want := "[0.104970] conn 2 c2s text #1, 69 B\nCONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n"
	if !strings.Contains(out, want) || strings.Contains(out, `\\n`) {
		t.Errorf("no %q in\n%s", want, out)
	}
}

func TestFollowColorFlag(t *testing.T) {
	args := []string{"follow", "-r", pcap(seedSockJS), "--conn", "2", "-c", "1"}
	always, _, _ := runWsdump(t, nil, append(args, "--color", "always")...)
	never, _, _ := runWsdump(t, nil, append(args, "--color", "never")...)
	if !strings.Contains(always, "\x1b[33m[0.098825] conn 2 s2c text #1, 1 B\x1b[0m") || strings.Contains(never, "\x1b") {
		t.Errorf("always %q\nnever %q", always, never)
	}
}
