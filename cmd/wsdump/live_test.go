//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// A minimal RFC 6455 client and server over net.Conn, so the end-to-end
// test needs nothing outside the standard library.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" // RFC 6455 §1.3

// Opcodes, RFC 6455 §5.2.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

type wsFrame struct {
	fin     bool
	op      byte
	payload []byte
}

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// writeFrame writes f in one write; clients mask (RFC 6455 §5.3).
func writeFrame(w io.Writer, f wsFrame, mask bool) error {
	b0 := f.op
	if f.fin {
		b0 |= 0x80
	}
	var m byte
	if mask {
		m = 0x80
	}
	hdr := []byte{b0}
	switch n := len(f.payload); {
	case n < 126:
		hdr = append(hdr, m|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, m|126, byte(n>>8), byte(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, m|127), uint64(n))
	}
	p := f.payload
	if mask {
		var key [4]byte
		rand.Read(key[:])
		hdr = append(hdr, key[:]...)
		p = make([]byte, len(f.payload))
		for i := range p {
			p[i] = f.payload[i] ^ key[i%4]
		}
	}
	_, err := w.Write(append(hdr, p...))
	return err
}

func readFrame(r *bufio.Reader) (wsFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0f}
	n := uint64(h[1] & 0x7f)
	var ext [8]byte
	switch n {
	case 126:
		if _, err := io.ReadFull(r, ext[:2]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:2]))
	case 127:
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	if n > 1<<24 {
		return f, errors.New("frame too long")
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

// wsServer accepts WebSocket connections on 127.0.0.1 at a random port.
// With echo it sends every data frame back (pings get pongs); without, it
// only reads. A close is answered and ends the connection.
func wsServer(t testing.TB, echo bool) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveWS(c, echo)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serveWS(c net.Conn, echo bool) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		wsAccept(req.Header.Get("Sec-WebSocket-Key")))
	for {
		f, err := readFrame(br)
		if err != nil {
			return
		}
		switch {
		case f.op == opClose:
			writeFrame(c, f, false)
			return
		case f.op == opPing:
			writeFrame(c, wsFrame{fin: true, op: opPong, payload: f.payload}, false)
		case echo:
			writeFrame(c, f, false)
		}
	}
}

// wsDial connects and completes the opening handshake.
func wsDial(port int) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	fmt.Fprintf(c, "GET /chat HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", port, key)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		c.Close()
		return nil, nil, fmt.Errorf("handshake refused: %s", resp.Status)
	}
	return c, br, nil
}

// The conversation of the end-to-end test: every length encoding, a
// fragmented message, a ping and a close.
var e2eFrames = []wsFrame{
	{true, opText, []byte("hello, wsdump")},
	{true, opBinary, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 75)},
	{true, opText, bytes.Repeat([]byte("0123456789"), 7000)},
	{false, opText, []byte("frag-")},
	{true, opCont, []byte("ment")},
	{true, opPing, []byte("p")},
	{true, opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}},
}

// converse runs e2eFrames and checks every echo.
func converse(port int) error {
	c, br, err := wsDial(port)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, f := range e2eFrames {
		if err := writeFrame(c, f, true); err != nil {
			return err
		}
		got, err := readFrame(br)
		if err != nil {
			return err
		}
		want := f.op
		if want == opPing {
			want = opPong
		}
		if got.op != want || !bytes.Equal(got.payload, f.payload) {
			return fmt.Errorf("echo of %d: got op %d %d bytes", f.op, got.op, len(got.payload))
		}
	}
	return nil
}

// requireLive skips without the privilege to capture (CI runs as root, so
// there the test runs).
func requireLive(t testing.TB) {
	t.Helper()
	src, err := capture.OpenLive(capture.LiveOptions{Interface: "lo"})
	var perm *capture.PermissionError
	switch {
	case errors.As(err, &perm):
		t.Skipf("needs root or CAP_NET_RAW: %v", err)
	case errors.Is(err, capture.ErrLiveUnsupported):
		t.Skip(err)
	case err != nil:
		t.Fatal(err)
	}
	src.Close()
}

// recording wraps a live source and keeps a copy of every packet.
type recording struct {
	capture.LiveSource
	mu      sync.Mutex
	packets []capture.Packet
}

func (r *recording) Secrets() []capture.Secrets { return nil }
func (r *recording) Input() string              { return "" }

func (r *recording) Next() (capture.Packet, error) {
	p, err := r.LiveSource.Next()
	if err == nil && !p.Idle() {
		c := p
		c.Data = append([]byte(nil), p.Data...)
		r.mu.Lock()
		r.packets = append(r.packets, c)
		r.mu.Unlock()
	}
	return p, err
}

func liveDecodeOptions(out, errs io.Writer) *pipeline.ViewOptions {
	return &pipeline.ViewOptions{Out: out, Format: "jsonl", Time: "rel", Preview: 64, Input: pipeline.Input{Err: errs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
}

func TestLiveEndToEnd(t *testing.T) {
	requireLive(t)
	port := wsServer(t, true)
	dir := t.TempDir()
	pcapng := filepath.Join(dir, "live.pcapng")
	var rec *recording
	ready := make(chan struct{})
	var out, errs bytes.Buffer
	o := liveDecodeOptions(&out, &errs)
	l := &pipeline.LiveOptions{
		Interface: "lo", Ports: []string{strconv.Itoa(port)}, WriteFile: pcapng,
		Count: 2 * len(e2eFrames), // stops at the server's close
		Idle:  100 * time.Millisecond,
		Ready: func() { close(ready) },
		Open: func(opts capture.LiveOptions) (capture.LiveSource, error) {
			src, err := capture.OpenLive(opts)
			if err != nil {
				return nil, err
			}
			rec = &recording{LiveSource: src}
			return rec, nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- exitErr(pipeline.RunLiveView(ctx, o, l, []string{"tcp"})) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("runLive: %v (%s)", err, errs.String())
	}
	// Noise on another connection of another port must not show.
	wsServerNoise := wsServer(t, true)
	if err := converse(wsServerNoise); err != nil {
		t.Fatal(err)
	}
	if err := converse(port); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		t.Fatalf("capture did not stop by -c: stdout %s\nstderr %s", out.String(), errs.String())
	}
	if err != nil {
		t.Fatalf("runLive: %v (%s)", err, errs.String())
	}
	if !strings.Contains(errs.String(), "listening on lo, link-type ETHERNET, filter tcp and port "+strconv.Itoa(port)) ||
		!strings.Contains(errs.String(), " 0 dropped by kernel") {
		t.Errorf("stderr: %s", errs.String())
	}

	// Every frame, both ways, in order per direction; every data message.
	type rec2 struct {
		Type, Dir, Payload, Data string
		Opcode, Frames           int
		Fin                      bool
		Server                   string
	}
	var frames [2][]wsFrame
	var messages [2][]string
	conns := 0
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r rec2
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		d := 0
		if r.Dir == "s2c" {
			d = 1
		}
		switch r.Type {
		case "frame":
			p, _ := base64.StdEncoding.DecodeString(r.Payload)
			frames[d] = append(frames[d], wsFrame{r.Fin, byte(r.Opcode), p})
		case "message":
			m, _ := base64.StdEncoding.DecodeString(r.Data)
			messages[d] = append(messages[d], string(m))
		case "conn":
			conns++
			if !strings.HasSuffix(r.Server, ":"+strconv.Itoa(port)) {
				t.Errorf("connection to %s reported", r.Server)
			}
		}
	}
	if conns != 1 {
		t.Errorf("%d connections reported, want 1", conns)
	}
	for d, name := range []string{"c2s", "s2c"} {
		if len(frames[d]) != len(e2eFrames) {
			t.Errorf("%s: %d frames, want %d", name, len(frames[d]), len(e2eFrames))
			continue
		}
		for i, f := range e2eFrames {
			if d == 1 && f.op == opPing {
				f.op = opPong
			}
			g := frames[d][i]
			if g.fin != f.fin || g.op != f.op || !bytes.Equal(g.payload, f.payload) {
				t.Errorf("%s frame %d: fin %v op %d %d bytes, want fin %v op %d %d bytes", name, i, g.fin, g.op, len(g.payload), f.fin, f.op, len(f.payload))
			}
		}
		var data []string
		for _, m := range messages[d] {
			if m != "p" && !strings.HasSuffix(m, "bye") {
				data = append(data, m)
			}
		}
		want := []string{"hello, wsdump", string(e2eFrames[1].payload), string(e2eFrames[2].payload), "frag-ment"}
		if strings.Join(data, "|") != strings.Join(want, "|") {
			t.Errorf("%s: messages %.80q, want %.80q", name, data, want)
		}
	}

	// The -w file holds exactly the packets captured ...
	src, err := capture.Open(pcapng)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i, want := range rec.packets {
		p, err := src.Next()
		if err != nil {
			t.Fatalf("packet %d of %d: %v", i, len(rec.packets), err)
		}
		if !p.Timestamp.Equal(want.Timestamp) || p.Link != want.Link || p.Length != want.Length || !bytes.Equal(p.Data, want.Data) {
			t.Fatalf("packet %d differs: %+v, want %+v", i, p, want)
		}
	}
	if _, err := src.Next(); err != io.EOF {
		t.Errorf("after the captured packets: %v", err)
	}
	// ... and re-read with -r, it gives the same output.
	reread, rerrs, code := runWsdump(t, nil, "-r", pcapng, "--format", "jsonl")
	if code != 0 || reread != out.String() {
		t.Errorf("-r of the -w file (exit %d, %s) differs:\n%s\nlive:\n%s", code, rerrs, reread, out.String())
	}
}

// fakeLive is a LiveSource over fixed packets, then idle ticks until
// Close, as the real one behaves.
type fakeLive struct {
	packets []capture.Packet
	closed  chan struct{}
	once    sync.Once
}

func newFakeLive(packets []synth.Packet) *fakeLive {
	f := &fakeLive{closed: make(chan struct{})}
	for _, p := range packets {
		f.packets = append(f.packets, capture.Packet{Timestamp: p.TS, Link: capture.LinkEthernet, Data: p.Data, CaptureLength: len(p.Data), Length: len(p.Data)})
	}
	return f
}

func (f *fakeLive) Secrets() []capture.Secrets { return nil }
func (f *fakeLive) Input() string              { return "" }

func (f *fakeLive) Next() (capture.Packet, error) {
	select {
	case <-f.closed:
		return capture.Packet{}, io.EOF
	default:
	}
	if len(f.packets) > 0 {
		p := f.packets[0]
		f.packets = f.packets[1:]
		return p, nil
	}
	select {
	case <-f.closed:
		return capture.Packet{}, io.EOF
	case <-time.After(20 * time.Millisecond):
		return capture.Packet{Timestamp: time.Now()}, nil
	}
}

func (f *fakeLive) Close() error                      { f.once.Do(func() { close(f.closed) }); return nil }
func (f *fakeLive) LinkType() capture.LinkType        { return capture.LinkEthernet }
func (f *fakeLive) Stats() (received, dropped uint64) { return 12, 3 }
func (f *fakeLive) opener() func(capture.LiveOptions) (capture.LiveSource, error) {
	return func(capture.LiveOptions) (capture.LiveSource, error) { return f, nil }
}

// fakeConversation is an upgrade and three client frames, left open.
func fakeConversation() []synth.Packet {
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open()
	c.Send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	for _, s := range []string{"one", "two", "six"} {
		var b bytes.Buffer
		writeFrame(&b, wsFrame{true, opText, []byte(s)}, true)
		c.Send(true, b.Bytes())
	}
	return c.Packets
}

func TestLiveSIGINT(t *testing.T) {
	fake := newFakeLive(fakeConversation())
	var out, errs bytes.Buffer
	ready := make(chan struct{})
	l := &pipeline.LiveOptions{Interface: "eth0", Open: fake.opener(), Ready: func() { close(ready) }}
	done := make(chan error, 1)
	go func() {
		done <- exitErr(pipeline.RunLiveView(context.Background(), liveDecodeOptions(&out, &errs), l, nil))
	}()
	<-ready // signals are caught from here on
	time.Sleep(50 * time.Millisecond)
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runLive after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not stop the capture")
	}
	if exitCode(nil, &errs) != 0 {
		t.Error("exit status not 0")
	}
	if n := strings.Count(out.String(), `"type":"frame"`); n != 3 {
		t.Errorf("%d frames before the signal, want 3", n)
	}
	if !strings.Contains(out.String(), `"type":"conn"`) {
		t.Errorf("no connection summary after SIGINT:\n%s", out.String())
	}
	if !strings.Contains(errs.String(), "12 received by filter, 3 dropped by kernel") {
		t.Errorf("stderr: %s", errs.String())
	}
}

func TestLiveCountAndDuration(t *testing.T) {
	var out, errs bytes.Buffer
	fake := newFakeLive(fakeConversation())
	l := &pipeline.LiveOptions{Interface: "eth0", Count: 2, Open: fake.opener()}
	if err := exitErr(pipeline.RunLiveView(context.Background(), liveDecodeOptions(&out, &errs), l, nil)); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"type":"frame"`); n != 2 {
		t.Errorf("-c 2: %d frames", n)
	}
	if n := strings.Count(out.String(), `"type":"message"`); n != 2 {
		t.Errorf("-c 2: %d messages", n)
	}
	if !strings.Contains(out.String(), `"type":"conn"`) {
		t.Error("-c 2: no connection summary")
	}

	out.Reset()
	start := time.Now()
	l = &pipeline.LiveOptions{Interface: "eth0", Duration: 200 * time.Millisecond, Open: newFakeLive(nil).opener()}
	if err := exitErr(pipeline.RunLiveView(context.Background(), liveDecodeOptions(&out, &errs), l, nil)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("--duration 200ms took %v", d)
	}
}

func TestLiveFlagsValidate(t *testing.T) {
	cases := []struct {
		l    pipeline.LiveOptions
		read string
		args []string
		err  string // substring, "" for none
	}{
		{pipeline.LiveOptions{}, "x.pcap", nil, ""},
		{pipeline.LiveOptions{}, "x.pcap", []string{"extra"}, `"extra" is not a capture filter`},
		{pipeline.LiveOptions{}, "x.pcap", []string{"tcp", "port", "80"}, ""},
		{pipeline.LiveOptions{}, "", []string{"extra"}, `unknown command "extra"`},
		{pipeline.LiveOptions{Ports: []string{"80"}}, "x.pcap", nil, "--port applies to live capture"},
		{pipeline.LiveOptions{WriteFile: "o.pcapng"}, "", nil, "-w applies to live capture"},
		{pipeline.LiveOptions{Interface: "lo"}, "x.pcap", nil, "not both"},
		{pipeline.LiveOptions{Interface: "lo", Count: -1}, "", nil, "-c must not be negative"},
		{pipeline.LiveOptions{Interface: "lo"}, "", []string{"tcp", "port", "80"}, ""},
		{pipeline.LiveOptions{Interface: "lo"}, "", []string{"udp"}, "supported filters:"},
		{pipeline.LiveOptions{Interface: "lo", Hosts: []string{"10.0.0.1", "::1"}, Ports: []string{"80", "443"}}, "", []string{"src", "port", "1"}, ""},
		{pipeline.LiveOptions{Interface: "lo", Hosts: []string{"example.com"}}, "", nil, `--host "example.com"`},
		{pipeline.LiveOptions{Interface: "lo", Ports: []string{"80 or host 1.2.3.4"}}, "", nil, `--port "80 or host 1.2.3.4"`},
	}
	for _, tc := range cases {
		err := exitErr(tc.l.Validate(tc.read, tc.args))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v %q %q: %v, want %q", tc.l, tc.read, tc.args, err, tc.err)
		}
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || ee.code != exitUsage) {
			t.Errorf("%+v: not a usage error: %v", tc.l, err)
		}
	}
	l := pipeline.LiveOptions{Interface: "lo", Hosts: []string{"10.0.0.1", "::1"}, Ports: []string{"80", "443"}}
	f, _ := l.Filter([]string{"src", "port", "1"})
	if got, want := f.String(), "tcp and src port 1 and (host 10.0.0.1 or host ::1) and (port 80 or port 443)"; got != want {
		t.Errorf("filter %q, want %q", got, want)
	}
}

func TestInterfacesList(t *testing.T) {
	var out bytes.Buffer
	if err := pipeline.RunInterfaces(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "INDEX") || !strings.Contains(out.String(), "loopback") {
		t.Errorf("interfaces:\n%s", out.String())
	}
}

// frameCounter counts the frames decoded.
type frameCounter struct {
	mu     sync.Mutex
	frames int
}

func (c *frameCounter) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (c *frameCounter) Frame(*wsparse.Conn, *wsparse.Frame) {
	c.mu.Lock()
	c.frames++
	c.mu.Unlock()
}
func (c *frameCounter) Message(*wsparse.Conn, *wsparse.Message) {}
func (c *frameCounter) End(*wsparse.Conn, *wsparse.Summary)     {}

func (c *frameCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// BenchmarkLiveLoopback sends b.N small WebSocket frames over loopback as
// fast as one connection goes and reports how many the capture decoded,
// and the kernel's drops.
func BenchmarkLiveLoopback(b *testing.B) {
	requireLive(b)
	port := wsServer(b, false)
	f, _ := capture.ParseFilter("port", strconv.Itoa(port))
	src, err := capture.OpenLive(capture.LiveOptions{Interface: "lo", Filter: f, IdleInterval: 200 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	counter := &frameCounter{}
	asm := reassembly.New(record.Adapt(counter), reassembly.Options{})
	var packets int
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for {
			p, err := src.Next()
			if err != nil {
				return
			}
			if !p.Idle() {
				packets++
				asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
			}
		}
	}()
	c, _, err := wsDial(port)
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 64)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := writeFrame(c, wsFrame{true, opBinary, payload}, true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c.Close()
	// Wait for the capture to catch up: all frames, or a quiet second.
	for last, quiet := -1, time.Now(); counter.count() < b.N && time.Since(quiet) < time.Second; time.Sleep(20 * time.Millisecond) {
		if n := counter.count(); n != last {
			last, quiet = n, time.Now()
		}
	}
	src.Close()
	<-consumed
	asm.Finish()
	_, dropped := src.Stats()
	b.ReportMetric(float64(b.N), "frames-sent")
	b.ReportMetric(float64(counter.count()), "frames-seen")
	b.ReportMetric(float64(packets), "packets")
	b.ReportMetric(float64(dropped), "kernel-drops")
}
