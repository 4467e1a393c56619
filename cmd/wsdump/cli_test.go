package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

const sample = "../../testdata/pcaps/zeek__two-binary-fragments.pcap"

func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("HTTP/1.1 200 OK\r\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	whole, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, whole[:len(whole)-10], 0o644)
	// A pcap header announcing link type 147 (USER0), which wsdump cannot decode.
	user0 := append([]byte(nil), whole...)
	user0[20] = 147
	user0File := filepath.Join(dir, "user0.pcap")
	os.WriteFile(user0File, user0, 0o644)

	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  string // substring; the message is one line
		records bool   // some output is still written
	}{
		{"ok", []string{"-r", sample}, 0, "", true},
		{"no input", nil, 1, "no input", false},
		{"bad format", []string{"-r", sample, "--format", "xml"}, 1, "--format must be one of", false},
		{"bad time", []string{"-r", sample, "--time", "utc"}, 1, "--time must be", false},
		{"unknown flag", []string{"-r", sample, "--nope"}, 1, "unknown flag", false},
		{"stray argument", []string{"-r", sample, "extra"}, 1, `"extra" is not a capture filter`, false}, // -r F tcp port 80 filters the file
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap")}, 2, "no such file", false},
		{"not a capture", []string{"-r", notCapture}, 2, "not a pcap or pcapng file", false},
		{"empty", []string{"-r", empty}, 2, "empty file", false},
		{"unsupported link", []string{"-r", user0File}, 2, "unsupported link type", false},
		{"truncated", []string{"-r", cut}, 2, "truncated", true},
	}
	for _, tc := range cases {
		out, errs, code := runWsdump(t, nil, tc.args...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tc.name, code, tc.code, errs)
		}
		if tc.stderr == "" && errs != "" || !strings.Contains(errs, tc.stderr) {
			t.Errorf("%s: stderr %q, want %q", tc.name, errs, tc.stderr)
		}
		if tc.stderr != "" && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%s: stderr is not one line: %q", tc.name, errs)
		}
		if (out != "") != tc.records {
			t.Errorf("%s: stdout %q", tc.name, out)
		}
	}
}

func TestStdinAndGzip(t *testing.T) {
	want, _, code := runWsdump(t, nil, "-r", sample, "--format", "jsonl")
	if code != 0 || want == "" {
		t.Fatalf("exit %d", code)
	}
	raw, _ := os.ReadFile(sample)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	for name, in := range map[string][]byte{"plain": raw, "gzip": gz.Bytes()} {
		got, errs, code := runWsdump(t, in, "-r", "-", "--format", "jsonl")
		if code != 0 || got != want {
			t.Errorf("%s on stdin: exit %d %s, output differs: %v", name, code, errs, got != want)
		}
	}
	gzFile := filepath.Join(t.TempDir(), "x.pcap.gz")
	os.WriteFile(gzFile, gz.Bytes(), 0o644)
	if got, _, _ := runWsdump(t, nil, "-r", gzFile, "--format", "jsonl"); got != want {
		t.Error("gzip file: output differs")
	}
}

func TestHelpDocumentsExitStatus(t *testing.T) {
	out, _, code := runWsdump(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "Exit status:") || !strings.Contains(out, "2  unreadable input") || !strings.Contains(out, "Examples:") {
		t.Errorf("help (exit %d):\n%s", code, out)
	}
}

// wsCapture writes a synthetic capture of one WebSocket connection: the
// upgrade, then the given server frames, and returns its path.
func wsCapture(t *testing.T, serverFrames ...[]byte) string {
	t.Helper()
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte("GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	for _, f := range serverFrames {
		c.Send(false, f)
	}
	path := filepath.Join(t.TempDir(), "synth.pcap")
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 0, c.Packets...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func serverFrame(op wsparse.Opcode, payload string) []byte {
	return append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: op, Length: uint64(len(payload))}), payload...)
}

// TestTableEscapesPayloads sends terminal escapes, bidi overrides and C1
// controls through the whole pipeline: none may reach the table raw.
func TestTableEscapesPayloads(t *testing.T) {
	hostile := "\x1b[31mred\x1b]0;owned\x07 \u202eevil\u2066 \u009b2J tab\tnl\n\x00\x7f end"
	path := wsCapture(t, serverFrame(wsparse.OpText, hostile), serverFrame(wsparse.OpClose, "\x03\xe8\x1b[2J"))
	for _, args := range [][]string{{"-r", path}, {"-r", path, "--messages"}, {"-r", path, "--preview", "500"}} {
		out, _, code := runWsdump(t, nil, args...)
		if code != 0 {
			t.Fatal(code)
		}
		for _, r := range out {
			if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e || r == 0x2066 {
				t.Fatalf("%v: raw control character %U in table output:\n%s", args, r, out)
			}
		}
		if !strings.Contains(out, `\x1b[31mred`) || !strings.Contains(out, `\u202e`) {
			t.Errorf("%v: escapes not shown:\n%s", args, out)
		}
	}
	// JSON keeps every byte: the payload is base64.
	out, _, _ := runWsdump(t, nil, "-r", path, "--format", "jsonl")
	for _, r := range parseJSONL(t, out) {
		if r.Type == "message" {
			b, _ := base64.StdEncoding.DecodeString(r.Data)
			if string(b) != hostile {
				t.Errorf("message data %q", b)
			}
		}
	}
}
