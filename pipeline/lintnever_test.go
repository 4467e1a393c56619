package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsdump/wsdump/health"
)

// connsGroups reads file as `wsdump conns` does and returns its reconnect
// groups.
func connsGroups(t *testing.T, file string) []*health.Group {
	t.Helper()
	o := &ConnsOptions{Out: io.Discard, Format: "jsonl", Time: "rel", HealthFlags: DefaultHealthFlags(),
		Input: Input{Err: io.Discard, Reads: []string{file}, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	rd, err := o.read(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Report.Groups
}

// TestReconnectNeverCapture: gen__reconnect-never, the seed's reconnect
// loop (stompjs over sockjs-client in node) against a port nobody
// listens on, from the start: every try's /info connect refused (SYN,
// RST), the seed gives up after its 10th. conns has one group of bare
// TCP connects whose attempts are the generator's connects, each refused,
// at its time; lint says WS709 reconnect-never-connected of it, at the
// first try, with as many refused as the generator saw (before, no
// finding: a group with no URL was not linted). -j 1 and -j 2 the same.
func TestReconnectNeverCapture(t *testing.T) {
	const name = "gen__reconnect-never"
	file := "../testdata/pcaps/" + name + ".pcap"
	e := readSeedExpect(t, name)
	gaveUp := false
	for _, tr := range e.Tries {
		if tr.Connected != 0 {
			t.Fatalf("try %d connected: nobody listens", tr.Try)
		}
		for _, er := range tr.Errors {
			gaveUp = gaveUp || er.GaveUp
		}
	}
	if !gaveUp || len(e.Tries) != 10 || len(e.TCP) != 10 {
		t.Fatalf("the manifest: %d tries, %d connects, gave up %v; want 10, 10, true", len(e.Tries), len(e.TCP), gaveUp)
	}
	gs := connsGroups(t, file)
	if len(gs) != 1 {
		t.Fatalf("%d groups, want 1", len(gs))
	}
	g := gs[0]
	if g.Path != "" || len(g.Attempts) != len(e.TCP) || g.Refused != len(e.TCP) || g.Failed != 0 || g.InFlight != 0 || g.Backoff != "fixed" {
		t.Fatalf("group %+v: want %d attempts, all refused, backoff fixed", g, len(e.TCP))
	}
	for i, c := range e.TCP {
		a := g.Attempts[i]
		if c.Kind != "info-request" || c.Outcome != "ECONNREFUSED" || a.Outcome != health.OutcomeConnRefused || a.Start.Sub(epoch(c.Time)).Abs() > 50*time.Millisecond {
			t.Errorf("attempt %d: %s at %s, the generator's: %s %s at %s", i+1, a.Outcome, a.Start, c.Kind, c.Outcome, epoch(c.Time))
		}
	}
	j1, got := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS707", "WS708", "WS709")
	want := fmt.Sprintf(": %d TCP connects in %s, none accepted (%d refused, 0 unanswered): the client never reached its server",
		len(e.TCP), textDur(g.Attempts[len(g.Attempts)-1].End.Sub(g.Attempts[0].Start)), len(e.TCP))
	if len(got) != 1 || got[0].Rule != "WS709" || got[0].Conn != g.Attempts[0].Conn || !strings.Contains(got[0].Detail, want) ||
		got[0].TS.Sub(epoch(e.TCP[0].Time)).Abs() > 50*time.Millisecond {
		t.Errorf("got %+v, want one WS709 %q at the first try (%s)", got, want, epoch(e.TCP[0].Time))
	}
	if j2, _ := lintWith(t, file, LintOptions{HealthFlags: DefaultHealthFlags()}, 2); j2 != j1 {
		t.Errorf("-j 2 differs from -j 1:\n%s\n%s", j2, j1)
	}
}

// textDur is text.Dur's "27.1s" for the durations of these captures.
func textDur(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// cutCapture writes the first n packets of file (n < 0: up to and with
// the last packet keep says yes to) to a new file and returns its name.
func cutCapture(t *testing.T, file string, n int, keep func(gopacket.Packet) bool) string {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	type pkt struct {
		ci   gopacket.CaptureInfo
		data []byte
	}
	var pkts []pkt
	last := -1
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if keep != nil && keep(gopacket.NewPacket(data, r.LinkType(), gopacket.Default)) {
			last = len(pkts)
		}
		pkts = append(pkts, pkt{ci, data})
	}
	if n < 0 {
		n = last + 1
	}
	out := filepath.Join(t.TempDir(), "cut.pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts[:n] {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestReconnectCutInFlight: a capture cut while a retry is in flight is
// no evidence the loop did not recover. gen__reconnect-fork cut after its
// first retry's /info was answered (31 packets, no upgrade yet): the
// retry is in flight (conns: "1 in flight at end", not failed, not down
// at end) and lint says no WS708 (before: WS708 "1 attempts after the
// last WebSocket got none"). gen__reconnect-dead cut just after its last
// try's SYN (the RST not captured): that try is in flight, the 8 refused
// before it still WS708, counted without it. -j 1 and -j 2 the same.
func TestReconnectCutInFlight(t *testing.T) {
	fork := cutCapture(t, "../testdata/pcaps/gen__reconnect-fork.pcap", 31, nil)
	gs := connsGroups(t, fork)
	if len(gs) != 1 {
		t.Fatalf("fork cut: %d groups", len(gs))
	}
	g := gs[0]
	if n := len(g.Attempts); n != 2 || !g.Attempts[1].InFlight || g.Attempts[1].Outcome != health.OutcomeHTTPOnly || g.InFlight != 1 || g.Failed != 0 || g.DownAtEnd != 0 {
		t.Errorf("fork cut: %+v, want its last attempt (an answered /info) in flight, none failed, not down at end", g)
	}
	for _, jobs := range []int{1, 2} {
		if _, got := lintWith(t, fork, LintOptions{HealthFlags: DefaultHealthFlags()}, jobs, "WS707", "WS708", "WS709"); len(got) != 0 {
			t.Errorf("fork cut -j %d: %+v, want none", jobs, got)
		}
	}

	syn := func(p gopacket.Packet) bool {
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		return ok && tcp.SYN && !tcp.ACK
	}
	dead := cutCapture(t, "../testdata/pcaps/gen__reconnect-dead.pcap", -1, syn)
	gs = connsGroups(t, dead)
	if len(gs) != 1 {
		t.Fatalf("dead cut: %d groups", len(gs))
	}
	g = gs[0]
	last := g.Attempts[len(g.Attempts)-1]
	if len(g.Attempts) != 10 || !last.InFlight || last.Outcome != health.OutcomeTimeout || g.InFlight != 1 || g.Refused != 8 || g.DownAtEnd <= 0 {
		t.Errorf("dead cut: %+v, want 10 attempts, the last (a SYN) in flight, 8 refused, down at end", g)
	}
	want := ": 8 attempts after the last WebSocket (conn 2) got none (8 refused, 0 failed), the last ending " + textDur(g.DownAtEnd) +
		" after it ended, 1 more in flight at the capture's end"
	j1, got := lintWith(t, dead, LintOptions{HealthFlags: DefaultHealthFlags()}, 1, "WS707", "WS708", "WS709")
	if len(got) != 1 || got[0].Rule != "WS708" || !strings.HasSuffix(got[0].Detail, want) {
		t.Errorf("dead cut: %+v, want one WS708 %q", got, want)
	}
	if j2, _ := lintWith(t, dead, LintOptions{HealthFlags: DefaultHealthFlags()}, 2); j2 != j1 {
		t.Errorf("dead cut: -j 2 differs from -j 1:\n%s\n%s", j2, j1)
	}
}
