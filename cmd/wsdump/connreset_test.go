package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestConnResetAttempts: a connect the server accepted and reset at once
// (SYN, SYN-ACK, ACK, then the server's RST before any byte, as a
// listener closing with SO_LINGER 0 does) is an attempt that failed,
// conn_reset, as conn_closed is: 4 of them 3 s apart make a group of
// 10.0.0.1 to 10.0.0.2:8080 (4 attempts, 4 failed) in conns' table and
// jsonl, the report draws each as such, and lint says WS709 with them
// counted. An RST 1.5 s on (an idle connection a proxy reset), one after
// a byte, one after the client's FIN, and the client's own RST are none.
// Before, each was no attempt at all: no group, lint silent. -j 1 and
// -j 2 the same.
func TestConnResetAttempts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conv    func(c *synth.Conv)
		attempt bool
	}{
		{"reset at once", func(c *synth.Conv) { c.Wait(time.Millisecond).Rst(false) }, true},
		{"reset 0.5 s on", func(c *synth.Conv) { c.Wait(500 * time.Millisecond).Rst(false) }, true},
		{"reset 1.5 s on", func(c *synth.Conv) { c.Wait(1500 * time.Millisecond).Rst(false) }, false},
		{"reset after a byte", func(c *synth.Conv) { c.Send(true, []byte("G")).Rst(false) }, false},
		{"reset after the client's FIN", func(c *synth.Conv) { c.Fin(true).Rst(false) }, false},
		{"the client's reset", func(c *synth.Conv) { c.Rst(true) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pkts []synth.Packet
			for i := range 4 {
				c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "10.0.0.2:8080").At(time.Duration(i) * 3 * time.Second).Open()
				tc.conv(c)
				pkts = append(pkts, c.Packets...)
			}
			slices.SortStableFunc(pkts, func(a, b synth.Packet) int { return a.TS.Compare(b.TS) })
			file := filepath.Join(t.TempDir(), "reset.pcap")
			writePackets(t, file, pkts)
			var jsonl, table, lint string
			for _, jobs := range []string{"1", "2"} {
				out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl", "-j", jobs)
				if code != 0 {
					t.Fatalf("conns: exit %d: %s", code, errs)
				}
				tab, _, _ := runWsdump(t, nil, "conns", "-r", file, "-j", jobs)
				l, _, _ := runWsdump(t, nil, "lint", "-r", file, "--fail-on", "none", "-j", jobs)
				if jobs == "2" && (out != jsonl || tab != table || l != lint) {
					t.Fatalf("-j 2 differs from -j 1")
				}
				jsonl, table, lint = out, tab, l
			}
			got := strings.Count(jsonl, `"outcome":"conn_reset"`)
			if !tc.attempt {
				if got != 0 || strings.Contains(jsonl, `"type":"client_group"`) || strings.Contains(lint, "WS709") {
					t.Errorf("no attempts wanted: conns\n%s\nlint\n%s", jsonl, lint)
				}
				return
			}
			if got != 4 || !strings.Contains(jsonl, `"client_ip":"10.0.0.1","server":"10.0.0.2:8080","host":"","path":"","attempts":4,"refused":0,"failed":4`) {
				t.Errorf("%d conn_reset attempts, want a group of 4:\n%s", got, jsonl)
			}
			if !strings.Contains(table, "1 conn_reset, 2 conn_reset +") || strings.Count(table, "conn_reset") != 4 {
				t.Errorf("conns table does not list the attempts:\n%s", table)
			}
			if !strings.Contains(lint, "WS709 reconnect-never-connected") || !strings.Contains(lint, "none got further than the connect (0 refused, 0 unanswered, 4 reset by the server before any byte)") {
				t.Errorf("lint:\n%s", lint)
			}
			if _, html := reportHTML(t, file); strings.Count(html, "TCP connect accepted, then reset by the server (RST) before any byte") != 4 {
				t.Errorf("the report does not draw the 4 connects reset by the server as such")
			}
		})
	}
}

// TestConnResetCapture: gen__conn-reset, recorded (testdata/gen/conn-reset.py:
// a Linux listener that accepts and closes with SO_LINGER 0, a client that
// connects 4 times 1 s apart, each connect's recv ECONNRESET): conns has
// one group of 4 conn_reset attempts, each the manifest's connect in
// order (its start at most 5 ms before the client's connect returned), and
// lint says WS709 of it. Before, the capture had no group and lint said
// no findings.
func TestConnResetCapture(t *testing.T) {
	const pcap = "../../testdata/pcaps/gen__conn-reset.pcap"
	b, err := os.ReadFile("../../testdata/pcaps/gen__conn-reset.expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Port  int `json:"server_port"`
		Tries []struct {
			ClientPort int     `json:"client_port"`
			Connected  float64 `json:"connected"`
			Error      string  `json:"error"`
		} `json:"tries"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runWsdump(t, nil, "conns", "-r", pcap, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var g struct {
		Server   string `json:"server"`
		Attempts int    `json:"attempts"`
		Failed   int    `json:"failed"`
		Timeline []struct {
			Conn    int       `json:"conn"`
			Start   time.Time `json:"start_ts"`
			Outcome string    `json:"outcome"`
		} `json:"timeline"`
	}
	groups := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(l, `"type":"client_group"`) {
			groups++
			if err := json.Unmarshal([]byte(l), &g); err != nil {
				t.Fatal(err)
			}
		}
	}
	if groups != 1 || g.Server != fmt.Sprintf("127.0.0.1:%d", want.Port) || g.Attempts != len(want.Tries) || g.Failed != len(want.Tries) || len(g.Timeline) != len(want.Tries) {
		t.Fatalf("groups %d, %+v; want one of %d failed attempts to port %d", groups, g, len(want.Tries), want.Port)
	}
	for i, tr := range want.Tries {
		a := g.Timeline[i]
		connected := time.Unix(0, int64(tr.Connected*1e9))
		if d := connected.Sub(a.Start); a.Outcome != "conn_reset" || tr.Error != "ECONNRESET" || d < 0 || d > 5*time.Millisecond {
			t.Errorf("attempt %d: %+v; want conn_reset started at most 5 ms before the client's connect at %v (%s)", i+1, a, connected, tr.Error)
		}
	}
	lint, _, _ := runWsdump(t, nil, "lint", "-r", pcap, "--fail-on", "none")
	if !strings.Contains(lint, fmt.Sprintf("WS709 reconnect-never-connected  0.000000  conn 1 connection  127.0.0.1:%d from 127.0.0.1: 4 TCP connects in 3.0s, none got further than the connect (0 refused, 0 unanswered, 4 reset by the server before any byte)", want.Port)) {
		t.Errorf("lint:\n%s", lint)
	}
}
