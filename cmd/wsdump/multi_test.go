package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Many inputs (issue 20): rotated pieces of real captures, cut with
// editcap (testdata/pcaps/PROVENANCE.md, "Rotated captures").

const rotated = "../../testdata/pcaps/rotated"

// rotations are the committed rotations and the capture each was cut from.
var rotations = []struct{ dir, whole string }{
	{"deflate", "gen__deflate-coder-takeover.pcap"}, // one connection, context takeover, across 6 files
	{"load", "gen__load-concurrent.pcap"},           // 120 connections, 8 open at each cut; pcap, pcapng, .gz
	{"seed", "gen__seed-browser.pcap"},              // reconnects cut by time (editcap -i 20)
}

// pieces lists a rotation's files in name order.
func pieces(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(rotated, dir, "*"))
	if err != nil || len(m) < 2 {
		t.Fatalf("%s: %v %v", dir, m, err)
	}
	return m
}

// TestRotatedPiecesEqualWhole: the pieces of a rotation, given as a
// directory, a glob or one -r each (in reverse order: the merge goes by
// time), read as the capture they were cut from: the same records,
// byte for byte, in every view, but the jsonl's "file" of several inputs
// (the same whichever way they are given; one per connection, a piece of
// the rotation, on every record that has a conn).
func TestRotatedPiecesEqualWhole(t *testing.T) {
	t.Parallel()
	for _, r := range rotations {
		whole := filepath.Join("../../testdata/pcaps", r.whole)
		files := pieces(t, r.dir)
		var each []string
		for i := len(files) - 1; i >= 0; i-- {
			each = append(each, "-r", files[i])
		}
		inputs := map[string][]string{
			"directory": {"-r", filepath.Join(rotated, r.dir)},
			"glob":      {"-r", filepath.Join(rotated, r.dir, "*")},
			"each":      each,
		}
		for _, view := range [][]string{
			{"--format", "jsonl", "--messages"},
			{"--format", "jsonl"},
			{"conns", "--format", "jsonl"},
			{"follow", "--stable"},
		} {
			want, errs, code := runWsdump(t, nil, append(append([]string(nil), view...), "-r", whole)...)
			if code != 0 || want == "" {
				t.Fatalf("%s %v: exit %d, %s", r.whole, view, code, errs)
			}
			jsonl := view[0] != "follow"
			var first string
			for _, how := range []string{"directory", "glob", "each"} {
				got, errs, code := runWsdump(t, nil, append(append([]string(nil), view...), inputs[how]...)...)
				if code != 0 || errs != "" {
					t.Errorf("%s %s %v: exit %d, stderr %q", r.dir, how, view, code, errs)
				}
				if first == "" {
					first = got
				} else if got != first {
					t.Errorf("%s %s %v: differs from the directory's:\n%s", r.dir, how, view, firstDiff(first, got))
				}
				if jsonl {
					checkFiles(t, r.dir+" "+how, got, files)
					got = fileField.ReplaceAllString(got, "")
				}
				if got != want {
					t.Errorf("%s %s %v: differs from %s:\n%s", r.dir, how, view, r.whole, firstDiff(want, got))
				}
			}
		}
	}
}

// fileField is jsonl's "file" field after a record's conn.
var fileField = regexp.MustCompile(`,"file":"(?:[^"\\]|\\.)*"`)

// checkFiles checks the jsonl of several inputs: every record with a
// conn has a "file", one of files, the same for every record of its
// connection.
func checkFiles(t *testing.T, what, jsonl string, files []string) {
	t.Helper()
	fileOf := map[[2]int]string{} // conn, stream -> file
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var r struct {
			Conn   *int    `json:"conn"`
			Stream int     `json:"stream"`
			File   *string `json:"file"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s: %v: %s", what, err, l)
		}
		if r.Conn == nil {
			continue
		}
		if r.File == nil || !slices.Contains(files, *r.File) {
			t.Fatalf("%s: file %v, not one of the inputs: %s", what, r.File, l)
		}
		k := [2]int{*r.Conn, r.Stream}
		if f, ok := fileOf[k]; ok && f != *r.File {
			t.Errorf("%s: conn %d in %s and %s", what, *r.Conn, f, *r.File)
		}
		fileOf[k] = *r.File
		n++
	}
	if n == 0 {
		t.Errorf("%s: no record with a conn", what)
	}
}

// TestRotatedWithoutMerge shows what the merge fixes: a piece read alone
// has half-connections (no handshake, compressed messages that cannot be
// inflated), the pieces together have none.
func TestRotatedWithoutMerge(t *testing.T) {
	files := pieces(t, "deflate")
	alone, _, _ := runWsdump(t, nil, "--format", "jsonl", "--messages", "-r", files[1])
	if !strings.Contains(alone, "inflate_context_unknown") {
		t.Fatalf("piece 2 alone: no inflate_context_unknown:\n%.300s", alone)
	}
	merged, _, _ := runWsdump(t, nil, "--format", "jsonl", "--messages", "-r", filepath.Join(rotated, "deflate"))
	if strings.Contains(merged, "inflate_context_unknown") || strings.Count(merged, `"type":"handshake"`) != 1 {
		t.Errorf("merged pieces: %d handshakes, inflate_context_unknown: %v", strings.Count(merged, `"type":"handshake"`), strings.Contains(merged, "inflate_context_unknown"))
	}
}

// TestManyInputsDiffLintFilter: diff compares a rotation (one argument,
// merged) with the whole capture; lint takes a directory as one capture;
// a trailing capture filter applies to the merged packets.
func TestManyInputsDiffLintFilter(t *testing.T) {
	dir := filepath.Join(rotated, "load")
	whole := "../../testdata/pcaps/gen__load-concurrent.pcap"
	if out, errs, code := runWsdump(t, nil, "diff", dir, whole); code != 0 || !strings.Contains(out, "no differences: 120 connection") {
		t.Errorf("diff: exit %d\n%s%s", code, out, errs)
	}
	if out, errs, code := runWsdump(t, nil, "lint", "-r", dir); code != 0 || out != strings.ReplaceAll(mustRun(t, "lint", "-r", whole), whole, dir) {
		t.Errorf("lint of the directory: exit %d\n%s%s", code, out, errs)
	}
	// export writes the same files and index; the pieces as the shell
	// expands an unquoted glob.
	var idx [2][]byte
	for i, in := range [][]string{{"-r", "../../testdata/pcaps/gen__seed-browser.pcap"}, append([]string{"-r"}, pieces(t, "seed")...)} {
		out := t.TempDir()
		if _, errs, code := runWsdump(t, nil, append([]string{"export", "--stable", "-o", out}, in...)...); code != 0 {
			t.Fatalf("export %v: exit %d, %s", in, code, errs)
		}
		idx[i], _ = os.ReadFile(filepath.Join(out, "index.jsonl"))
	}
	if len(idx[0]) == 0 || !bytes.Equal(idx[0], idx[1]) {
		t.Errorf("export: index of the pieces differs:\n%s", firstDiff(string(idx[0]), string(idx[1])))
	}
	// The client port of connection 2: one connection of the 120; the
	// pieces' csv has the file it began in first.
	want := mustRun(t, "conns", "--format", "csv", "-r", whole, "tcp", "port", "57062")
	got := mustRun(t, "conns", "--format", "csv", "-r", dir, "tcp", "port", "57062")
	if lines := strings.Split(want, "\n"); len(lines) != 3 ||
		got != "file,"+lines[0]+"\n"+filepath.Join(dir, "load_00000_20261204170218.pcap")+","+lines[1]+"\n" {
		t.Errorf("capture filter: pieces\n%s\nwhole\n%s", got, want)
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runWsdump(t, nil, args...)
	if code != 0 && code != 3 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

// TestManyInputsLinkTypes merges an Ethernet capture and a Linux SLL2 one.
func TestManyInputsLinkTypes(t *testing.T) {
	a, b := "../../testdata/pcaps/gen__ws-node-basic.pcap", "../../testdata/pcaps/gen__ws-node-sll2.pcap"
	out, errs, code := runWsdump(t, nil, "conns", "--format", "csv", "-r", a, "-r", b)
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("exit %d, %s\n%s", code, errs, out)
	}
}

// TestManyInputsErrors: a missing file, a glob matching nothing, a file
// that is not a capture in a directory and a piece cut short (tcpdump
// killed) are each said with their name; the rest is read; exit 2.
func TestManyInputsErrors(t *testing.T) {
	dir := t.TempDir()
	files := pieces(t, "seed")
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			b = b[:len(b)-7] // the last record cut short
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("rotation of the seed capture\n"), 0o644)
	cut := filepath.Join(dir, filepath.Base(files[2]))
	out, errs, code := runWsdump(t, nil, "conns", "--format", "jsonl", "-r", dir, "-r", filepath.Join(dir, "nope.pcap"), "-r", filepath.Join(dir, "*.pcapng"))
	if code != exitInput {
		t.Errorf("exit %d, want %d", code, exitInput)
	}
	for _, want := range []string{
		"notes.txt: not a pcap or pcapng file",
		cut + ": ", "truncated",
		"nope.pcap: no such file",
		"*.pcapng: no file matches",
		"4 inputs could not be read",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// The connections of the files after the cut one are there.
	if !strings.Contains(out, `"session":"ofzh5gkj"`) {
		t.Errorf("no connection after the cut piece:\n%.500s", out)
	}
	// --per-file goes on after them too.
	out, errs, code = runWsdump(t, nil, "--per-file", "--format", "jsonl", "-r", dir, "-r", filepath.Join(dir, "nope.pcap"))
	if code != exitInput || !strings.Contains(errs, cut) || !strings.Contains(out, `"file":"`+filepath.Join(dir, filepath.Base(files[5]))+`"`) {
		t.Errorf("--per-file: exit %d, stderr %s", code, errs)
	}
	// Standard input is one capture.
	if _, errs, code := runWsdump(t, nil, "-r", "-", "-r", files[0]); code != exitUsage || !strings.Contains(errs, "standard input") {
		t.Errorf("-r - with another file: exit %d, %s", code, errs)
	}
}

// TestPerFile: each file a capture of its own, in file order, its
// records named by "file" (jsonl) and equal to reading the file alone,
// whatever -j.
func TestPerFile(t *testing.T) {
	files := pieces(t, "seed")
	dir := filepath.Join(rotated, "seed")
	for _, view := range [][]string{
		{"--format", "jsonl", "--messages"},
		{"conns", "--format", "jsonl"},
	} {
		var outs []string
		for _, j := range []string{"1", "3"} {
			out, errs, code := runWsdump(t, nil, append(append([]string(nil), view...), "--per-file", "-j", j, "-r", dir)...)
			if code != 0 || errs != "" {
				t.Fatalf("%v -j %s: exit %d, %s", view, j, code, errs)
			}
			outs = append(outs, out)
		}
		if outs[0] != outs[1] {
			t.Errorf("%v: -j 1 and -j 3 differ:\n%s", view, firstDiff(outs[0], outs[1]))
		}
		byFile := map[string]*strings.Builder{}
		var order []string
		for _, line := range strings.SplitAfter(outs[0], "\n") {
			if line == "" {
				continue
			}
			var rec struct{ File string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.File == "" {
				t.Fatalf("%v: no file field: %q", view, line)
			}
			if byFile[rec.File] == nil {
				byFile[rec.File] = &strings.Builder{}
				order = append(order, rec.File)
			}
			byFile[rec.File].WriteString(strings.Replace(line, `{"file":"`+rec.File+`",`, "{", 1))
		}
		var wantOrder []string
		for _, f := range files {
			alone := mustRun(t, append(append([]string(nil), view...), "-r", f)...)
			if alone == "" {
				continue
			}
			wantOrder = append(wantOrder, f)
			if got := byFile[f]; got == nil || got.String() != alone {
				t.Errorf("%v %s: not as read alone", view, f)
			}
		}
		if !slices.Equal(order, wantOrder) {
			t.Errorf("%v: files in order %v, want %v", view, order, wantOrder)
		}
	}
	// Tables: a header line per file; csv: a file column.
	out := mustRun(t, "conns", "--per-file", "-r", dir)
	if n := strings.Count(out, "==> "+filepath.Join(dir, "browser_")); n != len(files) {
		t.Errorf("conns table: %d file headers, want %d:\n%s", n, len(files), out)
	}
	out = mustRun(t, "--per-file", "--format", "csv", "-r", dir)
	if !strings.HasPrefix(out, "file,type,conn,") || strings.Count(out, "file,type") != 1 || !strings.Contains(out, "\n"+files[3]+",handshake,") {
		t.Errorf("csv:\n%.400s", out)
	}
	// lint: a result per file.
	out = mustRun(t, "lint", "--per-file", "--format", "jsonl", "-r", dir)
	for _, f := range files {
		if !bytes.Contains([]byte(out), []byte(`"capture":"`+f+`"`)) {
			t.Errorf("lint --per-file: no result for %s:\n%.300s", f, out)
		}
	}
}

// TestPerFileCSVHeaderFirstFileUnreadable: with --per-file --format csv,
// the header comes once, first, even when the first file (by name) is not
// a capture and writes nothing.
func TestPerFileCSVHeaderFirstFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("not a capture\n"), 0o644)
	files := pieces(t, "seed")
	for _, f := range files[:2] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "b-"+filepath.Base(f)), b, 0o644)
	}
	out, errs, code := runWsdump(t, nil, "--per-file", "--format", "csv", "-r", dir)
	if code != exitInput {
		t.Errorf("exit %d, want %d: %s", code, exitInput, errs)
	}
	if !strings.HasPrefix(out, "file,type,conn,") || strings.Count(out, "file,type") != 1 {
		t.Errorf("csv header not first and once:\n%.300s", out)
	}
}

// TestPerFileConnsCSVColumns: with --per-file, conns --format csv writes
// one header for every file, so each file's rows carry every optional
// column (c2s_ and s2c_urgent_segments, encap), whether that file has
// urgent data or encapsulation or not: a row has as many fields as the
// header and each value stands under its name, in either file order and
// with -j 1 and -j 2 alike.
func TestPerFileConnsCSVColumns(t *testing.T) {
	pcaps := filepath.Join("..", "..", "testdata", "pcaps")
	plain := filepath.Join(pcaps, "gen__ws-node-ethernet-mtu.pcap")
	urgent := filepath.Join(pcaps, urgentCapture+".pcap")
	encap := filepath.Join(pcaps, "gen__tenant-reconnect.pcap")
	for _, files := range [][]string{{plain, urgent, encap}, {urgent, encap, plain}, {encap, plain, urgent}} {
		var first string
		for _, j := range []string{"1", "2"} {
			out := mustRun(t, "conns", "--per-file", "-j", j, "--format", "csv", "-r", files[0], "-r", files[1], "-r", files[2])
			if first == "" {
				first = out
			} else if out != first {
				t.Errorf("%v: -j 1 and -j 2 differ", files)
			}
		}
		recs, err := csv.NewReader(strings.NewReader(first)).ReadAll()
		if err != nil {
			t.Fatalf("%v: %v:\n%s", files, err, first)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, h := range []string{"file", "c2s_urgent_segments", "s2c_urgent_segments", "encap"} {
			if _, ok := col[h]; !ok {
				t.Fatalf("%v: no column %s in %q", files, h, recs[0])
			}
		}
		urg, vxlan := 0, 0
		for _, r := range recs[1:] {
			if len(r) != len(recs[0]) {
				t.Fatalf("%v: a row of %d fields under a header of %d: %q", files, len(r), len(recs[0]), r)
			}
			u, err := strconv.Atoi(r[col["c2s_urgent_segments"]])
			if err != nil || r[col["s2c_urgent_segments"]] != "0" {
				t.Errorf("%v: urgent segments %q/%q", files, r[col["c2s_urgent_segments"]], r[col["s2c_urgent_segments"]])
			}
			if (u > 0) != (r[col["file"]] == urgent) {
				t.Errorf("%v: %s: %d urgent segments", files, r[col["file"]], u)
			}
			urg += u
			if e := r[col["encap"]]; (e != "") != (r[col["file"]] == encap) || (e != "" && !strings.Contains(e, "vxlan")) {
				t.Errorf("%v: %s: encap %q", files, r[col["file"]], e)
			} else if e != "" {
				vxlan++
			}
		}
		if urg != 4 || vxlan == 0 {
			t.Errorf("%v: %d urgent segments (want the capture's 4), %d rows encapsulated", files, urg, vxlan)
		}
	}
}
