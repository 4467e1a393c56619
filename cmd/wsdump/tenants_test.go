package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTenantsTshark: two WebSocket conversations on one 4-tuple at once
// in two tenants of an overlay (VLAN 10 and 20, VNI 100 and 200, GRE
// keys 1 and 2), from their SYNs, or the second starting midway through
// the first. wsdump shows each conversation's 20 text messages on a
// connection of its own. tshark 4.0 keys tcp.stream by the innermost
// addresses and ports alone: the second SYN starts stream 1 (port
// reuse) and every later packet of either goes there, so it shows the
// second conversation whole and none of the first's messages after that
// SYN. Before lanes (reassembly/lanes.go) wsdump was worse: one
// connection with the second's client messages and the first's server
// ones.
func TestTenantsTshark(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	dir := t.TempDir()
	a := synth.TenantConv("A", 0x10000000, 0, 10)
	for _, ten := range synth.Tenants {
		in := func(n int) func([]byte) []byte { return func(f []byte) []byte { return ten.Wrap(n, f) } }
		for _, tc := range []struct {
			name  string
			at    time.Duration
			first int // A's messages tshark shows (those before the second SYN)
		}{{"at once", 500 * time.Microsecond, 0}, {"midway", 10500 * time.Microsecond, 6}} {
			path := filepath.Join(dir, strings.ReplaceAll(ten.Name+" "+tc.name, " ", "-")+".pcap")
			writePackets(t, path, synth.ByTime(synth.Wrapped(a, 0, in(1)), synth.Wrapped(synth.TenantConv("B", 0x70000000, 0, 10), tc.at, in(2))))
			want := map[string]string{"A": "1 20", "B": "2 20"}
			if got := wsdumpTexts(t, path); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: wsdump: %v, want %v", filepath.Base(path), got, want)
			}
			tsharkWant := map[string]string{"A": "0 0", "B": "1 20"}
			if tc.first > 0 {
				tsharkWant["A"] = fmt.Sprintf("0 %d", tc.first)
			}
			out := tsharkOutput(t, tshark, path, "-r", path, "-Y", "websocket.opcode == 1", "-T", "fields", "-e", "tcp.stream", "-e", "websocket.payload.text")
			if got := tallyTexts(string(out)); fmt.Sprint(got) != fmt.Sprint(tsharkWant) {
				t.Errorf("%s: tshark (stream, messages): %v, want %v: does it tell tenants apart now?", filepath.Base(path), got, tsharkWant)
			}
		}
	}
}

// wsdumpTexts returns, by conversation name (a text message's first
// word), its connection and number of messages, as wsdump decodes path.
func wsdumpTexts(t *testing.T, path string) map[string]string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Main([]string{"-r", path, "--format", "jsonl", "--messages"}, nil, &out, &errb); code != 0 {
		t.Fatalf("wsdump: exit status %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "wsdump: 1 connection opened on the addresses and ports of another still open in another tenant") {
		t.Errorf("%s: no notice of the second connection: %q", filepath.Base(path), errb.String())
	}
	var b strings.Builder
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m struct {
			Type, Dir string
			Conn      int
			Opcode    int
			Data      []byte
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == "message" && m.Opcode == 1 {
			fmt.Fprintf(&b, "%d\t%s\n", m.Conn, m.Data)
		}
	}
	return tallyTexts(b.String())
}

// tallyTexts reads lines "CONN\tNAME TEXT" and returns, by name, "CONN N"
// ("MIXED" if a name is on several), or "0 0" for A unseen.
func tallyTexts(lines string) map[string]string {
	conn, n := map[string]string{}, map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		c, text, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(text, " ")
		if prev, seen := conn[name]; seen && prev != c {
			conn[name] = "MIXED"
		} else {
			conn[name] = c
		}
		n[name]++
	}
	got := map[string]string{"A": "0 0"}
	for name, c := range conn {
		got[name] = fmt.Sprintf("%s %d", c, n[name])
	}
	return got
}
