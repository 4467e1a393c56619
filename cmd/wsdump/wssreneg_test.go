package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestWssRenegotiationKeyLog decrypts the two real captures whose node
// server renegotiates twice (gen__wss-node-tls12-reneg: abbreviated, the
// session resumed by its ticket; -full: full handshakes) with their whole
// key logs and with the first line only (the first handshake's master
// secret). The abbreviated renegotiations need no more: they resume a
// session this connection set up. The full ones do: wsdump decrypts the
// messages the generator sent before it asked for the first renegotiation
// (its times file), says why it stopped and counts the bytes after as
// the WebSocket's lost bytes (the conn record and the end row said
// nothing of them). tshark, given the same key
// log, decodes as many WebSocket frames. Until session 38 every
// renegotiation ended decryption: 5 of the 14 messages came out.
func TestWssRenegotiationKeyLog(t *testing.T) {
	dir := filepath.Join(os.TempDir(), "wsdump-reneg-keys") // stable: tshark's decodes are kept by path
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		first    bool // the key log's first line only
		stops    bool // decryption stops at the first renegotiation
		errorHas string
	}{
		{"gen__wss-node-tls12-reneg", false, false, ""},
		{"gen__wss-node-tls12-reneg", true, false, ""},
		{"gen__wss-node-tls12-reneg-full", false, false, ""},
		{"gen__wss-node-tls12-reneg-full", true, true,
			`"error":"side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random `},
	} {
		t.Run(tc.name+"/first-key-"+strconv.FormatBool(tc.first), func(t *testing.T) {
			base := filepath.Join("..", "..", "testdata", "pcaps", tc.name)
			keys := base + ".keys"
			if tc.first {
				b, err := os.ReadFile(keys)
				if err != nil {
					t.Fatal(err)
				}
				keys = filepath.Join(dir, tc.name+".first.keys")
				if err := os.WriteFile(keys, b[:strings.IndexByte(string(b), '\n')+1], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, errs, code := runWsdump(t, nil, "-r", base+".pcap", "--keylog", keys, "--format", "jsonl", "-j", "1")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := map[string][]string{}
			frames := 0
			for _, r := range parseJSONL(t, out) {
				switch r.Type {
				case "frame":
					frames++
				case "message":
					data, sum := r.dataSHA256(t)
					got[r.Dir] = append(got[r.Dir], strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sum)
				}
			}
			want := readManifest(t, base+".messages.tsv")
			if tc.stops {
				want = sentBefore(t, base+".times.tsv", want, "renegotiate")
			}
			compareByDir(t, "message", got, want)
			if tc.errorHas != "" && !strings.Contains(out, tc.errorHas) || tc.errorHas == "" && strings.Contains(out, `"error"`) {
				t.Errorf("want error %q, got output:\n%s", tc.errorHas, out)
			}
			if tc.stops { // the records not decrypted are the WebSocket's lost bytes, which the end row shows
				m := regexp.MustCompile(`since: (\d+) bytes of client records, (\d+) of server records`).FindStringSubmatch(out)
				if m == nil || !regexp.MustCompile(`"c2s":\{[^}]*"lost_bytes":`+m[1]+`,[^}]*\},"s2c":\{[^}]*"lost_bytes":`+m[2]+`,`).MatchString(out) {
					t.Errorf("the conn's lost_bytes are not the bytes counted since the switch (%q):\n%s", m, out)
				}
			}
			// The views a user reads say decryption stopped, and why;
			// those of a connection decrypted to its end say nothing.
			const reason = "tls decryption stopped: side 0: renegotiation 1 to keys not known"
			notice := "wsdump: 1 wss connection's TLS decryption stopped partway, so what it carried after that is not shown: its bytes count as lost (connection 1: side 0: renegotiation 1 to keys not known)\n"
			for _, v := range []struct {
				args  []string
				shows string // on stdout when it stops
				says  bool   // the notice on stderr
			}{
				{[]string{"-r", base + ".pcap", "--preview", "200"}, "fin_without_close, " + reason + ", c2s lost ", true},
				{[]string{"conns", "-r", base + ".pcap"}, "FIN from server first, then client, no Close, " + reason + "  ", true},
				{[]string{"lint", base + ".pcap"}, "info      WS314 tls-decryption-stopped  ", false},
			} {
				out, errs, code := runWsdump(t, nil, append(v.args, "--keylog", keys, "-j", "2")...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", v.args, code, errs)
				}
				if tc.stops != strings.Contains(out, v.shows) || !tc.stops && strings.Contains(out, "decryption stopped") {
					t.Errorf("%v: want %q shown %v, got:\n%s", v.args, v.shows, tc.stops, out)
				}
				if says := tc.stops && v.says; says != strings.Contains(errs, notice) || !says && strings.Contains(errs, "stopped partway") {
					t.Errorf("%v: want the notice %v, stderr:\n%s", v.args, says, errs)
				}
			}
			if n, ok := tsharkFrames(t, base+".pcap", keys); ok && n != frames {
				t.Errorf("tshark decodes %d WebSocket frames, we %d", n, frames)
			}
		})
	}
}

// sentBefore keeps of a manifest the messages its generator's times file
// lists before the first event named event, by direction.
func sentBefore(t *testing.T, times string, manifest map[string][]string, event string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(times)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s: %q", times, line)
		}
		if f[0] == event {
			break
		}
		if f[0] == "message" {
			n[strings.Fields(f[1])[0]]++
		}
	}
	out := map[string][]string{}
	for dir, l := range manifest {
		out[dir] = l[:n[dir]]
	}
	return out
}
