package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// h2Expect is what the HTTP/2 generator (testdata/gen/h2-connect.js)
// recorded of a capture: its WebSocket streams, their messages, and the
// ordinary requests.
type h2Expect struct {
	Streams []struct {
		Name        string
		StreamID    int `json:"stream_id"`
		Request     map[string]string
		Status      int
		Subprotocol *string
		Extensions  *string
		End         struct{ How, By, CodeName string } `json:"-"`
		EndRaw      map[string]any                     `json:"end"`
		Messages    map[string]int
	}
	Requests []struct {
		Path     string
		StreamID int `json:"stream_id"`
		Status   int
	}
	GoAway   *struct{ Code int } `json:"goaway"`
	Messages []struct {
		StreamID int `json:"stream_id"`
		Dir      string
		Opcode   int
		Len      int
		SHA256   string
	}
}

func readH2Expect(t *testing.T, path string) *h2Expect {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e h2Expect
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Streams) == 0 || len(e.Messages) == 0 {
		t.Fatalf("%s: no streams or messages", path)
	}
	return &e
}

// byStream is "opcode len sha256" (or "opcode len") per "stream dir".
func (e *h2Expect) byStream(sums bool) map[string][]string {
	m := map[string][]string{}
	for _, x := range e.Messages {
		v := strconv.Itoa(x.Opcode) + " " + strconv.Itoa(x.Len)
		if sums {
			v += " " + x.SHA256
		}
		k := strconv.Itoa(x.StreamID) + " " + x.Dir
		m[k] = append(m[k], v)
	}
	return m
}

// ordinary counts the requests that were not extended CONNECTs (the
// browser's generator lists both).
func (e *h2Expect) ordinary() int {
	n := 0
	for _, r := range e.Requests {
		ws := false
		for _, s := range e.Streams {
			ws = ws || s.StreamID == r.StreamID
		}
		if !ws {
			n++
		}
	}
	return n
}

// streamEnd is the Summary.StreamEnd the generator's record of a stream's
// end implies.
func (e *h2Expect) streamEnd(i int) string {
	end := e.Streams[i].EndRaw
	how, _ := end["how"].(string)
	switch {
	case strings.Contains(how, "END_STREAM"):
		return "end_stream"
	case how == "RST_STREAM":
		return "rst_stream " + end["code_name"].(string)
	case strings.HasPrefix(how, "GOAWAY"):
		return "goaway NO_ERROR"
	}
	return "?" + how
}

// compareKeyed compares per-key lists in order.
func compareKeyed(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		if len(got[k]) != len(want[k]) {
			t.Errorf("stream %s: %d %ss, generator recorded %d", k, len(got[k]), what, len(want[k]))
			continue
		}
		for i := range got[k] {
			if got[k][i] != want[k][i] {
				t.Errorf("stream %s %s %d:\n got %s\nwant %s", k, what, i+1, got[k][i], want[k][i])
			}
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestH2EveryView (issue 22): on the real captures of WebSockets over
// HTTP/2 (node's http2 with enableConnectProtocol; h2c prior knowledge and
// TLS 1.3 with ALPN h2 and a key log), every view shows each WebSocket
// stream as connection/stream, and every message equals what the
// generator sent on that stream: main view (jsonl), --messages, conns,
// lint, follow and export.
func TestH2EveryView(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gen__h2c-connect", "gen__h2-tls-connect", "gen__h2c-connect-padded", "gen__h2-browser"} {
		t.Run(name, func(t *testing.T) { checkH2Views(t, "../../testdata/pcaps/"+name) })
	}
}

func checkH2Views(t *testing.T, base string) {
	exp := readH2Expect(t, base+".expect.json")
	capFile := base + ".pcap"
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		out, errs, code := runWsdump(t, nil, append(append([]string{}, args...), keylogArgs(capFile)...)...)
		if code != 0 {
			t.Fatalf("wsdump %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	opcodes := map[string]string{"text": "1", "binary": "2"}

	t.Run("main view", func(t *testing.T) {
		got := map[string][]string{}
		hs := map[int]string{}
		ends := map[int]string{}
		for _, l := range strings.Split(strings.TrimSpace(run(t, "-r", capFile, "--format", "jsonl")), "\n") {
			var r struct {
				Type, Dir, Data, URI, Protocol, StreamEnd, End string
				HTTPVersion                                    string `json:"http_version"`
				Conn, Stream, Opcode, Status                   int
				SE                                             string `json:"stream_end"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			if r.Stream == 0 && r.Type != "tls" {
				t.Errorf("record without a stream: %s", l)
			}
			switch r.Type {
			case "message":
				data, err := base64.StdEncoding.DecodeString(r.Data)
				if err != nil {
					t.Fatal(err)
				}
				k := strconv.Itoa(r.Stream) + " " + r.Dir
				got[k] = append(got[k], strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sha(data))
			case "handshake":
				hs[r.Stream] = fmt.Sprintf("%s %s %s %d", r.HTTPVersion, r.Protocol, r.URI, r.Status)
			case "conn":
				ends[r.Stream] = r.SE
			}
		}
		compareKeyed(t, "message", got, exp.byStream(true))
		for i, s := range exp.Streams {
			if want := fmt.Sprintf("HTTP/2 websocket %s %d", s.Request[":path"], s.Status); hs[s.StreamID] != want {
				t.Errorf("stream %d handshake %q, want %q", s.StreamID, hs[s.StreamID], want)
			}
			if want := exp.streamEnd(i); ends[s.StreamID] != want {
				t.Errorf("stream %d stream_end %q, want %q", s.StreamID, ends[s.StreamID], want)
			}
		}
	})

	t.Run("messages", func(t *testing.T) {
		row := regexp.MustCompile(`(?m)^\S+\s+\d+/(\d+)\s+(c2s|s2c)\s+(text|binary)\s+\S+\s+(\d+)`)
		got := map[string][]string{}
		for _, m := range row.FindAllStringSubmatch(run(t, "-r", capFile, "--messages"), -1) {
			got[m[1]+" "+m[2]] = append(got[m[1]+" "+m[2]], opcodes[m[3]]+" "+m[4])
		}
		compareKeyed(t, "message row", got, exp.byStream(false))
	})

	t.Run("conns", func(t *testing.T) {
		got := map[int]string{}
		var h2 []string
		for _, l := range strings.Split(strings.TrimSpace(run(t, "conns", "-r", capFile, "--format", "jsonl")), "\n") {
			var r struct {
				Type                          string
				Stream, Status                int
				SE                            string `json:"stream_end"`
				C2S, S2C                      struct{ Messages int }
				Streams, WebSockets, Requests int
				GoAway                        string
			}
			json.Unmarshal([]byte(l), &r)
			switch r.Type {
			case "conn":
				got[r.Stream] = fmt.Sprintf("%d %d/%d %s", r.Status, r.C2S.Messages, r.S2C.Messages, r.SE)
			case "http2_conn":
				if r.WebSockets == 0 {
					continue // the browser's other connection
				}
				if exp.GoAway == nil {
					r.GoAway = "?" // the browser's generator does not record the server's GOAWAY (tshark shows NO_ERROR)
				}
				h2 = append(h2, fmt.Sprintf("streams %d websockets %d requests %d goaway %s", r.Streams, r.WebSockets, r.Requests, r.GoAway))
			}
		}
		// The connection's line: its streams, WebSockets and requests.
		goaway := "?"
		if exp.GoAway != nil {
			goaway = "NO_ERROR"
		}
		want := fmt.Sprintf("streams %d websockets %d requests %d goaway %s", len(exp.Streams)+exp.ordinary(), len(exp.Streams), exp.ordinary(), goaway)
		if len(h2) != 1 || h2[0] != want {
			t.Errorf("http2_conn records %q, want [%q]", h2, want)
		}
		if len(got) != len(exp.Streams) {
			t.Errorf("%d conn records, want %d: %v", len(got), len(exp.Streams), got)
		}
		for i, s := range exp.Streams {
			if want := fmt.Sprintf("%d %d/%d %s", s.Status, s.Messages["c2s"], s.Messages["s2c"], exp.streamEnd(i)); got[s.StreamID] != want {
				t.Errorf("stream %d: conn %q, want %q", s.StreamID, got[s.StreamID], want)
			}
		}
		table := run(t, "conns", "-r", capFile)
		for _, s := range exp.Streams {
			if !regexp.MustCompile(`(?m)^\d+/` + strconv.Itoa(s.StreamID) + `\s`).MatchString(table) {
				t.Errorf("conns table has no row conn/%d:\n%s", s.StreamID, table)
			}
		}
	})

	t.Run("lint", func(t *testing.T) {
		// --max-message 1000 makes each longer message a finding (WS404):
		// lint sees inside the streams. Node keeps every RFC 8441 rule:
		// no error. The stream ended by RST_STREAM has WS303 and WS506.
		got := map[string][]string{}
		rules := map[string]bool{}
		detail := regexp.MustCompile(`^(text|binary) len (\d+) in`)
		for _, l := range strings.Split(strings.TrimSpace(run(t, "lint", "-r", capFile, "--format", "jsonl", "--fail-on", "none", "--max-message", "1000")), "\n") {
			var r struct {
				Rule, Dir, Detail, Severity string
				Stream                      int
			}
			json.Unmarshal([]byte(l), &r)
			if r.Severity == "error" {
				t.Errorf("error finding: %s", l)
			}
			if m := detail.FindStringSubmatch(r.Detail); r.Rule == "WS404" && m != nil {
				k := strconv.Itoa(r.Stream) + " " + r.Dir
				got[k] = append(got[k], opcodes[m[1]]+" "+m[2])
			} else {
				rules[r.Rule+" "+strconv.Itoa(r.Stream)] = true
			}
		}
		long := map[string][]string{}
		for k, l := range exp.byStream(false) {
			for _, m := range l {
				if n, _ := strconv.Atoi(strings.Fields(m)[1]); n > 1000 {
					long[k] = append(long[k], m)
				}
			}
		}
		compareKeyed(t, "message over 1000 bytes", got, long)
		for i, s := range exp.Streams {
			if strings.HasPrefix(exp.streamEnd(i), "rst_stream") {
				for _, r := range []string{"WS303", "WS506"} {
					if !rules[r+" "+strconv.Itoa(s.StreamID)] {
						t.Errorf("stream %d: no %s finding (%v)", s.StreamID, r, rules)
					}
				}
			}
		}
	})

	t.Run("follow", func(t *testing.T) {
		head := regexp.MustCompile(`(?m)^\[\S+\] conn \d+/(\d+) (c2s|s2c) (text|binary) #\d+, (\d+) B`)
		got := map[string][]string{}
		for _, m := range head.FindAllStringSubmatch(run(t, "follow", "-r", capFile), -1) {
			got[m[1]+" "+m[2]] = append(got[m[1]+" "+m[2]], opcodes[m[3]]+" "+m[4])
		}
		compareKeyed(t, "message", got, exp.byStream(false))
	})

	t.Run("export", func(t *testing.T) {
		dir := t.TempDir()
		run(t, "export", "-r", capFile, "-o", dir)
		f, err := os.Open(filepath.Join(dir, "index.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got := map[string][]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e struct {
				Stream, Opcode int
				Dir, File      string
				SHA256         string
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.File)))
			if err != nil {
				t.Fatal(err)
			}
			if sha(data) != e.SHA256 {
				t.Errorf("%s: file's SHA-256 is not the index's", e.File)
			}
			k := strconv.Itoa(e.Stream) + " " + e.Dir
			got[k] = append(got[k], strconv.Itoa(e.Opcode)+" "+strconv.Itoa(len(data))+" "+sha(data))
		}
		compareKeyed(t, "exported message", got, exp.byStream(true))
	})
}
