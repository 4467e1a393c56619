package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/reassembly"
)

// serialLinks are the link layers TestLinkTypesAgreeWithTshark writes the
// real conversations in: each a capture of its own, as a pcap has one
// link type.
var serialLinks = []struct {
	name string
	link layers.LinkType
	wrap func(ip []byte) []byte
	big  bool // a big-endian file
}{
	{"nflog", synth.LinkNFLOG, func(ip []byte) []byte { return synth.NFLOG(binary.LittleEndian, ip) }, false},
	{"nflog-big-endian", synth.LinkNFLOG, func(ip []byte) []byte { return synth.NFLOG(binary.BigEndian, ip) }, true},
	{"ppp-hdlc", synth.LinkPPP, func(ip []byte) []byte { return synth.PPP(true, false, ip) }, false},
	{"ppp-bare-pfc", synth.LinkPPP, func(ip []byte) []byte { return synth.PPP(false, true, ip) }, false},
	{"ppp_hdlc", synth.LinkPPPHDLC, func(ip []byte) []byte { return synth.PPP(true, false, ip) }, false},
	{"ppp_hdlc-pfc", synth.LinkPPPHDLC, func(ip []byte) []byte { return synth.PPP(true, true, ip) }, false},
	{"ppp_hdlc-cisco", synth.LinkPPPHDLC, synth.CHDLC, false},
	{"c_hdlc", synth.LinkCHDLC, synth.CHDLC, false},
}

// TestLinkTypesAgreeWithTshark: two real conversations (IPv4 and IPv6,
// Ethernet on lo) with their Ethernet header replaced by NFLOG (in a
// little- and a big-endian file, its attributes in the file's order), PPP (with and without ff 03, protocol compressed or not),
// PPP_HDLC (Cisco HDLC inside too) and Cisco HDLC: wsdump's frames are
// those it finds in the Ethernet original, and tshark's. Until session 34
// wsdump refused these link types (exit 2).
func TestLinkTypesAgreeWithTshark(t *testing.T) {
	t.Parallel()
	var orig []synth.Packet
	start := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	for fi, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		conv, err := synth.ReadPcap(filepath.Join("..", "..", "testdata", "pcaps", fixture+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range conv {
			orig = append(orig, synth.Packet{TS: start.Add(time.Duration(fi)*time.Minute + p.TS.Sub(conv[0].TS)), Data: p.Data})
		}
	}
	dir := t.TempDir()
	ethPath := filepath.Join(dir, "ethernet.pcap")
	writePackets(t, ethPath, orig)
	base, err := runWsdumpFrames(t, ethPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(base) != 2*26 {
		t.Fatalf("wsdump on the Ethernet original: %d frames, want 52", len(base))
	}
	tshark := ""
	if _, err := exec.LookPath("tshark"); err == nil || os.Getenv("CI") == "true" {
		tshark = needTshark(t)
	}
	for _, sl := range serialLinks {
		t.Run(sl.name, func(t *testing.T) {
			t.Parallel()
			pkts := make([]synth.Packet, len(orig))
			for i, p := range orig {
				pkts[i] = synth.Packet{TS: p.TS, Data: sl.wrap(p.Data[14:])}
			}
			path := filepath.Join(dir, sl.name+".pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			write := func() error { return synth.WritePcapLink(f, sl.link, 0, pkts...) }
			if sl.big {
				write = func() error { return synth.WritePcapBigEndian(f, sl.link, pkts...) }
			}
			if err := write(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := runWsdumpFrames(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, base) {
				t.Errorf("wsdump: %d frames, not the %d it finds in the Ethernet original", len(got), len(base))
			}
			if tshark == "" {
				t.Skip("tshark not installed")
			}
			want, err := runTshark(t, tshark, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d frames compared with tshark", compareFrames(t, want, got))
		})
	}
}

// TestNFLOGRecordsAgreeWithTshark: hand-made NFLOG records, well-formed
// and hostile: wsdump finds the IP packet in those where tshark dissects
// IP and TCP, and in no other.
func TestNFLOGRecordsAgreeWithTshark(t *testing.T) {
	t.Parallel()
	seg := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 50000, 80, 1, 0, 0x02, nil)
	tlv := func(typ uint16, v []byte) []byte {
		b := binary.LittleEndian.AppendUint16(nil, uint16(4+len(v)))
		b = binary.LittleEndian.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	cat := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	h := []byte{2, 0, 0, 5}
	recs := []struct {
		name string
		data []byte
	}{
		{"kernel's", synth.NFLOG(binary.LittleEndian, seg)},
		{"payload only", cat(h, tlv(9, seg))},
		{"length 0 before the payload", cat(h, []byte{0, 0, 1, 0}, tlv(9, seg))},
		{"length 3 after the payload", cat(h, tlv(9, seg), []byte{3, 0, 1, 0})},
		{"payload length past the end", cat(h, []byte{0xff, 0x7f, 9, 0}, seg)},
		{"nested flag on the payload type", cat(h, tlv(0x8009, seg))},
		{"byte-order flag on the payload type", cat(h, tlv(0x4009, seg))},
		{"family inet6, ipv4 payload", cat([]byte{10, 0, 0, 5}, tlv(9, seg))},
		{"unknown family", cat([]byte{7, 0, 0, 5}, tlv(9, seg))},
		{"version 1", cat([]byte{2, 1, 0, 5}, tlv(9, seg))},
		{"three bytes after the payload", cat(h, tlv(9, seg), []byte{0, 0, 1})},
		{"no payload", cat(h, tlv(1, []byte{8, 0, 3, 0}))},
		{"big-endian attributes", synth.NFLOG(binary.BigEndian, seg)},
	}
	pkts := make([]synth.Packet, len(recs))
	for i, r := range recs {
		pkts[i] = synth.Packet{TS: time.Unix(int64(i+1), 0), Data: r.data}
	}
	path := filepath.Join(t.TempDir(), "nflog-records.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WritePcapLink(f, synth.LinkNFLOG, 0, pkts...); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tshark := needTshark(t)
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.protocols").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("tshark: %d lines for %d records", len(lines), len(recs))
	}
	decoded := 0
	for i, r := range recs {
		want := strings.HasSuffix(lines[i], ":ip:tcp")
		_, got := reassembly.NetworkPayload(uint32(synth.LinkNFLOG), r.data)
		if got != want {
			t.Errorf("%s: wsdump decodes it %v, tshark %v (%s)", r.name, got, want, lines[i])
		}
		if got {
			decoded++
		}
	}
	t.Logf("%d of %d records decoded by both", decoded, len(recs))
}
