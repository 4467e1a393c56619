package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

func pcap(name string) string { return filepath.Join("..", "..", "testdata", "pcaps", name) }

// lintFinding is a line of lint --format jsonl.
type lintFinding struct {
	Capture  string  `json:"capture"`
	Rule     string  `json:"rule"`
	Name     string  `json:"name"`
	Severity string  `json:"severity"`
	Conn     int     `json:"conn"`
	Dir      string  `json:"dir"`
	Record   string  `json:"record"`
	Index    int     `json:"index"`
	T        float64 `json:"t"`
	TS       string  `json:"ts"`
}

func lintJSONL(t *testing.T, args ...string) ([]lintFinding, int) {
	t.Helper()
	out, errs, code := runWsdump(t, nil, append([]string{"lint", "--format", "jsonl"}, args...)...)
	if code != 0 && code != exitFindings {
		t.Fatalf("lint %v: exit %d: %s", args, code, errs)
	}
	var fs []lintFinding
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var f lintFinding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		fs = append(fs, f)
	}
	return fs, code
}

func hasFinding(fs []lintFinding, rule, record, dir string) bool {
	for _, f := range fs {
		if f.Rule == rule && f.Record == record && (dir == "" || f.Dir == dir) {
			return true
		}
	}
	return false
}

// lintFrame is a frame as a test peer sends it; client frames are masked
// with a zero key, which leaves the payload as it is.
func lintFrame(fin bool, op wsparse.Opcode, masked bool, payload []byte) []byte {
	return append(wsparse.AppendHeader(nil, wsparse.Header{Fin: fin, Opcode: op, Masked: masked, Length: uint64(len(payload))}), payload...)
}

// badCloseCapture writes a session whose server masks a frame, whose
// client sends an oversized Close (200 bytes: control_too_long) and whose
// server answers with close code 1005, which must not be sent.
func badCloseCapture(t *testing.T) string {
	t.Helper()
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte("GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	c.Send(true, lintFrame(true, wsparse.OpText, true, []byte("hello")))
	c.Send(false, lintFrame(true, wsparse.OpText, true, []byte("masked by the server")))
	closeBody := append([]byte{0x03, 0xe8}, bytes.Repeat([]byte("x"), 198)...)
	c.Send(true, lintFrame(true, wsparse.OpClose, true, closeBody))
	c.Send(false, lintFrame(true, wsparse.OpClose, false, []byte{0x03, 0xed})) // 1005
	c.Fin(true).Fin(false)
	path := filepath.Join(t.TempDir(), "bad-close.pcap")
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 65535, c.Packets...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLintFindsKnownViolations(t *testing.T) {
	for _, tc := range []struct {
		file  string
		want  [][3]string // rule, record, dir
		exit  int
		trunc bool
	}{
		{pcap("zeek__wrong-accept-header.pcap"), [][3]string{{"WS202", "handshake", ""}, {"WS302", "connection", ""}}, exitFindings, false},
		{pcap("zeek__wstunnel-http.pcap"), [][3]string{{"WS005", "frame", "c2s"}}, exitFindings, false},
		{pcap("gen__health-reconnect.pcap"), [][3]string{{"WS201", "handshake", ""}}, 0, false},
		{pcap("gen__health-rst.pcap"), [][3]string{{"WS303", "connection", ""}}, 0, false},
		{pcap("gen__ws-midstream.pcap"), [][3]string{{"WS305", "connection", ""}}, 0, false},
		{"", [][3]string{{"WS003", "frame", "c2s"}, {"WS006", "frame", "s2c"}, {"WS013", "frame", "s2c"}}, exitFindings, false},
	} {
		file := tc.file
		if file == "" {
			file = badCloseCapture(t)
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			fs, code := lintJSONL(t, "-r", file)
			if code != tc.exit {
				t.Errorf("exit %d, want %d", code, tc.exit)
			}
			for _, w := range tc.want {
				if !hasFinding(fs, w[0], w[1], w[2]) {
					t.Errorf("no %s on %s %s in %+v", w[0], w[2], w[1], fs)
				}
			}
			for _, f := range fs {
				if f.Conn < 1 || f.Record == "" || f.TS == "" || (f.Record == "frame" && (f.Index < 1 || f.Dir == "")) {
					t.Errorf("finding without a location: %+v", f)
				}
			}
		})
	}
}

func TestLintCleanCaptures(t *testing.T) {
	for _, name := range []string{"gen__ws-node-basic.pcap", "gen__ws-node-ipv6.pcap", "gen__ws-node-sll2.pcap",
		"gen__ws-node-dumpcap.pcapng", "gen__ws-node-ethernet-mtu.pcap", "gen__gorilla.pcap", "gen__coder.pcap",
		"gen__deflate-node-takeover.pcap", "gen__deflate-coder-nocontext.pcap", "zeek__two-binary-fragments.pcap"} {
		fs, code := lintJSONL(t, "-r", pcap(name))
		if code != 0 {
			t.Errorf("%s: exit %d", name, code)
		}
		for _, f := range fs {
			if f.Severity == "error" {
				t.Errorf("%s: %+v", name, f)
			}
		}
	}
	// --fail-on warning makes a warning fail; none never fails.
	if _, _, code := runWsdump(t, nil, "lint", "-r", pcap("gen__health-rst.pcap"), "--fail-on", "warning"); code != exitFindings {
		t.Errorf("--fail-on warning: exit %d", code)
	}
	if _, _, code := runWsdump(t, nil, "lint", "-r", pcap("zeek__wstunnel-http.pcap"), "--fail-on", "none"); code != 0 {
		t.Errorf("--fail-on none: exit %d", code)
	}
	if _, _, code := runWsdump(t, nil, "lint", "-r", pcap("zeek__wstunnel-http.pcap"), "--fail-on", "fatal"); code != exitUsage {
		t.Errorf("--fail-on fatal: exit %d", code)
	}
}

// junit mirrors the JUnit XML lint writes.
type junit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failures  []struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestLintJUnit(t *testing.T) {
	files := []string{pcap("zeek__wrong-accept-header.pcap"), pcap("zeek__wstunnel-http.pcap"), pcap("gen__ws-node-basic.pcap"), pcap("gen__health-rst.pcap")}
	out, errs, code := runWsdump(t, nil, append([]string{"lint", "--format", "junit"}, files...)...)
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j junit
	if err := xml.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	if len(j.Suites) != len(files) {
		t.Fatalf("%d testsuites, want %d", len(j.Suites), len(files))
	}
	wantFailing := map[string]string{"zeek__wrong-accept-header.pcap": "WS202 accept-mismatch", "zeek__wstunnel-http.pcap": "WS005 client-frame-unmasked"}
	total, failures := 0, 0
	for _, s := range j.Suites {
		if len(s.Cases) != len(lint.Rules) || s.Tests != len(lint.Rules) {
			t.Errorf("%s: %d testcases (tests=%d), want one per rule (%d)", s.Name, len(s.Cases), s.Tests, len(lint.Rules))
		}
		failing := 0
		for _, c := range s.Cases {
			if len(c.Failures) == 0 {
				continue
			}
			failing++
			for _, f := range c.Failures {
				if f.Type != "error" || !strings.Contains(f.Message, "conn 1") {
					t.Errorf("%s %s: failure %+v", s.Name, c.Name, f)
				}
			}
		}
		if failing != s.Failures {
			t.Errorf("%s: failures=%d, %d failing testcases", s.Name, s.Failures, failing)
		}
		base := filepath.Base(s.Name)
		if want := wantFailing[base]; want != "" {
			found := false
			for _, c := range s.Cases {
				found = found || c.Name == want && len(c.Failures) > 0
			}
			if !found {
				t.Errorf("%s: %s does not fail", base, want)
			}
		} else if s.Failures != 0 {
			t.Errorf("%s: %d failures, want none", base, s.Failures)
		}
		if base == "gen__health-rst.pcap" {
			// The warning is below --fail-on: listed, not failed.
			listed := false
			for _, c := range s.Cases {
				listed = listed || strings.HasPrefix(c.Name, "WS303") && strings.Contains(c.SystemOut, "warning: conn 1 connection")
			}
			if !listed {
				t.Errorf("rst-without-close not in system-out")
			}
		}
		total += s.Tests
		failures += s.Failures
	}
	if j.Tests != total || j.Failures != failures {
		t.Errorf("testsuites tests=%d failures=%d, suites sum to %d, %d", j.Tests, j.Failures, total, failures)
	}
}

func TestDiffSameSession(t *testing.T) {
	base := pcap("gen__ws-node-basic.pcap")
	for _, other := range []string{"gen__ws-node-ipv6.pcap", "gen__ws-node-sll2.pcap", "gen__ws-node-dumpcap.pcapng", "gen__ws-node-ethernet-mtu.pcap"} {
		out, errs, code := runWsdump(t, nil, "diff", base, pcap(other))
		if code != 0 || !strings.HasPrefix(out, "no differences: 1 connection(s), 22 ") {
			t.Errorf("%s: exit %d\n%s%s", other, code, out, errs)
		}
	}
	if out, _, code := runWsdump(t, nil, "diff", pcap("gen__ws-node-many-small.pcap"), pcap("gen__ws-node-many-small-mtu.pcap")); code != 0 {
		t.Errorf("many-small: exit %d\n%s", code, out)
	}
}

func TestDiffDifferentSessions(t *testing.T) {
	out, _, code := runWsdump(t, nil, "diff", pcap("gen__ws-node-basic.pcap"), pcap("gen__gorilla.pcap"))
	if code != exitDiffer {
		t.Fatalf("exit %d, want %d", code, exitDiffer)
	}
	for _, want := range []string{"conn 1 handshake:\n  A: GET /echo?scenario=basic -> 101\n  B: GET /gorilla -> 101",
		"conn 1 c2s message 2: text, 1 B vs 29 B, first difference at byte 0\n  A: o\n  B: hello from the gorilla client",
		"conn 1 c2s message 3: binary, 125 B vs 126 B", "  A: @0x0000 9dc5 640a", "... and "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// From standard input (read once: every message's bytes kept) the
	// differences read the same as from files (hashes, then the bytes of
	// the differences shown, read again).
	stdin, err := os.ReadFile(pcap("gen__ws-node-basic.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if out2, _, code := runWsdump(t, stdin, "diff", "-", pcap("gen__gorilla.pcap")); code != exitDiffer ||
		strings.Replace(out2, "--- A standard input", "--- A "+pipeline.DisplayName(pcap("gen__ws-node-basic.pcap")), 1) != out {
		t.Errorf("from stdin: exit %d\n%s\nfrom the file:\n%s", code, out2, out)
	}
	// The same session seen from one direction only is not the same.
	if _, _, code := runWsdump(t, nil, "diff", pcap("gen__ws-node-basic.pcap"), pcap("gen__ws-node-basic.pcap"), "--dir", "c2s"); code != 0 {
		t.Errorf("self diff: exit %d", code)
	}
	if out, _, code := runWsdump(t, nil, "diff", pcap("gen__deflate-node-takeover.pcap"), pcap("gen__deflate-node-window10.pcap"), "--max-diffs", "1"); code != exitDiffer || strings.Count(out, "\n") > 6 {
		t.Errorf("window10: exit %d\n%s", code, out)
	}
}

// jrec is a jsonl record with what the filter tests look at.
type jrec struct {
	Type   string `json:"type"`
	Conn   int    `json:"conn"`
	TS     string `json:"ts"`
	Dir    string `json:"dir"`
	Index  int    `json:"index"`
	Opcode int    `json:"opcode"`
	Frames int    `json:"frames"`
	Data   string `json:"data"`
	URI    string `json:"uri"`
	Host   string `json:"host"`
	Client string `json:"client"`
	Mask   string `json:"mask_key"`
	Key    string `json:"key"`
	Accept string `json:"accept"`
}

func jsonlRecords(t *testing.T, args ...string) []jrec {
	t.Helper()
	out, errs, code := runWsdump(t, nil, append([]string{"--format", "jsonl"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var recs []jrec
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r jrec
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

func countTypes(recs []jrec) map[string]int {
	n := map[string]int{}
	for _, r := range recs {
		n[r.Type]++
	}
	return n
}

func TestFilters(t *testing.T) {
	reconnect := pcap("gen__health-reconnect.pcap")
	basic := pcap("gen__ws-node-basic.pcap")
	all := jsonlRecords(t, "-r", basic)

	t.Run("conn", func(t *testing.T) {
		recs := jsonlRecords(t, "-r", reconnect, "--conn", "2", "--conn", "6")
		for _, r := range recs {
			if r.Conn != 2 && r.Conn != 6 {
				t.Errorf("conn %d passed", r.Conn)
			}
		}
		if n := countTypes(recs); n["handshake"] != 2 || n["conn"] != 2 {
			t.Errorf("records %v", n)
		}
	})
	t.Run("dir", func(t *testing.T) {
		recs := jsonlRecords(t, "-r", basic, "--dir", "s2c")
		n := countTypes(recs)
		if n["handshake"] != 1 || n["conn"] != 1 || n["frame"] == 0 {
			t.Errorf("records %v", n)
		}
		want := 0
		for _, r := range all {
			if r.Dir == "s2c" {
				want++
			}
		}
		if n["frame"]+n["message"] != want {
			t.Errorf("%d s2c records, want %d", n["frame"]+n["message"], want)
		}
		for _, r := range recs {
			if r.Dir == "c2s" {
				t.Errorf("c2s passed: %+v", r)
			}
		}
	})
	t.Run("opcode", func(t *testing.T) {
		recs := jsonlRecords(t, "-r", basic, "--opcode", "text")
		frames, conts := 0, 0
		for _, r := range recs {
			switch {
			case r.Type == "frame" && r.Opcode == 0:
				conts++
			case r.Type == "frame" && r.Opcode != 1, r.Type == "message" && r.Opcode != 1:
				t.Errorf("opcode %d passed", r.Opcode)
			}
			if r.Type == "frame" {
				frames++
			}
		}
		if conts != 3 { // the 4-frame text message's continuations
			t.Errorf("%d continuations of text messages, want 3", conts)
		}
		ping := jsonlRecords(t, "-r", basic, "--opcode", "9", "--opcode", "pong")
		if n := countTypes(ping); n["frame"] != 4 || n["message"] != 0 {
			t.Errorf("ping/pong: %v", n)
		}
	})
	t.Run("grep", func(t *testing.T) {
		re := regexp.MustCompile(`"user":"dave"`)
		recs := jsonlRecords(t, "-r", pcap("gen__ws-node-chatty-mtu.pcap"), "--grep", re.String())
		frames, wantFrames, msgs := 0, 0, 0
		for _, r := range recs {
			switch r.Type {
			case "message":
				msgs++
				wantFrames += r.Frames
				data, _ := base64.StdEncoding.DecodeString(r.Data)
				if r.Opcode != 1 || !re.Match(data) {
					t.Errorf("message %s %d does not match", r.Dir, r.Index)
				}
			case "frame":
				frames++
			}
		}
		if msgs < 10 || frames != wantFrames {
			t.Errorf("%d messages, %d frames, want %d frames", msgs, frames, wantFrames)
		}
		// Every matching message of the manifest is there.
		all := jsonlRecords(t, "-r", pcap("gen__ws-node-chatty-mtu.pcap"), "--messages")
		want := 0
		for _, r := range all {
			data, _ := base64.StdEncoding.DecodeString(r.Data)
			if r.Type == "message" && r.Opcode == 1 && re.Match(data) {
				want++
			}
		}
		if msgs != want {
			t.Errorf("%d messages, want %d", msgs, want)
		}
	})
	t.Run("count", func(t *testing.T) {
		if n := countTypes(jsonlRecords(t, "-r", basic, "-c", "5")); n["frame"] != 5 {
			t.Errorf("-c 5: %v", n)
		}
		out, _, _ := runWsdump(t, nil, "-r", basic, "--messages", "-c", "3")
		if rows := strings.Count(out, "\n"); rows != 1+1+3+1 { // header, upgrade, 3 messages, end
			t.Errorf("-c 3 --messages: %d lines\n%s", rows, out)
		}
	})
	t.Run("time", func(t *testing.T) {
		recs := jsonlRecords(t, "-r", reconnect, "--since", "0.5", "--until", "2")
		first, _ := time.Parse(time.RFC3339Nano, jsonlRecords(t, "-r", reconnect, "-c", "1")[0].TS)
		_ = first
		conns := map[int]bool{}
		for _, r := range recs {
			conns[r.Conn] = true
		}
		// Connections 4 (0.711 s) and 5 (1.521 s) start in the range.
		if !conns[4] || !conns[5] || conns[1] || conns[6] {
			t.Errorf("connections %v", conns)
		}
		abs := jsonlRecords(t, "-r", reconnect)
		var c5 string
		for _, r := range abs {
			if r.Type == "handshake" && r.Conn == 5 {
				c5 = r.TS
			}
		}
		recs = jsonlRecords(t, "-r", reconnect, "--since", c5)
		for _, r := range recs {
			if r.Conn < 5 {
				t.Errorf("conn %d before %s", r.Conn, c5)
			}
		}
	})
	t.Run("host and path", func(t *testing.T) {
		if n := countTypes(jsonlRecords(t, "-r", basic, "--path", "/echo*")); n["handshake"] != 1 {
			t.Errorf("--path /echo*: %v", n)
		}
		if recs := jsonlRecords(t, "-r", basic, "--path", "/nothing"); len(recs) != 0 {
			t.Errorf("--path /nothing: %d records", len(recs))
		}
		if n := countTypes(jsonlRecords(t, "-r", pcap("zeek__two-binary-fragments.pcap"), "--host", "LOCALHOST:*")); n["handshake"] != 1 {
			t.Errorf("--host glob: %v", n)
		}
		if n := countTypes(jsonlRecords(t, "-r", basic, "--host", "127.0.0.1")); n["handshake"] != 1 {
			t.Errorf("--host IP: %v", n)
		}
		if recs := jsonlRecords(t, "-r", basic, "--host", "example.com"); len(recs) != 0 {
			t.Errorf("--host example.com: %d records", len(recs))
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"--dir", "up"}, {"--opcode", "frob"}, {"--since", "yesterday"}, {"--grep", "("}, {"--conn", "0"}, {"--path", "[x"}} {
			if _, _, code := runWsdump(t, nil, append([]string{"-r", basic}, args...)...); code != exitUsage {
				t.Errorf("%v: exit %d", args, code)
			}
		}
	})
	t.Run("other views", func(t *testing.T) {
		out, _, code := runWsdump(t, nil, "conns", "-r", reconnect, "--conn", "3")
		if code != 0 || strings.Count(out, "127.0.0.1:36") != 1 {
			t.Errorf("conns --conn 3: exit %d\n%s", code, out)
		}
		// Connection 1's refused upgrade, and the storm of its reconnect
		// group (WS707), which the filter shows through connection 1
		// and which is on the group's first retry.
		fs, _ := lintJSONL(t, "-r", reconnect, "--conn", "1")
		if len(fs) != 2 || fs[0].Conn != 1 || fs[0].Rule != "WS201" || fs[1].Rule != "WS707" || fs[1].Conn != 2 {
			t.Errorf("lint --conn 1: %+v", fs)
		}
	})
}

func TestStable(t *testing.T) {
	recs := jsonlRecords(t, "-r", pcap("gen__ws-node-basic.pcap"), "--stable")
	for _, r := range recs {
		if r.TS != "" && !strings.HasPrefix(r.TS, "1970-01-01T00:00:00.") {
			t.Errorf("time %s", r.TS)
		}
		if r.Client != "" && r.Client != "127.0.0.1:1" {
			t.Errorf("client %s", r.Client)
		}
		if r.Mask != "" && r.Mask != "********" {
			t.Errorf("mask %s", r.Mask)
		}
		if r.Type == "handshake" && (r.Key != "<key>" || r.Accept != "<accept>") {
			t.Errorf("key %s accept %s", r.Key, r.Accept)
		}
	}
	// Two recordings of one session: the same records but for timing and
	// the server's port.
	norm := func(file string) string {
		out, _, _ := runWsdump(t, nil, "-r", file, "--stable", "--format", "jsonl")
		out = regexp.MustCompile(`"(ts|request_ts|first_ts|last_ts|duration)":("[^"]*"|[0-9.]+),`).ReplaceAllString(out, "")
		out = regexp.MustCompile(`:470[0-9]0\b`).ReplaceAllString(out, ":PORT")
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, `"type":"frame"`) || strings.Contains(l, `"type":"message"`) {
				lines = append(lines, l)
			}
		}
		return strings.Join(sortedByDir(lines), "\n")
	}
	a, b := norm(pcap("gen__ws-node-basic.pcap")), norm(pcap("gen__ws-node-sll2.pcap"))
	if a != b {
		t.Errorf("two recordings differ with --stable:\n%s", firstDiff(a, b))
	}
	if _, _, code := runWsdump(t, nil, "-r", pcap("gen__ws-node-basic.pcap"), "--stable", "--time", "abs"); code != exitUsage {
		t.Errorf("--stable --time abs: exit %d", code)
	}
	tls, _, _ := runWsdump(t, nil, "-r", pcap("gen__wss-node-tls13.pcap"), "--stable", "--format", "jsonl")
	if !strings.Contains(tls, `"error":"no key for client random <hex>"`) {
		t.Errorf("TLS random kept: %s", tls)
	}
}

// sortedByDir puts c2s lines before s2c lines, keeping their order: the
// interleaving of directions depends on timing.
func sortedByDir(lines []string) []string {
	var c2s, s2c []string
	for _, l := range lines {
		if strings.Contains(l, `"dir":"c2s"`) {
			c2s = append(c2s, l)
		} else {
			s2c = append(s2c, l)
		}
	}
	return append(c2s, s2c...)
}

func TestCSV(t *testing.T) {
	f := pcap("zeek__two-binary-fragments.pcap")
	for _, view := range []struct {
		args []string
		kind string
		n    int
	}{{nil, "frame", 7}, {[]string{"--messages"}, "message", 2}} {
		out, errs, code := runWsdump(t, nil, append([]string{"-r", f, "--format", "csv"}, view.args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != "type,conn,time,dir,index,opcode,fin,rsv,mask,len,frames,compressed,anomalies,payload_encoding,payload,info" {
			t.Errorf("header %v", rows[0])
		}
		n := 0
		for _, r := range rows[1:] {
			if r[0] == view.kind {
				n++
			}
		}
		if n != view.n || rows[1][0] != "handshake" || rows[len(rows)-1][0] != "conn" {
			t.Errorf("%s view: %d %s rows in %v", view.kind, n, view.kind, rows)
		}
	}
	// Quoting: a text payload with commas, quotes and newlines survives.
	out, _, _ := runWsdump(t, nil, "-r", pcap("gen__app-jsonrpc.pcap"), "--format", "csv", "--messages")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[2][13] != "text" || !json.Valid([]byte(rows[2][14])) {
		t.Errorf("row %v", rows[2])
	}
}

func TestFollow(t *testing.T) {
	out, errs, code := runWsdump(t, nil, "follow", "-r", pcap("zeek__two-binary-fragments.pcap"), "--conn", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"=== conn 1  127.0.0.1:50198 -> 127.0.0.1:8080  at 0.000547\n    GET / HTTP/1.1\n    Host: localhost:8080\n    -> 101 Switching Protocols\n    subprotocol: v1\n",
		"[0.000782] conn 1 s2c ping, 4 B: Zeek\n",
		"[0.011638] conn 1 s2c binary #1, 12 B, 2 frames\n00000000: 4865 6c6c 6f20 7468 6572 6521            Hello there!\n",
		"[0.012178] conn 1 c2s close, 2 B: 1000 (normal closure)\n",
		"=== conn 1 end at 0.012484: clean, close by client 1000, 1/1 messages\n", // the client's FIN, after the server's
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	out, _, _ = runWsdump(t, nil, "follow", "-r", pcap("gen__app-jsonrpc.pcap"), "--dir", "c2s", "-c", "1")
	if !strings.Contains(out, "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 1,\n  \"method\": \"sum\",") {
		t.Errorf("JSON not indented:\n%s", out)
	}
	// Hostile text stays escaped.
	out, _, _ = runWsdump(t, nil, "follow", "-r", pcap("gen__ws-node-basic.pcap"), "--max-bytes", "0")
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("raw control characters in the transcript")
	}
}

func TestExportMatchesManifest(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gen__ws-node-basic", "gen__deflate-node-takeover", "gen__gorilla", "gen__ws-node-chatty-mtu"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, errs, code := runWsdump(t, nil, "export", "-r", pcap(name+".pcap"), "-o", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			idx, err := os.ReadFile(filepath.Join(dir, "index.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
				var e report.ExportEntry
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.File)))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if hex.EncodeToString(sum[:]) != e.SHA256 {
					t.Errorf("%s: sha256 does not match the index", e.File)
				}
				ext := map[int]string{1: ".txt", 2: ".bin"}[e.Opcode]
				if want := "conn-" + pad(e.Conn, 4) + "/" + pad(e.Index, 6) + "-" + e.Dir + ext; e.File != want {
					t.Errorf("file %s, want %s", e.File, want)
				}
				got[e.Dir] = append(got[e.Dir], strconv.Itoa(e.Opcode)+" "+strconv.Itoa(len(data))+" "+e.SHA256)
			}
			want := readManifest(t, pcap(name+".messages.tsv"))
			for _, d := range []string{"c2s", "s2c"} {
				if strings.Join(got[d], "\n") != strings.Join(want[d], "\n") {
					t.Errorf("%s: index differs from the manifest (%d vs %d messages)", d, len(got[d]), len(want[d]))
				}
			}
		})
	}
	// Filters apply.
	dir := t.TempDir()
	runWsdump(t, nil, "export", "-r", pcap("gen__ws-node-basic.pcap"), "-o", dir, "--dir", "s2c", "--opcode", "binary")
	files, _ := filepath.Glob(filepath.Join(dir, "conn-0001", "*"))
	for _, f := range files {
		if !strings.HasSuffix(f, "-s2c.bin") {
			t.Errorf("%s exported", f)
		}
	}
	if len(files) == 0 {
		t.Error("nothing exported")
	}
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(0, width-len(s))) + s
}

func TestEveryCommandHasExamplesAndCompletionWorks(t *testing.T) {
	root := newRootCmd(nil, &bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no examples in --help", c.Name())
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, errs, code := runWsdump(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "wsdump") {
			t.Errorf("completion %s: exit %d %s", shell, code, errs)
		}
	}
	// Flag values complete.
	out, _, _ := runWsdump(t, nil, "__complete", "lint", "--fail-on", "")
	if !strings.Contains(out, "warning") {
		t.Errorf("no completion for --fail-on: %q", out)
	}
	out, _, _ = runWsdump(t, nil, "__complete", "--format", "")
	if !strings.Contains(out, "csv") {
		t.Errorf("no completion for --format: %q", out)
	}
}
