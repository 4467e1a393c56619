package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// jsonRecord is the subset of a jsonl record the tests look at.
type jsonRecord struct {
	Type      string   `json:"type"`
	Conn      int      `json:"conn"`
	Dir       string   `json:"dir"`
	Opcode    int      `json:"opcode"`
	Len       uint64   `json:"len"`
	Data      string   `json:"data"`
	Payload   string   `json:"payload"`
	Anomalies []string `json:"anomalies"`
	Status    int      `json:"status"`
	Server    string   `json:"server"`
	Transport string   `json:"transport"`

	HandshakeSeen bool `json:"handshake_seen"`
}

// dataSHA256 returns a message record's data and its SHA-256 in hex, as
// the generators' manifests write it.
func (r jsonRecord) dataSHA256(t *testing.T) ([]byte, string) {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:])
}

func parseJSONL(t *testing.T, out string) []jsonRecord {
	t.Helper()
	var recs []jsonRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r jsonRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestMessagesMatchManifest checks every message wsdump reports against
// what the generator that recorded the capture says it sent: opcode,
// length and SHA-256, in order, per direction.
func TestMessagesMatchManifest(t *testing.T) {
	t.Parallel()
	manifests, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.messages.tsv"))
	if len(manifests) == 0 {
		t.Fatal("no manifests")
	}
	for _, m := range manifests {
		base := strings.TrimSuffix(m, ".messages.tsv")
		if _, err := os.Stat(base + ".captured-from.txt"); err == nil {
			continue // started mid-session: TestMidStreamCapture
		}
		capFile := base + ".pcap"
		if _, err := os.Stat(capFile); err != nil {
			capFile = base + ".pcapng"
		}
		wsOnly := wsOnlyManifests[filepath.Base(base)]
		t.Run(filepath.Base(base), func(t *testing.T) {
			t.Parallel()
			want := readManifest(t, m)
			// The run of TestGolden's jsonl view of the capture.
			out, errs, code := runShared(t, goldenArgs(capFile, "--format", "jsonl")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := map[string][]string{}
			for _, r := range parseJSONL(t, out) {
				if r.Type != "message" || wsOnly && httpCarried(r.Transport) {
					continue
				}
				data, sum := r.dataSHA256(t)
				got[r.Dir] = append(got[r.Dir], strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sum)
			}
			compareByDir(t, "message", got, want)
		})
	}
}

// wsOnlyManifests are the captures whose generators recorded only the
// messages of their WebSocket, while the client began on Engine.IO
// polling: the messages carried over HTTP before the upgrade (joined into
// the same conversation, with "transport":"polling") are not in their
// manifests.
var wsOnlyManifests = map[string]bool{"gen__app-socketio-upgrade": true, "gen__engineio-stall": true}

// httpCarried reports a message record's transport that is an HTTP
// fallback (not WebSocket).
func httpCarried(transport string) bool { return transport != "" && transport != "websocket" }

// compareByDir compares decoded records with a manifest's, per direction,
// in order: the counts, then each line.
func compareByDir(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, dir := range []string{"c2s", "s2c"} {
		if len(got[dir]) != len(want[dir]) {
			t.Errorf("%s: %d %ss, manifest has %d", dir, len(got[dir]), what, len(want[dir]))
		}
		for i := 0; i < len(got[dir]) && i < len(want[dir]); i++ {
			if got[dir][i] != want[dir][i] {
				t.Errorf("%s %s %d:\n got %s\nwant %s", dir, what, i+1, got[dir][i], want[dir][i])
			}
		}
	}
}

func readManifest(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if i == 0 && len(f) > 0 && f[0] == "dir" {
			continue // header
		}
		if len(f) != 4 {
			t.Fatalf("%s line %d: %q", path, i+1, line)
		}
		want[f[0]] = append(want[f[0]], f[1]+" "+f[2]+" "+f[3])
	}
	return want
}
