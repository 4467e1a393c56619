package main

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestNoWebSocketInOtherTraffic decodes real captures of protocols that
// are not WebSocket (HTTP keep-alive, TLS, SSH, Redis, PostgreSQL, and all
// of them captured mid-stream) and requires that nothing is taken for
// WebSocket. TLS connections are listed as such (tls records).
func TestNoWebSocketInOtherTraffic(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "nonws__*.pcap"))
	if len(files) == 0 {
		t.Fatal("no nonws__ captures")
	}
	for _, f := range files {
		out, errs, code := runWsdump(t, nil, "-r", f, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", f, code, errs)
		}
		for _, r := range parseJSONL(t, out) {
			if r.Type != "tls" {
				t.Errorf("%s: %s record for conn %d: taken for WebSocket", filepath.Base(f), r.Type, r.Conn)
			}
		}
	}
}

// TestMidStreamCapture reads captures started after the WebSocket
// connection opened. Uncompressed: every message the generator says was
// sent wholly inside the capture must be decoded, with its bytes.
// Compressed with context takeover: a message that reaches back into the
// window from before the capture cannot be inflated, and must say so
// (inflate_context_unknown) rather than print garbage; every message that
// is inflated must be exactly what was sent.
func TestMidStreamCapture(t *testing.T) {
	for _, name := range []string{"gen__ws-midstream", "gen__ws-midstream-deflate"} {
		t.Run(name, func(t *testing.T) { checkMidStream(t, name) })
	}
}

func checkMidStream(t *testing.T, name string) {
	base := filepath.Join("..", "..", "testdata", "pcaps", name)
	info := readKeyValues(t, base+".captured-from.txt")
	deflate := strings.HasPrefix(info["deflate"], "permessage-deflate")
	first, err := strconv.Atoi(info["first_full_index"])
	if err != nil {
		t.Fatal(err)
	}
	// The manifest's rows in send order across both directions.
	var rows [][]string
	mf, err := os.Open(base + ".messages.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] != "dir" {
			rows = append(rows, f)
		}
	}
	out, errs, code := runWsdump(t, nil, "-r", base+".pcap", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	sent := map[string]bool{}
	for _, row := range rows {
		sent[strings.Join(row, " ")] = true
	}
	got := map[string]bool{}
	undecodable := 0
	var conn jsonRecord
	for _, r := range parseJSONL(t, out) {
		switch r.Type {
		case "message":
			if slices.Contains(r.Anomalies, "inflate_context_unknown") {
				undecodable++
				continue
			}
			data, sum := r.dataSHA256(t)
			key := r.Dir + " " + strconv.Itoa(r.Opcode) + " " + strconv.Itoa(len(data)) + " " + sum
			got[key] = true
			if !sent[key] && !slices.Contains(r.Anomalies, "message_incomplete") && !slices.Contains(r.Anomalies, "message_truncated") && !slices.Contains(r.Anomalies, "capture_truncated") {
				t.Errorf("message %s decoded with bytes that were never sent", key)
			}
		case "conn":
			conn = r
		case "handshake":
			t.Errorf("a handshake in a capture that has none")
		}
	}
	missing := 0
	for _, row := range rows[first:] {
		if !got[strings.Join(row, " ")] {
			missing++
			if !deflate {
				t.Errorf("message %v, sent inside the capture, not decoded", row)
			}
		}
	}
	t.Logf("%d of %d messages sent inside the capture decoded; %d marked inflate_context_unknown", len(rows)-first-missing, len(rows)-first, undecodable)
	if deflate && missing != undecodable {
		t.Errorf("%d messages missing, but only %d marked undecodable", missing, undecodable)
	}
	if conn.Type != "conn" {
		t.Fatal("no conn record")
	}
}

func readKeyValues(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv
}
