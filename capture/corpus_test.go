package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const corpusDir = "../../shared/corpus/pcaps"

// corpusCounts are `capinfos -c` (Wireshark 4) on each file.
var corpusCounts = map[string]int{
	"arkime__arkime_synthetic.pcap":                     918,
	"suricata-verify__websocket__basic_websockets.pcap": 21,
	"zeek-pr5646__websocket_baseline.pcap":              15,
	"zeek-pr5646__websocket_compressed.pcap":            15,
	"zeek__broker-websocket.pcap":                       22,
	"zeek__fragmented-http-reply.pcap":                  18,
	"zeek__http-websocket.pcap":                         27,
	"zeek__jupyter-websocket.pcap":                      20,
	"zeek__reply-ping-coalesced.pcap":                   16,
	"zeek__reply-ping-separate.pcap":                    18,
	"zeek__two-binary-fragments.pcap":                   18,
	"zeek__wrong-accept-header.pcap":                    12,
	"zeek__wstunnel-http.pcap":                          13,
	"zeek__wstunnel-https.pcap":                         124,
	"zeek__wstunnel-ssh.pcap":                           258,
}

func corpusFiles(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap"))
	if len(files) == 0 {
		t.Skip("no corpus at " + corpusDir)
	}
	return files
}

func readFile(t *testing.T, path string) []Packet {
	t.Helper()
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pkts, err := readAll(t, src)
	if err != nil {
		t.Fatalf("%s: after %d packets: %v", path, len(pkts), err)
	}
	return pkts
}

func TestCorpusCounts(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		want, known := corpusCounts[name]
		if !known {
			t.Logf("%s: no recorded count; add it from capinfos -c", name)
			continue
		}
		pkts := readFile(t, path)
		if len(pkts) != want {
			t.Errorf("%s: %d packets, capinfos says %d", name, len(pkts), want)
		}
		for i, p := range pkts {
			if p.Link != LinkEthernet || p.Timestamp.IsZero() || p.Length < p.CaptureLength {
				t.Errorf("%s packet %d: link %v, time %v, lengths %d/%d", name, i, p.Link, p.Timestamp, p.CaptureLength, p.Length)
				break
			}
		}
	}
}

// TestCorpusAsPcapng has Wireshark's editcap rewrite each corpus file as
// pcapng, and cat two of them into a two-section file; we must read the
// same packets from every form.
func TestCorpusAsPcapng(t *testing.T) {
	files := corpusFiles(t)
	if _, err := exec.LookPath("editcap"); err != nil {
		t.Skip("editcap not installed")
	}
	dir := t.TempDir()
	var cat []byte
	var catWant []Packet
	for _, path := range files {
		want := readFile(t, path)
		ng := filepath.Join(dir, filepath.Base(path)+"ng")
		if out, err := exec.Command("editcap", "-F", "pcapng", path, ng).CombinedOutput(); err != nil {
			t.Fatalf("editcap: %v: %s", err, out)
		}
		got := readFile(t, ng)
		comparePackets(t, filepath.Base(ng), got, want)
		if len(catWant) < 100 {
			b, err := os.ReadFile(ng)
			if err != nil {
				t.Fatal(err)
			}
			cat = append(cat, b...)
			catWant = append(catWant, want...)
		}
	}
	comparePackets(t, "concatenated pcapng", mustRead(t, cat), catWant)
}

func comparePackets(t *testing.T, name string, got, want []Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, want %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Link != w.Link || !g.Timestamp.Equal(w.Timestamp) || g.Length != w.Length || !bytes.Equal(g.Data, w.Data) {
			t.Fatalf("%s packet %d: got %v %v %d % x\nwant %v %v %d % x", name, i, g.Link, g.Timestamp, g.Length, g.Data, w.Link, w.Timestamp, w.Length, w.Data)
		}
	}
}
