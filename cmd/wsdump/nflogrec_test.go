package main

import (
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
)

// TestRecordedNFLOG: gen__ws-node-nflog, node ws over IPv4 then IPv6,
// logged by nftables to NFLOG group 5 and recorded by tcpdump -i nflog:5
// (record.sh): every record is a TCP segment of the two connections.
// Its messages are checked against the generator's manifest by
// TestMessagesMatchManifest, its frames against tshark's by
// TestAgreesWithTshark.
func TestRecordedNFLOG(t *testing.T) {
	t.Parallel()
	src, err := capture.Open(pcaps + "gen__ws-node-nflog.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	asm := reassembly.New(nopExporter{}, reassembly.Options{})
	n, families := 0, map[byte]int{}
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Link != capture.LinkNFLOG {
			t.Fatalf("packet %d: link type %s", n+1, p.Link)
		}
		families[p.Data[0]]++
		asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
		n++
	}
	asm.Finish()
	st := asm.Stats()
	if n == 0 || st.Packets != uint64(n) || st.NotIP != 0 || st.NotTCP != 0 || st.Malformed != 0 || st.Cut != 0 {
		t.Errorf("%d records: stats %+v, want every one a TCP segment", n, st)
	}
	if st.Connections != 2 || families[2] == 0 || families[10] == 0 || families[2]+families[10] != n {
		t.Errorf("%d TCP connections, records by family %v: want 2, IPv4 (2) and IPv6 (10)", st.Connections, families)
	}
}

// TestBPFOnNFLOG: a capture filter after -r picks packets of an NFLOG
// capture by their IP and TCP headers, as it does on Ethernet: the same
// output as wsdump on the records tshark keeps for the same ports.
// (tcpdump cannot pre-filter: libpcap does not compile filters for NFLOG.)
func TestBPFOnNFLOG(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	file := pcaps + "gen__ws-node-nflog.pcap"
	pre := filepath.Join(t.TempDir(), "pre.pcap")
	if b, err := exec.Command(tshark, "-r", file, "-Y", "tcp.port == 47091", "-w", pre).CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v: %s", err, b)
	}
	total, kept := countPackets(t, file), countPackets(t, pre)
	if kept == 0 || kept == total {
		t.Fatalf("tshark kept %d of %d records: a filter that proves nothing", kept, total)
	}
	want, _, wcode := runWsdump(t, nil, "-r", pre, "--format", "jsonl")
	got, errs, code := runWsdump(t, nil, "-r", file, "--format", "jsonl", "tcp", "port", "47091")
	if code != wcode || got != want || !strings.Contains(want, `"src":"[::1]:`) {
		t.Errorf("wsdump -r F tcp port 47091: exit %d\n%s\nwsdump on tshark's selection: exit %d\n%s", code, got, wcode, want)
	}
	if !strings.Contains(errs, "packets dropped") {
		t.Errorf("stderr %q", errs)
	}
}
