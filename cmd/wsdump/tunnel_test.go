package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestTunnelsAgreeWithTshark: real node ws conversations (over IPv4 and
// IPv6) carried in each tunnel wsdump opens (synth.Tunnels: IP in IP,
// GRE, ERSPAN, VXLAN, GENEVE, PPTP, MPLS, PPPoE), one connection per
// tunnel on its own client port, one after the other in one capture:
// wsdump's frames are tshark's, connection by connection, addresses being
// the innermost packet's. Without the tunnels, wsdump decodes none.
//
// But ERSPAN type III with frame type 2 (an IP packet, not an Ethernet
// frame, after the header): tshark 4.0 reads the header, frame type
// "IP (2)", and shows what follows as data. wsdump decodes it as the
// ERSPAN draft says (draft-foschiano-erspan-03, section 4.3: "00010: IP
// packet"); TestTunnelsSameRecords shows its records are the capture's
// without the tunnel.
func TestTunnelsAgreeWithTshark(t *testing.T) {
	t.Parallel()
	tunnels := slices.DeleteFunc(slices.Clone(synth.Tunnels), func(tun synth.Tunnel) bool { return tun.Name == erspanIP })
	var pkts, ftIP []synth.Packet
	start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for fi, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		conv, err := synth.ReadPcap(filepath.Join("..", "..", "testdata", "pcaps", fixture+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		if fi == 0 {
			erspan := synth.Tunnels[slices.IndexFunc(synth.Tunnels, func(tun synth.Tunnel) bool { return tun.Name == erspanIP })]
			for _, p := range conv {
				ftIP = append(ftIP, synth.Packet{TS: p.TS, Data: erspan.Wrap(p.Data)})
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
	path, ftPath := filepath.Join(dir, "tunnels.pcap"), filepath.Join(dir, "erspan-ip.pcap")
	writePackets(t, path, pkts)
	writePackets(t, ftPath, ftIP)
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
	out, err := exec.Command(tshark, "-r", ftPath, "-Y", "erspan.ft == 2 && !tcp", "-T", "fields", "-e", "frame.protocols").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(ftIP) || !strings.HasSuffix(lines[0], ":erspan:data") {
		t.Errorf("tshark on %d packets in ERSPAN III, frame type IP: %d packets shown as data (%q), want all: does it decode them now?", len(ftIP), len(lines), lines[0])
	}
}

const erspanIP = "erspan III ip"

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
func TestDefragAgreesWithTshark(t *testing.T) {
	t.Parallel()
	var pkts []synth.Packet
	start := time.Date(2026, 12, 6, 13, 0, 0, 0, time.UTC)
	vxlan := synth.Tunnels[slices.IndexFunc(synth.Tunnels, func(tun synth.Tunnel) bool { return tun.Name == "vxlan" })].Wrap
	n := 0
	for _, fixture := range []string{"gen__ws-node-basic", "gen__ws-node-ipv6"} {
		conv, err := synth.ReadPcap(filepath.Join("..", "..", "testdata", "pcaps", fixture+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		for _, outer := range []bool{false, true} {
			for _, p := range conv {
				ts := start.Add(time.Duration(n)*time.Minute + p.TS.Sub(conv[0].TS))
				frame := withClientPort(conv, p.Data, 41000+uint16(n))
				if outer {
					frame = vxlan(frame)
				}
				frags := synth.FragmentIP(frame[14:], 1024, uint32(len(pkts)))
				if len(pkts)%2 == 1 {
					slices.Reverse(frags)
				}
				for _, f := range frags {
					pkts = append(pkts, synth.Packet{TS: ts, Data: append(append([]byte(nil), frame[:14]...), f...)})
				}
			}
			n++
		}
	}
	path := filepath.Join(t.TempDir(), "fragments.pcap")
	writePackets(t, path, pkts)
	got, err := runWsdumpFrames(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 4*20 {
		t.Errorf("wsdump: %d frames", len(got))
	}
	tshark := needTshark(t)
	want, err := runTshark(t, tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
}
