package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestWssRenegotiationHelloLost drops the segment of a renegotiation's
// ClientHello (the first or the second) from the real node captures: the
// ServerHello comes without it, and the key log's lines are tried on the
// server's Finished (tlsdec/renegguess.go). Every message sent comes out
// whole, the renegotiations are counted (2), no side stops, and -j 1 = -j
// 2. Until then each side ended at its ChangeCipherSpec ("with no
// ClientHello seen"): 5 of the 14 messages of the -full capture came out.
func TestWssRenegotiationHelloLost(t *testing.T) {
	for _, name := range []string{"gen__wss-node-tls12-reneg-full", "gen__wss-node-tls12-reneg"} {
		base := filepath.Join("..", "..", "testdata", "pcaps", name)
		pkts := readCapture(t, base+".pcap")
		want := readManifest(t, base+".messages.tsv")
		for _, drop := range []int{18, 29} { // packets 19 and 30: the client's renegotiation ClientHellos
			t.Run(fmt.Sprintf("%s/packet%d", name, drop+1), func(t *testing.T) {
				if pkts[drop].dir != 0 || pkts[drop].payload < 300 {
					t.Fatalf("packet %d is not the client's ClientHello: dir %d, %d bytes", drop+1, pkts[drop].dir, pkts[drop].payload)
				}
				kept := append(append([]rawPacket(nil), pkts[:drop]...), pkts[drop+1:]...)
				path := writeCapture(t, kept, 0)
				out, _, _ := runWsdump(t, nil, "-r", path, "--keylog", base+".keys", "--format", "jsonl", "-j", "1")
				out2, _, _ := runWsdump(t, nil, "-r", path, "--keylog", base+".keys", "--format", "jsonl", "-j", "2")
				if out != out2 {
					t.Error("-j 1 and -j 2 differ")
				}
				left := map[string]int{}
				sent := 0
				for d, ks := range want {
					for _, k := range ks {
						left[d+" "+k]++
						sent++
					}
				}
				found := 0
				for _, r := range parseJSONLType(t, out, "message") {
					data, sum := r.dataSHA256(t)
					k := r.Dir + " " + itoa(r.Opcode) + " " + itoa(len(data)) + " " + sum
					if left[k] == 0 {
						t.Errorf("message %.90s was not sent", k)
						continue
					}
					left[k]--
					found++
				}
				if found != sent {
					t.Errorf("%d of %d messages found", found, sent)
				}
				for line := range strings.Lines(out) {
					if !strings.HasPrefix(line, `{"type":"conn"`) {
						continue
					}
					var c struct {
						TLS struct {
							Error          string `json:"error"`
							StopError      string `json:"stop_error"`
							Renegotiations int    `json:"renegotiations"`
						} `json:"tls"`
					}
					if err := json.Unmarshal([]byte(line), &c); err != nil {
						t.Fatal(err)
					}
					if c.TLS.Renegotiations != 2 || c.TLS.StopError != "" || !strings.Contains(c.TLS.Error, "bytes lost, records lost: 1") {
						t.Errorf("tls %+v: want 2 renegotiations, no stop, the ClientHello's record lost", c.TLS)
					}
				}
			})
		}
	}
}
