package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// FuzzPipeline runs bytes through everything a capture goes through:
// capture reader (or packets built from a script), link and TCP decoding,
// reassembly, the WebSocket decoder, the health tracker and an exporter.
// The first byte picks the mode: bit 0 table or jsonl, bit 1 messages,
// bit 2 the input is a capture file rather than a segment script (see
// scriptPackets), bit 3 forces port 80 as WebSocket. Nothing may panic,
// jsonl lines must be JSON, and the table must hold no raw control
// characters.
func FuzzPipeline(f *testing.F) {
	for _, name := range []string{"zeek__two-binary-fragments.pcap", "zeek-pr5646__websocket_compressed.pcap",
		"suricata-verify__websocket__basic_websockets.pcap", "zeek__reply-ping-coalesced.pcap"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pcaps", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{4 | 1}, b...))
	}
	req := "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	text := append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 9}), "\x1b[2Jhi\u202e!"...)
	bomb := append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpBinary, Length: 9}), 0xed, 0xc1, 0x01, 0x0d, 0, 0, 0, 0xc2, 0xa0)
	segs := []seg{{flags: segSYN}, {dir: 1, flags: segSYN}, {data: req}, {dir: 1, data: resp}, {dir: 1, data: string(text)},
		{dir: 1, data: string(bomb)}, {dir: 1, data: "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"}, {dir: 1, mode: 1, back: 3, data: "abc"},
		{dir: 1, mode: 2, back: 40, data: "\x88\x02\x03\xe8"}, {flags: segFIN}, {dir: 1, flags: segRST}}
	f.Add(append([]byte{0}, encodeScript(segs)...))
	f.Add(append([]byte{1 | 2}, encodeScript(segs)...))
	f.Add(append([]byte{8}, encodeScript(segs[2:])...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		runPipeline(t, in[0], in[1:])
	})
}

func runPipeline(t *testing.T, mode byte, in []byte) {
	var out bytes.Buffer
	format := "table"
	if mode&1 != 0 {
		format = "jsonl"
	}
	exp, err := report.New(&out, report.Options{Format: format, Preview: 24, Messages: mode&2 != 0})
	if err != nil {
		t.Fatal(err)
	}
	tr := health.New(&record.FromWS{Out: exp}, health.Options{})
	// Small limits, so that fuzzing reaches every limit's path.
	opts := reassembly.Options{
		Decoder: wsparse.Config{MaxPayload: 1 << 12, MaxMessage: 1 << 12, MaxHTTPHeader: 1 << 11,
			MaxPending: 1 << 12, MaxSniff: 1 << 13},
		MaxBufferedPagesPerConnection: 64, MaxBufferedPagesTotal: 256, MaxConnections: 3}
	if mode&8 != 0 {
		opts.WSPorts = []uint16{80}
	}
	asm := reassembly.New(teeSink{tr, exp}, opts)
	if mode&4 != 0 {
		src, err := capture.NewReader(bytes.NewReader(in))
		if err != nil {
			return
		}
		for range 5000 {
			p, err := src.Next()
			if err != nil {
				break
			}
			asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
		}
		src.Close()
	} else {
		for _, p := range scriptPackets(in) {
			asm.Packet(101, p.data, p.ts, len(p.data))
		}
	}
	asm.Finish()
	if err := exp.Close(); err != nil {
		t.Fatal(err)
	}
	r := tr.Report()
	if err := report.WriteHealthJSONL(io.Discard, r, health.Options{}); err != nil {
		t.Fatal(err)
	}
	var ht bytes.Buffer
	if err := report.WriteConnsTable(&ht, r, report.ConnsTableOptions{}); err != nil {
		t.Fatal(err)
	}
	checkTerminalSafe(t, ht.Bytes())
	if format == "jsonl" {
		for _, line := range bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				t.Fatalf("not JSON: %q", line)
			}
		}
		return
	}
	checkTerminalSafe(t, out.Bytes())
}

// checkTerminalSafe fails on control characters, C1 controls and bidi
// controls in table output, and on bytes that are not UTF-8.
func checkTerminalSafe(t *testing.T, out []byte) {
	t.Helper()
	for _, r := range string(out) {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			t.Fatalf("raw control character %U in table output:\n%q", r, out)
		}
	}
	if !utf8.Valid(out) {
		t.Fatalf("table output is not UTF-8: %q", out)
	}
}

// teeSink feeds the health tracker and the exporter (which also takes TLS
// connections), as wsdump conns and the main command do.
type teeSink struct {
	tr  *health.Tracker
	exp report.Exporter
}

func (s teeSink) Put(r *record.Record) {
	if r.Kind == record.TLS {
		s.exp.Put(r)
		return
	}
	record.ToWS(s.tr, r)
}

// A segment script: each segment is a control byte, a length byte and the
// payload. Control: bit 0 the direction (1: server to client), bits 1-2
// flags (1 SYN, 2 FIN, 3 RST), bits 3-4 the sequence (0 next, 1 overlap back
// by d bytes, 2 skip d bytes forward: a hole, 3 wait 3 s first), bits 5-7
// give d = 4^k. Each segment is 10 ms after the previous one.
type seg struct {
	dir, flags, mode, back int
	data                   string
}

const (
	segSYN = 1
	segFIN = 2
	segRST = 3
)

func encodeScript(segs []seg) []byte {
	var b []byte
	for _, s := range segs {
		k := 0
		for d := 1; d < s.back; d *= 4 {
			k++
		}
		data := s.data
		for first := true; first || len(data) > 0; first = false {
			n := min(len(data), 255)
			b = append(b, byte(s.dir|s.flags<<1|s.mode<<3|k<<5), byte(n))
			b = append(b, data[:n]...)
			data = data[n:]
			s.mode, s.flags, k = 0, 0, 0
		}
	}
	return b
}

type rawPkt struct {
	ts   time.Time
	data []byte
}

// scriptPackets builds IPv4 packets (LINKTYPE_RAW) from a segment script,
// between 10.0.0.1:50000 and 10.0.0.2:80.
func scriptPackets(in []byte) []rawPkt {
	var pkts []rawPkt
	seq := [2]uint32{1000, 9000}
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for len(in) >= 2 && len(pkts) < 4096 {
		ctl, n := in[0], min(int(in[1]), len(in)-2)
		payload := in[2 : 2+n]
		in = in[2+n:]
		dir := int(ctl & 1)
		d := uint32(1) << (2 * (ctl >> 5))
		s := seq[dir]
		switch ctl >> 3 & 3 {
		case 1:
			s -= d
		case 2:
			s += d
			seq[dir] += d
		case 3:
			ts = ts.Add(3 * time.Second)
		}
		flags := byte(0x10) // ACK
		switch ctl >> 1 & 3 {
		case segSYN:
			flags = 0x02
			if dir == 1 {
				flags |= 0x10
			}
		case segFIN:
			flags |= 0x01
		case segRST:
			flags |= 0x04
		}
		if n > 0 {
			flags |= 0x08 // PSH
		}
		pkts = append(pkts, rawPkt{ts: ts, data: ipv4TCP(dir, s, seq[1-dir], flags, payload)})
		if ctl>>3&3 != 1 {
			seq[dir] = s + uint32(n)
			if flags&0x03 != 0 {
				seq[dir]++
			}
		}
		ts = ts.Add(10 * time.Millisecond)
	}
	return pkts
}

func ipv4TCP(dir int, seq, ack uint32, flags byte, payload []byte) []byte {
	addrs := [2][4]byte{{10, 0, 0, 1}, {10, 0, 0, 2}}
	ports := [2]uint16{50000, 80}
	b := make([]byte, 40, 40+len(payload))
	b[0], b[8], b[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(b[2:], uint16(40+len(payload)))
	copy(b[12:16], addrs[dir][:])
	copy(b[16:20], addrs[1-dir][:])
	binary.BigEndian.PutUint16(b[20:], ports[dir])
	binary.BigEndian.PutUint16(b[22:], ports[1-dir])
	binary.BigEndian.PutUint32(b[24:], seq)
	binary.BigEndian.PutUint32(b[28:], ack)
	b[32], b[33] = 5<<4, flags
	binary.BigEndian.PutUint16(b[34:], 65535)
	return append(b, payload...)
}
