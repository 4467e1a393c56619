package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// connClosedCapture writes a client (10.0.0.1) whose 4 connects to
// 10.0.0.2:8080, 3 s apart, are each accepted and closed at once by the
// server (SYN, SYN-ACK, ACK, then the server's FIN before any byte, the
// client's FIN after), as a listener with nothing behind it does; and
// another client (10.0.0.3) whose 3 connects it closes itself before any
// byte, the server's FIN after (a port probe, a preconnect): no attempts.
func connClosedCapture(t *testing.T, serverFirst bool) string {
	t.Helper()
	var pkts []synth.Packet
	for i := range 4 {
		c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "10.0.0.2:8080").At(time.Duration(i) * 3 * time.Second).Open()
		if serverFirst {
			c.Fin(false).Fin(true)
		} else {
			c.Fin(true).Fin(false)
		}
		pkts = append(pkts, c.Packets...)
	}
	for i := range 3 {
		c := synth.New(fmt.Sprintf("10.0.0.3:%d", 50000+i), "10.0.0.2:8080").At(time.Second + time.Duration(i)*3*time.Second).Open().Fin(true).Fin(false)
		pkts = append(pkts, c.Packets...)
	}
	slices.SortStableFunc(pkts, func(a, b synth.Packet) int { return a.TS.Compare(b.TS) })
	file := filepath.Join(t.TempDir(), "closed.pcap")
	writePackets(t, file, pkts)
	return file
}

// TestConnClosedAttempts: a connect the server accepted and closed at once
// (its FIN before any byte, before the client's) is an attempt of its
// client's reconnect group that failed, `conn_closed`, in conns' table and
// jsonl and in the Parquet reconnect_groups as the refused and unanswered
// connects are; lint says WS709 of a loop of them (the client never
// reached its server). Connects the client closed itself first are no
// attempts (no group), as before. Before, the server's FIN left the
// attempt out: no group at all, lint silent. The report draws each on
// its group's lane as such. -j 1 and -j 2 the same.
func TestConnClosedAttempts(t *testing.T) {
	for _, serverFirst := range []bool{true, false} {
		file := connClosedCapture(t, serverFirst)
		var groups []groupRow
		var jsonl string
		for _, jobs := range []string{"1", "2"} {
			out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl", "-j", jobs)
			if code != 0 {
				t.Fatalf("conns: exit %d: %s", code, errs)
			}
			if jobs == "2" && out != jsonl {
				t.Fatalf("conns jsonl -j 2 differs from -j 1:\n%s\n%s", out, jsonl)
			}
			jsonl = out
		}
		for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
			if strings.Contains(l, `"type":"client_group"`) {
				var g groupRow
				if err := json.Unmarshal([]byte(l), &g); err != nil {
					t.Fatal(err)
				}
				groups = append(groups, g)
			}
		}
		lint, _, _ := runWsdump(t, nil, "lint", "-r", file, "--fail-on", "none")
		lint2, _, _ := runWsdump(t, nil, "lint", "-r", file, "--fail-on", "none", "-j", "2")
		if lint != lint2 {
			t.Errorf("lint -j 2 differs from -j 1:\n%s\n%s", lint2, lint)
		}
		table, _, _ := runWsdump(t, nil, "conns", "-r", file)
		if !serverFirst {
			if len(groups) != 0 || strings.Contains(lint, "WS709") {
				t.Errorf("the client closed first: groups %+v, lint %s; want none", groups, lint)
			}
			continue
		}
		if len(groups) != 1 {
			t.Fatalf("groups %+v, want one: 10.0.0.1's", groups)
		}
		g := groups[0]
		if g.ClientIP != "10.0.0.1" || g.Server != "10.0.0.2:8080" || g.Attempts != 4 || g.Refused != 0 || g.Failed != 4 || len(g.Timeline) != 4 {
			t.Errorf("group %+v, want 10.0.0.1 to 10.0.0.2:8080, 4 attempts, 0 refused, 4 failed", g)
		}
		for _, a := range g.Timeline {
			if a.Outcome != "conn_closed" {
				t.Errorf("attempt %+v, want conn_closed", a)
			}
		}
		if !strings.Contains(table, "1 conn_closed, 3 conn_closed +3.0s, 5 conn_closed +3.0s, 7 conn_closed +3.0s") {
			t.Errorf("conns table does not list the attempts:\n%s", table)
		}
		if !strings.Contains(lint, "WS709 reconnect-never-connected") || !strings.Contains(lint, "4 TCP connects in 9.0s, none got further than the connect (0 refused, 0 unanswered, 4 closed by the server before any byte)") {
			t.Errorf("lint:\n%s", lint)
		}
		if _, html := reportHTML(t, file); strings.Count(html, "TCP connect accepted, then closed by the server (FIN) before any byte") != 4 {
			t.Errorf("the report does not draw the 4 connects closed by the server as such")
		}
		dir := t.TempDir()
		writeParquet(t, file, dir)
		pj, _ := json.Marshal(parquetGroups(t, dir))
		jj, _ := json.Marshal(groups)
		if string(pj) != string(jj) {
			t.Errorf("parquet reconnect_groups %s, conns jsonl %s", pj, jj)
		}
	}
}

// TestConnClosedBytesUnseen: a connection whose bytes the capture missed
// (its data segments lost, or a capture of the SYN, FIN and RST packets
// alone) and which the server closed first is no connect closed before
// any byte: the sequence number of the server's FIN (past its SYN-ACK's)
// or its acknowledgment (past the client's SYN) shows bytes went. Before,
// it was a conn_closed attempt, and a WebSocket client's connections
// that its server closed after their messages (gen__reconnect-fork with
// its data segments dropped) made lint say WS709, "none got further than
// the connect".
func TestConnClosedBytesUnseen(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server uint32 // bytes each side sent, not captured
	}{
		{"both", 180, 129},
		{"client", 180, 0},
		{"server", 0, 129},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pkts []synth.Packet
			for i := range 4 {
				c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "10.0.0.2:8080").At(time.Duration(i) * 3 * time.Second).Open()
				c.Skip(true, tc.client).Skip(false, tc.server).Fin(false).Fin(true)
				pkts = append(pkts, c.Packets...)
			}
			file := filepath.Join(t.TempDir(), "unseen.pcap")
			writePackets(t, file, pkts)
			for _, jobs := range []string{"1", "2"} {
				out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl", "-j", jobs)
				if code != 0 {
					t.Fatalf("conns: exit %d: %s", code, errs)
				}
				if strings.Contains(out, "conn_closed") || strings.Contains(out, `"type":"client_group"`) {
					t.Errorf("-j %s: connections that carried bytes made attempts:\n%s", jobs, out)
				}
				lint, _, _ := runWsdump(t, nil, "lint", "-r", file, "--fail-on", "none", "-j", jobs)
				if strings.Contains(lint, "WS709") {
					t.Errorf("-j %s: lint:\n%s", jobs, lint)
				}
			}
		})
	}
}

// TestConnClosedIdle: a connection its client left idle, with no byte,
// that the server closed after its timeout (a browser's preconnect, or
// a pool's spare socket, closed by a proxy's request timeout 5 s on) is
// no failed attempt: a client that tries sends its request at once, so
// a FIN before it comes within a second of the connect. Before, any
// server FIN first was conn_closed: 4 such preconnects made a group and
// lint said WS709, "the client never reached its server". A FIN 0.5 s
// on is still one.
func TestConnClosedIdle(t *testing.T) {
	for _, tc := range []struct {
		after   time.Duration
		attempt bool
	}{
		{5 * time.Second, false},
		{1500 * time.Millisecond, false},
		{500 * time.Millisecond, true},
	} {
		var pkts []synth.Packet
		for i := range 4 {
			c := synth.New(fmt.Sprintf("10.0.0.1:%d", 40000+i), "10.0.0.2:8080").At(time.Duration(i) * 10 * time.Second).Open()
			c.Wait(tc.after).Fin(false).Fin(true)
			pkts = append(pkts, c.Packets...)
		}
		file := filepath.Join(t.TempDir(), "idle.pcap")
		writePackets(t, file, pkts)
		for _, jobs := range []string{"1", "2"} {
			out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl", "-j", jobs)
			if code != 0 {
				t.Fatalf("conns: exit %d: %s", code, errs)
			}
			lint, _, _ := runWsdump(t, nil, "lint", "-r", file, "--fail-on", "none", "-j", jobs)
			if got := strings.Count(out, `"outcome":"conn_closed"`); tc.attempt && got != 4 || !tc.attempt && got != 0 {
				t.Errorf("FIN %v after the connect, -j %s: %d conn_closed attempts, want them: %v\n%s", tc.after, jobs, got, tc.attempt, out)
			}
			if strings.Contains(lint, "WS709") != tc.attempt {
				t.Errorf("FIN %v after the connect, -j %s: lint:\n%s", tc.after, jobs, lint)
			}
		}
	}
}
