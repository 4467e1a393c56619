package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestUrgentDataSaid: segments with the TCP URG flag are decoded with
// their urgent byte in the stream (as tshark), and never silently: each
// is counted on its connection and side (conns' urgent_segments), on
// stderr, and in lint's WS315, the same with -j 1 and -j 2. tshark says
// which segments carry an urgent pointer (tcp.urgent_pointer with the URG
// flag). The first connection is the evasion: a byte inserted before a
// client frame, the urgent pointer on it (Linux without SO_OOBINLINE, as
// node and Go servers run, takes the byte at seq + pointer - 1 out), so
// the server reads the frame that wsdump, with the byte in, does not.
func TestUrgentDataSaid(t *testing.T) {
	text := func(fromClient bool, s string) []byte { return synth.WSFrame(fromClient, wsparse.OpText, []byte(s)) }
	urg := func(ptr int) *layers.TCP { return &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: uint16(ptr)} }
	end := func(c *synth.Conv) {
		c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Fin(false)
	}
	evade := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("before"))
	evade.Flagged(true, 0, urg(1), append([]byte{0x81}, text(true, "hidden from wsdump")...))
	f := text(false, "last byte urgent")
	evade.Flagged(false, 0, urg(len(f)), f)
	evade.Flagged(false, 0, &layers.TCP{ACK: true, URG: true}, nil) // no data, pointer 0: Linux marks the next byte
	end(evade.Frame(false, wsparse.OpText, []byte("after")))
	plain := synth.New("192.0.2.1:40002", "192.0.2.2:80").At(10e9).Open().Upgrade()
	end(plain.Frame(true, wsparse.OpText, []byte("plain")).Frame(false, wsparse.OpText, []byte("plain")))
	path := writeSynth(t, 0, evade, plain)

	// What wsdump counts, by client port and direction.
	var outs, lints, errss []string
	got := map[string]int{}
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", path, "-j", j, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("conns -j %s: exit %d: %s", j, code, errs)
		}
		outs, errss = append(outs, out), append(errss, errs)
		lint, errs, code := runWsdump(t, nil, "lint", "-r", path, "-j", j, "--format", "jsonl", "--fail-on", "none")
		if code != 0 {
			t.Fatalf("lint -j %s: exit %d: %s", j, code, errs)
		}
		lints, errss = append(lints, lint), append(errss, errs)
	}
	if outs[0] != outs[1] || lints[0] != lints[1] || errss[0] != errss[2] || errss[1] != errss[3] {
		t.Errorf("-j 1 and -j 2 differ:\n%s\n%s\n%s\n%s\n%q", outs[0], outs[1], lints[0], lints[1], errss)
	}
	for _, l := range strings.Split(strings.TrimSpace(outs[0]), "\n") {
		var c struct {
			Conn     int
			Client   string
			C2S, S2C map[string]any
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		port := c.Client[strings.LastIndexByte(c.Client, ':')+1:]
		for dir, st := range map[string]map[string]any{"c2s": c.C2S, "s2c": c.S2C} {
			if n, ok := st["urgent_segments"]; ok {
				got[port+" "+dir] = int(n.(float64))
			}
		}
	}
	const notice = "3 TCP segments carried the URG flag (urgent data): decoded with the urgent byte in the stream"
	for _, errs := range errss {
		if !strings.Contains(errs, notice) {
			t.Errorf("stderr: no %q in\n%s", notice, errs)
		}
	}
	findings := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(lints[0]), "\n") {
		var f struct{ Rule, Dir, Detail string }
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if strings.HasPrefix(f.Rule, "WS315") {
			n, _ := strconv.Atoi(strings.Fields(f.Detail)[0])
			findings[f.Dir] += n
		}
	}

	// tshark's view: the segments with the URG flag and their pointer.
	want := map[string]int{}
	out := tsharkOutput(t, needTshark(t), path, "-r", path, "-Y", "tcp.flags.urg == 1", "-T", "fields",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.urgent_pointer", "-e", "tcp.len")
	var seen []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fs := strings.Split(l, "\t")
		if len(fs) != 4 || fs[2] == "" {
			t.Fatalf("tshark: %q", l)
		}
		seen = append(seen, fs[2]+"/"+fs[3])
		if fs[1] == "80" {
			want[fs[0]+" c2s"]++
		} else {
			want[fs[1]+" s2c"]++
		}
	}
	slices.Sort(seen)
	if fmt.Sprint(seen) != fmt.Sprint([]string{"0/0", "1/" + strconv.Itoa(len(text(true, "hidden from wsdump"))+1), "18/18"}) {
		t.Errorf("tshark's urgent pointers / lengths: %v", seen)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("conns' urgent_segments %v, tshark's URG segments %v", got, want)
	}
	if fmt.Sprint(findings) != fmt.Sprint(map[string]int{"c2s": want["40001 c2s"], "s2c": want["40001 s2c"]}) {
		t.Errorf("lint WS315's segments by side %v, tshark's %v:\n%s", findings, want, lints[0])
	}
}

// TestUrgentSideLearnedLate: a segment with the URG flag is counted on
// the side that sent it when the decoder learns later which side is the
// client: a capture begun mid-connection whose first segment is the
// server's, carrying the flag (the client side is known only from the
// frames' masks; counted on c2s before, as the side that spoke first).
func TestUrgentSideLearnedLate(t *testing.T) {
	urg := &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: 2}
	c := synth.New("192.0.2.1:40040", "192.0.2.2:80")
	c.Flagged(false, 0, urg, synth.WSFrame(false, wsparse.OpText, []byte("server first")))
	for i := range 2 {
		c.Frame(true, wsparse.OpText, []byte("client "+strconv.Itoa(i))).Frame(false, wsparse.OpText, []byte("server "+strconv.Itoa(i)))
	}
	path := writeSynth(t, 0, c)
	for _, args := range [][]string{{"conns", "-r", path, "--format", "jsonl"}, {"-r", path, "--format", "jsonl"}} {
		out, errs, code := runWsdump(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		found := false
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Type, Client string
				C2S, S2C     map[string]any
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			if r.Type != "conn" {
				continue
			}
			found = true
			if r.Client != "192.0.2.1:40040" || r.C2S["urgent_segments"] != nil || r.S2C["urgent_segments"] != 1.0 {
				t.Errorf("%v: client %s, urgent_segments c2s %v s2c %v, want the server's 1 on s2c", args[0], r.Client, r.C2S["urgent_segments"], r.S2C["urgent_segments"])
			}
		}
		if !found {
			t.Errorf("%v: no conn record:\n%s", args, out)
		}
	}
}

// TestUrgentNotShown: the stderr line's count of segments with the URG
// flag says how many came on connections no WebSocket conn record shows
// (here a telnet-like connection's two, its Synch), since conns and
// WS315, which the line points to, show only the WebSocket connection's
// one; the same with -j 1 and -j 2.
func TestUrgentNotShown(t *testing.T) {
	urg := &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: 2}
	tel := synth.New("192.0.2.1:40010", "192.0.2.2:23").Open().Send(true, []byte("login\r\n"))
	tel.Flagged(true, 0, urg, []byte{0xff, 0xf2}).Flagged(true, 0, urg, []byte{0xff, 0xf2}).Fin(true).Fin(false)
	ws := synth.New("192.0.2.1:40002", "192.0.2.2:80").At(10e9).Open().Upgrade()
	ws.Flagged(true, 0, urg, synth.WSFrame(true, wsparse.OpText, []byte("x")))
	ws.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Fin(false)
	path := writeSynth(t, 0, tel, ws)
	const want = "wsdump: 3 TCP segments carried the URG flag (urgent data): decoded with the urgent byte in the stream, as tshark does; a receiver without SO_OOBINLINE (node and Go servers) takes that byte out, and may frame what follows otherwise (urgent_segments in conns, lint WS315; 2 of them on connections without a WebSocket conn record to show them: another protocol, HTTP/2, TLS not decrypted)\n"
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", path, "-j", j, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("-j %s: exit %d: %s", j, code, errs)
		}
		if errs != want {
			t.Errorf("-j %s: stderr\n%s\nwant\n%s", j, errs, want)
		}
		if n := strings.Count(out, `"urgent_segments":1`); n != 1 || strings.Count(out, `"urgent_segments"`) != 1 {
			t.Errorf("-j %s: conns shows %d urgent_segments, want the WebSocket's 1:\n%s", j, n, out)
		}
	}
}

// TestUrgentAcrossEviction: a WebSocket connection evicted by
// --max-connections (parked, its decoder kept) that goes on counts the
// server's URG segments from before and after on s2c, in its one conn
// record, -j 1 and -j 2 alike.
func TestUrgentAcrossEviction(t *testing.T) {
	urg := &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: 2}
	a := synth.New("192.0.2.1:40050", "192.0.2.2:80").Open().Upgrade()
	a.Flagged(false, 0, urg, synth.WSFrame(false, wsparse.OpText, []byte("server first")))
	a.Frame(true, wsparse.OpText, []byte("client 0"))
	n := len(a.Packets)
	a.At(20e9).Flagged(false, 0, urg, synth.WSFrame(false, wsparse.OpText, []byte("server again")))
	a.Frame(true, wsparse.OpText, []byte("client 1"))
	b := synth.New("192.0.2.1:40051", "192.0.2.2:80").At(10e9).Open().Upgrade().Frame(true, wsparse.OpText, []byte("b"))
	all := synth.New("192.0.2.9:1", "192.0.2.9:2")
	all.Packets = append(append(append([]synth.Packet(nil), a.Packets[:n]...), b.Packets...), a.Packets[n:]...)
	path := writeSynth(t, 0, all)
	for _, jobs := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "conns", "-r", path, "--format", "jsonl", "--max-connections", "1", "-j", jobs)
		if code != 0 {
			t.Fatalf("-j %s: exit %d: %s", jobs, code, errs)
		}
		if !strings.Contains(errs, "a WebSocket connection was set aside") {
			t.Errorf("-j %s: not set aside:\n%s", jobs, errs)
		}
		got := ""
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Client   string
				C2S, S2C map[string]any
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			if r.Client == "192.0.2.1:40050" {
				got += fmt.Sprintf("c2s %v s2c %v;", r.C2S["urgent_segments"], r.S2C["urgent_segments"])
			}
		}
		if got != "c2s <nil> s2c 2;" {
			t.Errorf("-j %s: urgent_segments %q, want the server's 2 on s2c of one record:\n%s\n%s", jobs, got, out, errs)
		}
	}
}
