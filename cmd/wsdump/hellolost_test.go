package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestWssHellosLost: real wss captures (TLS 1.2 and 1.3) with the
// segments of the ClientHello, the ServerHello or both dropped, the SYNs
// kept. The connection is listed as TLS in every view, its error says the
// hello was lost with how many bytes of which side, the bytes it carried
// are counted (captured plus lost: the whole connection's), the client is
// the SYN's sender, -j 1 = -j 2. Until then the capture with both hellos
// dropped of a TLS 1.2 connection gave "no WebSocket in N packets" and no
// record, and one of TLS 1.3 said "capture starts after it" with the
// client guessed. The SYN or the SYN-ACK dropped too, the client is the
// SYN's sender or the SYN-ACK's peer, and the error's sides are numbered
// from the client (until a review, the SYN dropped, the server was taken
// for the client by its ports, "client guessed: the first side seen", and
// the error's side 0 was the server, the first side seen).
func TestWssHellosLost(t *testing.T) {
	for _, name := range []string{"gen__wss-go-tls12-aes128gcm", "gen__wss-node-tls13", "gen__wss-go-tls13"} {
		pcap := filepath.Join("..", "..", "testdata", "pcaps", name+".pcap")
		keys := filepath.Join("..", "..", "testdata", "pcaps", name+".keys")
		pkts := readCapture(t, pcap)
		var total int64
		hello := [2]int{-1, -1} // packet index of the ClientHello (side 0), ServerHello (side 1)
		for i, p := range pkts {
			total += int64(p.payload)
			if p.dir >= 0 && len(p.bytes) > 5 && p.bytes[0] == 0x16 && p.bytes[5] == byte(1+p.dir) && hello[p.dir] < 0 {
				hello[p.dir] = i
			}
		}
		if hello[0] < 0 || hello[1] < 0 {
			t.Fatalf("%s: hellos not found: %v", name, hello)
		}
		if pkts[0].dir != 0 || pkts[1].dir != 1 || pkts[0].payload+pkts[1].payload != 0 {
			t.Fatalf("%s: packets 1 and 2 are not the SYN and SYN-ACK", name)
		}
		for _, tc := range []struct {
			drop []int
			syn  int // the SYN (0) or SYN-ACK (1) dropped too, -1 neither
		}{{[]int{0, 1}, -1}, {[]int{0}, -1}, {[]int{1}, -1},
			{[]int{0, 1}, 0}, {[]int{0}, 0}, {[]int{1}, 0}, {[]int{0, 1}, 1}, {[]int{1}, 1}} {
			drop := tc.drop
			t.Run(fmt.Sprintf("%s/drop%v/syn%d", name, drop, tc.syn), func(t *testing.T) {
				var kept []rawPacket
				lost := [2]int{}
				for i, p := range pkts {
					if i == tc.syn {
						continue
					}
					if d := p.dir; d >= 0 && i == hello[d] && (len(drop) == 2 || drop[0] == d) {
						lost[d] = p.payload
						continue
					}
					kept = append(kept, p)
				}
				path := writeCapture(t, kept, 0)
				var want []string
				for side, n := range lost {
					if n > 0 {
						want = append(want, fmt.Sprintf("side %d (%d)", side, n))
					}
				}
				wantErr := "TLS hello not captured: lost with the first bytes of " + strings.Join(want, " and ") + ", records counted"
				out1, _, _ := runWsdump(t, nil, "-r", path, "--keylog", keys, "--format", "jsonl", "-j", "1")
				out2, _, _ := runWsdump(t, nil, "-r", path, "--keylog", keys, "--format", "jsonl", "-j", "2")
				if out1 != out2 {
					t.Errorf("-j 1 and -j 2 differ:\n%s\n%s", out1, out2)
				}
				type tlsRec struct {
					Type, Client, Error string
					Decrypted           bool
					ClientBytes         int64 `json:"client_bytes"`
					ServerBytes         int64 `json:"server_bytes"`
				}
				var tls []tlsRec
				for line := range strings.Lines(out1) {
					var r tlsRec
					if json.Unmarshal([]byte(line), &r) != nil {
						t.Fatalf("bad line %q", line)
					}
					tls = append(tls, r)
				}
				if len(tls) != 1 || tls[0].Type != "tls" || tls[0].Decrypted || tls[0].Error != wantErr {
					t.Fatalf("records %+v, want one tls record with error %q\n%s", tls, wantErr, out1)
				}
				if client := clientOf(t, pcap); tls[0].Client != client {
					t.Errorf("client %s, want the SYN's sender %s", tls[0].Client, client)
				}
				if got := tls[0].ClientBytes + tls[0].ServerBytes + int64(lost[0]+lost[1]); got != total {
					t.Errorf("bytes counted %d + %d + lost %d = %d, want the connection's %d", tls[0].ClientBytes, tls[0].ServerBytes, lost[0]+lost[1], got, total)
				}
				if tc.syn >= 0 {
					return // (the views below as without the SYN's loss)
				}
				table, _, _ := runWsdump(t, nil, "-r", path, "--keylog", keys, "-j", "1")
				if !strings.Contains(table, " tls ") || !strings.Contains(table, "TLS hello not captured") {
					t.Errorf("table:\n%s", table)
				}
				lint, _, _ := runWsdump(t, nil, "lint", "-r", path, "--keylog", keys)
				if !strings.Contains(lint, "WS309") || !strings.Contains(lint, "TLS hello not captured") {
					t.Errorf("lint:\n%s", lint)
				}
				notice := "TLS hello not captured: lost with the first bytes of " + strings.Join(want, " and ") + ", records counted); its TLS hello was not captured, which no key log makes up for"
				for _, args := range [][]string{
					{"conns", "-r", path, "--keylog", keys},
					{"conns", "-r", path, "--keylog", keys, "--format", "jsonl"},
					{"-r", path, "--keylog", keys, "--format", "parquet", "-o", filepath.Join(t.TempDir(), "pq")},
					{"report", "-r", path, "--keylog", keys, "-o", filepath.Join(t.TempDir(), "r.html")},
				} {
					_, stderr, _ := runWsdump(t, nil, args...)
					if !strings.Contains(stderr, "1 TLS connection was not decrypted") || !strings.Contains(stderr, notice) {
						t.Errorf("%v: stderr %q, want the connection named with %q", args[:2], stderr, notice)
					}
				}
			})
		}
	}
}

// clientOf is the address of the SYN's sender of a one-connection capture,
// as wsdump prints it.
func clientOf(t *testing.T, pcap string) string {
	t.Helper()
	out, _, _ := runWsdump(t, nil, "-r", pcap, "--format", "jsonl")
	var r struct{ Client string }
	for line := range strings.Lines(out) {
		if json.Unmarshal([]byte(line), &r) == nil && r.Client != "" {
			return r.Client
		}
	}
	t.Fatalf("%s: no client in %q", pcap, out)
	return ""
}
