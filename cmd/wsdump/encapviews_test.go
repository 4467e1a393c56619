package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// tenantPair writes a capture of two WebSocket conversations on one
// 4-tuple at once, in tenants 1 and 2 of ten (VLAN 10 and 20, ...): in
// each, a client text message, then a server text message that is not
// UTF-8 (bad, a lint finding) and a Close each way.
func tenantPair(t *testing.T, path string, ten synth.Tenant, bad [2]string) {
	t.Helper()
	var lists [][]synth.Packet
	for n, isn := range []uint32{0x10000000, 0x70000000} {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(isn, isn+0x1234567).Open().Upgrade()
		c.Frame(true, wsparse.OpText, []byte("hello"))
		c.Frame(false, wsparse.OpText, []byte(bad[n]))
		c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
		c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
		c.Fin(false).Fin(true)
		lists = append(lists, synth.Wrapped(c.Packets, time.Duration(n)*500*time.Microsecond,
			func(f []byte) []byte { return ten.Wrap(n+1, f) }))
	}
	writePackets(t, path, synth.ByTime(lists...))
}

// TestLintNamesTenant: two tenants' connections on one 4-tuple each
// break a rule at the same place: lint's WHERE names each connection's
// tenant ("in vlan:10"), and its jsonl has encap; a plain capture's
// findings say nothing more than before.
func TestLintNamesTenant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "vlan.pcap")
	tenantPair(t, path, synth.Tenants[0], [2]string{"bad \xff", "bad \xfe"})
	out, errs, code := runWsdump(t, nil, "lint", "-r", path, "--fail-on", "none")
	if code != 0 {
		t.Fatalf("lint: exit %d: %s", code, errs)
	}
	for _, want := range []string{"conn 1 s2c message 1 in vlan:10", "conn 2 s2c message 1 in vlan:20"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint table: no %q in\n%s", want, out)
		}
	}
	var got []string
	for _, l := range runLines(t, []string{"lint", "-r", path, "--format", "jsonl", "--fail-on", "none"}) {
		var f struct {
			Conn          int
			Encap, Record string
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{string(rune('0' + f.Conn)), f.Record, f.Encap}, " "))
	}
	if !slices.Contains(got, "1 message vlan:10") || !slices.Contains(got, "2 message vlan:20") {
		t.Errorf("lint jsonl (conn, record, encap): %q, want messages of conn 1 in vlan:10 and conn 2 in vlan:20", got)
	}
	plain := pcap("gen__ws-node-chatty-mtu.pcap")
	for _, args := range [][]string{{"lint", "-r", plain, "--fail-on", "none"}, {"lint", "-r", plain, "--format", "jsonl", "--fail-on", "none"}} {
		if out, _, _ := runWsdump(t, nil, args...); strings.Contains(out, " in vlan") || strings.Contains(out, "encap") {
			t.Errorf("%v: an encapsulation on a plain capture:\n%s", args, out)
		}
	}
}

// TestExportIndexEncap: export's index.jsonl says what carried each
// message's connection, so that two tenants' files are told apart; a
// plain capture's rows have no encap.
func TestExportIndexEncap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "vxlan.pcap")
	tenantPair(t, path, synth.Tenants[1], [2]string{"one", "two"})
	for _, tc := range []struct {
		file string
		want map[int]string // by conn
	}{{path, map[int]string{1: "vxlan:100", 2: "vxlan:200"}}, {pcap("gen__ws-node-chatty-mtu.pcap"), nil}} {
		out := filepath.Join(dir, "out-"+filepath.Base(tc.file))
		if _, errs, code := runWsdump(t, nil, "export", "-r", tc.file, "-o", out); code != 0 {
			t.Fatalf("export: exit %d: %s", code, errs)
		}
		idx, err := os.ReadFile(filepath.Join(out, "index.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		for _, l := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
			var e struct {
				Conn  int
				Encap *string
			}
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			rows++
			if w, ok := tc.want[e.Conn]; tc.want != nil && (!ok || e.Encap == nil || *e.Encap != w) || tc.want == nil && e.Encap != nil {
				t.Errorf("%s: index row %s: want encap %q", filepath.Base(tc.file), l, w)
			}
		}
		if tc.want != nil && rows != 4 {
			t.Errorf("%s: %d index rows, want 4", filepath.Base(tc.file), rows)
		}
	}
}

// TestDiffEncap: diff compares messages, not what carried them (as it
// does not compare addresses): the same conversations in VLANs 10 and 20
// and in VNIs 100 and 200 compare equal. A difference names each side's
// connection with its encapsulation, so that the user finds it.
func TestDiffEncap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	vlan, vxlan, other := filepath.Join(dir, "vlan.pcap"), filepath.Join(dir, "vxlan.pcap"), filepath.Join(dir, "other.pcap")
	tenantPair(t, vlan, synth.Tenants[0], [2]string{"one", "two"})
	tenantPair(t, vxlan, synth.Tenants[1], [2]string{"one", "two"})
	tenantPair(t, other, synth.Tenants[1], [2]string{"one", "TWO"})
	out, errs, code := runWsdump(t, nil, "diff", vlan, vxlan)
	if code != 0 || !strings.HasPrefix(out, "no differences: 2 connection(s)") {
		t.Errorf("diff of the same messages in other tenants: exit %d: %s%s", code, out, errs)
	}
	out, _, _ = runWsdump(t, nil, "diff", vlan, other)
	want := "conn 2 in vlan:20 (B conn 2 in vxlan:200) s2c message 1: text, 3 B vs 3 B, first difference at byte 0"
	if !strings.Contains(out, want) || strings.Count(out, "\nconn ") != 1 {
		t.Errorf("diff: want one difference, %q, got:\n%s", want, out)
	}
}
