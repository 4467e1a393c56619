package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/capture"
)

const pcaps = "../../testdata/pcaps/"

// TestFilterExprSameAsFlags: on every view, -Y selects the same records as
// the fixed flags where they overlap.
func TestFilterExprSameAsFlags(t *testing.T) {
	stomp := pcaps + "gen__app-stomp-rabbitmq-nodeflate.pcap"
	wstunnel := pcaps + "zeek__wstunnel-http.pcap"
	export := func(dir string) func() string {
		return func() string {
			b, err := os.ReadFile(filepath.Join(dir, "index.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	d1, d2 := t.TempDir(), t.TempDir()
	for _, c := range []struct {
		name        string
		flags, expr []string
		files       [2]func() string // compared instead of stdout (export)
	}{
		{"frames", []string{"-r", stomp, "--format", "jsonl", "--dir", "c2s"}, []string{"-r", stomp, "--format", "jsonl", "-Y", `dir == "c2s"`}, [2]func() string{}},
		{"table", []string{"-r", stomp, "--dir", "s2c"}, []string{"-r", stomp, "--filter", `dir == "s2c"`}, [2]func() string{}},
		{"messages grep", []string{"-r", stomp, "--messages", "--format", "jsonl", "--grep", "^SEND"}, []string{"-r", stomp, "--messages", "--format", "jsonl", "-Y", `opcode == 1 && text matches "^SEND"`}, [2]func() string{}},
		{"opcode", []string{"-r", stomp, "--format", "jsonl", "--opcode", "close"}, []string{"-r", stomp, "--format", "jsonl", "-Y", `opcode_name == "close"`}, [2]func() string{}},
		{"lint", []string{"lint", "-r", wstunnel, "--format", "jsonl", "--dir", "c2s"}, []string{"lint", "-r", wstunnel, "--format", "jsonl", "-Y", `dir == "c2s"`}, [2]func() string{}},
		{"lint none", []string{"lint", "-r", wstunnel, "--dir", "s2c"}, []string{"lint", "-r", wstunnel, "-Y", `dir == "s2c"`}, [2]func() string{}},
		{"follow", []string{"follow", "-r", stomp, "--dir", "c2s"}, []string{"follow", "-r", stomp, "-Y", `dir == "c2s"`}, [2]func() string{}},
		{"diff", []string{"diff", stomp, pcaps + "gen__app-stomp-rabbitmq-deflate.pcap", "--dir", "c2s"}, []string{"diff", stomp, pcaps + "gen__app-stomp-rabbitmq-deflate.pcap", "-Y", `dir == "c2s"`}, [2]func() string{}},
		{"export", []string{"export", "-r", stomp, "-o", d1, "--dir", "s2c"}, []string{"export", "-r", stomp, "-o", d2, "-Y", `dir == "s2c"`}, [2]func() string{export(d1), export(d2)}},
		{"conns", []string{"conns", "-r", pcaps + "gen__health-reconnect.pcap", "--conn", "2", "--conn", "4", "-T", "fields", "-e", "conn", "-e", "end", "-e", "close_code"},
			[]string{"conns", "-r", pcaps + "gen__health-reconnect.pcap", "-Y", "conn in [2, 4]", "-T", "fields", "-e", "conn", "-e", "end", "-e", "close_code"}, [2]func() string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fo, fe, fc := runWsdump(t, nil, c.flags...)
			yo, ye, yc := runWsdump(t, nil, c.expr...)
			if c.files[0] != nil {
				fo, yo = c.files[0](), c.files[1]()
				fe, ye = strings.ReplaceAll(fe, d1, "DIR"), strings.ReplaceAll(ye, d2, "DIR")
			}
			if fc != yc || fo != yo || fe != ye {
				t.Fatalf("%v: exit %d\n%s%s\n%v: exit %d\n%s%s", c.flags, fc, fo, fe, c.expr, yc, yo, ye)
			}
			if n := strings.Count(fo, "\n"); n < 2 && c.name != "lint none" {
				t.Fatalf("%v: %d lines: a comparison that proves nothing:\n%s%s", c.flags, n, fo, fe)
			}
		})
	}
}

// TestFilterExprErrorColumn: a bad -Y is a usage error that points at the
// column; a Wireshark field gets wsdump's name.
func TestFilterExprErrorColumn(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-r", pcaps + "gen__ws-node-basic.pcap", "-Y", `opcode == 2 && len >> 3`}, "-Y: column 21: unexpected token"},
		{[]string{"-r", pcaps + "gen__ws-node-basic.pcap", "-Y", `websocket.payload contains "error"`}, `-Y: column 1: "websocket.payload" is a Wireshark field; wsdump's is text (e.g. text contains "error")`},
		{[]string{"conns", "-r", pcaps + "gen__ws-node-basic.pcap", "-Y", `conn.heartbeat.missed > 0 && closecode != 1000`}, "-Y: column 30: unknown name closecode"},
		{[]string{"follow", "-r", pcaps + "gen__ws-node-basic.pcap", "-Y", `txet contains "a"`}, "-Y: column 1: unknown name txet"},
		{[]string{"follow", "-r", pcaps + "gen__ws-node-basic.pcap", "-Y", `conn.heartbeat.missed > 0`}, "-Y: conn.* (the connection's health) is read by the main view and conns"},
		{[]string{"-r", pcaps + "gen__ws-node-basic.pcap", "-T", "json"}, "-T json: wsdump writes JSON with --format jsonl"},
		{[]string{"-r", pcaps + "gen__ws-node-basic.pcap", "-T", "fields", "-e", "payload_len"}, "-e payload_len: no such field"},
	} {
		out, errs, code := runWsdump(t, nil, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errs, exitUsage, c.want)
		}
	}
}

// TestFieldsAppCapture: -T fields on a capture with application decoding:
// one line per message passing the filter, the STOMP fields by name, the
// payload escaped so that a line stays a line.
func TestFieldsAppCapture(t *testing.T) {
	f := pcaps + "gen__app-sockjs-stomp.pcap"
	out, errs, code := runWsdump(t, nil, "-r", f, "--messages", "-T", "fields", "-E", "header=y",
		"-e", "conn", "-e", "dir", "-e", "app.type", "-e", "app.destination", "-e", "text",
		"-Y", `app.type == "SEND" && app.destination == "/topic/wsdump.sockjs" && len < 200`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The SockJS array is JSON: its \n is a backslash and an n, escaped
	// in turn; the STOMP frame's NUL is \u0000 in the JSON.
	want := strings.Join([]string{
		"conn\tdir\tapp.type\tapp.destination\ttext",
		"2\tc2s\ta,SEND\t,/topic/wsdump.sockjs\t" + `["SEND\\ndestination:/topic/wsdump.sockjs\\ncontent-length:17\\n\\nhello over sockjs\\u0000"]`,
		"2\tc2s\ta,SEND\t,/topic/wsdump.sockjs\t" + `["SEND\\ndestination:/topic/wsdump.sockjs\\ncontent-length:27\\n\\nquote \\" and \\\\ and \\n newline\\u0000"]`,
		""}, "\n")
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// As many lines as messages, every line with as many columns as fields.
	all := runLines(t, []string{"-r", f, "--messages", "-T", "fields", "-e", "index", "-e", "text", "-e", "app.summary"})
	msgs := 0
	for _, l := range runLines(t, []string{"-r", f, "--messages", "--format", "jsonl"}) {
		if strings.HasPrefix(l, `{"type":"message"`) {
			msgs++
		}
	}
	if len(all) != msgs || msgs == 0 {
		t.Errorf("%d lines for %d messages", len(all), msgs)
	}
	for _, l := range all {
		if strings.Count(l, "\t") != 2 {
			t.Errorf("line with %d tabs: %q", strings.Count(l, "\t"), l)
		}
	}
}

// TestBPFOnFiles: -r F FILTER decodes the same as the file pre-filtered by
// tcpdump, on Ethernet IPv4, IPv6 and Linux cooked v2 captures, and says
// how many packets the filter dropped.
func TestBPFOnFiles(t *testing.T) {
	t.Parallel()
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tcpdump not installed: %v", err)
		}
		t.Skipf("tcpdump not installed (needed to pre-filter the captures): %v", err)
	}
	for _, c := range []struct{ file, filter string }{
		{"gen__ws-node-basic.pcap", "src port 55494"},
		{"gen__ws-node-ipv6.pcap", "dst port 40672"},
		{"gen__ws-node-ipv6.pcap", "src host ::1 and src port 47020"},
		{"gen__ws-node-sll2.pcap", "src port 47030"},
		{"gen__load-concurrent.pcap", "port 57058"},
		{"gen__health-reconnect.pcap", "port 36312 or port 36354 and host 127.0.0.1"},
	} {
		t.Run(c.file+" "+c.filter, func(t *testing.T) {
			pre := filepath.Join(t.TempDir(), "pre.pcap")
			cmd := exec.Command(tcpdump, "-r", pcaps+c.file, "-w", pre, c.filter)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tcpdump: %v: %s", err, b)
			}
			total, kept := countPackets(t, pcaps+c.file), countPackets(t, pre)
			if kept == 0 || kept == total {
				t.Fatalf("tcpdump kept %d of %d packets: a filter that proves nothing", kept, total)
			}
			want, _, wcode := runWsdump(t, nil, "-r", pre, "--format", "jsonl")
			args := append([]string{"-r", pcaps + c.file, "--format", "jsonl"}, strings.Fields(c.filter)...)
			got, errs, code := runWsdump(t, nil, args...)
			if code != wcode || got != want {
				t.Errorf("wsdump %v: exit %d\n%s\nwsdump on tcpdump's output: exit %d\n%s", args, code, got, wcode, want)
			}
			// conns takes the filter too.
			want, _, wcode = runWsdump(t, nil, "conns", "-r", pre, "--format", "jsonl")
			args = append([]string{"conns", "-r", pcaps + c.file, "--format", "jsonl"}, strings.Fields(c.filter)...)
			if got, _, code := runWsdump(t, nil, args...); code != wcode || got != want {
				t.Errorf("wsdump %v: exit %d\n%s\nwsdump conns on tcpdump's output: exit %d\n%s", args, code, got, wcode, want)
			}
			note := "wsdump: capture filter \"" + c.filter + "\": " + strconv.Itoa(total-kept) + " of " + strconv.Itoa(total) + " packets dropped\n"
			if !strings.Contains(errs, note) {
				t.Errorf("stderr %q, want %q", errs, note)
			}
		})
	}
}

func countPackets(t *testing.T, file string) int {
	t.Helper()
	src, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		if _, err := src.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestFilterExprConnHealth: "messages of connections whose heartbeat
// missed" in one command: -Y on conn.* selects the messages of the
// connections that conns shows with the same expression (the health comes
// from a first pass over the file).
func TestFilterExprConnHealth(t *testing.T) {
	const expr = "conn.heartbeat.missed > 0"
	for _, name := range []string{"gen__engineio-stall.pcap", "gen__seed-browser-twotimers.pcap"} {
		f := pcaps + name
		conns := runLines(t, []string{"conns", "-r", f, "-Y", expr, "-T", "fields", "-e", "conn"})
		all := runLines(t, []string{"conns", "-r", f, "-T", "fields", "-e", "conn"})
		if len(conns) == 0 || conns[0] == "" || len(conns) == len(all) {
			t.Fatalf("%s: conns -Y %q selects %q of %d connections: a test that proves nothing", name, expr, conns, len(all))
		}
		messages := func(args ...string) []string {
			var out []string
			for _, l := range runLines(t, append([]string{"-r", f, "--messages", "--format", "jsonl"}, args...)) {
				if strings.HasPrefix(l, `{"type":"message"`) {
					out = append(out, l)
				}
			}
			return out
		}
		var byConn []string
		for _, c := range conns {
			byConn = append(byConn, "--conn", c)
		}
		want, got := messages(byConn...), messages("-Y", expr)
		if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: -Y %q: %d messages, want the %d of --conn %v", name, expr, len(got), len(want), conns)
		}
		// Standard input cannot be read twice: said so, not guessed.
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs, code := runWsdump(t, b, "-r", "-", "-Y", expr); code != exitUsage || !strings.Contains(errs, "not standard input") {
			t.Errorf("-r - -Y %q: exit %d, %s", expr, code, errs)
		}
	}
}

// TestFilterExprAppFieldsEveryView: app.* in -Y selects the same messages
// in follow and export as in the main view: those views decode the
// application protocols in front of the filter (before, the filter saw no
// application messages there and follow and export showed none).
func TestFilterExprAppFieldsEveryView(t *testing.T) {
	f := pcaps + "gen__app-sockjs-stomp.pcap"
	const expr = `app.type == "SEND"`
	main := runLines(t, []string{"-r", f, "--messages", "-T", "fields", "-e", "index", "-Y", expr})
	if len(main) != 3 {
		t.Fatalf("main view: %d SEND messages, want 3: %q", len(main), main)
	}
	out, errs, code := runWsdump(t, nil, "follow", "-r", f, "-Y", expr)
	if n := strings.Count(out, "] conn 2 c2s text #"); code != 0 || n != len(main) || !strings.Contains(out, "\nSEND\ndestination:/topic/wsdump.sockjs\n") {
		t.Errorf("follow: exit %d, %d messages shown, want %d SENDs: %s\n%s", code, n, len(main), errs, out)
	}
	dir := t.TempDir()
	_, errs, code = runWsdump(t, nil, "export", "-r", f, "-Y", expr, "-o", dir)
	files, _ := filepath.Glob(filepath.Join(dir, "conn-*", "*-c2s.txt"))
	if code != 0 || len(files) != len(main) {
		t.Errorf("export: exit %d, %d messages written, want %d: %s", code, len(files), len(main), errs)
	}
}
