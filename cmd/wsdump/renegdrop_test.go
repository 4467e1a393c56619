package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenegotiationDropsNeverAlter drops the data segments of the real
// captures whose TLS 1.2 sessions renegotiate, each packet in turn and
// with the one or two packets after it (the handshake records and
// ChangeCipherSpecs among them, which TestWssSegmentLoss leaves out), and
// checks each message against the generators' manifests: it is one that
// was sent, whole, or one said to be incomplete; a message lost is in a
// direction whose conn record tells bytes lost or its tls object a
// failure (or, every hello lost, no TLS is seen: stderr says no
// WebSocket). Records found again after a gap under the wrong keys or
// sequence number fail their AEAD tag and do not come out as messages
// (tlsdec/resync.go).
func TestRenegotiationDropsNeverAlter(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gen__wss-node-tls12-reneg", "gen__wss-node-tls12-reneg-full", "gen__h2-tls12-reneg", "gen__h2-tls12-reneg-before-preface"} {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join("..", "..", "testdata", "pcaps", name)
			pkts := readCapture(t, base+".pcap")
			want := readManifest(t, base+".messages.tsv")
			for width := 1; width <= 3; width++ {
				runs, found, sent := 0, 0, 0
				for i := range pkts {
					if pkts[i].payload == 0 {
						continue
					}
					var kept []rawPacket
					for j, p := range pkts {
						if j < i || j >= i+width || p.payload == 0 {
							kept = append(kept, p)
						}
					}
					runs++
					out, errs, code := runWsdump(t, captureBytes(t, kept, 0), "-r", "-", "--keylog", base+".keys", "--format", "jsonl")
					if code != 0 {
						t.Fatalf("packets %d+%d dropped: exit %d: %s", i, width, code, errs)
					}
					left := map[string]int{}
					for d, ks := range want {
						for _, k := range ks {
							left[d+" "+k]++
							sent++
						}
					}
					told := map[string]bool{} // directions with bytes lost, or a TLS failure
					if out == "" && strings.Contains(errs, "no WebSocket in") {
						// Every hello lost: no TLS seen, nor a WebSocket
						// (said on stderr only; left alone here).
						told["c2s"], told["s2c"] = true, true
					}
					for line := range strings.Lines(out) {
						if strings.HasPrefix(line, `{"type":"tls"`) { // a TLS connection not decrypted
							told["c2s"], told["s2c"] = true, true
						}
						if !strings.HasPrefix(line, `{"type":"conn"`) {
							continue
						}
						var c struct {
							C2S struct {
								Lost int `json:"lost_bytes"`
							} `json:"c2s"`
							S2C struct {
								Lost int `json:"lost_bytes"`
							} `json:"s2c"`
							TLS *struct {
								Decrypted bool   `json:"decrypted"`
								Error     string `json:"error"`
							} `json:"tls"`
						}
						if err := json.Unmarshal([]byte(line), &c); err != nil {
							t.Fatal(err)
						}
						// Not decrypted, or a failure decryption went on
						// past: said in the tls object.
						tls := c.TLS != nil && (!c.TLS.Decrypted || c.TLS.Error != "")
						told["c2s"] = told["c2s"] || c.C2S.Lost > 0 || tls
						told["s2c"] = told["s2c"] || c.S2C.Lost > 0 || tls
					}
					for _, r := range parseJSONLType(t, out, "message") {
						data, sum := r.dataSHA256(t)
						k := r.Dir + " " + itoa(r.Opcode) + " " + itoa(len(data)) + " " + sum
						switch {
						case left[k] > 0:
							left[k]--
							found++
						case len(r.Anomalies) == 0:
							t.Errorf("packets %d+%d dropped: message %.90s was not sent, and no anomaly says it is incomplete", i, width, k)
						}
					}
					for k, n := range left {
						if dir, _, _ := strings.Cut(k, " "); n > 0 && !told[dir] {
							t.Errorf("packets %d+%d dropped: message %.90s lost, and no bytes lost told in %s", i, width, k, dir)
						}
					}
				}
				t.Logf("%s, the data segments among %d packets dropped from each of %d: %d of %d messages found whole", name, width, runs, found, sent)
			}
		})
	}
}
