package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests in this file hold wsdump's frame decoding against an independent
// decoder: tshark, run live on every capture in testdata/pcaps, and the
// tshark 4.0.17 decodes the public corpus ships as TSV files. Frames are
// compared per connection and direction, ordinal by ordinal, so a frame
// that one side misses or invents shows up at the exact place it happens.

// tsharkArgs are the options INDEX.md of the corpus names: without
// out-of-order reassembly tshark loses frame sync, and without a deep tree
// limit it drops frames when hundreds end in one packet. -J only trims the
// JSON to the layers read here.
var tsharkArgs = []string{
	"-o", "tcp.reassemble_out_of_order:TRUE",
	"-o", "gui.max_tree_depth:10000",
	"-Y", "websocket", "-T", "json", "-x", "--no-duplicate-keys",
	"-J", "frame ip ipv6 tcp websocket",
}

// needTshark is tshark's path. Without tshark the test is skipped, and
// fails under CI=true.
func needTshark(t *testing.T) string {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark not installed: %v", err)
		}
		t.Skipf("tshark not installed: %v", err)
	}
	return tshark
}

// oracleFrame is one WebSocket frame as either decoder reports it.
type oracleFrame struct {
	conn      int // tcp.stream for the oracle, conn for wsdump
	index     int // wsdump only: the frame's index in its direction
	src, dst  netip.AddrPort
	dir       string // c2s or s2c; wsdump only
	fin       bool
	rsv       int
	opcode    int
	masked    bool
	maskKey   string // 8 lower-case hex digits, "" when not masked
	length    uint64
	headerLen int    // implied by the 7-bit length field and the mask bit
	payload   []byte // unmasked, as sent (still compressed under RSV1)
	where     string // oracle only: the packet the frame ends in
	cut       bool   // wsdump only: not all its payload kept (payload_kept)
	ts        int64  // Unix nanoseconds: of the packet the frame ends in (tshark), the frame's ts (wsdump)
}

// headerLen is the size of a frame header with this 7-bit length field
// (RFC 6455 §5.2): 2 bytes, an extended length for 126 and 127, the key.
func headerLen(len7 uint64, masked bool) int {
	n := 2
	switch len7 {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if masked {
		n += 4
	}
	return n
}

func TestAgreesWithTshark(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	files := fixtures(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if isH2Capture(f) {
				t.Skip("WebSocket over HTTP/2: tshark 4.0 does not decode it (TestH2AgreesWithTshark compares the HTTP/2 layer)")
			}
			if filepath.Base(f) == urgentCapture+".pcap" {
				t.Skip("a connection misframed by its urgent byte ends in a frame cut by its end, which tshark does not show: TestUrgentRecorded compares the rest")
			}
			t.Parallel()
			got, wsdumpErr := runWsdumpFrames(t, f)
			// Without a handshake tshark decodes nothing unless told the
			// port (decode-as): tell it the ports wsdump found.
			ports := midstreamPorts(t, f)
			want, tsharkErr := runTshark(t, tshark, f, ports...)
			if len(ports) > 0 {
				want, got = alignMidstream(t, f, want, got)
			}
			if filepath.Base(f) == "gen__wss-openssl-0rtt-reject.pcap" {
				got = tsharkMissesAfterRejectedEarlyData(t, tshark, f, got)
			}
			// A damaged capture is fine as long as both decoders say so;
			// the frames before the damage are still compared.
			switch {
			case tsharkErr != nil && wsdumpErr != nil:
				t.Logf("both decoders report a damaged capture:\n  tshark: %v\n  wsdump: %v", tsharkErr, wsdumpErr)
			case tsharkErr != nil:
				t.Errorf("tshark fails but wsdump does not: %v", tsharkErr)
			case wsdumpErr != nil:
				t.Errorf("wsdump fails but tshark does not: %v", wsdumpErr)
			}
			n := compareFrames(t, want, got)
			t.Logf("%d frames compared", n)
		})
	}
}

func TestCorpusOracleTSV(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "oracle")
	tsvs, _ := filepath.Glob(filepath.Join(dir, "*.tsv"))
	if len(tsvs) == 0 {
		t.Skipf("no corpus oracle in %s", dir)
	}
	for _, tsv := range tsvs {
		name := strings.TrimSuffix(filepath.Base(tsv), ".tsv")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			capFile := findCapture(name,
				filepath.Join("..", "..", "testdata", "pcaps"),
				filepath.Join(dir, "..", "pcaps"))
			if capFile == "" {
				t.Skipf("no capture for %s", name)
			}
			want := readOracleTSV(t, tsv)
			got, err := runWsdumpFrames(t, capFile)
			if err != nil {
				t.Errorf("wsdump: %v", err)
			}
			n := compareFrames(t, want, got)
			t.Logf("%d frames compared", n)
		})
	}
}

func findCapture(name string, dirs ...string) string {
	for _, d := range dirs {
		for _, ext := range []string{".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"} {
			p := filepath.Join(d, name+ext)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// framesBoth returns wsdump's frames of file and tshark's (skipping
// without tshark, as needTshark does).
func framesBoth(t *testing.T, file string) (got, want []oracleFrame) {
	t.Helper()
	tshark := needTshark(t)
	got, err := runWsdumpFrames(t, file)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = runTshark(t, tshark, file); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// runWsdumpFrames runs wsdump in-process and returns its frame records,
// each of them whole (a frame whose payload was not all kept is an
// error). The error reports a non-zero exit status.
func runWsdumpFrames(t *testing.T, file string) ([]oracleFrame, error) {
	t.Helper()
	frames, err := runWsdumpFramesCut(t, file)
	for _, f := range frames {
		if f.cut {
			t.Errorf("conn %d %s frame %d: only %d of %d payload bytes kept", f.conn, f.dir, f.index, len(f.payload), f.length)
		}
	}
	return frames, err
}

// runWsdumpFramesCut is runWsdumpFrames with the frames not wholly kept
// (payload_kept: cut by the end of the capture or connection, or by a
// limit) marked cut rather than reported.
func runWsdumpFramesCut(t *testing.T, file string) ([]oracleFrame, error) {
	t.Helper()
	var out, errb bytes.Buffer
	// tshark decodes WebSocket connections: so does wsdump --no-fallback
	// (the SockJS and Engine.IO sessions over HTTP are checked against
	// their generators' records: TestFallback*).
	code := Main(append([]string{"-r", file, "--format", "jsonl", "--no-fallback"}, keylogArgs(file)...), nil, &out, &errb)
	var runErr error
	if code != 0 {
		runErr = fmt.Errorf("exit status %d: %s", code, strings.TrimSpace(errb.String()))
	}
	var frames []oracleFrame
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		var r struct {
			Type        string    `json:"type"`
			Conn        int       `json:"conn"`
			TS          time.Time `json:"ts"`
			Src         string    `json:"src"`
			Dst         string    `json:"dst"`
			Dir         string    `json:"dir"`
			Index       int       `json:"index"`
			Fin         bool      `json:"fin"`
			RSV         int       `json:"rsv"`
			Opcode      int       `json:"opcode"`
			Masked      bool      `json:"masked"`
			MaskKey     string    `json:"mask_key"`
			Len         uint64    `json:"len"`
			HeaderLen   int       `json:"header_len"`
			Payload     []byte    `json:"payload"` // base64
			PayloadKept *int      `json:"payload_kept"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("wsdump wrote a bad JSON line %.200q: %v", sc.Text(), err)
		}
		if r.Type != "frame" {
			continue
		}
		src, err1 := netip.ParseAddrPort(r.Src)
		dst, err2 := netip.ParseAddrPort(r.Dst)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("wsdump frame endpoints: %v", err)
		}
		frames = append(frames, oracleFrame{
			conn: r.Conn, src: src, dst: dst, dir: r.Dir, index: r.Index, cut: r.PayloadKept != nil,
			fin: r.Fin, rsv: r.RSV, opcode: r.Opcode, masked: r.Masked, maskKey: r.MaskKey,
			length: r.Len, headerLen: r.HeaderLen, payload: r.Payload, ts: r.TS.UnixNano(),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading wsdump output: %v", err)
	}
	return frames, runErr
}

// midstreamPorts returns the server ports of the connections wsdump
// recognised without a handshake.
func midstreamPorts(t *testing.T, file string) []uint16 {
	t.Helper()
	// The run of TestGolden's and TestDeterministic's jsonl view.
	out, _, _ := runShared(t, goldenArgs(file, "--format", "jsonl")...)
	var ports []uint16
	for _, r := range parseJSONL(t, out) {
		if r.Type == "conn" && !r.HandshakeSeen {
			if ap, err := netip.ParseAddrPort(r.Server); err == nil && !slices.Contains(ports, ap.Port()) {
				ports = append(ports, ap.Port())
			}
		}
	}
	return ports
}

// alignMidstream drops, in each direction of a connection captured without
// its handshake, the frames tshark decodes before the first one wsdump
// reports. tshark's decode-as parses from the first captured byte, which
// is in the middle of a frame when the capture started during one: what it
// reports there is the tail of a payload read as headers (compare the
// generator's manifest: TestMidStreamCapture shows every message sent
// inside the capture is decoded by wsdump). wsdump searches for the first
// frame boundary instead. From there on the two must agree frame for frame.
//
// Where tshark never reaches a frame boundary at all (a capture that began
// inside a long frame: every header it reads after that is payload), the
// direction cannot be compared with it; the generator's manifest is the
// oracle there (TestMessagesMatchManifest, TestMidStreamCapture), and the
// capture must have one.
func alignMidstream(t *testing.T, file string, want, got []oracleFrame) ([]oracleFrame, []oracleFrame) {
	t.Helper()
	first := map[[2]netip.AddrPort]oracleFrame{}
	for _, f := range got {
		k := [2]netip.AddrPort{f.src, f.dst}
		if _, ok := first[k]; !ok {
			first[k] = f
		}
	}
	var out []oracleFrame
	skipping := map[[2]netip.AddrPort]bool{}
	dropped := map[[2]netip.AddrPort]int{}
	for _, w := range want {
		k := [2]netip.AddrPort{w.src, w.dst}
		g, ok := first[k]
		if !ok {
			out = append(out, w)
			continue
		}
		if _, seen := skipping[k]; !seen {
			skipping[k] = true
		}
		if skipping[k] {
			if len(frameDiffs(w, g)) > 0 {
				dropped[k]++
				continue
			}
			skipping[k] = false
		}
		out = append(out, w)
	}
	lost := map[[2]netip.AddrPort]bool{}
	for k, n := range dropped {
		if skipping[k] {
			lost[k] = true
			t.Logf("%s -> %s: tshark never found a frame boundary (%d frames read from payload bytes); the manifest is the oracle for this direction", k[0], k[1], n)
			if _, err := os.Stat(strings.TrimSuffix(file, filepath.Ext(file)) + ".messages.tsv"); err != nil {
				t.Errorf("%s -> %s: no manifest to check this direction against", k[0], k[1])
			}
			continue
		}
		t.Logf("%s -> %s: tshark decoded %d frames before the first frame boundary (from the middle of a payload); set aside", k[0], k[1], n)
	}
	kept := got[:0:0]
	for _, g := range got {
		if !lost[[2]netip.AddrPort{g.src, g.dst}] {
			kept = append(kept, g)
		}
	}
	return out, kept
}

// runTshark decodes file with tshark. The error reports a non-zero exit
// status after which tshark still wrote a readable decode.
func runTshark(t *testing.T, tshark, file string, wsPorts ...uint16) ([]oracleFrame, error) {
	t.Helper()
	var stdout []byte
	var errb bytes.Buffer
	args := append([]string{}, tsharkArgs...)
	for _, p := range wsPorts {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,websocket", p))
	}
	if k := keylogFor(file); k != "" {
		args = append(args, "-o", "tls.keylog_file:"+k)
	}
	args = append(args, "-r", file)
	key := tsharkCacheFile(tshark, args, file)
	if kept := readKeptDecode(key); kept != nil {
		var runErr error
		if kept.Err != "" {
			runErr = fmt.Errorf("%w: %s", errors.New(kept.Err), tsharkStderr(kept.Stderr))
		}
		return kept.frames(), runErr
	}
	cached := tsharkRead(key)
	var runErr error
	if cached != nil {
		stdout = cached.Stdout // not copied: 100 MB for gen__gorilla-big
		errb.WriteString(cached.Stderr)
		if cached.Err != "" {
			runErr = errors.New(cached.Err)
		}
	} else {
		var out bytes.Buffer
		cmd := exec.Command(tshark, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		runErr = cmd.Run()
		stdout = out.Bytes()
		tsharkStore(key, stdout, errb.String(), runErr)
	}
	stderr := tsharkStderr(errb.String())
	if runErr != nil {
		runErr = fmt.Errorf("%w: %s", runErr, stderr)
	}
	if len(stdout) == 0 && runErr != nil {
		t.Fatalf("tshark: %v", runErr)
	}
	frames, err := parseTsharkJSON(stdout)
	if err != nil {
		t.Fatalf("tshark output: %v (stderr: %s)", err, stderr)
	}
	if cached != nil { // a decode is kept only of an output read back
		keepDecode(key, cached, frames)
	}
	return frames, runErr
}

// tshark's output for a capture is kept in the user's cache directory
// (wsdump-tshark), under a hash of tshark's version, its arguments and the
// bytes of the capture and of its key log, as go test keeps test results:
// tshark's start took most of TestAgreesWithTshark (a second on each of
// 70 captures). A changed capture, key log or tshark runs it again;
// WSDUMP_TSHARK_CACHE=off never reads the cache.
//
// A kept file is one line of JSON (tshark's stderr and exit error), then
// tshark's standard output as it wrote it: reading 400 MB of output back
// from base64 inside JSON took 3 of TestAgreesWithTshark's 8 s of CPU.
var (
	tsharkVersionOnce sync.Once
	tsharkVersion     []byte
)

type tsharkResult struct {
	Stdout []byte
	Stderr string
	Err    string
}

func tsharkCacheFile(tshark string, args []string, file string) string {
	if os.Getenv("WSDUMP_TSHARK_CACHE") == "off" {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	tsharkVersionOnce.Do(func() {
		tsharkVersion, _ = exec.Command(tshark, "--version").Output()
	})
	if len(tsharkVersion) == 0 {
		return ""
	}
	h := sha256.New()
	h.Write(tsharkVersion)
	// The paths of the capture and of its key log are not part of the
	// key, their bytes are: a capture a test writes to a temporary
	// directory (TestHostileHeadsAgreeWithTshark) is found again.
	keylog := keylogFor(file)
	for _, a := range args {
		a = strings.ReplaceAll(a, file, "<capture>")
		if keylog != "" {
			a = strings.ReplaceAll(a, keylog, "<keylog>")
		}
		fmt.Fprintf(h, "%q\n", a)
	}
	for _, f := range []string{file, keylog} {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return ""
		}
		h.Write(b)
	}
	return filepath.Join(dir, "wsdump-tshark", hex.EncodeToString(h.Sum(nil))+".out")
}

// tsharkCached returns the kept result of tshark with args on file (nil if
// none) and where to keep it.
func tsharkCached(tshark string, args []string, file string) (*tsharkResult, string) {
	key := tsharkCacheFile(tshark, args, file)
	return tsharkRead(key), key
}

// tsharkOutput runs tshark with args, which read file, and returns its
// standard output, kept as runTshark keeps decodes: the start of tshark
// (about a second of CPU) was most of the tunnel tests'.
func tsharkOutput(t *testing.T, tshark, file string, args ...string) []byte {
	t.Helper()
	cached, key := tsharkCached(tshark, args, file)
	if cached != nil {
		if cached.Err != "" {
			t.Fatalf("tshark: %s: %s", cached.Err, tsharkStderr(cached.Stderr))
		}
		return cached.Stdout
	}
	var errb bytes.Buffer
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	tsharkStore(key, out, errb.String(), err)
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, tsharkStderr(errb.String()))
	}
	return out
}

// tsharkRead returns the result kept under key, nil if none.
func tsharkRead(key string) *tsharkResult {
	if key == "" {
		return nil
	}
	b, err := os.ReadFile(key)
	if err != nil {
		return nil
	}
	head, stdout, ok := bytes.Cut(b, []byte("\n"))
	var r tsharkResult
	if !ok || json.Unmarshal(head, &r) != nil {
		return nil
	}
	r.Stdout = stdout
	return &r
}

func tsharkStore(key string, stdout []byte, stderr string, runErr error) {
	if key == "" {
		return
	}
	if _, ok := runErr.(*exec.ExitError); runErr != nil && !ok {
		return // tshark did not run
	}
	r := tsharkResult{Stderr: stderr}
	if runErr != nil {
		r.Err = runErr.Error()
	}
	head, err := json.Marshal(r) // one line: JSON escapes newlines
	if err != nil || os.MkdirAll(filepath.Dir(key), 0o755) != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(key), filepath.Base(key)+".*.tmp")
	if err != nil {
		return
	}
	_, err = f.Write(append(append(head, '\n'), stdout...))
	if cerr := f.Close(); err == nil && cerr == nil {
		err = os.Rename(f.Name(), key)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}

// tsharkStderr drops tshark's warning about running as root.
func tsharkStderr(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "; ")
}

// parseTsharkJSON reads the frames out of `tshark -T json -x
// --no-duplicate-keys`. A layer that occurs more than once in a packet
// (several WebSocket frames end in it, or IP in IP) is an array there.
// Values are display strings; field_raw is [hex, offset, length, bitmask,
// type], and websocket.payload_raw holds the unmasked payload as sent.
func parseTsharkJSON(b []byte) ([]oracleFrame, error) {
	type packet struct {
		Source struct {
			Layers map[string]json.RawMessage `json:"layers"`
		} `json:"_source"`
	}
	// Packet by packet: json.Unmarshal of the whole array checks all of
	// it once more before decoding (a second of TestAgreesWithTshark on
	// gen__gorilla-big's 100 MB).
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("tshark output is not an array: %v", tok)
	}
	var frames []oracleFrame
	for dec.More() {
		var p packet
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		l := p.Source.Layers
		frameLayer, err := lastLayer(l["frame"])
		if err != nil {
			return nil, fmt.Errorf("frame layer: %w", err)
		}
		number, _ := fieldString(frameLayer, "frame.number")
		where := "packet " + number
		epoch, _ := fieldString(frameLayer, "frame.time_epoch")
		ts, err := parseEpoch(epoch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		tcp, err := lastLayer(l["tcp"])
		if err != nil {
			return nil, fmt.Errorf("%s: tcp layer: %w", where, err)
		}
		// The innermost network layer carries the TCP segment.
		protos, _ := fieldString(frameLayer, "frame.protocols")
		netName, addrField := "ip", "ip"
		for _, proto := range strings.Split(protos, ":") {
			if proto == "ip" || proto == "ipv6" {
				netName, addrField = proto, proto
			}
		}
		netLayer, err := lastLayer(l[netName])
		if err != nil {
			return nil, fmt.Errorf("%s: %s layer: %w", where, netName, err)
		}
		src, err1 := tsharkEndpoint(netLayer, tcp, addrField+".src", "tcp.srcport")
		dst, err2 := tsharkEndpoint(netLayer, tcp, addrField+".dst", "tcp.dstport")
		stream, err3 := fieldInt(tcp, "tcp.stream")
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ws, err := allLayers(l["websocket"])
		if err != nil {
			return nil, fmt.Errorf("%s: websocket layer: %w", where, err)
		}
		for _, w := range ws {
			f := oracleFrame{conn: stream, src: src, dst: dst, where: where, ts: ts}
			if err := f.fromTshark(w); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			frames = append(frames, f)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, fmt.Errorf("tshark output: the array does not end: %v %v", tok, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("tshark output: data after the array: %v", err)
	}
	return frames, nil
}

// parseEpoch reads tshark's frame.time_epoch ("1795675025.436391000", or
// RFC 3339 in later versions) as Unix nanoseconds.
func parseEpoch(s string) (int64, error) {
	if strings.Contains(s, "T") {
		tm, err := time.Parse(time.RFC3339Nano, s)
		return tm.UnixNano(), err
	}
	sec, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 {
		frac = frac[:9]
	}
	frac += strings.Repeat("0", 9-len(frac))
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("frame.time_epoch %q: %w", s, err)
	}
	return a*1e9 + b, nil
}

func (f *oracleFrame) fromTshark(w map[string]json.RawMessage) error {
	fin, err1 := fieldInt(w, "websocket.fin")
	rsv, err2 := fieldInt(w, "websocket.rsv")
	opcode, err3 := fieldInt(w, "websocket.opcode")
	mask, err4 := fieldInt(w, "websocket.mask")
	len7, err5 := fieldInt(w, "websocket.payload_length")
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	f.fin, f.rsv, f.opcode, f.masked = fin == 1, rsv, opcode, mask == 1
	f.length = uint64(len7)
	f.headerLen = headerLen(f.length, f.masked)
	for _, ext := range []string{"websocket.payload_length_ext_16", "websocket.payload_length_ext_64"} {
		if _, ok := w[ext]; ok {
			s, err := fieldString(w, ext)
			if err != nil {
				return err
			}
			if f.length, err = strconv.ParseUint(s, 0, 64); err != nil {
				return fmt.Errorf("%s: %w", ext, err)
			}
		}
	}
	if f.masked {
		key, err := fieldString(w, "websocket.masking_key")
		if err != nil {
			return err
		}
		f.maskKey = strings.ReplaceAll(key, ":", "")
	}
	// An empty payload has no payload field at all.
	if raw, ok := w["websocket.payload_raw"]; ok {
		var v []json.RawMessage
		var h string
		if err := json.Unmarshal(raw, &v); err != nil || len(v) == 0 || json.Unmarshal(v[0], &h) != nil {
			return fmt.Errorf("websocket.payload_raw: unexpected %.100s", raw)
		}
		var err error
		if f.payload, err = hex.DecodeString(h); err != nil {
			return fmt.Errorf("websocket.payload_raw: %w", err)
		}
	} else if f.length > 0 {
		return fmt.Errorf("frame of %d bytes without websocket.payload_raw", f.length)
	}
	return nil
}

func tsharkEndpoint(netLayer, tcp map[string]json.RawMessage, addrField, portField string) (netip.AddrPort, error) {
	a, err := fieldString(netLayer, addrField)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%s: %w", addrField, err)
	}
	port, err := fieldInt(tcp, portField)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// allLayers decodes a layer that is an object, or an array of objects when
// it occurs several times in the packet.
func allLayers(raw json.RawMessage) ([]map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing")
	}
	if raw[0] == '[' {
		var ls []map[string]json.RawMessage
		err := json.Unmarshal(raw, &ls)
		return ls, err
	}
	var l map[string]json.RawMessage
	err := json.Unmarshal(raw, &l)
	return []map[string]json.RawMessage{l}, err
}

func lastLayer(raw json.RawMessage) (map[string]json.RawMessage, error) {
	ls, err := allLayers(raw)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, errors.New("empty")
	}
	return ls[len(ls)-1], nil
}

func fieldString(l map[string]json.RawMessage, name string) (string, error) {
	raw, ok := l[name]
	if !ok {
		return "", fmt.Errorf("no %s", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: not a single value: %.100s", name, raw)
	}
	return s, nil
}

// fieldInt parses a decimal or 0x-prefixed field.
func fieldInt(l map[string]json.RawMessage, name string) (int, error) {
	s, err := fieldString(l, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return int(n), nil
}

// readOracleTSV reads a corpus oracle file (INDEX.md of the corpus names
// the columns).
func readOracleTSV(t *testing.T, path string) []oracleFrame {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var frames []oracleFrame
	for line := 2; ; line++ {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok {
				t.Fatalf("%s: no column %s", path, name)
			}
			if i >= len(row) {
				return ""
			}
			return row[i]
		}
		num := func(name string) uint64 {
			n, err := strconv.ParseUint(get(name), 0, 64)
			if err != nil {
				t.Fatalf("%s line %d: %s: %v", path, line, name, err)
			}
			return n
		}
		endpoint := func(name string) netip.AddrPort {
			s := get(name)
			i := strings.LastIndexByte(s, ':')
			addr, err1 := netip.ParseAddr(strings.Trim(s[:max(i, 0)], "[]"))
			port, err2 := strconv.ParseUint(s[i+1:], 10, 16)
			if err := errors.Join(err1, err2); err != nil {
				t.Fatalf("%s line %d: %s %q: %v", path, line, name, s, err)
			}
			return netip.AddrPortFrom(addr, uint16(port))
		}
		payload, err := hex.DecodeString(get("payload_hex_unmasked"))
		if err != nil {
			t.Fatalf("%s line %d: payload_hex_unmasked: %v", path, line, err)
		}
		f := oracleFrame{
			conn: int(num("tcp.stream")), src: endpoint("src"), dst: endpoint("dst"),
			fin: num("websocket.fin") == 1, rsv: int(num("websocket.rsv")), opcode: int(num("websocket.opcode")),
			masked: num("websocket.mask") == 1, maskKey: strings.ReplaceAll(get("websocket.masking_key"), ":", ""),
			length: num("payload_len_effective"), payload: payload,
			where: fmt.Sprintf("packet %s (%s line %d)", get("frame.number"), filepath.Base(path), line),
		}
		f.headerLen = headerLen(num("websocket.payload_length"), f.masked)
		frames = append(frames, f)
	}
	return frames
}

// oracleFlow is one direction of one connection.
type oracleFlow struct {
	conn     int
	src, dst netip.AddrPort
}

// endpointPair names a connection by its two endpoints, in either order.
func endpointPair(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// groupFrames splits frames by direction of connection, keeping their order,
// and lists the connections of each endpoint pair in ascending number.
func groupFrames(frames []oracleFrame) (map[oracleFlow][]oracleFrame, map[[2]netip.AddrPort][]int) {
	flows := map[oracleFlow][]oracleFrame{}
	conns := map[[2]netip.AddrPort][]int{}
	for _, f := range frames {
		k := oracleFlow{f.conn, f.src, f.dst}
		flows[k] = append(flows[k], f)
		p := endpointPair(f.src, f.dst)
		if !slices.Contains(conns[p], f.conn) {
			conns[p] = append(conns[p], f.conn)
		}
	}
	for _, c := range conns {
		slices.Sort(c)
	}
	return flows, conns
}

// maxReports bounds the mismatches reported per direction, so that a lost
// frame sync does not bury the first (telling) difference.
const maxReports = 8

// compareFrames reports every difference between the oracle's frames and
// wsdump's and returns how many frames were compared. Connections are
// matched by their endpoints (the k-th oracle stream between two endpoints
// to wsdump's k-th connection between them, for reused ports), directions
// by source endpoint, frames by ordinal.
func compareFrames(t *testing.T, want, got []oracleFrame) int {
	t.Helper()
	wantFlows, wantConns := groupFrames(want)
	gotFlows, gotConns := groupFrames(got)

	pairs := make([][2]netip.AddrPort, 0, len(wantConns))
	for p := range wantConns {
		pairs = append(pairs, p)
	}
	for p := range gotConns {
		if _, ok := wantConns[p]; !ok {
			pairs = append(pairs, p)
		}
	}
	slices.SortFunc(pairs, func(a, b [2]netip.AddrPort) int {
		if c := a[0].Compare(b[0]); c != 0 {
			return c
		}
		return a[1].Compare(b[1])
	})

	compared := 0
	for _, p := range pairs {
		ws, gs := wantConns[p], gotConns[p]
		if len(ws) != len(gs) {
			t.Errorf("%s <-> %s: tshark has frames on %d connection(s) (tcp.stream %v), wsdump on %d (conn %v)",
				p[0], p[1], len(ws), ws, len(gs), gs)
		}
		for i := 0; i < max(len(ws), len(gs)); i++ {
			stream, conn := -1, -1
			if i < len(ws) {
				stream = ws[i]
			}
			if i < len(gs) {
				conn = gs[i]
			}
			// Both number TCP connections in order of first packet, tshark
			// from 0 and wsdump from 1.
			if stream >= 0 && conn >= 0 && conn != stream+1 {
				t.Errorf("%s <-> %s: wsdump numbers the connection %d, but it is TCP connection %d by first packet (tcp.stream %d)",
					p[0], p[1], conn, stream+1, stream)
			}
			for _, src := range p {
				dst := p[0]
				if src == p[0] {
					dst = p[1]
				}
				wf := wantFlows[oracleFlow{stream, src, dst}]
				gf := gotFlows[oracleFlow{conn, src, dst}]
				if len(wf) == 0 && len(gf) == 0 {
					continue
				}
				label := fmt.Sprintf("conn %d (tcp.stream %d) %s %s->%s", conn, stream, flowDir(gotFlows, conn, src, dst), src, dst)
				compared += compareFlow(t, label, wf, gf)
			}
		}
	}
	return compared
}

// flowDir names a direction as wsdump does, or "?" when wsdump has no frame
// on that connection.
func flowDir(gotFlows map[oracleFlow][]oracleFrame, conn int, src, dst netip.AddrPort) string {
	if fs := gotFlows[oracleFlow{conn, src, dst}]; len(fs) > 0 {
		return fs[0].dir
	}
	if fs := gotFlows[oracleFlow{conn, dst, src}]; len(fs) > 0 {
		switch fs[0].dir {
		case "c2s":
			return "s2c"
		case "s2c":
			return "c2s"
		}
	}
	return "?"
}

func compareFlow(t *testing.T, label string, want, got []oracleFrame) int {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: tshark has %d frames, wsdump %d", label, len(want), len(got))
	}
	n := min(len(want), len(got))
	reports := 0
	for i := 0; i < n; i++ {
		diffs := frameDiffs(want[i], got[i])
		if len(diffs) == 0 {
			continue
		}
		reports++
		if reports > maxReports {
			continue
		}
		t.Errorf("%s frame %d (tshark: %s): %s", label, i+1, want[i].where, strings.Join(diffs, "; "))
	}
	if reports > maxReports {
		t.Errorf("%s: %d more frames differ", label, reports-maxReports)
	}
	for i := n; i < len(want) && i < n+maxReports; i++ {
		t.Errorf("%s frame %d (tshark: %s): only tshark has it: %s", label, i+1, want[i].where, want[i].summary())
	}
	for i := n; i < len(got) && i < n+maxReports; i++ {
		t.Errorf("%s frame %d: only wsdump has it: %s", label, i+1, got[i].summary())
	}
	return n
}

func (f oracleFrame) summary() string {
	return fmt.Sprintf("fin=%t rsv=%d opcode=%d masked=%t key=%q len=%d payload=%s",
		f.fin, f.rsv, f.opcode, f.masked, f.maskKey, f.length, hexSnippet(f.payload, 0))
}

// frameDiffs lists the fields in which wsdump's frame differs from the
// oracle's, as "field: tshark X, wsdump Y".
func frameDiffs(want, got oracleFrame) []string {
	var d []string
	add := func(field string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s: tshark %v, wsdump %v", field, w, g))
		}
	}
	add("fin", want.fin, got.fin)
	add("rsv", want.rsv, got.rsv)
	add("opcode", want.opcode, got.opcode)
	add("masked", want.masked, got.masked)
	add("mask_key", want.maskKey, got.maskKey)
	add("len", want.length, got.length)
	add("header_len", want.headerLen, got.headerLen)
	if !bytes.Equal(want.payload, got.payload) {
		at := 0
		for at < len(want.payload) && at < len(got.payload) && want.payload[at] == got.payload[at] {
			at++
		}
		d = append(d, fmt.Sprintf("payload: %d vs %d bytes, first difference at offset %d: tshark %s, wsdump %s",
			len(want.payload), len(got.payload), at, hexSnippet(want.payload, at), hexSnippet(got.payload, at)))
	}
	return d
}

// hexSnippet shows up to 16 bytes of b from offset at.
func hexSnippet(b []byte, at int) string {
	if at >= len(b) {
		return "(end)"
	}
	end := min(at+16, len(b))
	s := hex.EncodeToString(b[at:end])
	if end < len(b) {
		s += "..."
	}
	return s
}

// tsharkMissesAfterRejectedEarlyData: in a real TLS 1.3 connection whose
// 0-RTT early data (the upgrade request) the server rejected, tshark 4.0
// decrypts the early data and shows it as a GET, which the server never
// read (a second GET follows, sent again after the handshake), and takes
// the client's two frames, sent before the 101 came, for HTTP
// continuation: it has the server's frames only. What the client sent is
// in the capture's manifest (TestWssCaptures: wsdump has all four); here
// wsdump's two client frames are set aside, and the server's compared.
func tsharkMissesAfterRejectedEarlyData(t *testing.T, tshark, f string, got []oracleFrame) []oracleFrame {
	t.Helper()
	out, err := exec.Command(tshark, "-r", f, "-o", "tls.keylog_file:"+strings.TrimSuffix(f, ".pcap")+".keys",
		"-Y", "http.request.method == \"GET\"", "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if gets := strings.Fields(string(out)); len(gets) != 2 || gets[0] != gets[1] {
		t.Errorf("tshark shows GETs on streams %q: want the rejected early data's and the one sent again, on one stream", gets)
	}
	var kept []oracleFrame
	client := 0
	for _, fr := range got {
		if fr.dir == "c2s" {
			client++
			continue
		}
		kept = append(kept, fr)
	}
	if client != 2 {
		t.Errorf("wsdump has %d client frames, want the 2 sent", client)
	}
	return kept
}
