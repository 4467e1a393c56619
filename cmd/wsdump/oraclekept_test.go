package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The frames parseTsharkJSON reads out of a kept tshark output are kept
// beside it (NAME.PARSER.frames), so that a run reads them back instead of
// parsing the JSON again: that parsing was 3.9 of TestAgreesWithTshark's
// 5.9 s of CPU (gen__gorilla-big's output alone is 100 MB). PARSER hashes
// the Go version and oracle_test.go, where the parser and oracleFrame are:
// a change to either parses again. Only a decode of an output read back
// from the cache is kept; WSDUMP_TSHARK_CACHE=off reads neither.

// keptDecode is what is kept: tshark's stderr and exit error, as kept with
// its output, and the frames parsed from that output.
type keptDecode struct {
	Stderr, Err string
	Frames      []keptFrame
}

// keptFrame is an oracleFrame, its fields exported for gob (dir is
// wsdump's only). gob gives an empty payload back as nil: frameDiffs
// compares payloads with bytes.Equal.
type keptFrame struct {
	Conn        int
	Src, Dst    netip.AddrPort
	Fin, Masked bool
	RSV, Opcode int
	MaskKey     string
	Length      uint64
	HeaderLen   int
	Payload     []byte
	Where       string
	TS          int64
}

var (
	parserHashOnce sync.Once
	parserHash     string
)

// keptDecodeFile is where the decode of the output kept under key is kept
// ("" if nowhere).
func keptDecodeFile(key string) string {
	if key == "" {
		return ""
	}
	parserHashOnce.Do(func() {
		src, err := os.ReadFile("oracle_test.go")
		if err != nil {
			return
		}
		h := sha256.New()
		h.Write([]byte(runtime.Version() + "\n"))
		h.Write(src)
		parserHash = hex.EncodeToString(h.Sum(nil))[:16]
	})
	if parserHash == "" {
		return ""
	}
	return strings.TrimSuffix(key, ".out") + "." + parserHash + ".frames"
}

func readKeptDecode(key string) *keptDecode {
	name := keptDecodeFile(key)
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	var k keptDecode
	if gob.NewDecoder(bytes.NewReader(b)).Decode(&k) != nil {
		return nil
	}
	return &k
}

func (k *keptDecode) frames() []oracleFrame {
	out := make([]oracleFrame, len(k.Frames))
	for i, f := range k.Frames {
		out[i] = oracleFrame{conn: f.Conn, src: f.Src, dst: f.Dst, fin: f.Fin, rsv: f.RSV, opcode: f.Opcode,
			masked: f.Masked, maskKey: f.MaskKey, length: f.Length, headerLen: f.HeaderLen, payload: f.Payload, where: f.Where, ts: f.TS}
	}
	return out
}

// keepDecode keeps frames, parsed from the output r kept under key.
func keepDecode(key string, r *tsharkResult, frames []oracleFrame) {
	name := keptDecodeFile(key)
	if name == "" {
		return
	}
	k := keptDecode{Stderr: r.Stderr, Err: r.Err, Frames: make([]keptFrame, len(frames))}
	for i, f := range frames {
		k.Frames[i] = keptFrame{Conn: f.conn, Src: f.src, Dst: f.dst, Fin: f.fin, RSV: f.rsv, Opcode: f.opcode,
			Masked: f.masked, MaskKey: f.maskKey, Length: f.length, HeaderLen: f.headerLen, Payload: f.payload, Where: f.where, TS: f.ts}
	}
	var b bytes.Buffer
	if gob.NewEncoder(&b).Encode(&k) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".*.tmp")
	if err != nil {
		return
	}
	_, err = tmp.Write(b.Bytes())
	if cerr := tmp.Close(); err == nil && cerr == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// wsdumpOnly are the fields of oracleFrame that only wsdump's frames set:
// a kept tshark decode has none.
var wsdumpOnly = map[string]bool{"dir": true, "index": true, "cut": true}

// TestKeptDecodeRoundTrip: a kept decode gives back the frames kept, every
// field of oracleFrame but wsdump's (wsdumpOnly). A field added to
// oracleFrame and not to keptFrame fails it.
func TestKeptDecodeRoundTrip(t *testing.T) {
	full := oracleFrame{conn: 3, src: netip.MustParseAddrPort("192.0.2.1:40000"), dst: netip.MustParseAddrPort("[2001:db8::2]:443"),
		fin: true, rsv: 4, opcode: 2, masked: true, maskKey: "0a0b0c0d", length: 70000, headerLen: 14,
		payload: []byte("payload"), where: "packet 7", ts: 1795675025436391000}
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		if name := v.Type().Field(i).Name; !wsdumpOnly[name] && v.Field(i).IsZero() {
			t.Fatalf("oracleFrame.%s is not set here: is it kept (keptFrame)?", name)
		}
	}
	want := []oracleFrame{full, {conn: 1, opcode: 9, where: "packet 8", payload: []byte{}}}
	key := filepath.Join(t.TempDir(), "x.out")
	keepDecode(key, &tsharkResult{Stderr: "warning\n", Err: "exit status 2"}, want)
	k := readKeptDecode(key)
	if k == nil {
		t.Fatal("nothing kept")
	}
	if k.Stderr != "warning\n" || k.Err != "exit status 2" {
		t.Errorf("stderr %q, err %q", k.Stderr, k.Err)
	}
	got := k.frames()
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !bytes.Equal(w.payload, g.payload) {
			t.Errorf("frame %d: payload %q, want %q", i, g.payload, w.payload)
		}
		w.payload, g.payload = nil, nil
		if !reflect.DeepEqual(w, g) {
			t.Errorf("frame %d: %+v, want %+v", i, g, w)
		}
	}
}
