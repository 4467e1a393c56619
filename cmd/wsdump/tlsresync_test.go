package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tlsBoundaries is, by side (0 the client), the stream offsets at which
// tshark has each TLS record of a one-connection capture start, from its
// record lengths in stream order (records are contiguous from the
// stream's first byte).
func tlsBoundaries(t *testing.T, tshark, pcap string) [2][]int64 {
	t.Helper()
	out, err := exec.Command(tshark, "-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE", "-o", "tcp.relative_sequence_numbers:TRUE",
		"-Y", "tls", "-T", "fields", "-e", "tcp.srcport", "-e", "tls.record.length").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	client := strings.TrimPrefix(clientOf(t, pcap)[strings.LastIndexByte(clientOf(t, pcap), ':'):], ":")
	var b [2][]int64
	var at [2]int64
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) < 2 {
			continue
		}
		side := 1
		if f[0] == client {
			side = 0
		}
		for _, l := range strings.Split(f[1], ",") {
			n, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				t.Fatalf("tshark record length %q", l)
			}
			b[side] = append(b[side], at[side])
			at[side] += 5 + n
		}
	}
	return b
}

// TestWssHelloLostInsideRecord: gen__wss-go-tls13-mtu, a real TLS 1.3
// wss conversation (Go crypto/tls and gorilla on an Ethernet-sized lo)
// whose ClientHello (X25519MLKEM768: 1 518 bytes) and whose server's
// first flight each took two segments; the first segment of each side
// dropped (the committed gen__lost-wss-go-tls13-mtu-nohello, and each side
// alone): each side's bytes resume inside a record. The connection is
// listed as TLS in the table, jsonl, CSV and lint WS309, the bytes
// searched on each side before its first record are the tail of the cut
// record as tshark has the records of the whole capture (70 and 675),
// counted as skipped (tls_record_resync), every byte counted or lost,
// -j 1 = -j 2. Until then both dropped gave "no WebSocket in 91
// packets", and the server's alone "side 1: not a TLS record".
func TestWssHelloLostInsideRecord(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	dir := filepath.Join("..", "..", "testdata", "pcaps")
	pcap := filepath.Join(dir, "gen__wss-go-tls13-mtu.pcap")
	keys := filepath.Join(dir, "gen__wss-go-tls13-mtu.keys")
	bounds := tlsBoundaries(t, tshark, pcap)
	pkts := readCapture(t, pcap)
	first := [2]int{-1, -1}
	var total int64
	for i, p := range pkts {
		total += int64(p.payload)
		if p.dir >= 0 && p.payload > 0 && first[p.dir] < 0 {
			first[p.dir] = i
		}
	}
	// What tshark's records of the whole capture say is skipped: from the
	// end of the lost segment to the next record's start.
	var wantSkip [2]int64
	var lostLen [2]int
	for side, i := range first {
		lostLen[side] = pkts[i].payload
		end := int64(pkts[i].payload)
		for _, b := range bounds[side] {
			if b >= end {
				wantSkip[side] = b - end
				break
			}
		}
		if wantSkip[side] == 0 {
			t.Fatalf("side %d: the first segment (%d bytes) ends at a record boundary (%v): not the capture this test wants", side, end, bounds[side][:3])
		}
	}
	t.Logf("tshark's records of the whole capture: the loss ends %v bytes before the next record", wantSkip)
	for _, drop := range [][]int{{0, 1}, {0}, {1}} {
		t.Run(fmt.Sprintf("drop%v", drop), func(t *testing.T) {
			path := filepath.Join(dir, "gen__lost-wss-go-tls13-mtu-nohello.pcap")
			if len(drop) == 1 {
				var kept []rawPacket
				for i, p := range pkts {
					if i != first[drop[0]] {
						kept = append(kept, p)
					}
				}
				path = writeCapture(t, kept, 0)
			}
			var lost, skip [2]int64
			for _, side := range drop {
				lost[side], skip[side] = int64(lostLen[side]), wantSkip[side]
			}
			for _, withKeys := range []bool{true, false} {
				args := []string{"-r", path}
				if withKeys {
					args = append(args, "--keylog", keys)
				}
				out1, _, _ := runWsdump(t, nil, append(args, "--format", "jsonl", "-j", "1")...)
				out2, _, _ := runWsdump(t, nil, append(args, "--format", "jsonl", "-j", "2")...)
				if out1 != out2 {
					t.Errorf("-j 1 and -j 2 differ:\n%s\n%s", out1, out2)
				}
				var r struct {
					Type, Error   string
					Anomalies     []string
					ClientBytes   int64 `json:"client_bytes"`
					ServerBytes   int64 `json:"server_bytes"`
					ClientSkipped int64 `json:"client_skipped"`
					ServerSkipped int64 `json:"server_skipped"`
				}
				if n := strings.Count(out1, "\n"); n != 1 || json.Unmarshal([]byte(out1), &r) != nil || r.Type != "tls" {
					t.Fatalf("keys %v: want one tls record, got:\n%s", withKeys, out1)
				}
				if got := [2]int64{r.ClientSkipped, r.ServerSkipped}; got != skip {
					t.Errorf("keys %v: skipped %v, want %v (tshark's record boundaries)", withKeys, got, skip)
				}
				if len(r.Anomalies) != 1 || r.Anomalies[0] != "tls_record_resync" {
					t.Errorf("keys %v: anomalies %v", withKeys, r.Anomalies)
				}
				if got := r.ClientBytes + r.ServerBytes + lost[0] + lost[1]; got != total {
					t.Errorf("keys %v: bytes %d + %d + lost %v = %d, want the connection's %d", withKeys, r.ClientBytes, r.ServerBytes, lost, got, total)
				}
				if !strings.HasPrefix(r.Error, "TLS hello not captured") || !strings.Contains(r.Error, "records found again by their headers") {
					t.Errorf("keys %v: error %q", withKeys, r.Error)
				}
			}
			table, _, _ := runWsdump(t, nil, "-r", path, "--keylog", keys)
			csv, _, _ := runWsdump(t, nil, "-r", path, "--keylog", keys, "--format", "csv")
			lint, _, _ := runWsdump(t, nil, "lint", "-r", path, "--keylog", keys)
			for view, out := range map[string]string{"table": table, "csv": csv, "lint": lint} {
				if !strings.Contains(out, "TLS hello not captured") || view == "lint" && !strings.Contains(out, "WS309") {
					t.Errorf("%s:\n%s", view, out)
				}
			}
		})
	}
	// tshark on the cut capture: what it makes of the sides after the loss.
	out, err := exec.Command(tshark, "-r", filepath.Join(dir, "gen__lost-wss-go-tls13-mtu-nohello.pcap"), "-o", "tcp.reassemble_out_of_order:TRUE",
		"-Y", "tls", "-T", "fields", "-e", "tls.record.length").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tshark on the cut capture: %d TLS records (the whole capture: %d)", strings.Count(string(out), ",")+strings.Count(string(out), "\n"), len(bounds[0])+len(bounds[1]))
}

// TestWssGapInsideRecordNoKeys: gen__wss-go-tls13-mtu read without its
// key log (its records only counted), each server segment that starts
// and ends inside a record dropped in turn (a gap later in a recognised
// connection): the server's records are found again at the next record
// tshark has in the whole capture, the bytes before it counted as
// skipped. Until then the side's records were not followed past the gap.
func TestWssGapInsideRecordNoKeys(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	pcap := filepath.Join("..", "..", "testdata", "pcaps", "gen__wss-go-tls13-mtu.pcap")
	bounds := tlsBoundaries(t, tshark, pcap)
	pkts := readCapture(t, pcap)
	var isn [2]uint32
	var seen [2]bool
	for _, p := range pkts {
		if p.dir >= 0 && !seen[p.dir] {
			isn[p.dir], seen[p.dir] = p.seq+1, true // (the SYN's)
		}
	}
	inside := func(side int, off int64) (int64, bool) { // the next boundary from off, and whether off is one
		for _, b := range bounds[side] {
			if b >= off {
				return b, b == off
			}
		}
		return -1, false
	}
	tried := 0
	for i, p := range pkts {
		if p.dir != 1 || p.payload == 0 || tried >= 6 {
			continue
		}
		start := int64(p.seq - isn[1])
		end := start + int64(p.payload)
		_, atStart := inside(1, start)
		next, atEnd := inside(1, end)
		if atStart || atEnd || next < 0 || start < 3000 {
			continue
		}
		tried++
		kept := append(append([]rawPacket(nil), pkts[:i]...), pkts[i+1:]...)
		out, _, _ := runWsdump(t, nil, "-r", writeCapture(t, kept, 0), "--format", "jsonl")
		var r struct {
			ServerSkipped int64 `json:"server_skipped"`
			Anomalies     []string
		}
		if json.Unmarshal([]byte(out), &r) != nil || r.ServerSkipped != next-end {
			t.Errorf("packet %d (server bytes %d-%d): skipped %d, want %d (tshark's next record)\n%s", i+1, start, end, r.ServerSkipped, next-end, out)
		}
	}
	if tried == 0 {
		t.Fatal("no server segment inside a record")
	}
	t.Logf("%d segments dropped", tried)
}

// TestHeldStartNotTLS: plain WebSocket captures whose first data segment
// of the client (the upgrade request), of the server (the 101) or of both
// is dropped: the first bytes after the loss open no TLS record, so they
// are held while a chain of TLS record headers is searched for (none is),
// then go to the WebSocket decoder as they came. No TLS record is listed,
// no frame is invented, and the frames the loss did not touch are all
// found (but a first frame made of a payload's tail, which the bytes alone
// cannot tell), -j 1 = -j 2: the search costs the WebSocket nothing.
func TestHeldStartNotTLS(t *testing.T) {
	t.Parallel() // decodes of captures of its own
	for _, name := range lossFixtures {
		pkts, wire := loadLossFixture(t, name)
		first := [2]int{-1, -1}
		for i, p := range pkts {
			if p.dir >= 0 && p.payload > 0 && first[p.dir] < 0 {
				first[p.dir] = i
			}
		}
		for _, drop := range [][]int{{0}, {1}, {0, 1}} {
			var kept []rawPacket
			var lost [2][][2]uint32
			for i, p := range pkts {
				if p.dir >= 0 && slices.Contains(drop, p.dir) && i == first[p.dir] {
					lost[p.dir] = append(lost[p.dir], [2]uint32{p.seq, p.seq + uint32(p.payload)})
					continue
				}
				kept = append(kept, p)
			}
			pcap := captureBytes(t, kept, 0)
			r := checkLossy(t, pcap, wire, touchedBy(lost), true, false)
			if r.found+r.firstUnsure < r.untouched || r.invented > 0 {
				t.Errorf("%s drop %v: %d of %d untouched frames found (%d unsure first), %d invented", name, drop, r.found, r.untouched, r.firstUnsure, r.invented)
			}
			out1, _, _ := runWsdump(t, pcap, "-r", "-", "--format", "jsonl", "-j", "1")
			out2, _, _ := runWsdump(t, pcap, "-r", "-", "--format", "jsonl", "-j", "2")
			if out1 != out2 || strings.Contains(out1, `{"type":"tls"`) {
				t.Errorf("%s drop %v: -j 1 and -j 2 differ, or a tls record", name, drop)
			}
			t.Logf("%s drop %v: %d of %d untouched frames found, %d unsure first", name, drop, r.found, r.untouched, r.firstUnsure)
		}
	}
}

// TestHeldStartTimes: the four plain WebSocket loss fixtures with the
// first data segment of both sides dropped, whose first bytes after the
// loss are held for the TLS chain search and then passed to the decoder:
// held bytes that came late (flushed from behind the holes) are passed on
// as late, so a capture whose clock never steps back has a connection
// duration of its last_ts less its first_ts, as before the hold. Before,
// they were passed on as on time: gen__ws-node-many-small-mtu's duration
// was 0.000719 for a first_ts to last_ts of 0.000569 (a step back of the
// clock counted that the capture never made).
func TestHeldStartTimes(t *testing.T) {
	t.Parallel()
	for _, name := range lossFixtures {
		pkts, _ := loadLossFixture(t, name)
		first := [2]int{-1, -1}
		for i, p := range pkts {
			if p.dir >= 0 && p.payload > 0 && first[p.dir] < 0 {
				first[p.dir] = i
			}
		}
		var kept []rawPacket
		for i, p := range pkts {
			if i != first[0] && i != first[1] {
				kept = append(kept, p)
			}
		}
		pcap := captureBytes(t, kept, 0)
		for _, jobs := range []string{"1", "2"} {
			out, _, _ := runWsdump(t, pcap, "-r", "-", "--format", "jsonl", "-j", jobs)
			n := 0
			for line := range strings.Lines(out) {
				var r struct {
					Type     string
					FirstTS  time.Time `json:"first_ts"`
					LastTS   time.Time `json:"last_ts"`
					Duration float64
				}
				if json.Unmarshal([]byte(line), &r) != nil || r.Type != "conn" {
					continue
				}
				n++
				if want := r.LastTS.Sub(r.FirstTS).Seconds(); math.Abs(r.Duration-want) > 1e-6 {
					t.Errorf("%s -j %s: duration %.6f, want %.6f (last_ts %s less first_ts %s)", name, jobs, r.Duration, want, r.LastTS, r.FirstTS)
				}
			}
			if n == 0 {
				t.Errorf("%s -j %s: no conn record", name, jobs)
			}
		}
	}
}
