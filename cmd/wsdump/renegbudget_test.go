package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/reassembly"
)

// hostileRenegCapture writes a capture of n copies of the real node
// capture's connection up to its first renegotiation, its ClientHello
// (packet 19) dropped, each copy on its own client port, one after
// another, and a key log with the connection's line and junk
// CLIENT_RANDOM lines (not the renegotiation's): every copy tries the
// key log's lines on its client's Finished, and no line opens it.
func hostileRenegCapture(t testing.TB, n, junk int) (pcap, keylog string) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__wss-node-tls12-reneg-full")
	pkts := readCapture(t.(*testing.T), base+".pcap")
	one := append(append([]rawPacket(nil), pkts[:18]...), pkts[19:22]...) // to the server's Finished
	if pkts[18].dir != 0 || pkts[18].payload < 300 || one[len(one)-1].payload != 111 {
		t.Fatalf("not the capture expected")
	}
	var all []rawPacket
	t0 := one[0].ts
	for i := range n {
		for _, p := range one {
			q := p
			q.data = append([]byte(nil), p.data...)
			q.ts = t0.Add(time.Duration(i)*time.Second + p.ts.Sub(t0))
			// Ethernet, IPv4 without options: the client's port.
			off := 14 + 20
			if p.dir == 1 {
				off += 2
			}
			binary.BigEndian.PutUint16(q.data[off:], uint16(10000+i))
			all = append(all, q)
		}
	}
	pcap = writeCapture(t.(*testing.T), all, 0)
	keys, err := os.ReadFile(base + ".keys")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.SplitAfter(string(keys), "\n")[0])
	for i := range junk {
		fmt.Fprintf(&b, "CLIENT_RANDOM %064x %096x\n", i+1, i+1)
	}
	keylog = filepath.Join(filepath.Dir(pcap), "hostile.keys")
	if err := os.WriteFile(keylog, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return pcap, keylog
}

// TestHostileRenegWrite writes the hostile capture for a measurement
// (HOSTILE_RENEG=n,junk,dir).
func TestHostileRenegWrite(t *testing.T) {
	v := os.Getenv("HOSTILE_RENEG")
	if v == "" {
		t.Skip("HOSTILE_RENEG not set")
	}
	f := strings.Split(v, ",")
	n, _ := strconv.Atoi(f[0])
	junk, _ := strconv.Atoi(f[1])
	p, k := hostileRenegCapture(t, n, junk)
	for _, x := range [][2]string{{p, "hostile.pcap"}, {k, "hostile.keys"}} {
		b, _ := os.ReadFile(x[0])
		os.WriteFile(filepath.Join(f[2], x[1]), b, 0o644)
	}
}

// TestRenegGuessTotal: 18 connections each renegotiating without its
// ClientHello, with 4096 junk lines in the key log: the first 16 try the
// key log's lines to the per-connection bound (65 536 in all), the last 2
// are not searched, their stop error and a notice on stderr say why.
// Until then every connection searched its 4096 lines: 20-36 ms each, a
// 6 MB capture of 500 such connections took 12 CPU s (0.12 before the
// search; 0.66 with the total).
func TestRenegGuessTotal(t *testing.T) {
	t.Parallel()
	const n = 18
	pcap, keys := hostileRenegCapture(t, n, 4096)
	out, errOut, _ := runWsdump(t, nil, "-r", pcap, "--keylog", keys, "--format", "jsonl", "-j", "1")
	cut := 0
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, `{"type":"conn"`) && strings.Contains(line, "key log lines to try for such renegotiations were spent") {
			cut++
		}
	}
	if want := n - reassembly.DefaultMaxRenegGuessesTotal/4096; cut != want {
		t.Errorf("%d connections' searches cut by the total, want %d", cut, want)
	}
	if !strings.Contains(errOut, fmt.Sprintf("wsdump: %d TLS renegotiations whose ClientHello was not captured were not searched for", n-reassembly.DefaultMaxRenegGuessesTotal/4096)) {
		t.Errorf("stderr %q", errOut)
	}
}
