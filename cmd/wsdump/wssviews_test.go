package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/report"
)

// TestWssEveryView (issue 15): every view decodes wss with --keylog. Each
// runs once on a TLS 1.3 capture with its key log, and where it shows the
// messages they are checked against the generator's manifest (direction,
// opcode, length, and SHA-256 where the view gives the bytes).
func TestWssEveryView(t *testing.T) {
	const base = "../../testdata/pcaps/gen__wss-go-tls13"
	capFile, keys := base+".pcap", []string{"--keylog", base + ".keys"}
	want := readManifest(t, base+".messages.tsv")
	// Without the sums: "opcode len".
	short := map[string][]string{}
	n := 0
	for dir, l := range want {
		for _, m := range l {
			f := strings.Fields(m)
			short[dir] = append(short[dir], f[0]+" "+f[1])
			n++
		}
	}
	opcodes := map[string]string{"text": "1", "binary": "2"}
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errs, code := runWsdump(t, nil, append(args, keys...)...)
		if code != 0 {
			t.Fatalf("wsdump %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}

	t.Run("main view", func(t *testing.T) {
		got := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(run(t, "-r", capFile, "--format", "jsonl")), "\n") {
			var r struct{ Type, Dir, Data string }
			var op struct{ Opcode int }
			json.Unmarshal([]byte(l), &r)
			json.Unmarshal([]byte(l), &op)
			if r.Type != "message" {
				continue
			}
			data, err := base64.StdEncoding.DecodeString(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			got[r.Dir] = append(got[r.Dir], strconv.Itoa(op.Opcode)+" "+strconv.Itoa(len(data))+" "+hex.EncodeToString(sum[:]))
		}
		compareByDir(t, "message", got, want)
	})

	t.Run("messages", func(t *testing.T) {
		row := regexp.MustCompile(`(?m)^\S+\s+1\s+(c2s|s2c)\s+(text|binary)\s+\S+\s+(\d+)`)
		got := map[string][]string{}
		for _, m := range row.FindAllStringSubmatch(run(t, "-r", capFile, "--messages"), -1) {
			got[m[1]] = append(got[m[1]], opcodes[m[2]]+" "+m[3])
		}
		compareByDir(t, "message row", got, short)
	})

	t.Run("conns", func(t *testing.T) {
		var r struct {
			Type     string
			Status   int
			C2S, S2C struct{ Messages int }
		}
		for _, l := range strings.Split(strings.TrimSpace(run(t, "conns", "-r", capFile, "--format", "jsonl")), "\n") {
			if json.Unmarshal([]byte(l), &r); r.Type == "conn" {
				break
			}
		}
		if r.Type != "conn" || r.Status != 101 || r.C2S.Messages != len(want["c2s"]) || r.S2C.Messages != len(want["s2c"]) {
			t.Errorf("conn record %+v, want status 101 and %d/%d messages", r, len(want["c2s"]), len(want["s2c"]))
		}
	})

	t.Run("lint", func(t *testing.T) {
		// --max-message 1000 makes each longer message a finding (WS404):
		// lint sees inside TLS when they are the manifest's.
		got := map[string][]string{}
		detail := regexp.MustCompile(`^(text|binary) len (\d+) in`)
		for _, l := range strings.Split(strings.TrimSpace(run(t, "lint", "-r", capFile, "--format", "jsonl", "--fail-on", "none", "--max-message", "1000")), "\n") {
			var r struct{ Rule, Dir, Detail string }
			json.Unmarshal([]byte(l), &r)
			if m := detail.FindStringSubmatch(r.Detail); r.Rule == "WS404" && m != nil {
				got[r.Dir] = append(got[r.Dir], opcodes[m[1]]+" "+m[2])
			} else {
				t.Errorf("unexpected finding %s", l)
			}
		}
		long := map[string][]string{}
		for dir, l := range short {
			for _, m := range l {
				if n, _ := strconv.Atoi(strings.Fields(m)[1]); n > 1000 {
					long[dir] = append(long[dir], m)
				}
			}
		}
		compareByDir(t, "message over 1000 bytes", got, long)
	})

	t.Run("follow", func(t *testing.T) {
		head := regexp.MustCompile(`(?m)^\[\S+\] conn 1 (c2s|s2c) (text|binary) #\d+, (\d+) B`)
		got := map[string][]string{}
		for _, m := range head.FindAllStringSubmatch(run(t, "follow", "-r", capFile), -1) {
			got[m[1]] = append(got[m[1]], opcodes[m[2]]+" "+m[3])
		}
		compareByDir(t, "message", got, short)
	})

	t.Run("diff", func(t *testing.T) {
		out := run(t, "diff", capFile, capFile)
		m := regexp.MustCompile(`(\d+) connection\(s\), (\d+) messages and control frames compared`).FindStringSubmatch(out)
		if m == nil || m[1] != "1" {
			t.Fatalf("diff: %s", out)
		}
		if c, _ := strconv.Atoi(m[2]); c < n {
			t.Errorf("diff compared %d messages and control frames, the manifest has %d messages", c, n)
		}
	})

	t.Run("export", func(t *testing.T) {
		dir := t.TempDir()
		run(t, "export", "-r", capFile, "-o", dir)
		idx, err := os.ReadFile(filepath.Join(dir, "index.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
			var e report.ExportEntry
			if err := json.Unmarshal([]byte(l), &e); err != nil || e.Len == nil {
				t.Fatalf("%v: %s", err, l)
			}
			got[e.Dir] = append(got[e.Dir], strconv.Itoa(e.Opcode)+" "+strconv.FormatUint(*e.Len, 10)+" "+e.SHA256)
		}
		compareByDir(t, "exported message", got, want)
	})
}
