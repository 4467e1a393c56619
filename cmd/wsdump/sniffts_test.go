package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSniffedTimesAgreeWithTshark cuts the handshake off committed
// captures (editcap -r: a capture that began mid-connection) and holds the
// time of every frame wsdump finds by searching for frame boundaries
// against tshark's, decoding the server port as WebSocket: the time of the
// packet the frame ends in (frame.time_epoch). The frames found before the
// search decided had the time of the packet it decided on. The two
// captures recorded mid-stream are held as they are.
func TestSniffedTimesAgreeWithTshark(t *testing.T) {
	tshark := needTshark(t)
	editcap := needProgram(t, "editcap")
	pcaps := filepath.Join("..", "..", "testdata", "pcaps")
	cases := []struct {
		capture, packets string // packets: editcap -r's range, "" for the whole capture
	}{
		{"gen__gorilla.pcap", "8-1000"},               // begins at a frame, three frames a packet apart
		{"gen__ws-node-ethernet-mtu.pcap", "9-201"},   // then frames over many 1 500-byte packets
		{"gen__deflate-node-nocontext.pcap", "21-90"}, // compressed messages
		{"gen__hb-stopped.pcap", "40-185"},            // heartbeats a second apart
		{"gen__ws-midstream.pcap", ""},                // recorded mid-stream
		{"gen__ws-midstream-deflate.pcap", ""},        // recorded mid-stream, compressed
		{"gen__ws-node-many-small.pcap", "9-42"},      // many small frames
		{"gen__deflate-gorilla.pcap", "13-126"},       // compressed, gorilla
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.capture, ".pcap")+"/"+tc.packets, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(pcaps, tc.capture)
			if tc.packets != "" {
				file = filepath.Join(t.TempDir(), "cut.pcap")
				if out, err := exec.Command(editcap, "-r", filepath.Join(pcaps, tc.capture), file, tc.packets).CombinedOutput(); err != nil {
					t.Fatalf("editcap: %v: %s", err, out)
				}
			}
			got, err := runWsdumpFrames(t, file)
			if err != nil {
				t.Fatal(err)
			}
			ports := midstreamPorts(t, file)
			if len(ports) == 0 {
				t.Fatal("no connection found without its handshake")
			}
			want, err := runTshark(t, tshark, file, ports...)
			if err != nil {
				t.Fatal(err)
			}
			want, got = alignMidstream(t, file, want, got)
			n := compareTimes(t, want, got)
			if n < 3 {
				t.Errorf("only %d frames compared", n)
			}
			t.Logf("%d frames' times compared", n)
		})
	}
}

// compareTimes compares, direction by direction, the frames both decoders
// report (compareFrames holds their other fields) and their times; a
// direction only tshark decodes is an error too.
func compareTimes(t *testing.T, want, got []oracleFrame) int {
	t.Helper()
	flows := func(fs []oracleFrame) map[[2]netip.AddrPort][]oracleFrame {
		m := map[[2]netip.AddrPort][]oracleFrame{}
		for _, f := range fs {
			k := [2]netip.AddrPort{f.src, f.dst}
			m[k] = append(m[k], f)
		}
		return m
	}
	wf, gf := flows(want), flows(got)
	n, bad := 0, 0
	for k, gs := range gf {
		ws := wf[k]
		if len(ws) != len(gs) {
			t.Errorf("%s -> %s: tshark has %d frames, wsdump %d", k[0], k[1], len(ws), len(gs))
		}
		for i := range min(len(ws), len(gs)) {
			n++
			w, g := ws[i], gs[i]
			if d := frameDiffs(w, g); len(d) > 0 {
				t.Errorf("%s -> %s frame %d (tshark: %s): %s", k[0], k[1], i+1, w.where, strings.Join(d, "; "))
				continue
			}
			if w.ts != g.ts {
				if bad++; bad <= maxReports {
					t.Errorf("%s -> %s frame %d (opcode %d, %d bytes; tshark: %s): wsdump %s, tshark %s (%v)", k[0], k[1], i+1, w.opcode, w.length, w.where,
						fmtNano(g.ts), fmtNano(w.ts), time.Duration(g.ts-w.ts))
				}
			}
		}
	}
	if bad > maxReports {
		t.Errorf("%d more frames at other times", bad-maxReports)
	}
	for k, ws := range wf {
		if _, ok := gf[k]; !ok {
			t.Errorf("%s -> %s: tshark has %d frames, wsdump none", k[0], k[1], len(ws))
		}
	}
	return n
}

func fmtNano(ns int64) string { return time.Unix(0, ns).UTC().Format("15:04:05.000000") }

// needProgram is an external program's path: the test is skipped without
// it, and fails under CI=true.
func needProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not installed: %v", name, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}
