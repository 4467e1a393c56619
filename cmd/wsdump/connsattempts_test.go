package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
)

// besideRefusedLoop writes the committed capture name with another
// client's loop beside it (synth.WithRefusedLoop: 10.0.0.1 refused 4
// times by 10.0.0.2:8080).
func besideRefusedLoop(t *testing.T, name string) string {
	t.Helper()
	pkts, err := synth.ReadPcap("../../testdata/pcaps/" + name + ".pcap")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+"-other.pcap")
	writePackets(t, file, synth.WithRefusedLoop(pkts))
	return file
}

// groupRows returns the rows of a view's reconnect groups that name
// server (its group number left out, the words of a table row joined by
// one space: a table's widths follow its widest row), and its connection
// rows that do, in order.
func groupRows(t *testing.T, format, out, server string) (groups, conns []string) {
	t.Helper()
	inGroups := false
	for _, l := range strings.Split(out, "\n") {
		switch format {
		case "jsonl":
			var r map[string]any
			if l == "" {
				continue
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			if r["server"] != server {
				continue
			}
			delete(r, "group")
			b, _ := json.Marshal(r)
			if r["type"] == "client_group" {
				groups = append(groups, string(b))
			} else {
				conns = append(conns, string(b))
			}
		case "csv":
			if f := strings.Split(l, ","); len(f) > 4 && f[4] == server {
				conns = append(conns, l)
			}
		case "table":
			if strings.HasPrefix(l, "Reconnect groups") {
				inGroups = true
			}
			f := strings.Fields(l)
			switch {
			case inGroups && len(f) > 3 && strings.HasPrefix(f[2], server):
				groups = append(groups, strings.Join(f[1:], " "))
			case !inGroups && len(f) > 4 && f[4] == server:
				conns = append(conns, strings.Join(f, " "))
			}
		}
	}
	return groups, conns
}

// TestConnsHostAttempts: conns --host SERVER, on the committed reconnect
// captures (gen__reconnect-never, bare connects refused; gen__reconnect-dead
// and gen__seed-sockjs-stomp, a SockJS/STOMP WebSocket via its /info
// request, then refused tries) with another client's refused loop beside
// them, shows SERVER's reconnect group as the unfiltered run does, every
// column and field, in the table and the jsonl, and the same connection
// rows (table, jsonl, CSV); the other loop's group not. -j 1 and -j 2 the
// same. Before, the refused tries were left out under a filter: no group
// of gen__reconnect-never, 1 attempt of gen__reconnect-dead's 10.
func TestConnsHostAttempts(t *testing.T) {
	for _, c := range []struct{ name, server string }{
		{"gen__reconnect-never", "127.0.0.1:47367"},
		{"gen__reconnect-dead", "127.0.0.1:47365"},
		{"gen__seed-sockjs-stomp", "127.0.0.1:47300"},
	} {
		file := besideRefusedLoop(t, c.name)
		for _, format := range []string{"table", "jsonl", "csv"} {
			all, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", format)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", c.name, code, errs)
			}
			wantGroups, wantConns := groupRows(t, format, all, c.server)
			if format != "csv" && len(wantGroups) != 1 {
				t.Fatalf("%s %s: unfiltered, groups of %s %q; want one", c.name, format, c.server, wantGroups)
			}
			if other, _ := groupRows(t, format, all, "10.0.0.2:8080"); format != "csv" && len(other) != 1 {
				t.Fatalf("%s %s: unfiltered, no group of the other loop:\n%s", c.name, format, all)
			}
			var first string
			for _, jobs := range []string{"1", "2"} {
				out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", format, "--host", c.server, "-j", jobs)
				if code != 0 {
					t.Fatalf("%s: exit %d: %s", c.name, code, errs)
				}
				if jobs == "2" && out != first {
					t.Errorf("%s %s: -j 2 differs from -j 1:\n%s\n%s", c.name, format, out, first)
				}
				first = out
			}
			groups, conns := groupRows(t, format, first, c.server)
			if !slices.Equal(groups, wantGroups) {
				t.Errorf("%s %s --host %s: groups\n%q\nwant as unfiltered\n%q", c.name, format, c.server, groups, wantGroups)
			}
			if !slices.Equal(conns, wantConns) {
				t.Errorf("%s %s --host %s: connections\n%q\nwant as unfiltered\n%q", c.name, format, c.server, conns, wantConns)
			}
			if strings.Contains(first, "10.0.0.2:8080") {
				t.Errorf("%s %s --host %s: the other loop's group shown:\n%s", c.name, format, c.server, first)
			}
		}
	}
}

// TestReportHostAttempts: report --host SERVER, on the captures of
// TestConnsHostAttempts, has SERVER's row of the reconnect groups table
// as the unfiltered report has it (its attempts, refused, outage, backoff
// and every attempt listed), and not the other loop's. Before, under
// --host the refused tries were in no group: gen__reconnect-never's
// report had no group.
func TestReportHostAttempts(t *testing.T) {
	for _, c := range []struct{ name, server string }{
		{"gen__reconnect-never", "127.0.0.1:47367"},
		{"gen__reconnect-dead", "127.0.0.1:47365"},
		{"gen__seed-sockjs-stomp", "127.0.0.1:47300"},
	} {
		file := besideRefusedLoop(t, c.name)
		rows := func(args ...string) map[string]string {
			doc, _ := reportHTML(t, file, args...)
			out := map[string]string{}
			for _, tb := range elements(doc, "table", "") {
				if attr(tb, "id") != "groups" {
					continue
				}
				for _, tr := range elements(tb, "tr", "") {
					tds := elements(tr, "td", "")
					if len(tds) < 4 {
						continue
					}
					var cells []string
					for _, td := range tds[1:] { // its number left out
						cells = append(cells, textOf(td))
					}
					url := cells[1]
					out[strings.SplitN(url, "/", 2)[0]] = strings.Join(cells, " | ")
				}
			}
			return out
		}
		all := rows()
		if all[c.server] == "" || all["10.0.0.2:8080"] == "" {
			t.Fatalf("%s: unfiltered groups %q: want %s's and 10.0.0.2:8080's", c.name, all, c.server)
		}
		got := rows("--host", c.server)
		if len(got) != 1 || got[c.server] != all[c.server] {
			t.Errorf("%s --host %s: groups %q\nwant as unfiltered\n%q", c.name, c.server, got, all[c.server])
		}
	}
}

// TestHostPortCapture: on a real capture (zeek__reply-ping-separate: a
// WebSocket from 127.0.0.1 to 127.0.0.1:8080, its Host localhost:8080),
// --host with a port selects that port only: localhost:80 and
// 127.0.0.1:80 none (localhost:80 selected it, a substring of its Host),
// localhost:8080 and 127.0.0.1:8080 it, in conns and the main view (the latter by its server's
// address, which before it did not: its Host names no address).
func TestHostPortCapture(t *testing.T) {
	const file = "../../testdata/pcaps/zeek__reply-ping-separate.pcap"
	for host, want := range map[string]int{"localhost:80": 0, "127.0.0.1:80": 0, "localhost:8080": 1, "127.0.0.1:8080": 1, "LocalHost": 1, "127.0.0.1": 1} {
		for _, view := range []string{"conns", "frames"} {
			args := []string{view, "-r", file, "--host", host, "--format", "jsonl"}
			if view == "frames" {
				args = args[1:] // the main view
			}
			out, errs, code := runWsdump(t, nil, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errs)
			}
			n := min(1, strings.Count(out, `"conn":1,`))
			if n != want {
				t.Errorf("%s --host %s: %d connections, want %d:\n%s", view, host, n, want, out)
			}
		}
	}
}
