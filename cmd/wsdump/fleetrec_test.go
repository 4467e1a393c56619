package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// rotated/fleet-1011's expect file (testdata/gen/fleet-1011.js): two hosts'
// servers, four clients' attempts as they saw them, every 1011 the servers
// sent.
type fleetExpect struct {
	Hosts   map[string]string `json:"hosts"`
	Port    int               `json:"port"`
	Clients []struct {
		ID       string `json:"id"`
		Address  string `json:"address"`
		Host     string `json:"host"`
		Attempts []struct {
			Opened    bool `json:"opened"`
			LocalPort int  `json:"local_port"`
			Messages  []struct {
				Dir    string `json:"dir"`
				Len    int    `json:"len"`
				SHA256 string `json:"sha256"`
			} `json:"messages"`
			Close struct {
				Code int `json:"code"`
			} `json:"close"`
		} `json:"attempts"`
	} `json:"clients"`
	Closes1011 []struct {
		Time       float64 `json:"time"`
		Host       string  `json:"host"`
		Client     string  `json:"client"`
		ClientPort int     `json:"client_port"`
	} `json:"closes_1011"`
}

const fleetDir = "../../testdata/pcaps/rotated/fleet-1011/"

func fleetCapture(t *testing.T) fleetExpect {
	t.Helper()
	var ex fleetExpect
	readExpect(t, "../../testdata/pcaps/gen__fleet-1011.expect.json", &ex)
	if len(ex.Clients) < 3 || len(ex.Closes1011) == 0 {
		t.Fatalf("expect.json: %d clients, %d closes with 1011", len(ex.Clients), len(ex.Closes1011))
	}
	sort.SliceStable(ex.Closes1011, func(i, j int) bool { return ex.Closes1011[i].Time < ex.Closes1011[j].Time })
	return ex
}

// TestRecordedFleetReconnectMost: the operator's first question on
// rotated/fleet-1011 (two hosts' rotations read merged, README's "The fleet
// workflow"): `wsdump conns -r DIR` gives one reconnect group per client
// address, its attempts those its client made (the generator's expect
// file), the same with -j 1 and -j 2; the client that reconnected most
// (127.0.0.13, a fixed 150 ms delay against the others' backoff) has the
// group with most attempts. Each connection's messages are those its client
// sent and received (SHA-256 per direction, found by the client's port).
func TestRecordedFleetReconnectMost(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	var outs []string
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", fleetDir, "-j", j, "--format", "jsonl")
		if code != 0 || errs != "" {
			t.Fatalf("-j %s: exit %d, stderr %q", j, code, errs)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Fatal("conns jsonl differs between -j 1 and -j 2")
	}
	groups := map[string]tenantGroup{}
	most := ""
	for _, line := range strings.Split(strings.TrimSpace(outs[0]), "\n") {
		var g tenantGroup
		if err := json.Unmarshal([]byte(line), &g); err != nil {
			t.Fatal(err)
		}
		if g.Type != "client_group" {
			continue
		}
		if _, dup := groups[g.ClientIP]; dup {
			t.Errorf("two groups for client %s", g.ClientIP)
		}
		groups[g.ClientIP] = g
		if most == "" || g.Attempts > groups[most].Attempts {
			most = g.ClientIP
		}
	}
	if len(groups) != len(ex.Clients) {
		t.Fatalf("%d reconnect groups, want one per client (%d)", len(groups), len(ex.Clients))
	}
	wantMost, wantN := "", 0
	for _, c := range ex.Clients {
		g, ok := groups[c.Address]
		server := ex.Hosts[c.Host] + ":" + strconv.Itoa(ex.Port)
		if !ok || g.Attempts != len(c.Attempts) || g.Server != server {
			t.Errorf("client %s (%s): group %+v, want %d attempts to %s", c.ID, c.Address, g, len(c.Attempts), server)
		}
		if len(c.Attempts) > wantN {
			wantMost, wantN = c.Address, len(c.Attempts)
		}
	}
	if most != wantMost || most != "127.0.0.13" {
		t.Errorf("most attempts: wsdump %s, the clients %s (%d attempts)", most, wantMost, wantN)
	}

	// Each connection's messages, by its client's address and port.
	out, errs, code := runShared(t, "-r", fleetDir, "--format", "jsonl")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	clientOf := map[int]string{}
	msgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var h struct {
			Type, Client string
			Conn         int
		}
		if json.Unmarshal([]byte(line), &h) == nil && h.Type == "handshake" {
			clientOf[h.Conn] = h.Client
		}
	}
	for _, r := range parseJSONL(t, out) {
		if r.Type == "message" {
			data, sum := r.dataSHA256(t)
			msgs[clientOf[r.Conn]] = append(msgs[clientOf[r.Conn]], r.Dir+" "+strconv.Itoa(len(data))+" "+sum)
		}
	}
	nconn := 0
	for _, c := range ex.Clients {
		for k, a := range c.Attempts {
			if !a.Opened {
				continue
			}
			nconn++
			key := c.Address + ":" + strconv.Itoa(a.LocalPort)
			var want []string
			for _, m := range a.Messages {
				want = append(want, m.Dir+" "+strconv.Itoa(m.Len)+" "+m.SHA256)
			}
			for _, d := range []string{"c2s", "s2c"} {
				if g, w := byDir(msgs[key], d), byDir(want, d); !slices.Equal(g, w) {
					t.Errorf("%s attempt %d (%s) %s messages %v, want %v", c.ID, k+1, key, d, g, w)
				}
			}
		}
	}
	if nconn != len(clientOf) {
		t.Errorf("wsdump: %d handshakes, the clients: %d connections opened", len(clientOf), nconn)
	}
}

// TestRecordedFleetFirst1011: the operator's second question on
// rotated/fleet-1011, as README has it. The first frame of
// `wsdump -r DIR -Y 'close_code == 1011' -T fields` is the servers' first
// 1011 (the expect file): its time, its client's address and port, the
// server of the host it started on, s2c. `--per-file` with that client
// names the file: the first host's rotation whose cut holds that time.
// Every Close in the merged rotations is one tshark decodes (tcp ports and
// websocket.payload.close.status_code of the files merged by mergecap), and
// every 1011 the servers sent, with its echo, is one wsdump shows. The
// --per-file output heads only the file that has the line (-T fields with
// a filter).
func TestRecordedFleetFirst1011(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	first := ex.Closes1011[0]
	out, errs, code := runWsdump(t, nil, "-r", fleetDir, "-Y", "close_code == 1011", "-T", "fields",
		"-e", "ts", "-e", "conn", "-e", "client", "-e", "server", "-e", "dir")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Split(lines[0], "\t")
	client := first.Client + ":" + strconv.Itoa(first.ClientPort)
	server := ex.Hosts[first.Host] + ":" + strconv.Itoa(ex.Port)
	if len(f) != 5 || f[2] != client || f[3] != server || f[4] != "s2c" {
		t.Fatalf("first 1011: %q, want client %s server %s s2c", lines[0], client, server)
	}
	ts, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		t.Fatal(err)
	}
	at := float64(ts.UnixNano()) / 1e9
	if math.Abs(at-first.Time) > 0.05 { // the server's clock, in ms, before its write
		t.Errorf("first 1011 at %.6f, the server sent it at %.3f", at, first.Time)
	}
	// Each 1011 the servers sent, and its echo by the client.
	if len(lines) != 2*len(ex.Closes1011) {
		t.Errorf("%d close frames with 1011, the servers sent %d (each echoed)", len(lines), len(ex.Closes1011))
	}

	pf, errs, code := runWsdump(t, nil, "--per-file", "-r", fleetDir, "-Y", `close_code == 1011 && dir == "s2c" && client == "`+client+`"`,
		"-T", "fields", "-e", "ts")
	if code != 0 || errs != "" {
		t.Fatalf("--per-file: exit %d, stderr %q", code, errs)
	}
	file := ""
	if n := strings.Count(pf, "==> "); n != 1 {
		// A filter's -T fields names the files with a line, as grep.
		t.Errorf("--per-file: %d file headers, want the one file with the line:\n%s", n, pf)
	}
	for _, l := range strings.Split(pf, "\n") {
		if name, ok := strings.CutPrefix(l, "==> "); ok {
			file = strings.TrimSuffix(name, " <==")
		} else if l == f[0] {
			break
		}
	}
	if base := filepath.Base(file); !strings.HasPrefix(base, "host-"+first.Host+"_") {
		t.Errorf("--per-file: the first 1011 in %q, want a file of host %s", file, first.Host)
	}

	tshark := needTshark(t)
	mergecap, err := exec.LookPath("mergecap")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mergecap (tshark's) not installed: %v", err)
		}
		t.Skipf("mergecap (tshark's) not installed: %v", err)
	}
	files, _ := filepath.Glob(fleetDir + "*.pcap")
	merged := filepath.Join(t.TempDir(), "merged.pcap")
	if b, err := exec.Command(mergecap, append([]string{"-w", merged}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v: %s", err, b)
	}
	tout := tsharkOutput(t, tshark, merged, "-r", merged, "-o", "tcp.reassemble_out_of_order:TRUE",
		"-Y", "websocket.payload.close.status_code", "-T", "fields",
		"-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "websocket.payload.close.status_code")
	var theirs []string
	for _, l := range strings.Split(strings.TrimSpace(string(tout)), "\n") {
		g := strings.Split(l, "\t")
		if len(g) != 5 {
			t.Fatalf("tshark: %q", l)
		}
		theirs = append(theirs, g[0]+":"+g[1]+" "+g[2]+":"+g[3]+" "+g[4])
	}
	wout, _, _ := runWsdump(t, nil, "-r", fleetDir, "-Y", "close_code != nil", "-T", "fields", "-e", "src", "-e", "dst", "-e", "close_code")
	var ours []string
	for _, l := range strings.Split(strings.TrimSpace(wout), "\n") {
		ours = append(ours, strings.ReplaceAll(l, "\t", " "))
	}
	slices.Sort(theirs)
	slices.Sort(ours)
	if !slices.Equal(ours, theirs) {
		t.Errorf("close frames: wsdump %d %v\ntshark %d %v", len(ours), ours, len(theirs), theirs)
	}
	n1011 := 0
	for _, s := range theirs {
		n1011 += b2i(strings.HasSuffix(s, " 1011"))
	}
	if n1011 != 2*len(ex.Closes1011) {
		t.Errorf("tshark: %d close frames with 1011, the servers sent %d (each echoed)", n1011, len(ex.Closes1011))
	}
	_ = os.Remove(merged)
}

// fleetConnRow is what README's DuckDB question "where did 1011 start"
// reads of the conns dataset.
type fleetConnRow struct {
	Conn    int64      `parquet:"conn"`
	File    *string    `parquet:"file,optional"`
	Client  string     `parquet:"client"`
	Server  string     `parquet:"server"`
	FirstTS *time.Time `parquet:"first_ts,timestamp(nanosecond:utc)"`
	Close   *struct {
		Client *fleetCloseSide `parquet:"client,optional"`
		Server *fleetCloseSide `parquet:"server,optional"`
	} `parquet:"close,optional"`
}

type fleetCloseSide struct {
	TS   *time.Time `parquet:"ts,timestamp(nanosecond:utc)"`
	Code *int32     `parquet:"code,optional"`
}

// TestRecordedFleetFirst1011Parquet: README's DuckDB question over the
// Parquet dataset of rotated/fleet-1011, ordered by the time of the 1011
// (least(close.client.ts, close.server.ts)), names the connection of the
// servers' first 1011 (the expect file). Ordered by first_ts, as README had
// it, it named a connection of the other host that opened earlier and got
// its 1011 3 s later: first_ts is when a connection began, not when it
// closed. Its file column names a file of the host it started on.
func TestRecordedFleetFirst1011Parquet(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	first := ex.Closes1011[0]
	dir := t.TempDir()
	writeParquet(t, fleetDir, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "conns", "*", "*.parquet"))
	type hit struct {
		row     fleetConnRow
		closeAt time.Time
	}
	var hits []hit
	for _, p := range files {
		rows, err := parquet.ReadFile[fleetConnRow](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Close == nil {
				continue
			}
			var at time.Time
			is1011 := false
			for _, s := range []*fleetCloseSide{r.Close.Client, r.Close.Server} {
				if s == nil || s.TS == nil {
					continue
				}
				if at.IsZero() || s.TS.Before(at) { // least(): NULLs left out
					at = *s.TS
				}
				is1011 = is1011 || (s.Code != nil && *s.Code == 1011)
			}
			if is1011 {
				hits = append(hits, hit{r, at})
			}
		}
	}
	if len(hits) != len(ex.Closes1011) {
		t.Fatalf("parquet conns: %d connections with 1011, the servers sent %d", len(hits), len(ex.Closes1011))
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].closeAt.Before(hits[j].closeAt) })
	h := hits[0]
	client := first.Client + ":" + strconv.Itoa(first.ClientPort)
	server := ex.Hosts[first.Host] + ":" + strconv.Itoa(ex.Port)
	if h.row.Client != client || h.row.Server != server {
		t.Errorf("first 1011 by close time: conn %d %s -> %s, want %s -> %s", h.row.Conn, h.row.Client, h.row.Server, client, server)
	}
	if at := float64(h.closeAt.UnixNano()) / 1e9; math.Abs(at-first.Time) > 0.05 {
		t.Errorf("first 1011 closed at %.6f, the server sent it at %.3f", at, first.Time)
	}
	// Its file column: a file of its host's, as -e file has it.
	if h.row.File == nil || !strings.HasPrefix(filepath.Base(*h.row.File), "host-"+first.Host+"_") {
		t.Errorf("first 1011: file column %v, want a file of host %s", h.row.File, first.Host)
	}
	for _, x := range hits {
		if x.row.File == nil || filepath.Dir(*x.row.File) != filepath.Clean(fleetDir) {
			t.Errorf("conn %d: file column %v, want a file of %s", x.row.Conn, x.row.File, fleetDir)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].row.FirstTS.Before(*hits[j].row.FirstTS) })
	// README: ordered by first_ts, host a's connections came first.
	if hits[0].row.Client == client || hits[0].row.Server == server {
		t.Errorf("ordered by first_ts the first row is conn %d %s -> %s: README says host a's", hits[0].row.Conn, hits[0].row.Client, hits[0].row.Server)
	}
}

// TestRecordedFleetFirst1011File: "in which file" without --per-file. On
// the merged rotations of rotated/fleet-1011, -e file names the file each
// connection was first seen in: the first 1011's (the expect file's) is a
// file of the host it started on, and every 1011's connection is in a file
// of its server's host; -Y 'file contains "host-a"' keeps host a's; -j 1
// = -j 2. One file read alone is its own name.
func TestRecordedFleetFirst1011File(t *testing.T) {
	t.Parallel()
	ex := fleetCapture(t)
	first := ex.Closes1011[0]
	hostOf := map[string]string{} // server address -> host
	for h, ip := range ex.Hosts {
		hostOf[ip+":"+strconv.Itoa(ex.Port)] = h
	}
	var outs []string
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "-r", fleetDir, "-j", j, "-Y", "close_code == 1011", "-T", "fields",
			"-e", "client", "-e", "server", "-e", "file")
		if code != 0 || errs != "" {
			t.Fatalf("-j %s: exit %d, stderr %q", j, code, errs)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Fatal("-e file differs between -j 1 and -j 2")
	}
	lines := strings.Split(strings.TrimSpace(outs[0]), "\n")
	if len(lines) != 2*len(ex.Closes1011) {
		t.Fatalf("%d close frames with 1011, the servers sent %d (each echoed)", len(lines), len(ex.Closes1011))
	}
	byHost := map[string]int{}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			t.Fatalf("%q", l)
		}
		h := hostOf[f[1]]
		if base := filepath.Base(f[2]); h == "" || !strings.HasPrefix(base, "host-"+h+"_") || filepath.Dir(f[2])+"/" != filepath.Clean(fleetDir)+"/" {
			t.Errorf("%s -> %s: file %q, want one of host %q's in %s", f[0], f[1], f[2], h, fleetDir)
		}
		byHost[h]++
		if i == 0 && (f[0] != first.Client+":"+strconv.Itoa(first.ClientPort) || h != first.Host) {
			t.Errorf("first 1011: %q, want client %s:%d of host %s", l, first.Client, first.ClientPort, first.Host)
		}
	}
	out, errs, code := runWsdump(t, nil, "-r", fleetDir, "-Y", `close_code == 1011 && file contains "host-a"`, "-T", "fields", "-e", "server")
	if code != 0 || errs != "" {
		t.Fatalf("file contains: exit %d, stderr %q", code, errs)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		n++
		if hostOf[l] != "a" {
			t.Errorf(`file contains "host-a": a 1011 of server %s`, l)
		}
	}
	if n != byHost["a"] || n == 0 {
		t.Errorf(`file contains "host-a": %d close frames with 1011, host a's files hold %d`, n, byHost["a"])
	}
	files, _ := filepath.Glob(fleetDir + "host-b_*.pcap")
	slices.Sort(files)
	one, errs, code := runWsdump(t, nil, "-r", files[0], "-c", "1", "-T", "fields", "-e", "file")
	if code != 0 || one != files[0]+"\n" {
		t.Errorf("one file: -e file %q (exit %d, %q), want %s", one, code, errs, files[0])
	}
}
