package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// duckdbNode finds node and the DuckDB npm package of testdata/duckdb;
// without them the test skips, but fails under CI=true, where .ci/run
// runs npm ci there.
func duckdbNode(t *testing.T) (node, script string) {
	t.Helper()
	dir, _ := filepath.Abs("../../testdata/duckdb")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("DuckDB's npm package is missing (CI=true: .ci/run runs npm ci in testdata/duckdb): %v", err)
		}
		t.Skipf("DuckDB is not installed: the Parquet engine test needs node and `npm ci` in testdata/duckdb (%v)", err)
	}
	return node, filepath.Join(dir, "query.mjs")
}

// The captures of the engine test: STOMP over SockJS and over raw
// WebSocket (compressed), reconnects, a reset, Engine.IO heartbeats, and
// a capture of another year (another date partition).
var parquetCaptures = []string{
	"gen__app-sockjs-stomp", "gen__app-stomp-rabbitmq-deflate", "gen__health-reconnect",
	"gen__health-rst", "gen__engineio-stall", "zeek__two-binary-fragments",
	"gen__wss-node-tls12-reneg", // (with its key log: two renegotiations in tls.renegotiations)
}

var partIDRE = regexp.MustCompile(`wsdump: part id ([0-9TZ]+-[0-9a-f]+):`)

// writeParquet runs wsdump --format parquet into dir and returns the part id.
func writeParquet(t *testing.T, file, dir string) string {
	t.Helper()
	_, errs, code := runWsdump(t, nil, append([]string{"-r", file, "--format", "parquet", "-o", dir}, keylogArgs(file)...)...)
	m := partIDRE.FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("wsdump -r %s --format parquet: exit %d: %s", file, code, errs)
	}
	return m[1]
}

// readDataset returns the rows of every part of one dataset written into
// dir (writeParquet).
func readDataset[T any](t *testing.T, dir, dataset string) []T {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, dataset, "*", "*.parquet"))
	var rows []T
	for _, p := range files {
		r, err := parquet.ReadFile[T](p)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	return rows
}

func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// engineAnswers is what query.mjs prints, and what the jsonl gives.
type engineAnswers struct {
	Counts map[string]string `json:"counts"`
	Frames struct {
		SumLen     string `json:"sum_len"`
		SumPayload string `json:"sum_payload"`
	} `json:"frames"`
	Messages struct {
		SumLen  string `json:"sum_len"`
		SumData string `json:"sum_data"`
		WithApp string `json:"with_app"`
	} `json:"messages"`
	Conns      []map[string]string `json:"conns"`
	Dates      []string            `json:"dates"`
	CloseCodes []map[string]string `json:"close_codes"`
	Stomp      []map[string]string `json:"stomp"`
	// conns with TLS renegotiations: capture, conn, renegotiations
	Renegotiations []map[string]string `json:"renegotiations"`
	Types          map[string]string   `json:"types"`
}

// jsonlAnswers computes the engine's answers from wsdump's jsonl (and
// conns --format jsonl for heartbeats and reconnect groups) of each
// capture, under its part id.
func jsonlAnswers(t *testing.T, files, ids []string) engineAnswers {
	t.Helper()
	var a engineAnswers
	n := map[string]int64{}
	var frameLen, payload, msgLen, data, withApp int64
	dates := map[string]bool{}
	type dest struct{ frames, body int64 }
	stomp := map[string]*dest{}
	for i, file := range files {
		out, errs, code := runWsdump(t, nil, append([]string{"-r", file, "--format", "jsonl"}, keylogArgs(file)...)...)
		if code != 0 {
			t.Fatalf("%s: jsonl: exit %d: %s", file, code, errs)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var r struct {
				Type      string  `json:"type"`
				Conn      int     `json:"conn"`
				TS        string  `json:"ts"`
				Dir       string  `json:"dir"`
				Len       *int64  `json:"len"`
				Payload   *string `json:"payload"`
				Data      *string `json:"data"`
				CloseCode *int    `json:"close_code"`
				TLS       *struct {
					Renegotiations int `json:"renegotiations"`
				} `json:"tls"`
				App []struct {
					Protocol string                     `json:"protocol"`
					Fields   map[string]json.RawMessage `json:"fields"`
					BodyLen  *int64                     `json:"body_len"`
				} `json:"app"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			decoded := func(s *string) int64 {
				b, err := base64.StdEncoding.DecodeString(*s)
				if err != nil {
					t.Fatal(err)
				}
				return int64(len(b))
			}
			switch r.Type {
			case "handshake":
				n["handshakes"]++
			case "frame":
				n["frames"]++
				frameLen += *r.Len
				payload += decoded(r.Payload)
				if r.CloseCode != nil {
					a.CloseCodes = append(a.CloseCodes, map[string]string{"capture": ids[i], "conn": strconv.Itoa(r.Conn), "dir": r.Dir, "code": strconv.Itoa(*r.CloseCode)})
				}
			case "message":
				n["messages"]++
				dates[r.TS[:10]] = true
				if r.Len != nil {
					msgLen += *r.Len
				}
				data += decoded(r.Data)
				if r.App != nil {
					withApp++
				}
				for _, app := range r.App {
					raw, ok := app.Fields["destination"]
					if app.Protocol != "stomp" || !ok {
						continue
					}
					var d string
					if json.Unmarshal(raw, &d) != nil {
						d = string(raw) // repeated: json_extract_string gives the array's text
					}
					if stomp[d] == nil {
						stomp[d] = &dest{}
					}
					stomp[d].frames++
					if app.BodyLen != nil {
						stomp[d].body += *app.BodyLen
					}
				}
			case "conn":
				n["conns"]++
				a.Conns = append(a.Conns, map[string]string{"capture": ids[i], "conn": strconv.Itoa(r.Conn)})
				if r.TLS != nil && r.TLS.Renegotiations > 0 {
					a.Renegotiations = append(a.Renegotiations, map[string]string{"capture": ids[i], "conn": strconv.Itoa(r.Conn), "renegotiations": strconv.Itoa(r.TLS.Renegotiations)})
				}
			}
		}
		out, errs, code = runWsdump(t, nil, append([]string{"conns", "-r", file, "--format", "jsonl"}, keylogArgs(file)...)...)
		if code != 0 {
			t.Fatalf("%s: conns jsonl: exit %d: %s", file, code, errs)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Type      string `json:"type"`
				Heartbeat struct {
					Series []json.RawMessage `json:"series"`
				} `json:"heartbeat"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			switch r.Type {
			case "conn":
				n["heartbeats"] += int64(len(r.Heartbeat.Series))
			case "client_group":
				n["reconnect_groups"]++
			}
		}
	}
	a.Counts = map[string]string{}
	for _, ds := range []string{"handshakes", "frames", "messages", "conns", "heartbeats", "reconnect_groups"} {
		a.Counts[ds] = strconv.FormatInt(n[ds], 10)
	}
	a.Frames.SumLen, a.Frames.SumPayload = strconv.FormatInt(frameLen, 10), strconv.FormatInt(payload, 10)
	a.Messages.SumLen, a.Messages.SumData = strconv.FormatInt(msgLen, 10), strconv.FormatInt(data, 10)
	a.Messages.WithApp = strconv.FormatInt(withApp, 10)
	a.Dates = slices.Sorted(func(yield func(string) bool) {
		for d := range dates {
			if !yield(d) {
				return
			}
		}
	})
	less := func(x, y map[string]string, keys ...string) bool {
		for _, k := range keys {
			if x[k] != y[k] {
				if k == "conn" || k == "code" {
					xi, _ := strconv.Atoi(x[k])
					yi, _ := strconv.Atoi(y[k])
					return xi < yi
				}
				return x[k] < y[k]
			}
		}
		return false
	}
	sort.SliceStable(a.Conns, func(i, j int) bool { return less(a.Conns[i], a.Conns[j], "capture", "conn") })
	sort.SliceStable(a.Renegotiations, func(i, j int) bool { return less(a.Renegotiations[i], a.Renegotiations[j], "capture", "conn") })
	sort.SliceStable(a.CloseCodes, func(i, j int) bool {
		return less(a.CloseCodes[i], a.CloseCodes[j], "capture", "conn", "dir", "code")
	})
	for d, v := range stomp {
		a.Stomp = append(a.Stomp, map[string]string{"destination": d, "frames": strconv.FormatInt(v.frames, 10), "body_bytes": strconv.FormatInt(v.body, 10)})
	}
	sort.SliceStable(a.Stomp, func(i, j int) bool {
		bi, _ := strconv.ParseInt(a.Stomp[i]["body_bytes"], 10, 64)
		bj, _ := strconv.ParseInt(a.Stomp[j]["body_bytes"], 10, 64)
		if bi != bj {
			return bi > bj
		}
		return a.Stomp[i]["destination"] < a.Stomp[j]["destination"]
	})
	return a
}

// TestParquetDuckDB writes several real captures into one Parquet
// dataset directory (appended one by one) and reads it with DuckDB: the
// row counts of the six datasets, the sums of frame and message lengths,
// the (capture, conn) pairs, the close codes per connection and the
// biggest STOMP destinations equal what the jsonl of the same captures
// gives. Appending leaves the files already there byte-identical.
func TestParquetDuckDB(t *testing.T) {
	node, script := duckdbNode(t)
	dir := filepath.Join(t.TempDir(), "out")
	var files, ids []string
	var before map[string]string
	for i, name := range parquetCaptures {
		file := filepath.Join("../../testdata/pcaps", name+".pcap")
		files = append(files, file)
		ids = append(ids, writeParquet(t, file, dir))
		if i == 0 {
			before = hashTree(t, dir)
		}
	}
	after := hashTree(t, dir)
	for f, sum := range before {
		if after[f] != sum {
			t.Errorf("%s: changed or removed by the later captures", f)
		}
	}
	cmd := exec.Command(node, script, dir)
	cmd.Dir = filepath.Dir(script)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node query.mjs: %v: %s", err, stderr)
	}
	var got engineAnswers
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("query.mjs printed %q: %v", out, err)
	}
	want := jsonlAnswers(t, files, ids)
	check := func(what string, g, w any) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("%s: DuckDB %s\n    jsonl  %s", what, gb, wb)
		}
	}
	check("row counts", got.Counts, want.Counts)
	check("frames: sum(len), sum of payload bytes", got.Frames, want.Frames)
	check("messages: sum(len), sum of data bytes, with app", got.Messages, want.Messages)
	check("(capture, conn) pairs", got.Conns, want.Conns)
	check("dates", got.Dates, want.Dates)
	check("close codes per connection", got.CloseCodes, want.CloseCodes)
	check("STOMP destinations by body bytes", got.Stomp, want.Stomp)
	check("tls.renegotiations of the conns", got.Renegotiations, want.Renegotiations)
	if len(want.Renegotiations) == 0 {
		t.Error("the captures should have a TLS connection that renegotiated")
	}
	if len(want.Stomp) == 0 || len(want.CloseCodes) == 0 || len(want.Dates) < 2 {
		t.Errorf("the captures should have STOMP destinations, close codes and two dates: %+v", want)
	}
	for col, typ := range map[string]string{"ts": "TIMESTAMP WITH TIME ZONE", "data": "BLOB", "len": "BIGINT", "app": "VARCHAR", "date": "DATE"} {
		if got.Types[col] != typ {
			t.Errorf("DuckDB reads messages.%s as %s, want %s", col, got.Types[col], typ)
		}
	}
	t.Logf("DuckDB over %d captures: %s", len(files), fmt.Sprint(got.Counts))
}

// TestParquetSameCaptureTwice: writing one capture twice into a dataset
// adds a second set of files under another part id; the first stays as
// it was.
func TestParquetSameCaptureTwice(t *testing.T) {
	dir := t.TempDir()
	file := "../../testdata/pcaps/zeek__two-binary-fragments.pcap"
	id1 := writeParquet(t, file, dir)
	first := hashTree(t, dir)
	id2 := writeParquet(t, file, dir)
	second := hashTree(t, dir)
	if id1 == id2 {
		t.Fatalf("one part id for both runs: %s", id1)
	}
	for f, sum := range first {
		if second[f] != sum {
			t.Errorf("%s: changed by the second run", f)
		}
	}
	if len(second) != 2*len(first) || len(first) == 0 {
		t.Errorf("%d files after one run, %d after two", len(first), len(second))
	}
	for f := range second {
		if !strings.Contains(f, "part-"+id1) && !strings.Contains(f, "part-"+id2) {
			t.Errorf("%s: named by neither run", f)
		}
	}
}

// TestParquetFlags: -o is the directory with --format parquet (wide for
// a table otherwise), and what cannot go to files is refused.
func TestParquetFlags(t *testing.T) {
	file := "../../testdata/pcaps/zeek__two-binary-fragments.pcap"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "parquet"}, "give it with -o DIR"},
		{[]string{"--format", "parquet", "-o", "-"}, "give it with -o DIR"},
		{[]string{"--format", "parquet", "-o", t.TempDir(), "--stable"}, "--stable"},
		{[]string{"--format", "parquet", "-o", t.TempDir(), "-T", "fields", "-e", "conn"}, "-T fields"},
		{[]string{"-o", "dir"}, "-o takes wide"},
	} {
		_, errs, code := runWsdump(t, nil, append([]string{"-r", file}, c.args...)...)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", c.args, code, errs, c.want)
		}
	}
}

// TestParquetPerFile: --per-file with parquet writes each file's datasets
// under its own part id (one capture per file) and nothing on standard
// output, where a table or jsonl would have its file labels.
func TestParquetPerFile(t *testing.T) {
	dir := t.TempDir()
	pieces := "../../testdata/pcaps/rotated/load/"
	out, errs, code := runWsdump(t, nil, "-r", pieces, "--per-file", "--format", "parquet", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if out != "" {
		t.Errorf("standard output: %q, want nothing", out)
	}
	files, err := os.ReadDir(pieces)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for f := range hashTree(t, dir) {
		if i := strings.Index(f, "part-"); i >= 0 && strings.HasPrefix(f, "conns") {
			ids[f[i:]] = true
		}
	}
	if len(ids) != len(files) {
		t.Errorf("%d conns parts for %d files: %v", len(ids), len(files), ids)
	}
}
