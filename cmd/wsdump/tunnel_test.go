package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTunnelsAgreeWithTshark: real node ws conversations (over IPv4 and
// IPv6) carried in each tunnel wsdump opens (synth.Tunnels: IP in IP,
// GRE, ERSPAN, VXLAN, VXLAN-GPE, GENEVE, PPTP, MPLS and its Ethernet
// pseudowires, NSH, PPPoE), one connection per tunnel on its own client
// port, one after the other in one capture: wsdump's frames are tshark's,
// connection by connection, addresses being the innermost packet's.
// Without the tunnels, wsdump decodes none.
//
// But where tshark 4.0 reads the packets otherwise (tsharkOtherwise),
// each in a capture of its own: tshark's reading is shown, and
// TestTunnelsSameRecords shows wsdump's records are the capture's without
// the tunnel.
func TestTunnelsAgreeWithTshark(t *testing.T) {
	t.Parallel()
	tunnels := slices.DeleteFunc(slices.Clone(synth.Tunnels), func(tun synth.Tunnel) bool { return tsharkOtherwise[tun.Name].filter != "" })
	var pkts []synth.Packet
	otherwise := map[string][]synth.Packet{}
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for fi, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		conv, err := synth.ReadPcap(filepath.Join("..", "..", "testdata", "pcaps", fixture+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		if fi == 0 {
			for _, tun := range synth.Tunnels {
				if tsharkOtherwise[tun.Name].filter != "" {
					for _, p := range conv {
						otherwise[tun.Name] = append(otherwise[tun.Name], synth.Packet{TS: p.TS, Data: tun.Wrap(p.Data)})
					}
				}
			}
		}
		for ti, tun := range tunnels {
			n := fi*len(tunnels) + ti
			for i, p := range conv {
				// Each tunnel's connection has its own client port.
				frame := withClientPort(conv, p.Data, 40000+uint16(n))
				ts := start.Add(time.Duration(n)*time.Minute + p.TS.Sub(conv[0].TS))
				if i == 0 && n > 0 && !ts.After(pkts[len(pkts)-1].TS) {
					t.Fatalf("%s lasts over a minute", fixture)
				}
				pkts = append(pkts, synth.Packet{TS: ts, Data: tun.Wrap(frame)})
			}
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tunnels.pcap")
	writePackets(t, path, pkts)
	got, err := runWsdumpFrames(t, path)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[int]int{}
	for _, fr := range got {
		conns[fr.conn]++
	}
	if want := 2 * len(tunnels); len(conns) != want {
		t.Errorf("wsdump: frames on %d connections, want %d", len(conns), want)
	}
	tshark := needTshark(t)
	want, err := runTshark(t, tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
	if len(otherwise) != len(tsharkOtherwise) {
		t.Errorf("%d tunnels tshark reads otherwise, want %d", len(otherwise), len(tsharkOtherwise))
	}
	for name, pkts := range otherwise {
		tsharkReadsOtherwise(t, tshark, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pcap"), pkts, tsharkOtherwise[name])
	}
}

// tsharkOtherwise are the tunnels tshark 4.0 does not read as what they
// are: with filter, it matches every packet as shown by default (its
// protocols ending in protocols); told what they are (decodeAs, when
// set: "tshark -d"), every packet is TCP.
var tsharkOtherwise = map[string]struct{ filter, protocols, decodeAs string }{
	// ERSPAN type III with frame type 2 (an IP packet, not an Ethernet
	// frame, after the header): tshark reads the header, frame type
	// "IP (2)", and shows what follows as data. wsdump decodes it as the
	// ERSPAN draft says (draft-foschiano-erspan-03, section 4.3: "00010:
	// IP packet").
	"erspan III ip": {"erspan.ft == 2 && !tcp", ":erspan:data", ""},
	// An Ethernet pseudowire's control word: tshark (packet-pw-eth.c)
	// takes the 4 bytes after the label stack for the start of a frame
	// when the first 6 and the next 6 bytes both start with a vendor's
	// prefix it knows: a control word (00 00 00 07) followed by the
	// fixtures' addresses (00:00:00:00:00:00, all zero) makes 00:00:00
	// (Xerox) twice. Told that label 100 carries a control word,
	// tshark reads TCP, as wsdump does by the frame's EtherType.
	synth.PseudowireCWKnownMACs: {"pweth && !pweth.cw && !tcp", ":mpls:pwethheuristic:pwethnocw:eth:ethertype:data", "mpls.label==100,pwethcw"},
	// And a frame without one, whose addresses start with no prefix it
	// knows (locally administered ones), for a control word.
	synth.PseudowireNoCWLocalMACs: {"pweth.cw && !tcp", ":mpls:pwethheuristic:pwethcw:eth:llc:data", "mpls.label==100,pwethnocw"},
}

// tsharkReadsOtherwise writes pkts to path and checks that tshark reads
// them as want says.
func tsharkReadsOtherwise(t *testing.T, tshark, path string, pkts []synth.Packet, want struct{ filter, protocols, decodeAs string }) {
	t.Helper()
	writePackets(t, path, pkts)
	out := tsharkOutput(t, tshark, path, "-r", path, "-Y", want.filter, "-T", "fields", "-e", "frame.protocols")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(pkts) || !strings.HasSuffix(lines[0], want.protocols) {
		t.Errorf("%s: tshark shows %d of %d packets as %q (%q): does it decode them now?", filepath.Base(path), len(lines), len(pkts), want.protocols, lines[0])
	}
	if want.decodeAs == "" {
		return
	}
	out = tsharkOutput(t, tshark, path, "-r", path, "-d", want.decodeAs, "-Y", "tcp", "-T", "fields", "-e", "frame.number")
	if n := len(strings.Fields(string(out))); n != len(pkts) {
		t.Errorf("%s: with -d %s, tshark reads %d of %d packets as TCP", filepath.Base(path), want.decodeAs, n, len(pkts))
	}
}

// withClientPort is a copy of frame, a packet of the connection conv,
// with the client's port (the first packet's sender's) set to port.
func withClientPort(conv []synth.Packet, frame []byte, port uint16) []byte {
	frame = append([]byte(nil), frame...)
	tcp := 14 + 40 // IPv6, no extension headers
	if frame[14]>>4 == 4 {
		tcp = 14 + int(frame[14]&0xf)*4
	}
	client := binary.BigEndian.Uint16(conv[0].Data[tcp:])
	for _, at := range []int{tcp, tcp + 2} {
		if binary.BigEndian.Uint16(frame[at:]) == client {
			binary.BigEndian.PutUint16(frame[at:], port)
		}
	}
	return frame
}

func writePackets(t *testing.T, path string, pkts []synth.Packet) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WritePcap(f, 0, pkts...); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDefragAgreesWithTshark: the same real conversations with their
// larger packets cut into IP fragments (every other datagram's last
// first), and carried in VXLAN with the tunnel's packets fragmented:
// wsdump's frames are tshark's. Before defrag.go wsdump skipped every
// fragment and counted its bytes as lost.
//
// And the IPv6 conversation with the next header of the fragments after
// the first set to 59, no next header: RFC 8200 (section 4.5: "the Next
// Header values in the Fragment headers of different fragments of the
// same original packet may differ. Only the value from the Offset zero
// fragment packet is used for reassembly") and Linux reassemble them, and
// so does wsdump: its frames are tshark's for the fragments as they were.
// tshark 4.0 does not reassemble them: it shows those fragments as data.
// Until session 34 wsdump took the next header for part of a datagram's
// identity, as tshark does, and decoded no frame of it.
func TestDefragAgreesWithTshark(t *testing.T) {
	t.Parallel()
	var pkts, nextOther, nextSame []synth.Packet
	start := time.Date(2026, 12, 6, 13, 0, 0, 0, time.UTC)
	vxlan := synth.Tunnels[slices.IndexFunc(synth.Tunnels, func(tun synth.Tunnel) bool { return tun.Name == "vxlan" })].Wrap
	// fragmented is conv, its client on port, wrapped, cut into fragments
	// (rewritten by rewrite when set).
	fragmented := func(conv []synth.Packet, port uint16, wrap func([]byte) []byte, rewrite func([][]byte)) []synth.Packet {
		var out []synth.Packet
		for _, p := range conv {
			ts := start.Add(time.Duration(port-41000)*time.Minute + p.TS.Sub(conv[0].TS))
			frame := wrap(withClientPort(conv, p.Data, port))
			frags := synth.FragmentIP(frame[14:], 1024, uint32(len(pkts)+len(out)))
			if rewrite != nil {
				rewrite(frags)
			}
			if (len(pkts)+len(out))%2 == 1 {
				slices.Reverse(frags)
			}
			for _, f := range frags {
				out = append(out, synth.Packet{TS: ts, Data: append(append([]byte(nil), frame[:14]...), f...)})
			}
		}
		return out
	}
	same := func(f []byte) []byte { return f }
	port := uint16(41000)
	for _, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		conv, err := synth.ReadPcap(filepath.Join("..", "..", "testdata", "pcaps", fixture+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		for _, wrap := range []func([]byte) []byte{same, vxlan} {
			pkts = append(pkts, fragmented(conv, port, wrap, nil)...)
			port++
		}
		if conv[0].Data[14]>>4 == 6 {
			nextSame = fragmented(conv, port, same, nil)
			nextOther = fragmented(conv, port, same, func(frags [][]byte) {
				for _, f := range frags[1:] {
					f[40] = 59
				}
			})
		}
	}
	dir := t.TempDir()
	path, otherPath, samePath := filepath.Join(dir, "fragments.pcap"), filepath.Join(dir, "next-other.pcap"), filepath.Join(dir, "next-same.pcap")
	writePackets(t, path, pkts)
	writePackets(t, otherPath, nextOther)
	writePackets(t, samePath, nextSame)
	got, err := runWsdumpFrames(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 4*20 {
		t.Errorf("wsdump: %d frames", len(got))
	}
	gotOther, err := runWsdumpFrames(t, otherPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotOther) < 20 {
		t.Errorf("wsdump, next headers other: %d frames", len(gotOther))
	}
	tshark := needTshark(t)
	want, err := runTshark(t, tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
	wantSame, err := runTshark(t, tshark, samePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("next headers other: %d frames compared with tshark's of the fragments as they were", compareFrames(t, wantSame, gotOther))
	// tshark on the fragments whose next header is 59: none reassembled.
	out := tsharkOutput(t, tshark, otherPath, "-r", otherPath, "-Y", "ipv6.fraghdr.nxt == 59", "-T", "fields", "-e", "ipv6.reassembled.in", "-e", "frame.protocols")
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	shown := 0 // not reassembled (no reassembled.in), as data
	for _, l := range lines {
		if l == "\teth:ethertype:ipv6:ipv6.fraghdr:data" {
			shown++
		}
	}
	others := 0
	for _, p := range nextOther {
		if p.Data[14+6] == 44 && p.Data[14+40] == 59 {
			others++
		}
	}
	if others < 20 || shown != others {
		t.Errorf("tshark on %d fragments whose next header is 59: %d shown unreassembled, as data (the first: %q), want all: does it reassemble them now?", others, shown, lines[0])
	}
}
