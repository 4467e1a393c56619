package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// TestWssCaptures decrypts the gen__wss-* captures with the key logs beside
// them (or, for pcapng, the Decryption Secrets Blocks inside) and checks the
// WebSocket messages against the generators' manifests. TCP is followed by
// hand here (the captures are clean: no loss, no reordering, which is
// asserted), so that this test does not depend on how tlsdec is wired into
// reassembly.
func TestWssCaptures(t *testing.T) {
	caps, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__wss-*.pcap*"))
	if len(caps) == 0 {
		t.Fatal("no gen__wss-* captures")
	}
	for _, capFile := range caps {
		base := strings.TrimSuffix(strings.TrimSuffix(capFile, ".pcapng"), ".pcap")
		name := filepath.Base(base)
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each capture is decoded on its own
			keys := tlsdec.NewKeyLog()
			if f, err := os.Open(base + ".keys"); err == nil {
				k, err := tlsdec.ParseKeyLog(f)
				f.Close()
				if err != nil || k.Malformed != 0 {
					t.Fatalf("key log: %v, %d malformed", err, k.Malformed)
				}
				keys.Merge(k)
			}
			if strings.HasSuffix(capFile, ".pcapng") {
				n := readDSBKeys(t, capFile, keys)
				if n == 0 {
					t.Fatal("pcapng without a TLS Decryption Secrets Block")
				}
			}
			if keys.Len() == 0 {
				t.Fatal("no keys")
			}
			conns := readTCPStreams(t, capFile)
			want := readManifest(t, base+".messages.tsv")
			got := map[string][]string{}
			var infos []tlsdec.Info
			frames := 0
			for i, tc := range conns {
				sink := &collectSink{frames: &frames}
				ws := wsparse.NewConn(i+1, tc.addr[0], tc.addr[1], wsparse.Config{}, sink)
				tls := tlsdec.NewConn(keys, func(side int, p []byte, ts time.Time) { ws.Feed(side, p, ts) })
				if !tlsdec.Detect(tc.first()) {
					t.Errorf("conn %d: Detect false on % x", i+1, tc.first())
				}
				for _, ch := range tc.chunks {
					tls.Feed(ch.side, ch.data, ch.ts)
				}
				ws.End(tc.last)
				infos = append(infos, tls.Info())
				for dir, l := range sink.msgs {
					got[dir] = append(got[dir], l...)
				}
			}
			compareByDir(t, "message", got, want)
			checkWssInfo(t, name, infos)
			n, ok := tsharkFrames(t, capFile, base+".keys")
			switch {
			case !ok:
			case strings.Contains(name, "0rtt-reject"):
				// tshark 4.0 is wrong here: it shows the rejected early
				// data as a GET (the server never read it: two GETs), and
				// the client's two frames, sent before the 101 came, as
				// HTTP continuation: 2 frames, the server's. The manifest
				// (what the generator sent) has the client's two too.
				if n != 2 || frames != 4 {
					t.Errorf("tshark decrypts %d WebSocket frames (it misses the client's 2), we %d (want 4)", n, frames)
				}
			case n != frames:
				t.Errorf("tshark decrypts %d WebSocket frames, we %d", n, frames)
			}
		})
	}
}

// checkWssInfo holds what each capture's connections should report.
func checkWssInfo(t *testing.T, name string, infos []tlsdec.Info) {
	t.Helper()
	wantConns, version, cipher := 1, "TLS 1.3", "TLS_AES_128_GCM_SHA256"
	switch {
	case strings.Contains(name, "tls12-aes128gcm"), strings.Contains(name, "tls12-reneg"):
		version, cipher = "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	case strings.Contains(name, "tls12-aes256gcm"):
		version, cipher = "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
	case strings.Contains(name, "tls12-chacha20"):
		version, cipher = "TLS 1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
	case strings.Contains(name, "tls12-aes128cbc-sha256"):
		version, cipher = "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"
	case strings.Contains(name, "tls12-aes128cbc-sha"):
		version, cipher = "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
	case strings.Contains(name, "node-tls13-chacha20"):
		cipher = "TLS_CHACHA20_POLY1305_SHA256"
	case strings.Contains(name, "node-tls13"):
		cipher = "TLS_AES_256_GCM_SHA384"
	case strings.Contains(name, "missing-key"):
		wantConns = 2
	case strings.Contains(name, "openssl-0rtt"): // a first connection for the session ticket
		wantConns, cipher = 2, "TLS_AES_256_GCM_SHA384"
	}
	if len(infos) != wantConns {
		t.Fatalf("%d TLS connections, want %d", len(infos), wantConns)
	}
	for i, in := range infos {
		wantErr := ""
		switch {
		case strings.Contains(name, "wrong-key"):
			wantErr = "authentication failed"
		case strings.Contains(name, "missing-key") && i == 1:
			wantErr = "no key for client random"
		case strings.Contains(name, "0rtt-reject") && i == 1:
			wantErr = "the server rejected the client's 0-RTT early data: 154 bytes discarded"
		}
		alpn := "http/1.1"
		if wantErr != "" && version == "TLS 1.3" && !strings.Contains(name, "0rtt-reject") {
			alpn = "" // the server's choice is in the encrypted EncryptedExtensions
		}
		if in.Version != version || in.Cipher != cipher || in.SNI != "wsdump.test" || in.ALPN != alpn ||
			strings.Join(in.ALPNOffered, ",") != "http/1.1" || in.Client != 0 {
			t.Errorf("conn %d: %+v; want %s %s SNI wsdump.test ALPN %q (offered http/1.1) client 0", i+1, in, version, cipher, alpn)
		}
		if strings.Contains(name, "tls12-reneg") && in.Renegotiations != 2 {
			t.Errorf("conn %d: %d renegotiations, want 2", i+1, in.Renegotiations)
		}
		// Rejected early data discarded is a note, not a failure: the
		// connection is decrypted whole (until session 40 not said so).
		decrypted := wantErr == "" || strings.Contains(name, "0rtt-reject")
		if in.Decrypted != decrypted || wantErr == "" && in.Error != "" || wantErr != "" && !strings.Contains(in.Error, wantErr) {
			t.Errorf("conn %d: decrypted %v, error %q; want %v, error %q", i+1, in.Decrypted, in.Error, decrypted, wantErr)
		}
	}
}

// collectSink keeps each data message as "opcode len sha256", by direction.
type collectSink struct {
	msgs   map[string][]string
	frames *int
}

func (s *collectSink) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (s *collectSink) Frame(*wsparse.Conn, *wsparse.Frame)         { *s.frames++ }
func (s *collectSink) End(*wsparse.Conn, *wsparse.Summary)         {}
func (s *collectSink) Message(c *wsparse.Conn, m *wsparse.Message) {
	if s.msgs == nil {
		s.msgs = map[string][]string{}
	}
	sum := sha256.Sum256(m.Data)
	s.msgs[m.Dir.String()] = append(s.msgs[m.Dir.String()],
		strconv.Itoa(int(m.Opcode))+" "+strconv.Itoa(len(m.Data))+" "+hex.EncodeToString(sum[:]))
}

type tcpChunk struct {
	side int
	data []byte
	ts   time.Time
}

// tcpConn is one TCP connection's payload, chunk by chunk in packet order.
// Side 0 sent the SYN.
type tcpConn struct {
	addr   [2]netip.AddrPort
	next   [2]uint32 // next expected sequence number per side
	synced [2]bool
	chunks []tcpChunk
	last   time.Time
	start  time.Time    // the first packet (the SYN)
	fin    [2]time.Time // each side's first FIN
	rst    time.Time    // the first RST
}

// end is when the connection ended: its first RST, else the later side's
// FIN; zero when neither side ended it.
func (c *tcpConn) end() time.Time {
	if !c.rst.IsZero() {
		return c.rst
	}
	if c.fin[0].IsZero() || c.fin[1].IsZero() {
		return time.Time{}
	}
	if c.fin[1].After(c.fin[0]) {
		return c.fin[1]
	}
	return c.fin[0]
}

func (c *tcpConn) first() []byte {
	for _, ch := range c.chunks {
		if ch.side == 0 {
			return ch.data
		}
	}
	return nil
}

// readTCPStreams follows the IPv4/IPv6 TCP connections of a clean capture.
func readTCPStreams(t *testing.T, path string) []*tcpConn {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var conns []*tcpConn
	byKey := map[[2]netip.AddrPort]*tcpConn{}
	for {
		p, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ip, ok := reassembly.NetworkPayload(uint32(p.Link), p.Data)
		if !ok {
			continue
		}
		var srcIP, dstIP netip.Addr
		var seg []byte
		switch ip[0] >> 4 {
		case 4:
			ihl := int(ip[0]&0x0f) * 4
			if ip[9] != 6 {
				continue
			}
			srcIP, _ = netip.AddrFromSlice(ip[12:16])
			dstIP, _ = netip.AddrFromSlice(ip[16:20])
			seg = ip[ihl:int(binary.BigEndian.Uint16(ip[2:4]))]
		case 6:
			if ip[6] != 6 {
				continue
			}
			srcIP, _ = netip.AddrFromSlice(ip[8:24])
			dstIP, _ = netip.AddrFromSlice(ip[24:40])
			seg = ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:6]))]
		default:
			continue
		}
		from := netip.AddrPortFrom(srcIP, binary.BigEndian.Uint16(seg[0:2]))
		to := netip.AddrPortFrom(dstIP, binary.BigEndian.Uint16(seg[2:4]))
		seq := binary.BigEndian.Uint32(seg[4:8])
		flags := seg[13]
		payload := seg[int(seg[12]>>4)*4:]
		c, side := byKey[[2]netip.AddrPort{from, to}], 0
		if c == nil {
			c, side = byKey[[2]netip.AddrPort{to, from}], 1
		}
		if c == nil {
			if flags&0x02 == 0 || flags&0x10 != 0 {
				t.Fatalf("%s: segment of an unknown connection %s -> %s", path, from, to)
			}
			c, side = &tcpConn{addr: [2]netip.AddrPort{from, to}, start: p.Timestamp}, 0
			byKey[c.addr] = c
			conns = append(conns, c)
		}
		c.last = p.Timestamp
		if flags&0x04 != 0 && c.rst.IsZero() { // RST
			c.rst = p.Timestamp
		}
		if flags&0x01 != 0 && c.fin[side].IsZero() { // FIN
			c.fin[side] = p.Timestamp
		}
		if flags&0x02 != 0 { // SYN
			c.next[side], c.synced[side] = seq+1, true
			continue
		}
		if !c.synced[side] {
			t.Fatalf("%s: data before the SYN", path)
		}
		if len(payload) == 0 {
			continue
		}
		switch d := int32(seq - c.next[side]); {
		case d > 0:
			t.Fatalf("%s: %d bytes missing in %s -> %s", path, d, from, to)
		case d < 0 && int(-d) >= len(payload):
			continue // retransmission
		case d < 0:
			payload = payload[-d:]
		}
		c.chunks = append(c.chunks, tcpChunk{side: side, data: bytes.Clone(payload), ts: p.Timestamp})
		c.next[side] += uint32(len(payload))
	}
	return conns
}

// readDSBKeys merges the TLS key logs of a pcapng file's Decryption Secrets
// Blocks into keys and returns how many it found.
func readDSBKeys(t *testing.T, path string, keys *tlsdec.KeyLog) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	n := 0
	for len(b) >= 12 {
		if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a { // Section Header Block: byte-order magic
			if binary.BigEndian.Uint32(b[8:]) == 0x1a2b3c4d {
				order = binary.BigEndian
			} else {
				order = binary.LittleEndian
			}
		}
		typ, l := order.Uint32(b), int(order.Uint32(b[4:]))
		if l < 12 || l > len(b) {
			t.Fatalf("%s: bad pcapng block length %d", path, l)
		}
		if typ == tlsdec.BlockTypeDSB {
			k, err := tlsdec.ParseDSB(b[8:l-4], order)
			if err != nil {
				t.Fatal(err)
			}
			keys.Merge(k)
			n++
		}
		b = b[l:]
	}
	return n
}

// tsharkFrames counts the WebSocket frames tshark decrypts (false when
// tshark is not installed, outside CI).
func tsharkFrames(t *testing.T, capFile, keyFile string) (int, bool) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tshark not installed: %v", err)
		}
		return 0, false
	}
	args := []string{"-o", "tcp.reassemble_out_of_order:TRUE", "-o", "gui.max_tree_depth:10000"}
	if _, err := os.Stat(keyFile); err == nil {
		args = append(args, "-o", "tls.keylog_file:"+keyFile)
	}
	args = append(args, "-r", capFile, "-Y", "websocket", "-T", "fields", "-e", "websocket.opcode")
	// Kept as TestAgreesWithTshark keeps tshark's decodes (tsharkCached):
	// tshark's start took most of this test.
	var out []byte
	if cached, key := tsharkCached(tshark, args, capFile); cached != nil {
		if cached.Err != "" {
			t.Fatalf("tshark: %s", cached.Err)
		}
		out = cached.Stdout
	} else {
		var errb bytes.Buffer
		cmd := exec.Command(tshark, args...)
		cmd.Stderr = &errb
		var err error
		out, err = cmd.Output()
		tsharkStore(key, out, errb.String(), err)
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
	}
	n := 0
	for _, line := range strings.Fields(string(out)) {
		n += len(strings.Split(line, ","))
	}
	return n, true
}

// TestWssLateStart starts a real wss capture at each of its packets after
// the handshake, as tcpdump started on a long-lived connection does. A
// start whose first segment opens a TLS record lists the connection as TLS
// not decrypted, saying why; none may show a WebSocket record. Until
// session 35 only a ClientHello made a connection TLS: such a capture said
// "no WebSocket in N packets: 1 TCP connection", with --keylog given and
// nothing about TLS.
func TestWssLateStart(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__wss-go-tls13")
	pkts := readCapture(t, base+".pcap")
	listed, atRecord := 0, 0
	for first := 12; first < len(pkts)-2; first += 3 {
		out, errs, code := runWsdump(t, captureBytes(t, pkts[first:], 0), "-r", "-", "--keylog", base+".keys", "--format", "jsonl")
		if code != 0 {
			t.Fatalf("start %d: exit %d: %s", first, code, errs)
		}
		startsRecord := false
		for _, p := range pkts[first:] {
			if p.payload > 0 {
				startsRecord = tlsdec.DetectMidSession(p.bytes)
				break
			}
		}
		if startsRecord {
			atRecord++
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct{ Type, Error string }
			if line == "" {
				continue
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil || r.Type != "tls" {
				t.Errorf("start %d: %v: %.80s", first, err, line)
				continue
			}
			// Both ports ephemeral (35530, 47700): which side is the
			// client is a guess, and said.
			if r.Error != "no TLS handshake seen: capture starts after it; client guessed: the first side seen" {
				t.Errorf("start %d: %s", first, line)
			}
			listed++
		}
	}
	t.Logf("%d starts at a record, %d listed as TLS", atRecord, listed)
	if atRecord == 0 || listed < atRecord {
		t.Errorf("%d starts at a record, %d listed as TLS", atRecord, listed)
	}
}
