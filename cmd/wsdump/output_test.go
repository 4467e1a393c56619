package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/wsparse"
)

// hostileConv is an upgraded connection whose Host header, URI, payloads
// and close reason carry an OSC 52 clipboard write, BEL, NUL, a bidi
// override and spreadsheet formulas.
func hostileConv() *synth.Conv {
	const osc52 = "\x1b]52;c;b3duZWQ=\x07"
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte("GET /=cmd"+osc52+"\u202e\x00 HTTP/1.1\r\nHost: =evil"+osc52+"\u202e\r\n"+
		strings.TrimPrefix(upgradeReq, "GET /x HTTP/1.1\r\nHost: h\r\n")+"\r\n"))
	c.Send(false, []byte(upgradeResp+"\r\n"))
	for _, p := range []string{"=1+2" + osc52, "+SUM(A1)", "-2+3", "@A1", "\tx\u202eexe.txt\x00"} {
		c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte(p)))
	}
	c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpClose}, []byte("\x03\xe8-"+osc52)))
	return c
}

// TestCSVHostile runs a hostile capture through --format csv: no cell may
// hold a raw control, bidi or C1 character, and no cell that holds
// traffic may begin like a formula.
func TestCSVHostile(t *testing.T) {
	path := writeSynth(t, 0, hostileConv())
	for _, view := range [][]string{nil, {"--messages"}} {
		out, errs, code := runWsdump(t, nil, append([]string{"-r", path, "--format", "csv"}, view...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		checkTerminalSafe(t, []byte(out))
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var payloads int
		for _, r := range rows[1:] {
			for i, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%v: %s cell %q of %q runs as a formula", view, rows[0][i], cell, r)
				}
			}
			if r[13] == "text" || r[13] == "escaped" {
				payloads++
			}
		}
		if !strings.Contains(out, `=evil\x1b]52;c;b3duZWQ=\x07\u202e/=cmd\x1b]52`) || !strings.Contains(out, `'=1+2\x1b]52`) ||
			!strings.Contains(out, `'-2+3`) || !strings.Contains(out, `,\tx\u202eexe.txt\x00,`) {
			t.Errorf("%v: escapes or prefixes missing:\n%s", view, out)
		}
		if payloads != 5 {
			t.Errorf("%v: %d text payloads, want 5:\n%s", view, payloads, out)
		}
	}
}

// failWriter takes n bytes, then fails every write, as a full disk does.
type failWriter struct{ n int }

var errDiskFull = errors.New("test: no space left")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, errDiskFull
}

// TestWriteErrors runs every command and view, in every output format,
// against standard output that fails after 0 bytes, half its output and
// all but its last byte: each must say so and exit 5, whatever else it
// would have said (differences, findings).
func TestWriteErrors(t *testing.T) {
	p := pcap("gen__ws-node-basic.pcap")
	other := pcap("zeek__two-binary-fragments.pcap")
	h := writeSynth(t, 0, hostileConv()) // lint findings
	cases := [][]string{
		{"-r", p},
		{"-r", p, "--messages"},
		{"-r", p, "--format", "jsonl"},
		{"-r", p, "--format", "jsonl", "-j", "2"},
		{"-r", p, "--format", "csv"},
		{"-r", p, "--format", "csv", "--messages"},
		{"conns", "-r", p},
		{"conns", "-r", p, "--format", "jsonl"},
		{"lint", "-r", p},
		{"lint", "-r", h, "--format", "jsonl", "--fail-on", "info"},
		{"lint", "-r", p, "--format", "junit"},
		{"lint", "--rules"},
		{"diff", p, p},
		{"diff", p, other},
		{"follow", "-r", p},
		{"--help"},
		{"--version"},
		{"completion", "bash"},
		{"interfaces"},
	}
	for _, args := range cases {
		full, _, code := runWsdump(t, nil, args...)
		if code != exitOK && code != exitFindings && code != exitDiffer {
			t.Logf("%v: exit %d without a write error: skipped", args, code)
			continue
		}
		if full == "" {
			t.Fatalf("%v writes nothing", args)
		}
		for _, n := range []int{0, len(full) / 2, len(full) - 1} {
			var errb bytes.Buffer
			got := Main(args, nil, &failWriter{n}, &errb)
			if got != exitOutput || !strings.Contains(errb.String(), "writing output: "+errDiskFull.Error()) {
				t.Errorf("%v, failing after %d of %d bytes: exit %d (want %d), stderr %q", args, n, len(full), got, exitOutput, errb.String())
			}
		}
	}
}

// TestWriteErrorsLiveAndExport: the live capture stops and says so when
// standard output fails; export, when a file cannot be written.
func TestWriteErrorsLiveAndExport(t *testing.T) {
	var errs bytes.Buffer
	// --duration only bounds a capture that would not stop (it would run
	// until Ctrl-C); the failed write must stop it first.
	l := &pipeline.LiveOptions{Interface: "eth0", Duration: 10 * time.Second, Open: newFakeLive(fakeConversation()).opener()}
	err := exitErr(pipeline.RunLiveView(context.Background(), liveDecodeOptions(&failWriter{100}, &errs), l, nil))
	if code := exitCode(err, &errs); code != exitOutput {
		t.Errorf("live: exit %d, want %d: %s", code, exitOutput, errs.String())
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "conn-0001"), nil, 0o644); err != nil { // where a directory goes
		t.Fatal(err)
	}
	_, stderr, code := runWsdump(t, nil, "export", "-r", pcap("gen__ws-node-basic.pcap"), "-o", dir)
	if code != exitOutput || !strings.Contains(stderr, "writing output: ") {
		t.Errorf("export: exit %d, want %d: %s", code, exitOutput, stderr)
	}
}

// TestWriteErrorDevFull: the same through wsdump as a process, its standard
// output on /dev/full.
func TestWriteErrorDevFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/dev/full is Linux")
	}
	p := pcap("gen__ws-node-basic.pcap")
	for _, args := range [][]string{{"diff", p, p}, {"diff", p, pcap("zeek__two-binary-fragments.pcap")}, {"-r", p, "--format", "jsonl"}} {
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skip(err)
		}
		var errb bytes.Buffer
		cmd := wsdumpCmd(args...)
		cmd.Stdout, cmd.Stderr = full, &errb
		cmd.Run()
		full.Close()
		if code := cmd.ProcessState.ExitCode(); code != exitOutput || !strings.Contains(errb.String(), "no space left on device") {
			t.Errorf("%v > /dev/full: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// bigCapture is conns upgraded connections of frames text frames from the
// server each (200 bytes), left open: a capture whose reading can be cut
// anywhere.
func bigCapture(t *testing.T, conns, frames int) []byte {
	t.Helper()
	var pkts []synth.Packet
	payload := []byte(strings.Repeat("0123456789", 20))
	for i := 0; i < conns; i++ {
		c := convFrom("192.0.2.1:"+strconv.Itoa(40000+i), false)
		for j := 0; j < frames; j++ {
			c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, payload))
		}
		pkts = append(pkts, c.Packets...)
	}
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 0, pkts...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cutReader hands out data in small reads; past cut bytes it calls stop
// (the signal handler's cancel) and waits, like a pipe with nothing more
// to read, until the test ends (and the pump reading it ends with it).
type cutReader struct {
	data    []byte
	cut     int
	stop    func()
	release chan struct{}
}

func (r *cutReader) Read(p []byte) (int, error) {
	if r.cut <= 0 {
		r.stop()
		select {
		case <-r.release:
		case <-time.After(20 * time.Second):
			// Only code that ignores the stop gets here: it then
			// reads to the end and fails the test instead of hanging.
		}
		return 0, io.EOF
	}
	n := copy(p, r.data[:min(len(r.data), r.cut, 4096)])
	r.data, r.cut = r.data[n:], r.cut-n
	return n, nil
}

// checkCompleteJSONL fails unless out is whole JSON lines and every
// connection that has a handshake record has its summary.
func checkCompleteJSONL(t *testing.T, out string) (handshakes, frames int) {
	t.Helper()
	if out == "" || !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end with a complete line: %q", out[max(0, len(out)-200):])
	}
	ends := 0
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec struct{ Type string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line is not JSON (%v): %.200q", err, l)
		}
		switch rec.Type {
		case "handshake":
			handshakes++
		case "frame":
			frames++
		case "conn":
			ends++
		}
	}
	if handshakes == 0 || ends != handshakes {
		t.Errorf("%d handshakes, %d connection summaries", handshakes, ends)
	}
	return handshakes, frames
}

// TestInterruptMidRead cancels the reading of standard input half-way, as
// the SIGINT handler does: the commands stop reading, write what was read
// with the summaries of its connections, and exit 130.
func TestInterruptMidRead(t *testing.T) {
	const nConns, nFrames = 4, 300
	data := bigCapture(t, nConns, nFrames)
	run := func(name string, call func(ctx context.Context, in io.Reader, out io.Writer) error, check func(t *testing.T, out string)) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := &cutReader{data: data, cut: len(data) / 2, stop: cancel, release: make(chan struct{})}
			defer close(in.release)
			var out, errs bytes.Buffer
			err := call(ctx, in, &out)
			if code := exitCode(err, &errs); code != exitInterrupted {
				t.Fatalf("exit %d, want %d: %s", code, exitInterrupted, errs.String())
			}
			check(t, out.String())
		})
	}
	jsonl := func(t *testing.T, out string) {
		_, frames := checkCompleteJSONL(t, out)
		if frames < nConns*nFrames/8 || frames >= nConns*nFrames {
			t.Errorf("%d of %d frames: not cut half-way", frames, nConns*nFrames)
		}
	}
	for _, jobs := range []int{1, 2} {
		run("decode jsonl -j "+strconv.Itoa(jobs), func(ctx context.Context, in io.Reader, out io.Writer) error {
			o := liveDecodeOptions(out, io.Discard)
			o.Ctx, o.In, o.Reads, o.Jobs, o.Decode = ctx, in, []string{"-"}, jobs, "auto"
			return exitErr(pipeline.RunView(o))
		}, jsonl)
	}
	run("decode csv", func(ctx context.Context, in io.Reader, out io.Writer) error {
		o := liveDecodeOptions(out, io.Discard)
		o.Ctx, o.In, o.Reads, o.Format, o.Decode = ctx, in, []string{"-"}, "csv", "auto"
		return exitErr(pipeline.RunView(o))
	}, func(t *testing.T, out string) {
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || !strings.HasSuffix(out, "\n") {
			t.Fatalf("%v: %.200q", err, out[max(0, len(out)-200):])
		}
		n := map[string]int{}
		for _, r := range rows[1:] {
			n[r[0]]++
		}
		if n["handshake"] == 0 || n["conn"] != n["handshake"] || n["frame"] == 0 {
			t.Errorf("rows: %v", n)
		}
	})
	run("conns jsonl", func(ctx context.Context, in io.Reader, out io.Writer) error {
		return exitErr(pipeline.RunConns(&pipeline.ConnsOptions{Out: out, Format: "jsonl", Time: "rel",
			HealthFlags: pipeline.HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second}, Input: pipeline.Input{Ctx: ctx, In: in, Err: io.Discard, Reads: []string{"-"}, Jobs: 1}}))
	}, func(t *testing.T, out string) {
		if n := strings.Count(out, `{"type":"conn"`); n == 0 || n > nConns {
			t.Errorf("%d conn records:\n%.500s", n, out)
		}
	})
	run("lint jsonl", func(ctx context.Context, in io.Reader, out io.Writer) error {
		o := &pipeline.LintOptions{Input: pipeline.Input{Ctx: ctx, In: in, Err: io.Discard, Jobs: 2}, Out: out, Format: "jsonl", FailOn: "error", HealthFlags: pipeline.DefaultHealthFlags()}
		return exitErr(pipeline.RunLint(o, []string{"-"}))
	}, func(t *testing.T, out string) {
		// Connections still open at the cut end without a close: warnings.
		if !strings.Contains(out, `"capture":"standard input"`) {
			t.Errorf("no findings for what was read:\n%.500s", out)
		}
	})
	run("follow", func(ctx context.Context, in io.Reader, out io.Writer) error {
		o := &pipeline.FollowOptions{Input: pipeline.Input{Ctx: ctx, In: in, Err: io.Discard, Reads: []string{"-"}, Jobs: 1}, Out: out, MaxBytes: 4096}
		return exitErr(pipeline.RunFollow(o))
	}, func(t *testing.T, out string) {
		if n := strings.Count(out, "=== conn "); n == 0 || n%2 != 0 || !strings.Contains(out, " end at ") {
			t.Errorf("%d handshake and end lines:\n%.500s", n, out)
		}
	})
}

// TestSIGINTEndToEnd sends SIGINT to wsdump, a process, reading a capture
// from a pipe that stays open: once output has appeared (the reading is
// under way and the handler is in place), the signal must end the run
// with exit status 130, whole JSON lines and every connection's summary.
func TestSIGINTEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	data := bigCapture(t, 4, 2000) // about 2 MB of JSON lines: the 256 KiB output buffer fills
	cmd := wsdumpCmd("-r", "-", "--format", "jsonl")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go stdin.Write(data[:len(data)*3/4]) // and nothing more: the pipe stays open

	var out bytes.Buffer
	first := make([]byte, 64<<10)
	n, err := stdout.Read(first) // blocks until the first output
	if err != nil {
		t.Fatalf("no output: %v; stderr %s", err, errb.String())
	}
	out.Write(first[:n])
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(&out, stdout); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d; stderr %s", code, cmd.ProcessState, exitInterrupted, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("stderr %q", errb.String())
	}
	if _, frames := checkCompleteJSONL(t, out.String()); frames == 0 || frames >= 4*2000 {
		t.Errorf("%d frames of %d: not cut mid-read", frames, 4*2000)
	}
}

// countReader reads data in small reads and counts the bytes handed out
// (the pump reading standard input runs in a goroutine of its own).
type countReader struct {
	data []byte
	n    atomic.Int64
}

func (r *countReader) Read(p []byte) (int, error) {
	off := int(r.n.Load())
	if off == len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:min(len(r.data), off+4096)])
	r.n.Add(int64(n))
	return n, nil
}

// TestWriteErrorStopsReading: a failed write of the output (exit 5) stops
// the reading of the capture, with one worker or several; the run does
// not decode to the end of the input for an output that is gone.
func TestWriteErrorStopsReading(t *testing.T) {
	t.Parallel()
	data := bigCapture(t, 4, 1500)
	for _, args := range [][]string{
		{"-r", "-", "--format", "jsonl", "-j", "1"},
		{"-r", "-", "--format", "jsonl", "-j", "2"},
		{"-r", "-", "-j", "2"},
	} {
		in := &countReader{data: data}
		var errb bytes.Buffer
		code := Main(args, in, &failWriter{0}, &errb)
		if code != exitOutput {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitOutput, errb.String())
		}
		if n := in.n.Load(); n > int64(len(data))/2 {
			t.Errorf("%v: read %d of %d bytes after the output failed", args, n, len(data))
		}
	}
}
