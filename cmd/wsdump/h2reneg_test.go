package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestH2TLSRenegotiation: HTTP/2 over TLS 1.2 whose session renegotiates
// after the connection preface (gen__h2-tls12-reneg: openssl s_server and
// s_client carrying the HTTP/2 frames, the server renegotiating between
// two messages each way), which RFC 9113 §9.2.1 forbids, is flagged
// h2_tls_renegotiation in the WebSocket stream's conn record and lint
// WS509 (error); the messages all come out (the manifest), and tshark
// shows the HelloRequest after the preface. Until session 39 it raised
// nothing, and the stream's conn record had no tls object.
func TestH2TLSRenegotiation(t *testing.T) {
	t.Parallel()
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__h2-tls12-reneg")
	out, errs, code := runWsdump(t, nil, "-r", base+".pcap", "--keylog", base+".keys", "--format", "jsonl", "-j", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	conns := matchH2Manifest(t, base, out)
	if conns != 1 {
		t.Errorf("%d conn records, want 1", conns)
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, `{"type":"conn"`) && !strings.Contains(line, `"renegotiations":1,"anomalies":["h2_tls_renegotiation"],"h2_renegotiations":1,`) {
			t.Errorf("conn record without the renegotiation after the preface:\n%s", line)
		}
	}
	lint, _, code := runWsdump(t, nil, "lint", "-r", base+".pcap", "--keylog", base+".keys")
	if code != 3 || !strings.Contains(lint, "error     WS509 h2-tls-renegotiation") ||
		!strings.Contains(lint, "TLS 1.2 renegotiated after the HTTP/2 connection preface") {
		t.Errorf("lint exit %d:\n%s", code, lint)
	}
	// tshark: the HelloRequest comes after the first HTTP/2 frames.
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		needTshark(t)
		return
	}
	preface, hello, b := tsharkPrefaceHello(t, tshark, base)
	if preface < 0 || hello < preface {
		t.Errorf("tshark: the preface at %d, the HelloRequest at %d:\n%s", preface, hello, b)
	}
}

// TestH2TLSRenegotiationBeforePreface: the same programs, the server
// renegotiating right after the first handshake, before any HTTP/2 byte
// (gen__h2-tls12-reneg-before-preface), which RFC 9113 §9.2.1 allows: the
// renegotiation is counted, not flagged h2_tls_renegotiation, and lint
// has no WS509; tshark shows the HelloRequest before the preface.
func TestH2TLSRenegotiationBeforePreface(t *testing.T) {
	t.Parallel()
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__h2-tls12-reneg-before-preface")
	out, errs, code := runWsdump(t, nil, "-r", base+".pcap", "--keylog", base+".keys", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	conns := matchH2Manifest(t, base, out)
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, `{"type":"conn"`) && (!strings.Contains(line, `"renegotiations":1,`) || strings.Contains(line, "h2_")) {
			t.Errorf("conn record: want 1 renegotiation, not flagged:\n%s", line)
		}
	}
	if conns != 1 {
		t.Errorf("%d conn records, want 1", conns)
	}
	lint, _, code := runWsdump(t, nil, "lint", "-r", base+".pcap", "--keylog", base+".keys")
	if code != 0 || strings.Contains(lint, "WS509") {
		t.Errorf("lint exit %d:\n%s", code, lint)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		needTshark(t)
		return
	}
	preface, hello, b := tsharkPrefaceHello(t, tshark, base)
	if hello < 0 || preface < hello {
		t.Errorf("tshark: the HelloRequest at %d, the preface at %d:\n%s", hello, preface, b)
	}
}

// tsharkPrefaceHello: the order, among tshark's HTTP/2 frames and TLS
// HelloRequests of base's capture (decrypted with its key log), of the
// first frame with the connection preface (Magic) and of the HelloRequest,
// -1 where none; and tshark's lines.
func tsharkPrefaceHello(t *testing.T, tshark, base string) (preface, hello int, out []byte) {
	t.Helper()
	b, err := exec.Command(tshark, "-r", base+".pcap", "-o", "tls.keylog_file:"+base+".keys",
		"-Y", "http2 or tls.handshake.type == 0", "-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	preface, hello = -1, -1
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch {
		case strings.Contains(l, "Magic") && preface < 0:
			preface = i
		case strings.Contains(l, "Hello Request"):
			hello = i
		}
	}
	return preface, hello, b
}

// matchH2Manifest compares the messages of out (jsonl of base's capture)
// with base's manifest, by direction, and returns its conn records' count.
func matchH2Manifest(t *testing.T, base, out string) (conns int) {
	t.Helper()
	got := map[string][]string{}
	for _, r := range parseJSONL(t, out) {
		switch r.Type {
		case "message":
			data, sum := r.dataSHA256(t)
			got[r.Dir] = append(got[r.Dir], strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sum)
		case "conn":
			conns++
		}
	}
	compareByDir(t, "message", got, readManifest(t, base+".messages.tsv"))
	return conns
}
