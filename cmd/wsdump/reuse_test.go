package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestReusedTupleAgreesWithTshark: three conversations on one 4-tuple (a
// close, a reset, new ISNs) are three connections for wsdump, numbered as
// tshark's tcp.stream + 1, with the same frames.
func TestReusedTupleAgreesWithTshark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reused.pcap")
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 0, synth.ReusedTuple("192.0.2.1:40000", "192.0.2.2:80", 3)...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := runWsdumpFrames(t, path)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[int]int{}
	for _, f := range got {
		conns[f.conn]++
	}
	if len(conns) != 3 || conns[1] != 8 || conns[2] != 6 || conns[3] != 8 {
		t.Errorf("wsdump frames by connection: %v, want 8, 6 and 8 on connections 1 to 3", conns)
	}
	tshark := needTshark(t)
	want, err := runTshark(t, tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[int]bool{}
	for _, f := range want {
		streams[f.conn] = true
	}
	if len(streams) != 3 {
		t.Errorf("tshark sees %d streams, want 3", len(streams))
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
}
