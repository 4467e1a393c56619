package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// tenantGroupsCapture is a client 10.0.0.1 reconnecting to 10.0.0.2:80
// (Host h, /x) in VLAN 10 and in VLAN 20. VLAN 10's three connections are
// good, 1 s apart; the second also comes as an ERSPAN II copy (session 7,
// after the VLAN copy: one connection, encap vlan:10), the third over an
// MPLS label inside the VLAN (vlan:10/mpls:16). VLAN 20's first is reset
// at 0.4 s, two connects are refused (0.7 s, 1.0 s), the fourth is good.
func tenantGroupsCapture(t *testing.T) string {
	t.Helper()
	port := 40000
	conv := func(at time.Duration) *synth.Conv {
		port++
		return synth.New("10.0.0.1:"+strconv.Itoa(port), "10.0.0.2:80").At(at)
	}
	good := func(at time.Duration) []synth.Packet {
		return conv(at).Open().Upgrade().Frame(true, wsparse.OpText, []byte("hi")).
			Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true).Packets
	}
	vlan := func(id uint16) func([]byte) []byte { return func(f []byte) []byte { return synth.VLAN(id, f) } }
	erspan := func(f []byte) []byte {
		hdr := []byte{0x10, 0, 0, 7, 0, 0, 0, 1} // version 1, VLAN 0, session 7
		return synth.Ether(0x0800, synth.IPv4(47, synth.GRE(synth.GRESeq, 0x88be, append(hdr, f...))))
	}
	mpls := func(f []byte) []byte {
		return synth.VLAN(10, synth.WithMACs(synth.Ether(0x8847, synth.MPLS([]uint32{16}, f[14:])), [6]byte{0, 1, 2, 3, 4, 5}, [6]byte{0, 1, 2, 3, 4, 6}))
	}
	second := good(time.Second)
	lists := [][]synth.Packet{
		synth.Wrapped(good(0), 0, vlan(10)),
		synth.Wrapped(second, 0, vlan(10)),
		synth.Wrapped(second, 200*time.Microsecond, erspan), // the mirror's copy, after
		synth.Wrapped(good(2*time.Second), 0, mpls),
		synth.Wrapped(conv(100*time.Millisecond).Open().Upgrade().Frame(true, wsparse.OpText, []byte("hi")).At(400*time.Millisecond).Rst(false).Packets, 0, vlan(20)),
		synth.Wrapped(conv(700*time.Millisecond).Syn().Rst(false).Packets, 0, vlan(20)),
		synth.Wrapped(conv(time.Second).Syn().Rst(false).Packets, 0, vlan(20)),
		synth.Wrapped(good(1300*time.Millisecond), 0, vlan(20)),
	}
	path := filepath.Join(t.TempDir(), "tenant-groups.pcap")
	writePackets(t, path, synth.ByTime(lists...))
	return path
}

// TestTenantGroupsSynthetic: the capture above gives a reconnect group
// per VLAN, with -j 1 and -j 2: the ERSPAN copy is no attempt and no
// tenant, the MPLS label no other tenant; VLAN 20's outage and refused
// connects are its own. tshark's vlan.id of each stream's first SYN is
// the VLAN of the group wsdump put the connection in.
func TestTenantGroupsSynthetic(t *testing.T) {
	t.Parallel()
	path := tenantGroupsCapture(t)
	vlanOf := map[int]string{}
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", path, "-j", j, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("-j %s: exit %d: %s", j, code, errs)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var g tenantGroup
			if err := json.Unmarshal([]byte(line), &g); err != nil {
				t.Fatal(err)
			}
			if g.Type == "conn" {
				var c struct {
					Conn  int    `json:"conn"`
					Encap string `json:"encap"`
				}
				json.Unmarshal([]byte(line), &c)
				if w := map[int]string{4: "vlan:10", 7: "vlan:10/mpls:16"}[c.Conn]; w != "" && c.Encap != w {
					t.Errorf("-j %s: conn %d encap %q, want %q", j, c.Conn, c.Encap, w)
				}
			}
			if g.Type != "client_group" {
				continue
			}
			s := g.Encap + ":"
			for _, a := range g.Timeline {
				s += " " + strconv.Itoa(a.Conn) + " " + a.Outcome
				vlanOf[a.Conn] = strings.TrimPrefix(g.Encap, "vlan:")
			}
			got = append(got, s+" refused "+strconv.Itoa(g.Refused))
		}
		want := []string{
			"vlan:10: 1 ok 4 ok 7 ok refused 0",
			"vlan:20: 2 error 3 conn_refused 5 conn_refused 6 ok refused 2",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("-j %s: groups\n%s\nwant\n%s", j, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	tshark := needTshark(t)
	out := tsharkOutput(t, tshark, path, "-r", path, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields", "-e", "tcp.stream", "-e", "vlan.id")
	first := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		n, _ := strconv.Atoi(f[0])
		if first[n] {
			continue // the ERSPAN copy's SYN, after the VLAN's
		}
		first[n] = true
		if vlanOf[n+1] != f[1] {
			t.Errorf("tshark: tcp.stream %d's SYN in VLAN %q; wsdump's conn %d in the group of VLAN %q", n, f[1], n+1, vlanOf[n+1])
		}
	}
	if len(first) != 7 {
		t.Errorf("tshark: %d streams, want 7", len(first))
	}
}
