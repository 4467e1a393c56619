package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// urgentCapture is the real capture of TCP urgent data (testdata/gen/urgent.py).
const urgentCapture = "gen__ws-urgent"

// urgentExpect is the part of gen__ws-urgent.expect.json the test reads.
type urgentExpect struct {
	Connections []struct {
		Path       string
		ClientPort int `json:"client_port"`
		Sends      []struct {
			Len int
			OOB bool
		}
		Messages   []urgentMessage
		ServerRead struct {
			Messages  []urgentMessage
			Error     *struct{ Message string }
			ReadBytes int `json:"read_bytes"`
		} `json:"server_read"`
		OOBSends  int                          `json:"oob_sends"`
		SentBytes int                          `json:"sent_bytes"`
		TakenOut  []struct{ Offset, Byte int } `json:"taken_out"`
	}
}

type urgentMessage struct {
	Opcode, Len int
	SHA256      string
}

func (m urgentMessage) String() string { return fmt.Sprintf("%d %d %s", m.Opcode, m.Len, m.SHA256) }

// TestUrgentRecorded: a real client's send() with MSG_OOB to a node ws
// server (gen__ws-urgent, recorded by testdata/gen/urgent.py). wsdump
// counts every segment with the URG flag on the client's side of its
// connection, as tshark sees them (tcp.flags.urg, tcp.urgent_pointer),
// in conns (jsonl with -j 1 and -j 2 alike, CSV), lint WS315 and on
// stderr; it decodes
// the stream with the urgent bytes in, frame for frame as tshark does;
// and where the server, which read the stream without them (the
// manifest's server_read), read other messages, wsdump shows what was
// on the wire: the hidden-byte connection's "hello" the server read is
// not among wsdump's messages, and the urgent-frame connection's binary
// message is as sent, where the server read it one byte off and failed.
func TestUrgentRecorded(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", urgentCapture)
	path := base + ".pcap"
	b, err := os.ReadFile(base + ".expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp urgentExpect
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Connections) != 2 {
		t.Fatalf("manifest: %d connections", len(exp.Connections))
	}

	// tshark: the URG segments by client port, the bytes they point at.
	tshark := needTshark(t)
	out := tsharkOutput(t, tshark, path, "-r", path, "-Y", "tcp.flags.urg == 1", "-T", "fields",
		"-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.urgent_pointer")
	urg, pointed := map[int]int{}, map[int]map[int]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var port, seq, ptr int
		if _, err := fmt.Sscanf(l, "%d\t%d\t%d", &port, &seq, &ptr); err != nil {
			t.Fatalf("tshark: %q: %v", l, err)
		}
		urg[port]++
		if pointed[port] == nil {
			pointed[port] = map[int]bool{}
		}
		pointed[port][seq+ptr] = true
	}
	urgTotal := 0
	for _, n := range urg {
		urgTotal += n
	}

	// wsdump's conns, -j 1 and -j 2.
	type dirStats struct {
		Messages       int
		UrgentSegments *int `json:"urgent_segments"`
	}
	conns := map[int]struct{ C2S, S2C dirStats }{}
	var first string
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", path, "-j", j, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("conns -j %s: exit %d: %s", j, code, errs)
		}
		if want := fmt.Sprintf("wsdump: %d TCP segments carried the URG flag (urgent data)", urgTotal); !strings.Contains(errs, want) {
			t.Errorf("conns -j %s: stderr does not count tshark's %d URG segments:\n%s", j, urgTotal, errs)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("conns -j 1 and -j 2 differ:\n%s\n%s", first, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(first), "\n") {
		var c struct {
			Type, Client string
			C2S, S2C     dirStats
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.Type == "conn" {
			port, _ := strconv.Atoi(c.Client[strings.LastIndexByte(c.Client, ':')+1:])
			conns[port] = struct{ C2S, S2C dirStats }{c.C2S, c.S2C}
		}
	}

	// The conns CSV's urgent columns, by client port.
	csvURG := map[int]string{}
	csvOut, err := csv.NewReader(strings.NewReader(mustRun(t, "conns", "-r", path, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatalf("conns CSV: %v", err)
	}
	if h := strings.Join(csvOut[0], ","); !strings.HasSuffix(h, ",heartbeat,c2s_urgent_segments,s2c_urgent_segments") {
		t.Errorf("conns CSV header %q", h)
	}
	client := slices.Index(csvOut[0], "client")
	for _, f := range csvOut[1:] {
		port, _ := strconv.Atoi(f[client][strings.LastIndexByte(f[client], ':')+1:])
		csvURG[port] = f[len(f)-2] + "/" + f[len(f)-1]
	}

	// lint's WS315 by client port.
	lintOut, errs, code := runWsdump(t, nil, "lint", "-r", path, "--format", "jsonl", "--fail-on", "none")
	if code != 0 {
		t.Fatalf("lint: exit %d: %s", code, errs)
	}
	ws315 := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(lintOut), "\n") {
		var f struct {
			Rule, Dir, Detail string
			Conn              int
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f.Rule, "WS315") {
			n, _ := strconv.Atoi(strings.Fields(f.Detail)[0])
			ws315[strconv.Itoa(f.Conn)+" "+f.Dir] += n
		}
	}

	// wsdump's messages per connection, by its client port.
	msgs := map[int][]string{}
	jsonl := mustRun(t, "-r", path, "--format", "jsonl")
	recs := parseJSONL(t, jsonl)
	portOf := map[int]int{}
	for _, l := range strings.Split(jsonl, "\n") {
		var r struct {
			Type, Client string
			Conn         int
		}
		if json.Unmarshal([]byte(l), &r) == nil && r.Type == "handshake" {
			portOf[r.Conn], _ = strconv.Atoi(r.Client[strings.LastIndexByte(r.Client, ':')+1:])
		}
	}
	for _, r := range recs {
		if r.Type == "message" && r.Dir == "c2s" {
			data, sum := r.dataSHA256(t)
			msgs[portOf[r.Conn]] = append(msgs[portOf[r.Conn]], urgentMessage{r.Opcode, len(data), sum}.String())
		}
	}

	for i, c := range exp.Connections {
		st, ok := conns[c.ClientPort]
		if !ok {
			t.Fatalf("%s: no conn of client port %d in\n%s", c.Path, c.ClientPort, first)
		}
		oob := 0
		for _, s := range c.Sends {
			if s.OOB {
				oob++
			}
		}
		if oob == 0 || oob != c.OOBSends || len(pointed[c.ClientPort]) != oob || len(c.TakenOut) != oob {
			t.Errorf("%s: %d sends with MSG_OOB (%d in oob_sends, %d taken out), tshark's URG segments point at %d bytes",
				c.Path, oob, c.OOBSends, len(c.TakenOut), len(pointed[c.ClientPort]))
		}
		if st.C2S.UrgentSegments == nil || *st.C2S.UrgentSegments != urg[c.ClientPort] || st.S2C.UrgentSegments != nil {
			t.Errorf("%s: urgent_segments c2s %v s2c %v, tshark's URG segments from the client %d, none from the server",
				c.Path, st.C2S.UrgentSegments, st.S2C.UrgentSegments, urg[c.ClientPort])
		}
		if got, want := csvURG[c.ClientPort], strconv.Itoa(urg[c.ClientPort])+"/0"; got != want {
			t.Errorf("%s: conns CSV urgent segments %s, want tshark's %s", c.Path, got, want)
		}
		if got := ws315[strconv.Itoa(i+1)+" c2s"]; got != urg[c.ClientPort] || ws315[strconv.Itoa(i+1)+" s2c"] != 0 {
			t.Errorf("%s: WS315 counts c2s %d s2c %d, tshark %d from the client", c.Path, got, ws315[strconv.Itoa(i+1)+" s2c"], urg[c.ClientPort])
		}
		if c.ServerRead.ReadBytes != c.SentBytes-oob {
			t.Errorf("%s: the server read %d bytes of %d sent, want all but the %d urgent", c.Path, c.ServerRead.ReadBytes, c.SentBytes, oob)
		}
		sent, read := strs(c.Messages), strs(c.ServerRead.Messages)
		switch c.Path {
		case "/urgent/hidden-byte":
			// The server read what was sent; wsdump frames the byte it
			// never read: only the first message is the same.
			if !slices.Equal(read, sent) || c.ServerRead.Error != nil {
				t.Errorf("%s: the server read %v (error %v), sent %v", c.Path, read, c.ServerRead.Error, sent)
			}
			if got := msgs[c.ClientPort]; len(got) == 0 || got[0] != sent[0] || slices.Contains(got, sent[1]) || slices.Contains(got, sent[2]) {
				t.Errorf("%s: wsdump's messages %v, want the first sent (%s) and neither of the two after the urgent byte", c.Path, got, sent[0])
			}
		case "/urgent/urgent-frame":
			// wsdump reads every message as sent; the server read the
			// binary one with its last byte from the next frame, then
			// an opcode 5, and failed.
			if got := msgs[c.ClientPort]; !slices.Equal(got, sent) {
				t.Errorf("%s: wsdump's messages %v, sent %v", c.Path, got, sent)
			}
			if len(read) != 2 || read[0] != sent[0] || read[1] == sent[1] || c.ServerRead.Messages[1].Len != c.Messages[1].Len ||
				c.ServerRead.Error == nil || !strings.Contains(c.ServerRead.Error.Message, "invalid opcode 5") {
				t.Errorf("%s: the server read %v (error %v), sent %v: want the binary message one byte off, then opcode 5", c.Path, read, c.ServerRead.Error, sent)
			}
		default:
			t.Errorf("manifest: connection %s", c.Path)
		}
	}

	// Frames: wsdump's are tshark's, both with the urgent bytes in the
	// stream, but for the hidden-byte connection's last, which the
	// misframing leaves cut by the connection's end (tshark shows a frame
	// only once whole).
	got, err := runWsdumpFramesCut(t, path)
	if err != nil {
		t.Fatal(err)
	}
	hidden, last := 0, -1
	for conn, port := range portOf {
		if port == exp.Connections[0].ClientPort && exp.Connections[0].Path == "/urgent/hidden-byte" {
			hidden = conn
		}
	}
	for _, f := range got {
		if f.conn == hidden && f.dir == "c2s" {
			last = max(last, f.index)
		}
	}
	var cut []string
	got = slices.DeleteFunc(got, func(f oracleFrame) bool {
		if f.cut {
			cut = append(cut, fmt.Sprintf("conn %d %s frame %d", f.conn, f.dir, f.index))
		}
		return f.cut
	})
	if want := fmt.Sprintf("[conn %d c2s frame %d]", hidden, last); fmt.Sprint(cut) != want {
		t.Errorf("frames cut: %v, want the hidden-byte connection's last c2s frame %s", cut, want)
	}
	want, err := runTshark(t, tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := compareFrames(t, want, got); n == 0 || n != len(want) {
		t.Errorf("%d frames compared, want tshark's %d", n, len(want))
	}
}

func strs(ms []urgentMessage) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.String())
	}
	return s
}
