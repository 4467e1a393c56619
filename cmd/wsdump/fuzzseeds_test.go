package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/wsparse"
)

var writeSeeds = flag.Bool("fuzzseeds", false, "write the fuzz seed corpora under each package's testdata/fuzz from testdata/pcaps")

// TestFuzzSeeds writes seed corpora for the fuzz targets from the capture
// fixtures (run with -fuzzseeds; the files are committed). Streams are cut
// to a few KiB: fuzzing wants small inputs.
func TestFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -fuzzseeds to rewrite the corpora")
	}
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.pcap*"))
	root := filepath.Join("..", "..")
	w := func(pkg, target string, values ...string) {
		body := "go test fuzz v1\n" + strings.Join(values, "\n") + "\n"
		sum := sha256.Sum256([]byte(body))
		dir := filepath.Join(root, pkg, "testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("fixture-%x", sum[:8])), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bs := func(b []byte) string { return fmt.Sprintf("[]byte(%q)", b) }
	const cut = 2 << 10
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		link, pkts, streams := firstConnection(t, path)
		c, s := streams[0][:min(len(streams[0]), cut)], streams[1][:min(len(streams[1]), cut)]
		if st.Size() <= 8<<10 {
			raw, _ := os.ReadFile(path)
			w("cmd/wsdump", "FuzzPipeline", bs(append([]byte{4 | byte(len(pkts)&1)}, raw...)))
		}
		var segs []seg
		for i, p := range pkts {
			if i >= 24 {
				break
			}
			p.data = p.data[:min(len(p.data), 512)]
			segs = append(segs, p)
		}
		w("cmd/wsdump", "FuzzPipeline", bs(append([]byte{0}, encodeScript(segs)...)))
		var np []byte
		for i, p := range rawPackets(t, path) {
			if i >= 6 {
				break
			}
			np = append(np, linkIndex(link), byte(len(p)>>8), byte(len(p)))
			np = append(np, p...)
		}
		w("reassembly", "FuzzNetworkPayload", bs(np))
		if len(c) == 0 && len(s) == 0 {
			continue
		}
		w("wsparse", "FuzzConn", bs(c), bs(s), "byte('\\x3f')")
		w("wsparse", "FuzzConnScript", bs(connScript(c, s)))
		if i := bytes.Index(s, []byte("\r\n\r\n")); i > 0 && len(s) > i+4 {
			w("wsparse", "FuzzSniff", bs(c[min(len(c), bytes.Index(c, []byte("\r\n\r\n"))+4):]), bs(s[i+4:]), "byte('\\x7f')")
		}
		for _, st := range [][]byte{c, s} {
			if i := bytes.Index(st, []byte("\r\n\r\n")); i > 0 {
				w("wsparse", "FuzzParseHead", bs(st[:i+4]), "bool(false)")
			}
		}
		// Frame headers, close payloads and compressed messages as decoded.
		rec := &seedSink{}
		conn := wsparse.NewConn(1, netip.AddrPort{}, netip.AddrPort{}, wsparse.Config{}, rec)
		conn.Feed(0, c, time.Time{})
		conn.Feed(1, s, time.Time{})
		conn.End(time.Time{})
		for i, h := range rec.headers {
			if i < 4 {
				w("wsparse", "FuzzParseHeader", bs(h))
			}
		}
		for _, p := range rec.closes {
			w("wsparse", "FuzzParseClose", bs(p))
		}
		for i, m := range rec.compressed {
			if i < 3 {
				w("wsparse", "FuzzInflate", bs(m), "bool(false)")
			}
		}
		w("health", "FuzzTracker", bs(rec.records[:min(len(rec.records), 1024)]))
	}
}

type seedSink struct {
	headers, closes, compressed [][]byte
	records                     []byte // FuzzTracker's encoding
}

func (s *seedSink) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	s.records = append(s.records, 0x00, 0, 1, byte(h.Status))
}

func (s *seedSink) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	s.headers = append(s.headers, wsparse.AppendHeader(nil, f.Header))
	if f.Opcode == wsparse.OpClose {
		s.closes = append(s.closes, bytes.Clone(f.Payload))
	}
	if f.RSV&4 != 0 && f.Fin && f.Opcode != wsparse.OpContinuation && len(f.Payload) < 2048 {
		s.compressed = append(s.compressed, bytes.Clone(f.Payload))
	}
	s.records = append(s.records, 0x10, byte(f.Dir)<<7|byte(f.Opcode), 2, byte(len(f.Payload)))
}

func (s *seedSink) Message(c *wsparse.Conn, m *wsparse.Message) {
	s.records = append(s.records, 0x20, byte(m.Dir)<<7, 3, byte(len(m.Data)))
}

func (s *seedSink) End(c *wsparse.Conn, sum *wsparse.Summary) {
	s.records = append(s.records, 0x30, 0, 5, 0x0c)
}

// connScript encodes two streams as wsparse's FuzzConnScript input (see
// runScript there): limits byte 0x3f, then chunks of up to 249 bytes.
func connScript(a, b []byte) []byte {
	out := []byte{0x3f}
	streams := [2][]byte{a, b}
	for len(streams[0]) > 0 || len(streams[1]) > 0 {
		for side := range streams {
			d := streams[side]
			if len(d) == 0 {
				continue
			}
			k := min((len(d)-1)/8, 31)
			n := min(k*8+1, len(d))
			out = append(out, byte(k<<3|side))
			out = append(out, d[:n]...)
			streams[side] = d[n:]
		}
	}
	return out
}

func linkIndex(l capture.LinkType) byte {
	for i, v := range []capture.LinkType{0, 1, 12, 14, 101, 108, 113, 228, 229, 276} {
		if v == l {
			return byte(i)
		}
	}
	return 10
}

func rawPackets(t *testing.T, path string) [][]byte {
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out [][]byte
	for {
		p, err := src.Next()
		if err != nil {
			return out
		}
		out = append(out, bytes.Clone(p.Data))
	}
}

// firstConnection returns the first TCP connection of a capture as script
// segments and as its two in-order byte streams (client first).
func firstConnection(t *testing.T, path string) (capture.LinkType, []seg, [2][]byte) {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var link capture.LinkType
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var key [2]string
	var next [2]uint32
	var started [2]bool
	var segs []seg
	var streams [2][]byte
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		link = p.Link
		ip, ok := reassembly.NetworkPayload(uint32(p.Link), p.Data)
		if !ok {
			continue
		}
		var payload []byte
		var sa, da string
		if ip[0]>>4 == 4 && ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) == nil && ip4.Protocol == layers.IPProtocolTCP {
			payload, sa, da = ip4.Payload, ip4.SrcIP.String(), ip4.DstIP.String()
		} else if ip[0]>>4 == 6 && ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) == nil && ip6.NextHeader == layers.IPProtocolTCP {
			payload, sa, da = ip6.Payload, ip6.SrcIP.String(), ip6.DstIP.String()
		}
		if payload == nil || tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) != nil {
			continue
		}
		k := fmt.Sprintf("%s:%d>%s:%d", sa, tcp.SrcPort, da, tcp.DstPort)
		if key[0] == "" {
			key[0], key[1] = k, fmt.Sprintf("%s:%d>%s:%d", da, tcp.DstPort, sa, tcp.SrcPort)
		}
		dir := -1
		for d := range key {
			if key[d] == k {
				dir = d
			}
		}
		if dir < 0 {
			continue
		}
		flags := 0
		switch {
		case tcp.SYN:
			flags = segSYN
		case tcp.RST:
			flags = segRST
		case tcp.FIN:
			flags = segFIN
		}
		segs = append(segs, seg{dir: dir, flags: flags, data: string(tcp.Payload)})
		if len(tcp.Payload) == 0 {
			continue
		}
		if !started[dir] {
			started[dir], next[dir] = true, tcp.Seq
		}
		if tcp.Seq == next[dir] {
			streams[dir] = append(streams[dir], tcp.Payload...)
			next[dir] += uint32(len(tcp.Payload))
		}
	}
	// The client is whoever sent the GET.
	if bytes.HasPrefix(streams[1], []byte("GET ")) {
		streams[0], streams[1] = streams[1], streams[0]
	}
	return link, segs, streams
}
