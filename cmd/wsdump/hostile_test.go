package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/memtarget"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// Hostile captures: what an attacker or a broken capture can hand wsdump.
// Each case is run once, as a subprocess (TestHostileCaptures): its exit
// status, stderr and output are checked, its peak RSS is held to a bound,
// and the run must leave no goroutine behind (counted in the subprocess,
// around Main: hostileMain). Running it in-process as well, for the output
// and the goroutines, decoded the heavy cases twice.

type hostileCase struct {
	name   string
	build  func(t *testing.T) string // writes the capture, returns its path
	cmd    string                    // a subcommand, before -r
	args   []string
	code   int
	stderr string // a substring stderr must hold; "" means stderr is empty
	check  func(t *testing.T, out string)
	maxRSS int64 // KiB
	heavy  bool  // skipped with -short
}

// hostileArgs writes tc's capture and returns wsdump's arguments.
func hostileArgs(t *testing.T, tc hostileCase) []string {
	t.Helper()
	args := append([]string{"-r", tc.build(t)}, tc.args...)
	if tc.cmd != "" {
		args = append([]string{tc.cmd}, args...)
	}
	return args
}

// TestHostileCaptures runs each case as a subprocess (hostileMain). The
// subprocess's memory and goroutines are its own: the cases run in
// parallel, beside the other parallel tests.
func TestHostileCaptures(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.heavy && testing.Short() {
				t.Skip("heavy: skipped with -short")
			}
			t.Parallel()
			var out bytes.Buffer
			left := filepath.Join(t.TempDir(), "goroutines-left")
			rss, floor, code, errs := runMeasuredEnv(t, &out, hostileArgs(t, tc), hostileMainEnv+"="+left)
			// No file: Main did not return (a panic exits 2, as a capture
			// wsdump cannot read does; a signal): said first, as a crash,
			// not as a case's exit status or stderr that differ.
			leftGoroutines, err := os.ReadFile(left)
			if err != nil {
				t.Fatalf("wsdump did not return from Main (exit %d): %v; stderr:\n%s", code, err, errs)
			}
			checkRun(t, tc, out.String(), errs, code)
			if tc.check != nil {
				tc.check(t, out.String())
			}
			if len(leftGoroutines) > 0 {
				t.Fatalf("%s", leftGoroutines)
			}
			t.Logf("max RSS %d KiB (bound %d KiB; %d KiB inherited at the exec)", rss, tc.maxRSS, floor)
			if rss > tc.maxRSS {
				t.Errorf("max RSS %d KiB over the bound %d KiB", rss, tc.maxRSS)
			}
		})
	}
}

// hostileMainEnv set to a file's path has the wsdump subprocess run
// hostileMain, which writes to that file what goroutines the run left.
const hostileMainEnv = "WSDUMP_HOSTILE_GOROUTINES"

// hostileMain is main for TestHostileCaptures: the same memory policy,
// then Main (main's signal handling and profiles aside), and the
// goroutines left when Main returned, waited for up to 2 s, written to
// out (empty when none were). It returns Main's exit status.
func hostileMain(out string) int {
	if p, ok := memPolicy(os.LookupEnv); ok {
		memtarget.Start(p)
	}
	before := runtime.NumGoroutine()
	code := Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err := os.WriteFile(out, []byte(goroutinesLeft(before)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	return code
}

func checkRun(t *testing.T, tc hostileCase, out, errs string, code int) {
	t.Helper()
	if code != tc.code {
		t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errs)
	}
	if tc.stderr == "" && errs != "" || !strings.Contains(errs, tc.stderr) {
		t.Fatalf("stderr %q, want %q", errs, tc.stderr)
	}
}

// selfRSS returns this process's peak resident set in KiB (0 if unknown).
func selfRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// goroutinesLeft waits up to 2 s for the goroutines to be no more than
// before, and says how many there are and their stacks if they are not
// ("" if they are).
func goroutinesLeft(before int) string {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			return fmt.Sprintf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// wsdumpMainEnv set in its environment has this test binary run wsdump's
// main (TestMain): the tests that need wsdump as a process of its own run
// it so, where a go build of the command took 3 s of CPU and 4 s before
// the first of them could start.
const wsdumpMainEnv = "WSDUMP_TEST_MAIN"

// wsdumpCmd is a command that runs wsdump with args as a process.
func wsdumpCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(testBinary(), args...)
	cmd.Env = append(os.Environ(), wsdumpMainEnv+"=1")
	return cmd
}

// testBinary is the path of this test binary.
func testBinary() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

// runMeasuredTo runs wsdump as a subprocess, its standard output written
// to stdout, and returns its peak RSS (KiB). A child's peak RSS counts the
// parent's peak at the exec (vfork shares the memory until then), so
// wsdump is started by a small helper: this test binary, re-executed
// before it has done anything (see TestMain).
func runMeasuredTo(t *testing.T, stdout io.Writer, args []string) (rss, floor int64, code int, stderr string) {
	t.Helper()
	return runMeasuredEnv(t, stdout, args)
}

// runMeasuredEnv is runMeasuredTo with env added to wsdump's environment.
func runMeasuredEnv(t *testing.T, stdout io.Writer, args []string, env ...string) (rss, floor int64, code int, stderr string) {
	t.Helper()
	res := filepath.Join(t.TempDir(), "rusage")
	cmd := exec.Command(testBinary(), args...)
	cmd.Env = append(append(os.Environ(), env...), "WSDUMP_RSS_HELPER="+res)
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	b, err := os.ReadFile(res)
	if err != nil {
		t.Fatalf("helper: %v; stderr: %s", err, errb.String())
	}
	if _, err := fmt.Sscan(string(b), &rss, &floor); err != nil {
		t.Fatal(err)
	}
	return rss, floor, cmd.ProcessState.ExitCode(), errb.String()
}

// rssHelper runs wsdump with os.Args[1:] and writes its peak RSS and this
// process's (the floor it inherits) to the file out.
func rssHelper(out string) int {
	floor := selfRSS()
	cmd := wsdumpCmd(os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
		// Its exit code is -1 (the helper's 255): say why.
		fmt.Fprintf(os.Stderr, "rss helper: wsdump was killed: %v\n", cmd.ProcessState)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	if err := os.WriteFile(out, []byte(fmt.Sprintf("%d %d\n", rss, floor)), 0o644); err != nil {
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

func TestMain(m *testing.M) {
	if os.Getenv(wsdumpMainEnv) != "" {
		if out := os.Getenv(hostileMainEnv); out != "" {
			os.Exit(hostileMain(out))
		}
		main() // exits
	}
	if out := os.Getenv("WSDUMP_RSS_HELPER"); out != "" {
		os.Exit(rssHelper(out))
	}
	// Memory only: what diff prints is the same (pipeline.FreeOSMemory).
	pipeline.FreeOSMemory = func() {}
	os.Exit(m.Run())
}

const (
	upgradeReq  = synth.UpgradeRequest
	upgradeResp = synth.UpgradeResponse
	deflateExt  = synth.DeflateOffer
)

// conv is an upgraded connection, deflate negotiated or not.
func conv(deflate bool) *synth.Conv { return convFrom("192.0.2.1:40000", deflate) }

func convFrom(client string, deflate bool) *synth.Conv {
	ext := ""
	if deflate {
		ext = deflateExt
	}
	c := synth.New(client, "192.0.2.2:80").Open()
	c.Send(true, []byte(upgradeReq+ext+"\r\n"))
	c.Send(false, []byte(upgradeResp+ext+"\r\n"))
	return c
}

func writeSynth(t *testing.T, snaplen int, convs ...*synth.Conv) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	var pkts []synth.Packet
	for _, c := range convs {
		pkts = append(pkts, c.Packets...)
	}
	// Streamed to the file: growing a buffer of TestDiffMemory's 100 MB
	// took seconds.
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := synth.WritePcap(w, snaplen, pkts...); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// rawPcap writes a classic pcap of raw IPv4 packets (LINKTYPE_RAW) or any
// link type, streaming, for captures too big to build with gopacket.
type rawPcap struct {
	f  *os.File
	w  *bufio.Writer
	ts time.Time
}

func newRawPcap(t *testing.T, link uint32) (*rawPcap, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPcap{f: f, w: bufio.NewWriterSize(f, 1<<20), ts: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], link)
	p.w.Write(hdr)
	return p, path
}

func (p *rawPcap) packet(data []byte, wireLen int) {
	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], uint32(p.ts.Unix()))
	binary.LittleEndian.PutUint32(rec[4:], uint32(p.ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(wireLen))
	p.w.Write(rec[:])
	p.w.Write(data)
	p.ts = p.ts.Add(time.Microsecond)
}

func (p *rawPcap) close(t *testing.T) {
	t.Helper()
	if err := p.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := p.f.Close(); err != nil {
		t.Fatal(err)
	}
}

func frameBytes(h wsparse.Header, payload []byte) []byte {
	if h.Length == 0 {
		h.Length = uint64(len(payload))
	}
	return append(wsparse.AppendHeader(nil, h), payload...)
}

var (
	bombOnce sync.Once
	bomb     []byte
)

// deflateBomb is one permessage-deflate message (tail removed) that
// inflates to 128 MiB of zeros: about 170 kB, as DEFLATE cannot do better
// than about 1:1000. Its 16 MiB kept and --max-inflate-ratio 200 (26 MB
// inflated) are hit well before its end; the 1 GiB bomb (the README's
// figures) is rows bomb-1024MiB of bench/memory.sh (memgen -bomb).
func deflateBomb() []byte {
	bombOnce.Do(func() {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 128; i++ {
			w.Write(zeros)
		}
		w.Flush()
		bomb = bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	})
	return bomb
}

func countType(out, typ string) int {
	return strings.Count(out, `{"type":"`+typ+`"`)
}

func mustContain(s ...string) func(t *testing.T, out string) {
	return func(t *testing.T, out string) {
		t.Helper()
		for _, want := range s {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%.2000s", want, out)
			}
		}
	}
}

func hostileCases() []hostileCase {
	jsonl := []string{"--format", "jsonl"}
	return []hostileCase{
		{
			name: "length-2^63-1",
			build: func(t *testing.T) string {
				c := conv(false)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Len7: 127, Length: 1<<63 - 1}, []byte("tiny")))
				return writeSynth(t, 0, c)
			},
			args: jsonl, maxRSS: 64 << 10,
			check: mustContain(`"len":9223372036854775807`, "payload_incomplete"),
		},
		{
			name: "lengths-claiming-gigabytes",
			build: func(t *testing.T) string {
				var convs []*synth.Conv
				for i, n := range []uint64{1 << 30, 4 << 30, 1 << 40} {
					c := convFrom("192.0.2.1:4000"+string(rune('0'+i)), false)
					c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: n}, bytes.Repeat([]byte("a"), 3000)))
					c.Rst(false)
					convs = append(convs, c)
				}
				return writeSynth(t, 0, convs...)
			},
			args: jsonl, maxRSS: 64 << 10,
			// The capture ends inside each: a capture cut, not --max-message.
			check: mustContain(`"len":1073741824`, `"len":4294967296`, `"len":1099511627776`, "payload_incomplete", "capture_truncated"),
		},
		{
			name: "deflate-bomb-128MiB",
			build: func(t *testing.T) string {
				c := conv(true)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpBinary}, deflateBomb()))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpClose}, []byte{3, 0xe8}))
				return writeSynth(t, 0, c)
			},
			// Inflated to 200 bytes per byte of the connection, then
			// stopped: its length is not known, 16 MiB of it are kept.
			// (The default ratio is above what deflate can give.)
			args: append([]string{"--max-inflate-ratio", "200"}, jsonl...), maxRSS: 200 << 10, heavy: true,
			stderr: "1 compressed message stopped inflating at --max-inflate-ratio 200",
			check:  mustContain("inflate_limit", "inflate_ratio", `"len":null`, `"data_kept":16777216`, `"type":"conn"`),
		},
		{
			name: "deflate-bomb-128MiB-default",
			build: func(t *testing.T) string {
				c := conv(true)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpBinary}, deflateBomb()))
				return writeSynth(t, 0, c)
			},
			// The default ratio is above what one layer of deflate
			// gives: the bomb inflates to its end (bounded work), its
			// length is true, 16 MiB of it are kept.
			args: jsonl, maxRSS: 200 << 10, heavy: true,
			stderr: "",
			check:  mustContain("inflate_limit", `"len":134217728`, `"data_kept":16777216`, `"type":"conn"`),
		},
		{
			name: "deflate-bomb-table",
			build: func(t *testing.T) string {
				c := conv(true)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpBinary}, deflateBomb()))
				return writeSynth(t, 0, c)
			},
			args: []string{"--messages", "--max-message", "1048576", "--max-inflate-ratio", "200"}, maxRSS: 100 << 10, heavy: true,
			stderr: "1 compressed message stopped inflating at --max-inflate-ratio 200",
			check:  mustContain("inflate_limit"),
		},
		{
			// 50 000 half-open connections take 110 MB without eviction;
			// the table of 1000 keeps the run under 64 MiB, and exactly
			// these many are evicted. The million SYNs at the default
			// --max-connections (a memory figure: 370 MB, 36 s) and at
			// 1000 are rows syns-1000000 of bench/memory.sh; that the
			// table never holds more than the limit while a WebSocket
			// connection in the flood goes on is TestMaxConnections and
			// TestSYNFloodKeepsWebSocket (reassembly).
			name:  "SYN-flood-small-table",
			build: func(t *testing.T) string { return synFloodCapture(t, 50000) },
			args:  []string{"--max-connections", "1000"}, maxRSS: 64 << 10,
			stderr: "wsdump: 49086 connections ended early to stay under --max-connections 1000 ",
		},
		{
			name: "100k-frames-in-one-segment",
			build: func(t *testing.T) string {
				// 100k empty frames (200 kB) fit in one segment only in an
				// IPv6 jumbogram (RFC 2675).
				p, path := newRawPcap(t, 101)
				req := []byte(upgradeReq + "\r\n")
				resp := []byte(upgradeResp + "\r\n")
				p.packet(rawTCP6(0, 1000, 5000, req), 60+len(req))
				frames := bytes.Repeat([]byte{0x89, 0x00}, 100000)
				seg := rawTCP6(1, 5000, 1000+uint32(len(req)), append(resp, frames...))
				p.packet(seg, len(seg))
				p.close(t)
				return path
			},
			args: jsonl, maxRSS: 96 << 10,
			check: func(t *testing.T, out string) {
				if n := countType(out, "frame"); n != 100000 {
					t.Errorf("%d frames", n)
				}
			},
		},
		{
			// Every ping is a beat and an outstanding ping for conns: 24 MB
			// of capture, 4 million unanswered pings.
			name: "ping-flood-conns",
			build: func(t *testing.T) string {
				return serverFlood(t, []byte{0x89, 0x04, 'p', 'i', 'n', 'g'}, 20000, 200)
			},
			cmd: "conns", args: []string{"--format", "jsonl"}, maxRSS: 160 << 10, heavy: true,
			check: mustContain(`"pings":4000000`, `"unanswered_tail":4000000`, `"count":4000000`, `"unmeasured":`),
		},
		{
			// 40 000 connects refused (SYN, RST) for conns: each is an
			// attempt, kept up to 16 384, then counted.
			name:  "40k-refused-connects-conns",
			build: func(t *testing.T) string { return refusedConnects(t, 40000) },
			cmd:   "conns", args: []string{"--format", "jsonl"}, maxRSS: 200 << 10, heavy: true,
			stderr: "wsdump: no WebSocket in 80000 packets: 40000 TCP connections",
			check:  mustContain(`"attempts":40000,"unlisted":23616,"refused":40000`),
		},
		{
			// A fault on every frame: 2.4 million findings for lint.
			name: "fault-on-every-frame-lint",
			build: func(t *testing.T) string {
				return serverFlood(t, []byte{0xa9, 0x00}, 60000, 40) // RSV2 without an extension
			},
			cmd: "lint", args: []string{"--format", "jsonl"}, maxRSS: 96 << 10, heavy: true, code: exitFindings,
			stderr: "lint: findings of severity error or above",
			check:  mustContain(`"detail":"2399000 more not listed"`, `"omitted":2399000`, `"index":1000,`),
		},
		{
			name: "1MB-of-handshake-headers",
			build: func(t *testing.T) string {
				c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
				c.Send(true, []byte(upgradeReq+strings.Repeat("X-Filler: "+strings.Repeat("a", 1000)+"\r\n", 1000)+"\r\n"))
				c.Send(false, []byte(upgradeResp+"\r\n"))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("hello")))
				return writeSynth(t, 0, c)
			},
			args: jsonl, maxRSS: 64 << 10,
			stderr: "wsdump: 1 HTTP head longer than --max-http-header 65536 bytes: the rest of each head was skipped",
			check:  mustContain(`"anomalies":["http_header_too_long"]`, `"payload":"aGVsbG8="`),
		},
		{
			// 1 000 extended CONNECTs left open hide the WebSocket streams
			// after them: not followed, and said so on stderr.
			name: "HTTP2-streams-over-the-bound",
			build: func(t *testing.T) string {
				h := synth.NewH2()
				c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
				c.Send(false, h.ConnectProtocol())
				cl := h.Preface()
				for i := range uint32(1003) {
					cl = append(cl, h.Headers(true, 2*i+1, false, synth.ExtendedConnect("/s")...)...)
					cl = append(cl, h.Data(true, 2*i+1, false, synth.WSFrame(true, wsparse.OpText, []byte("hi")))...)
				}
				c.Send(true, cl)
				return writeSynth(t, 0, c)
			},
			args: jsonl, maxRSS: 64 << 10,
			stderr: "wsdump: 3 HTTP/2 streams were opened while 1000 were open on their connection: not followed",
			check: func(t *testing.T, out string) {
				if n := countType(out, "handshake"); n != 1000 {
					t.Errorf("%d handshakes, want the 1 000 streams followed", n)
				}
			},
		},
		{
			name: "file-cut-mid-record",
			build: func(t *testing.T) string {
				c := conv(false)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("before the cut")))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, bytes.Repeat([]byte("z"), 500)))
				path := writeSynth(t, 0, c)
				b, _ := os.ReadFile(path)
				os.WriteFile(path, b[:len(b)-300], 0o644)
				return path
			},
			args: jsonl, code: exitInput, maxRSS: 64 << 10,
			stderr: "file is truncated",
			check:  mustContain("YmVmb3JlIHRoZSBjdXQ="), // "before the cut": decoded up to the cut
		},
		{
			name: "snaplen-truncated-packets",
			build: func(t *testing.T) string {
				c := conv(false)
				for i := 0; i < 20; i++ {
					c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, bytes.Repeat([]byte("y"), 3000)))
				}
				return writeSynth(t, 400, c)
			},
			args: jsonl, maxRSS: 64 << 10,
			stderr: "wsdump: 40 of 65 packets were cut short by the capture's snap length: their missing bytes count as lost",
			check:  mustContain("payload_incomplete"),
		},
		{
			name: "unsupported-link-type",
			build: func(t *testing.T) string {
				p, path := newRawPcap(t, 147) // LINKTYPE_USER0
				p.packet(synth.RawTCP4([4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, 1, 2, 3, 4, 0x02, nil), 40)
				p.close(t)
				return path
			},
			code: exitInput, maxRSS: 64 << 10,
			stderr: "unsupported link type",
		},
		{
			name: "link-type-says-ethernet-packets-are-raw-IP",
			build: func(t *testing.T) string {
				p, path := newRawPcap(t, 1)
				c := conv(false)
				for _, pk := range c.Packets {
					p.packet(pk.Data[14:], len(pk.Data)-14)
				}
				p.close(t)
				return path
			},
			maxRSS: 64 << 10,
			stderr: "wsdump: none of the 5 packets carries IPv4 or IPv6 as its link type says: wrong link type?",
		},
		{
			name: "overlapping-retransmission-different-content",
			build: func(t *testing.T) string {
				c := conv(false)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("first copy")))
				c.Retransmit(false, 12, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("other copy")))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("next")))
				return writeSynth(t, 0, c)
			},
			args: jsonl, maxRSS: 64 << 10,
			check: func(t *testing.T, out string) {
				// The first copy is decoded; the conflict is reported on the
				// connection.
				mustContain("Zmlyc3QgY29weQ==", "bmV4dA==", `"retransmit_conflicts":1`, `"retransmission_conflict"`)(t, out)
				if strings.Contains(out, "b3RoZXIgY29weQ==") || countType(out, "message") != 2 {
					t.Errorf("the retransmission was decoded:\n%s", out)
				}
			},
		},
		{
			name: "zero-length-and-garbage-packets",
			build: func(t *testing.T) string {
				p, path := newRawPcap(t, 1)
				c := conv(false)
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("still here")))
				g := uint32(12345)
				for i, pk := range c.Packets {
					p.packet(nil, 0)
					p.packet(nil, 1500)
					for j := 0; j < 50; j++ {
						junk := make([]byte, (i*37+j*101)%200)
						for k := range junk {
							g = g*1103515245 + 12345
							junk[k] = byte(g >> 16)
						}
						if len(junk) > 14 && j%2 == 0 {
							copy(junk[12:], []byte{0x08, 0x00, 0x45}) // looks like IPv4
						}
						p.packet(junk, len(junk))
					}
					p.packet(pk.Data, len(pk.Data))
				}
				p.close(t)
				return path
			},
			args: jsonl, maxRSS: 64 << 10,
			stderr: "wsdump: 6 of 318 packets were cut short", // the empty ones that claim 1500 bytes
			check:  mustContain("c3RpbGwgaGVyZQ=="),
		},
		{
			name: "terminal-escapes-and-bidi",
			build: func(t *testing.T) string {
				c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
				evil := "\x1b]0;owned\x07\x1b[2J\u202e\u2066\u009b"
				c.Send(true, []byte("GET /"+evil+" HTTP/1.1\r\nHost: "+evil+"\r\nUser-Agent: "+evil+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: "+evil+"\r\n\r\n"))
				c.Send(false, []byte(upgradeResp+"Sec-WebSocket-Protocol: "+evil+"\r\n\r\n"))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("text "+evil)))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpBinary}, []byte(evil)))
				c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpClose}, []byte("\x03\xe8"+evil)))
				return writeSynth(t, 0, c)
			},
			maxRSS: 64 << 10,
			check: func(t *testing.T, out string) {
				checkTerminalSafe(t, []byte(out))
				if !strings.Contains(out, `\x1b`) {
					t.Errorf("escapes not shown:\n%s", out)
				}
			},
		},
	}
}

// TestHostileConnsTable: the conns view escapes what the handshake carries.
func TestHostileConnsTable(t *testing.T) {
	for _, tc := range hostileCases() {
		if tc.name != "terminal-escapes-and-bidi" {
			continue
		}
		out, errs, code := runWsdump(t, nil, "conns", "-r", tc.build(t))
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		checkTerminalSafe(t, []byte(out))
	}
}

// TestOverlapCounted: the assembler counts retransmitted bytes that overlap
// bytes already decoded, and a retransmission of the same range with other
// bytes as a conflict.
func TestOverlapCounted(t *testing.T) {
	c := conv(false)
	c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("first copy")))
	c.Retransmit(false, 12, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("other copy")))
	c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte("next")))
	asm := reassembly.New(nopExporter{}, reassembly.Options{})
	for _, p := range c.Packets {
		asm.Packet(1, p.Data, p.TS, len(p.Data))
	}
	asm.Finish()
	if st := asm.Stats(); st.OverlapBytes != 12 || st.OverlapSegments != 1 || st.RetransmitConflicts != 1 {
		t.Errorf("stats %+v", st)
	}
}

type nopExporter struct{}

func (nopExporter) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (nopExporter) Frame(*wsparse.Conn, *wsparse.Frame)         {}
func (nopExporter) Message(*wsparse.Conn, *wsparse.Message)     {}
func (nopExporter) End(*wsparse.Conn, *wsparse.Summary)         {}
func (nopExporter) Put(*record.Record)                          {}

// synFloodCapture writes a capture of n SYNs from distinct sources (the
// capture of go run ./bench/memgen -syns n).
func synFloodCapture(t *testing.T, n int) string {
	p, path := newRawPcap(t, 101)
	for i := 0; i < n; i++ {
		src := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		p.packet(synth.RawTCP4(src, [4]byte{192, 0, 2, 2}, uint16(1024+i%60000), 80, 1, 0, 0x02, nil), 40)
	}
	p.close(t)
	return path
}

// refusedConnects writes n connects refused by one server: a SYN from
// another client port each, answered by RST.
func refusedConnects(t *testing.T, n int) string {
	p, path := newRawPcap(t, 101)
	client, server := [4]byte{10, 0, 0, 1}, [4]byte{192, 0, 2, 2}
	for i := 0; i < n; i++ {
		port := uint16(1024 + i%60000)
		p.packet(synth.RawTCP4(client, server, port, 80, uint32(i), 0, 0x02, nil), 40)
		p.packet(synth.RawTCP4(server, client, 80, port, 0, uint32(i)+1, 0x14, nil), 40)
	}
	p.close(t)
	return path
}

// rawTCP6 is one IPv6 packet from the client (dir 0) or the server,
// carrying one TCP segment; over 64 KiB it is a jumbogram.
func rawTCP6(dir int, seq, ack uint32, payload []byte) []byte {
	addr := [2][16]byte{{0x20, 0x01, 0x0d, 0xb8, 15: 1}, {0x20, 0x01, 0x0d, 0xb8, 15: 2}}
	port := [2]uint16{40000, 80}
	b := make([]byte, 40, 68+len(payload))
	b[0], b[7] = 0x60, 64
	copy(b[8:], addr[dir][:])
	copy(b[24:], addr[1-dir][:])
	if n := 20 + len(payload); n <= 0xffff {
		binary.BigEndian.PutUint16(b[4:], uint16(n))
		b[6] = 6
	} else {
		b[6] = 0 // Hop-by-Hop: Jumbo Payload option
		b = append(b, 6, 0, 0xc2, 4)
		b = binary.BigEndian.AppendUint32(b, uint32(8+n))
	}
	tcp := synth.RawTCP4([4]byte{}, [4]byte{}, port[dir], port[1-dir], seq, ack, 0x18, payload)[20:]
	return append(b, tcp...)
}

// serverFlood writes an upgraded IPv6 connection on which the server sends
// frame n times in each of segs segments (jumbograms, RFC 2675).
func serverFlood(t *testing.T, frame []byte, n, segs int) string {
	frames := bytes.Repeat(frame, n)
	return serverSends(t, func(send func([]byte)) {
		for range segs {
			send(frames)
		}
	})
}

// serverSends writes an upgraded IPv6 connection on which the server
// sends each payload sends gives it as one segment (up to a jumbogram's
// size, RFC 2675).
func serverSends(t *testing.T, sends func(send func([]byte))) string {
	p, path := newRawPcap(t, 101)
	req := []byte(upgradeReq + "\r\n")
	resp := []byte(upgradeResp + "\r\n")
	p.packet(rawTCP6(0, 1000, 5000, req), 60+len(req))
	seg := rawTCP6(1, 5000, 1000+uint32(len(req)), resp)
	p.packet(seg, len(seg))
	seq := 5000 + uint32(len(resp))
	sends(func(payload []byte) {
		seg := rawTCP6(1, seq, 1000+uint32(len(req)), payload)
		p.packet(seg, len(seg))
		seq += uint32(len(payload))
	})
	p.close(t)
	return path
}

// TestDiffMemory: diff keeps a hash of each message, and the bytes only
// of the differences it prints: two captures of 96 MiB of messages
// compare in less than the messages of one (it took 225 MB when it kept
// every message; 61 MB since).
func TestDiffMemory(t *testing.T) {
	t.Parallel() // a subprocess: its peak RSS is its own
	if testing.Short() {
		t.Skip("heavy: skipped with -short")
	}
	// The two captures share their first 95 messages; the 96th differs
	// in its last byte. Each message is 8 segments of 128 KiB and one of
	// 10 bytes (IPv6 jumbograms, as serverFlood's): the same 96 MiB of
	// messages through reassembly, parser and diff as in 1500-byte
	// segments, which took 1.2 s of CPU to build and 1.7 s more to read.
	msg := make([]byte, 1<<20)
	for i := range msg {
		msg[i] = byte(i*7 + i>>10)
	}
	end := msg[len(msg)-1]
	write := func(last byte) string {
		return serverSends(t, func(send func([]byte)) {
			for i := range 96 {
				msg[0], msg[len(msg)-1] = byte(i), end
				if i == 95 {
					msg[len(msg)-1] = last
				}
				frame := frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: uint64(len(msg))}, msg)
				for len(frame) > 0 {
					n := min(len(frame), 128<<10)
					send(frame[:n])
					frame = frame[n:]
				}
			}
		})
	}
	a, b := write(0), write(1)
	// One run: the output is the subprocess's (a second run in-process
	// took a third of the test).
	var stdout bytes.Buffer
	rss, floor, code, errs := runMeasuredTo(t, &stdout, []string{"diff", a, b})
	t.Logf("max RSS %d KiB (%d KiB inherited at the exec)", rss, floor)
	if code != exitDiffer || !strings.Contains(errs, "diff: 1 difference") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if rss > 96<<10 {
		t.Errorf("max RSS %d KiB for 2 x 96 MiB of messages", rss)
	}
	out := stdout.String()
	if !strings.Contains(out, "conn 1 s2c message 96: binary, 1048576 B vs 1048576 B, first difference at byte 1048575") {
		t.Errorf("output:\n%s", out)
	}
}

// TestMaxConnectionsDefault: without the flag, stderr names the default
// limit, 100 000 (reassembly's TestMaxConnectionsDefault: the table holds
// that many). A flood past it takes 10 s; the million SYNs at the default
// are rows syns-1000000 of bench/memory.sh.
func TestMaxConnectionsDefault(t *testing.T) {
	var l pipeline.Limits
	var opts reassembly.Options
	l.Apply(&opts)
	if opts.MaxConnections != 0 && opts.MaxConnections != 100000 {
		t.Errorf("MaxConnections %d", opts.MaxConnections)
	}
	var b bytes.Buffer
	l.Report(&b, reassembly.Stats{Evicted: 7})
	if want := "wsdump: 7 connections ended early to stay under --max-connections 100000 "; !strings.HasPrefix(b.String(), want) {
		t.Errorf("stderr %q, want %q", b.String(), want)
	}
}
