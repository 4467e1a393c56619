package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// fleetFirstFiles reads rotated/fleet-1011's files with gopacket (not
// wsdump's reader) and returns, for each client of the expect file's
// attempts ("address:local_port"), the file of the first packet of its
// TCP connection: the file wsdump names as the one the connection began
// in. Every attempt of the expect file has one.
func fleetFirstFiles(t *testing.T, ex fleetExpect) (map[string]string, []string) {
	t.Helper()
	files, err := filepath.Glob(fleetDir + "*.pcap")
	if err != nil || len(files) < 2 {
		t.Fatalf("%s: %v %v", fleetDir, files, err)
	}
	slices.Sort(files)
	type first struct {
		ts   time.Time
		file string
	}
	seen := map[string]first{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
			ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if ip == nil || tcp == nil {
				continue
			}
			for _, ep := range []string{ip.SrcIP.String() + ":" + strconv.Itoa(int(tcp.SrcPort)), ip.DstIP.String() + ":" + strconv.Itoa(int(tcp.DstPort))} {
				// Same time in two files: the earlier file (the merge's order).
				if s, ok := seen[ep]; !ok || ci.Timestamp.Before(s.ts) {
					seen[ep] = first{ci.Timestamp, name}
				}
			}
		}
		f.Close()
	}
	want := map[string]string{}
	for _, c := range ex.Clients {
		for _, a := range c.Attempts {
			ep := c.Address + ":" + strconv.Itoa(a.LocalPort)
			s, ok := seen[ep]
			if !ok {
				t.Fatalf("client %s attempt from port %d: no packet in %s", c.ID, a.LocalPort, fleetDir)
			}
			if !strings.HasPrefix(filepath.Base(s.file), "host-"+c.Host+"_") {
				t.Fatalf("client %s of host %s: first packet in %s", c.ID, c.Host, s.file)
			}
			want[ep] = s.file
		}
	}
	return want, files
}

// TestRecordedFleetConnsFile: `wsdump conns` on rotated/fleet-1011's two
// hosts' rotations read merged names the file each connection began in,
// in every form: jsonl ("file" after "conn"), csv (a file column first, as
// --per-file's), -T fields -e file, -Y 'file contains', and the table (a
// FILE column after SERVER). The file is the one holding the connection's
// first packet, found by gopacket in the files, for every attempt of the
// expect file; -j 1 and -j 2 give the same bytes.
func TestRecordedFleetConnsFile(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	want, _ := fleetFirstFiles(t, ex)
	run := func(args ...string) string {
		t.Helper()
		var outs [2]string
		for i, j := range []string{"1", "2"} {
			out, errs, code := runWsdump(t, nil, append([]string{"conns", "-r", fleetDir, "-j", j}, args...)...)
			if code != 0 || errs != "" {
				t.Fatalf("conns %v -j %s: exit %d, stderr %q", args, j, code, errs)
			}
			outs[i] = out
		}
		if outs[0] != outs[1] {
			t.Fatalf("conns %v: -j 1 and -j 2 differ:\n%s", args, firstDiff(outs[0], outs[1]))
		}
		return outs[0]
	}
	check := func(view, client, file string) {
		t.Helper()
		if w, ok := want[client]; !ok || file != w {
			t.Errorf("%s: %s: file %q, its first packet is in %q", view, client, file, w)
		}
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(run("--format", "jsonl")), "\n") {
		var r struct {
			Type, Client, File string
			Conn               int
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Type != "conn" {
			continue
		}
		n++
		check("jsonl", r.Client, r.File)
		if !strings.HasPrefix(l, `{"type":"conn","conn":`+strconv.Itoa(r.Conn)+`,"file":`) {
			t.Errorf("jsonl: file not after conn: %.80s", l)
		}
	}
	if n != len(want) {
		t.Errorf("jsonl: %d conn records, the expect file has %d attempts", n, len(want))
	}
	rows, err := csv.NewReader(strings.NewReader(run("--format", "csv"))).ReadAll()
	if err != nil || len(rows) != len(want)+1 || !slices.Equal(rows[0][:3], []string{"file", "conn", "start"}) {
		t.Fatalf("csv: %d rows, header %v, %v", len(rows), rows[0], err)
	}
	for _, r := range rows[1:] {
		check("csv", r[4], r[0])
	}
	lines := strings.Split(strings.TrimSpace(run("-T", "fields", "-e", "client", "-e", "file")), "\n")
	if len(lines) != len(want) {
		t.Errorf("-T fields: %d lines, want %d", len(lines), len(want))
	}
	for _, l := range lines {
		client, file, _ := strings.Cut(l, "\t")
		check("-e file", client, file)
	}
	hostB := 0
	for _, l := range strings.Split(strings.TrimSpace(run("-Y", `file contains "host-b"`, "-T", "fields", "-e", "client", "-e", "server")), "\n") {
		client, server, _ := strings.Cut(l, "\t")
		hostB++
		if !strings.Contains(want[client], "host-b") || server != ex.Hosts["b"]+":"+strconv.Itoa(ex.Port) {
			t.Errorf(`-Y 'file contains "host-b"': %s -> %s, first packet in %s`, client, server, want[client])
		}
	}
	if wantB := countIf(want, func(f string) bool { return strings.Contains(f, "host-b") }); hostB != wantB {
		t.Errorf(`-Y 'file contains "host-b"': %d connections, host b's files began %d`, hostB, wantB)
	}
	// The table: FILE after SERVER, the reconnect groups as before it.
	table := strings.Split(run(), "\n")
	head := strings.Fields(table[0])
	if len(head) < 6 || head[4] != "SERVER" || head[5] != "FILE" {
		t.Fatalf("table header %q", table[0])
	}
	for _, l := range table[1 : len(want)+1] {
		f := strings.Fields(l)
		check("table", f[3], f[5])
	}
	if table[len(want)+1] != "" || !strings.HasPrefix(table[len(want)+2], "Reconnect groups") {
		t.Errorf("table: %d rows, then %q", len(want), table[len(want)+1:min(len(table), len(want)+3)])
	}
}

// TestRecordedFleetJSONLFile: the merged jsonl of rotated/fleet-1011
// (frames, messages, handshakes and conn records) has on every record the
// file its connection began in (the first packet's, by gopacket), so that
// jq groups by file; -j 1 and -j 2 give the same bytes. A file read alone
// has no "file" (its jsonl as it was), in the main view and in conns.
func TestRecordedFleetJSONLFile(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	want, files := fleetFirstFiles(t, ex)
	for _, view := range [][]string{{"--format", "jsonl", "--messages"}, {"--format", "jsonl"}} {
		var outs [2]string
		for i, j := range []string{"1", "2"} {
			out, errs, code := runWsdump(t, nil, append(append([]string(nil), view...), "-r", fleetDir, "-j", j)...)
			if code != 0 || errs != "" {
				t.Fatalf("%v -j %s: exit %d, stderr %q", view, j, code, errs)
			}
			outs[i] = out
		}
		if outs[0] != outs[1] {
			t.Fatalf("%v: -j 1 and -j 2 differ:\n%s", view, firstDiff(outs[0], outs[1]))
		}
		clientOf := map[int]string{}
		type rec struct {
			Type, Client, Src, Dst, Dir, File string
			Conn                              int
			CloseCode                         int `json:"close_code"`
		}
		var recs []rec
		for _, l := range strings.Split(strings.TrimSpace(outs[0]), "\n") {
			var r rec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			switch {
			case r.Client != "":
				clientOf[r.Conn] = r.Client
			case r.Dir == "c2s":
				clientOf[r.Conn] = r.Src
			case r.Dir == "s2c":
				clientOf[r.Conn] = r.Dst
			}
			recs = append(recs, r)
		}
		kinds := map[string]int{}
		for _, r := range recs {
			kinds[r.Type]++
			if w := want[clientOf[r.Conn]]; r.File != w || w == "" {
				t.Errorf("%v: %s of conn %d (%s): file %q, its first packet is in %q", view, r.Type, r.Conn, clientOf[r.Conn], r.File, w)
			}
		}
		if len(clientOf) != len(want) || kinds["handshake"] == 0 || kinds["conn"] != len(want) {
			t.Errorf("%v: %d connections, records %v; the expect file has %d attempts", view, len(clientOf), kinds, len(want))
		}
	}
	// One input: no file in jsonl, csv or the table.
	for _, args := range [][]string{{"--format", "jsonl"}, {"conns", "--format", "jsonl"}, {"conns", "--format", "csv"}, {"conns"}} {
		out, errs, code := runWsdump(t, nil, append(args, "-r", files[0])...)
		if code != 0 || out == "" || strings.Contains(out, `"file"`) || strings.HasPrefix(out, "file,") || strings.Contains(out, "FILE") {
			t.Errorf("%v of one file: exit %d, %q, names a file:\n%.300s", args, code, errs, out)
		}
	}
	if out, _, _ := runWsdump(t, nil, "conns", "-r", files[0], "-T", "fields", "-e", "file"); !strings.HasPrefix(out, files[0]+"\n") {
		t.Errorf("conns -T fields -e file of one file: %q, want its name", out)
	}
}

func countIf(m map[string]string, f func(string) bool) int {
	n := 0
	for _, v := range m {
		if f(v) {
			n++
		}
	}
	return n
}
