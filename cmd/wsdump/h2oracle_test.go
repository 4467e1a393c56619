package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// h2Captures are the committed captures of WebSockets over HTTP/2: tshark
// 4.0 decodes their HTTP/2 layer but not the WebSocket inside (only its
// development builds do), so TestAgreesWithTshark passes them over and
// TestH2AgreesWithTshark compares the HTTP/2 layer instead.
func isH2Capture(file string) bool { return strings.HasPrefix(filepath.Base(file), "gen__h2") }

// TestH2AgreesWithTshark (issue 22) holds the HTTP/2 decoding against
// tshark's on every HTTP/2 capture: each extended CONNECT (method,
// :protocol, :path, :authority) and its :status, per stream, and the DATA
// bytes of each WebSocket stream per direction (tshark's frame lengths
// less padding), which must be the WebSocket bytes wsdump decoded there.
func TestH2AgreesWithTshark(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	n := 0
	for _, f := range fixtures(t) {
		if !isH2Capture(f) {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := tsharkH2(t, tshark, f)
			got := wsdumpH2(t, f)
			if len(want) == 0 {
				t.Fatal("tshark found no extended CONNECT")
			}
			var ids []string
			for id := range want {
				ids = append(ids, id)
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					ids = append(ids, id)
				}
			}
			sort.Strings(ids)
			for _, id := range ids {
				if got[id] != want[id] {
					t.Errorf("stream %s:\n wsdump %s\n tshark %s", id, got[id], want[id])
				}
			}
			t.Logf("%d WebSocket streams compared", len(want))
		})
	}
	if n == 0 {
		t.Fatal("no HTTP/2 captures")
	}
}

// wsdumpH2 describes each WebSocket stream as wsdump decodes it, by
// "conn/stream": the CONNECT, the status and the WebSocket bytes each way.
func wsdumpH2(t *testing.T, file string) map[string]string {
	out, errs, code := runWsdump(t, nil, append([]string{"-r", file, "--format", "jsonl"}, keylogArgs(file)...)...)
	if code != 0 {
		t.Fatalf("wsdump: exit %d: %s", code, errs)
	}
	hs := map[string]string{}
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Type, Method, URI, Host, Protocol string
			Conn, Stream, Status              int
			C2S, S2C                          struct {
				WireBytes    int `json:"wire_bytes"`
				SkippedBytes int `json:"skipped_bytes"`
			}
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		id := strconv.Itoa(r.Conn) + "/" + strconv.Itoa(r.Stream)
		switch r.Type {
		case "handshake":
			hs[id] = fmt.Sprintf("%s :protocol=%s %s %s -> %d", r.Method, r.Protocol, r.Host, r.URI, r.Status)
		case "conn":
			res[id] = fmt.Sprintf("%s, DATA %d/%d", hs[id], r.C2S.WireBytes+r.C2S.SkippedBytes, r.S2C.WireBytes+r.S2C.SkippedBytes)
		}
	}
	return res
}

// tsharkH2 describes each extended CONNECT stream as tshark decodes it.
// Connections are numbered as wsdump numbers them (tcp.stream + 1: both
// in order of first packet).
func tsharkH2(t *testing.T, tshark, file string) map[string]string {
	args := []string{"-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "http2", "-T", "json", "--no-duplicate-keys", "-J", "tcp http2"}
	if k := keylogFor(file); k != "" {
		args = append(args, "-o", "tls.keylog_file:"+k)
	} else if port := h2ServerPort(t, file); port != "" {
		// A server that speaks first (node) defeats tshark's heuristic.
		args = append(args, "-d", "tcp.port=="+port+",http2")
	}
	args = append(args, "-r", file)
	var out, errb bytes.Buffer
	cached, key := tsharkCached(tshark, args, file)
	if cached != nil {
		out.Write(cached.Stdout)
		if cached.Err != "" {
			t.Fatalf("tshark: %s: %s", cached.Err, cached.Stderr)
		}
	} else {
		cmd := exec.Command(tshark, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		tsharkStore(key, out.Bytes(), errb.String(), err)
		if err != nil {
			t.Fatalf("tshark: %v: %s", err, tsharkStderr(errb.String()))
		}
	}
	var pkts []struct {
		Source struct {
			Layers struct {
				TCP  map[string]any `json:"tcp"`
				HTTP any            `json:"http2"`
			} `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out.Bytes(), &pkts); err != nil {
		t.Fatalf("tshark output: %v", err)
	}
	type streamInfo struct {
		connect  string
		status   string
		data     [2]int
		isWS     bool
		haveResp bool
	}
	streams := map[string]*streamInfo{}
	var order []string
	client := map[string]string{} // tcp.stream -> the client's port (the side that sent the first HEADERS)
	for _, p := range pkts {
		tcp := p.Source.Layers.TCP
		conn, _ := tcp["tcp.stream"].(string)
		src, _ := tcp["tcp.srcport"].(string)
		for _, f := range h2Frames(p.Source.Layers.HTTP) {
			typ, _ := f["http2.type"].(string)
			sid, _ := f["http2.streamid"].(string)
			if sid == "0" || sid == "" {
				continue
			}
			n, _ := strconv.Atoi(conn)
			id := strconv.Itoa(n+1) + "/" + sid
			s := streams[id]
			if s == nil {
				s = &streamInfo{}
				streams[id] = s
				order = append(order, id)
			}
			hdr := h2Headers(f)
			if _, ok := client[conn]; !ok && typ == "1" {
				client[conn] = src
			}
			dir := 0
			if src != client[conn] {
				dir = 1
			}
			switch {
			case hdr[":protocol"] != "":
				s.isWS = true
				s.connect = fmt.Sprintf("%s :protocol=%s %s %s", hdr[":method"], hdr[":protocol"], hdr[":authority"], hdr[":path"])
			case hdr[":status"] != "" && !s.haveResp:
				s.status, s.haveResp = hdr[":status"], true
			}
			if typ == "0" {
				length, _ := strconv.Atoi(fmt.Sprint(f["http2.length"]))
				flags, _ := f["http2.flags_tree"].(map[string]any)
				if pad, ok := f["http2.pad_length"].(string); ok && flags["http2.flags.padded"] == "1" {
					pl, _ := strconv.Atoi(pad)
					length -= pl + 1
				}
				s.data[dir] += length
			}
		}
	}
	res := map[string]string{}
	for _, id := range order {
		if s := streams[id]; s.isWS {
			res[id] = fmt.Sprintf("%s -> %s, DATA %d/%d", s.connect, s.status, s.data[0], s.data[1])
		}
	}
	return res
}

// h2Frames collects the "http2.stream" objects (one per frame) of a
// packet's http2 layers, which tshark nests as a list or an object.
func h2Frames(v any) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := x["http2.stream"]; ok {
				switch y := s.(type) {
				case map[string]any:
					out = append(out, y)
				case []any:
					for _, e := range y {
						if m, ok := e.(map[string]any); ok {
							out = append(out, m)
						}
					}
				}
			}
		}
	}
	walk(v)
	return out
}

// h2Headers returns a frame's decoded header fields (the first value of
// each name).
func h2Headers(f map[string]any) map[string]string {
	h := map[string]string{}
	var add func(v any)
	add = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				add(e)
			}
		case map[string]any:
			name, _ := x["http2.header.name"].(string)
			value, _ := x["http2.header.value"].(string)
			if _, ok := h[name]; name != "" && !ok {
				h[name] = value
			}
		}
	}
	add(f["http2.header"])
	return h
}

// h2ServerPort reads the server's port from the generator's expect.json.
func h2ServerPort(t *testing.T, file string) string {
	b, err := os.ReadFile(strings.TrimSuffix(file, filepath.Ext(file)) + ".expect.json")
	if errors.Is(err, os.ErrNotExist) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Port int `json:"server_port"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Port == 0 {
		return ""
	}
	return strconv.Itoa(e.Port)
}
