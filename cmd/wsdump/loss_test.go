package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/wsparse"
)

// Loss tests rewrite real captures the way real capture trouble does:
// segments lost, payloads cut by the snap length, a capture started late.
// The frames the damage did not touch must all still be reported, and no
// frame may be reported with bytes it did not have.

type rawPacket struct {
	ts      time.Time
	data    []byte
	wireLen int
	link    capture.LinkType
	// TCP view, for data segments.
	dir     int // 0 client to server, 1 server to client, -1 not TCP data
	seq     uint32
	payload int
	bytes   []byte // the TCP payload
}

// readCapture reads every packet of a single-connection capture and notes
// which side sent each TCP segment (the client is the side that sent SYN).
func readCapture(t *testing.T, path string) []rawPacket {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var pkts []rawPacket
	var client string
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		rp := rawPacket{ts: p.Timestamp, data: append([]byte(nil), p.Data...), wireLen: p.Length, link: p.Link, dir: -1}
		if ip, ok := reassembly.NetworkPayload(uint32(p.Link), p.Data); ok {
			var payload []byte
			var srcIP string
			if ip[0]>>4 == 4 && ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) == nil {
				payload, srcIP = ip4.Payload, ip4.SrcIP.String()
			} else if ip[0]>>4 == 6 && ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) == nil {
				payload, srcIP = ip6.Payload, ip6.SrcIP.String()
			}
			if payload != nil && tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) == nil {
				src := fmt.Sprintf("%s:%d", srcIP, tcp.SrcPort)
				if tcp.SYN && !tcp.ACK {
					client = src
				}
				rp.seq, rp.payload, rp.bytes = tcp.Seq, len(tcp.Payload), append([]byte(nil), tcp.Payload...)
				if src == client {
					rp.dir = 0
				} else {
					rp.dir = 1
				}
			}
		}
		pkts = append(pkts, rp)
	}
	return pkts
}

// writeCapture writes pkts as a pcap file in the test's temporary
// directory, for tests that run several views on the same capture.
func writeCapture(t *testing.T, pkts []rawPacket, snaplen int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := os.WriteFile(path, captureBytes(t, pkts, snaplen), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func captureBytes(t *testing.T, pkts []rawPacket, snaplen int) []byte {
	t.Helper()
	// Sized once: growing a buffer to each capture (thousands of them
	// in the loss tests) cleared megabytes of memory each time; a file
	// of each cost its creation, writing and reading.
	n := 24
	for _, p := range pkts {
		n += 16 + len(p.data)
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	w := pcapgo.NewWriter(buf)
	if err := w.WriteFileHeader(uint32(max(snaplen, 65535)), layers.LinkType(pkts[0].link)); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		data := p.data
		if snaplen > 0 && len(data) > snaplen {
			data = data[:snaplen]
		}
		w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(data), Length: p.wireLen}, data)
	}
	return buf.Bytes()
}

// wireFrame is a frame as it sits in a direction's byte stream.
type wireFrame struct {
	start, end uint32 // TCP sequence numbers
	key        string // opcode, length and unmasked payload
}

// framesOnWire walks each direction's reassembled stream from the end of
// its HTTP head and lists the frames with their sequence ranges.
func framesOnWire(t *testing.T, pkts []rawPacket) [2][]wireFrame {
	t.Helper()
	var out [2][]wireFrame
	for dir := 0; dir < 2; dir++ {
		segs := map[uint32][]byte{}
		var seqs []uint32
		for _, p := range pkts {
			if p.dir == dir && p.payload > 0 {
				if _, dup := segs[p.seq]; !dup {
					seqs = append(seqs, p.seq)
				}
				segs[p.seq] = p.bytes
			}
		}
		sort.Slice(seqs, func(i, j int) bool { return int32(seqs[i]-seqs[0]) < int32(seqs[j]-seqs[0]) })
		var stream []byte
		base := seqs[0]
		for _, s := range seqs {
			off := int(s - base)
			seg := segs[s]
			if off+len(seg) > len(stream) {
				stream = append(stream[:min(off, len(stream))], seg[max(0, len(stream)-off):]...)
			}
		}
		head := bytes.Index(stream, []byte("\r\n\r\n")) + 4
		for p := head; p < len(stream); {
			h, n := wsparse.ParseHeader(stream[p:])
			if n == 0 || h.Length > uint64(len(stream)) || p+n+int(h.Length) > len(stream) {
				break
			}
			payload := append([]byte(nil), stream[p+n:p+n+int(h.Length)]...)
			if h.Masked {
				wsparse.Unmask(h.MaskKey, 0, payload)
			}
			out[dir] = append(out[dir], wireFrame{start: base + uint32(p), end: base + uint32(p+n+int(h.Length)),
				key: fmt.Sprintf("%d/%d/%s", h.Opcode, h.Length, base64.StdEncoding.EncodeToString(payload))})
			p += n + int(h.Length)
		}
	}
	return out
}

type lossResult struct {
	untouched, found, invented, partial int
	firstUnsure                         int // bogus first frames at a late start
}

// checkLossy decodes a damaged capture and compares its frames with the
// frames of the clean one: lost[dir] holds the sequence ranges removed.
//
// With lateStart, the first frame of each direction may be made of the
// last bytes of a payload the capture missed the start of: the bytes alone
// cannot tell it from a frame (see wsparse/sniff.go). Those are counted,
// not failed.
//
// With tolerant, invented frames are counted and logged, not failed.
func checkLossy(t *testing.T, pcap []byte, wire [2][]wireFrame, touched func(dir int, f wireFrame) bool, lateStart, tolerant bool) lossResult {
	t.Helper()
	out, errs, code := runWsdump(t, pcap, "-r", "-", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	got := [2][]jsonRecord{}
	for _, r := range parseJSONLType(t, out, "frame") {
		if r.Type == "frame" {
			d := 0
			if r.Dir == "s2c" {
				d = 1
			}
			got[d] = append(got[d], r)
		}
	}
	var res lossResult
	for dir := 0; dir < 2; dir++ {
		index := map[string]bool{}
		for _, f := range wire[dir] {
			index[f.key] = true
			if !touched(dir, f) {
				res.untouched++
			}
		}
		// Reported frames, in order, against the wire frames, in order.
		w := 0
		for i, r := range got[dir] {
			key := fmt.Sprintf("%d/%d/%s", r.Opcode, r.Len, r.Payload)
			if len(r.Anomalies) > 0 && !index[key] {
				res.partial++ // marked: payload_incomplete and the like
				continue
			}
			k := w
			for k < len(wire[dir]) && wire[dir][k].key != key {
				k++
			}
			if k == len(wire[dir]) && lateStart && i == 0 {
				res.firstUnsure++
				continue
			}
			if k == len(wire[dir]) {
				res.invented++
				if tolerant {
					t.Logf("dir %d: frame %s... reported but not on the wire", dir, key[:min(len(key), 60)])
				} else {
					t.Errorf("dir %d: frame %s... reported but not on the wire", dir, key[:min(len(key), 60)])
				}
				continue
			}
			w = k
			if !touched(dir, wire[dir][w]) {
				res.found++
			}
			w++
		}
	}
	return res
}

// parseJSONLType is parseJSONL for the records of type typ only: a line
// that starts with another "type" (the jsonl view writes it first) is not
// decoded. Decoding the messages' data with the frames' payloads was a
// third of checkLossy's CPU.
func parseJSONLType(t *testing.T, out, typ string) []jsonRecord {
	t.Helper()
	var recs []jsonRecord
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, `{"type":"`); ok && !strings.HasPrefix(rest, typ+`"`) {
			continue
		}
		var r jsonRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %.200q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

var lossFixtures = []string{
	"gen__ws-node-ethernet-mtu.pcap",
	"gen__deflate-node-takeover.pcap",
	"gen__ws-node-many-small-mtu.pcap",
	"gen__ws-node-chatty-mtu.pcap",
}

// loadLossFixture reads a capture and lists its frames on the wire.
func loadLossFixture(t *testing.T, name string) ([]rawPacket, [2][]wireFrame) {
	t.Helper()
	pkts := readCapture(t, filepath.Join("..", "..", "testdata", "pcaps", name))
	if len(pkts) == 0 {
		t.Fatalf("%s: no packets", name)
	}
	return pkts, framesOnWire(t, pkts)
}

func TestRandomSegmentLoss(t *testing.T) {
	t.Parallel() // decodes of captures of its own
	for _, name := range lossFixtures {
		pkts, wire := loadLossFixture(t, name)
		for _, rate := range []float64{0.01, 0.05} {
			var total lossResult
			for seed := int64(1); seed <= 10; seed++ {
				rng := rand.New(rand.NewSource(seed))
				var kept []rawPacket
				var lost [2][][2]uint32
				for i, p := range pkts {
					// Never drop the handshake's segments: that is another test.
					if p.payload > 0 && i > 8 && rng.Float64() < rate {
						lost[p.dir] = append(lost[p.dir], [2]uint32{p.seq, p.seq + uint32(p.payload)})
						continue
					}
					kept = append(kept, p)
				}
				r := checkLossy(t, captureBytes(t, kept, 0), wire, touchedBy(lost), false, false)
				total.untouched += r.untouched
				total.found += r.found
				total.invented += r.invented
				total.partial += r.partial
			}
			pct := 100 * float64(total.found) / float64(max(total.untouched, 1))
			t.Logf("%s, %.0f%% loss: %d of %d untouched frames reported (%.2f%%), %d partial, %d invented",
				name, rate*100, total.found, total.untouched, pct, total.partial, total.invented)
			if pct < 99 {
				t.Errorf("%s, %.0f%% loss: only %.2f%% of untouched frames reported", name, rate*100, pct)
			}
		}
	}
}

// touchedBy tells which frames lost bytes, given the sequence ranges
// removed from each direction.
func touchedBy(lost [2][][2]uint32) func(dir int, f wireFrame) bool {
	return func(dir int, f wireFrame) bool {
		for _, l := range lost[dir] {
			if int32(f.start-l[1]) < 0 && int32(l[0]-f.end) < 0 {
				return true
			}
		}
		return false
	}
}

func TestSnapLength(t *testing.T) {
	t.Parallel() // decodes of captures of its own
	for _, name := range lossFixtures {
		pkts, wire := loadLossFixture(t, name)
		for _, snap := range []int{96, 200} {
			var lost [2][][2]uint32
			for _, p := range pkts {
				if p.payload > 0 && len(p.data) > snap {
					kept := max(0, p.payload-(len(p.data)-snap))
					lost[p.dir] = append(lost[p.dir], [2]uint32{p.seq + uint32(kept), p.seq + uint32(p.payload)})
				}
			}
			r := checkLossy(t, captureBytes(t, pkts, snap), wire, touchedBy(lost), false, true)
			t.Logf("%s, snap length %d: %d of %d untouched frames reported, %d partial, %d invented",
				name, snap, r.found, r.untouched, r.partial, r.invented)
			// Every segment is cut, so most frame headers are lost and each
			// direction is resynchronised at every segment start: a known
			// weak spot (see the README). What is asked: decoding goes on,
			// and wrong frames stay rare.
			if r.found == 0 {
				t.Errorf("%s, snap %d: none of %d untouched frames", name, snap, r.untouched)
			}
			if r.invented*50 > r.found+r.partial {
				t.Errorf("%s, snap %d: %d invented frames", name, snap, r.invented)
			}
		}
	}
}

func TestLateStart(t *testing.T) {
	t.Parallel() // decodes of captures of its own
	for _, name := range lossFixtures {
		pkts, wire := loadLossFixture(t, name)
		var total lossResult
		starts := 0
		for first := 6; first < len(pkts)-10; first += max(1, len(pkts)/40) {
			var lost [2][][2]uint32
			for _, p := range pkts[:first] {
				if p.payload > 0 {
					lost[p.dir] = append(lost[p.dir], [2]uint32{p.seq, p.seq + uint32(p.payload)})
				}
			}
			r := checkLossy(t, captureBytes(t, pkts[first:], 0), wire, touchedBy(lost), true, false)
			total.untouched += r.untouched
			total.found += r.found
			total.invented += r.invented
			total.firstUnsure += r.firstUnsure
			starts++
		}
		t.Logf("%s, %d late starts: %d of %d untouched frames reported, %d invented, %d bogus first frames",
			name, starts, total.found, total.untouched, total.invented, total.firstUnsure)
		if total.firstUnsure*20 > starts {
			t.Errorf("%s: a bogus first frame in %d of %d late starts", name, total.firstUnsure, starts)
		}
		if total.found*100 < total.untouched*99 {
			t.Errorf("%s: %d of %d untouched frames", name, total.found, total.untouched)
		}
	}
}
