package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// clockSessions are the base of the clock tests: a STOMP session whose
// server beats every 10 s until 30 s and then falls silent, open (the
// "stopped" one), and another session sending every 10 s until 90 s, open
// too. Judged to the capture's end, 90 s, the stopped server missed 6
// beats.
func clockSessions(shift time.Duration) (stopped, other *synth.Conv) {
	stopped = sockJSStomp("10.0.0.1:40030", "10000,10000")
	stopped.Wait(shift)
	for s := 1; s <= 3; s++ {
		stopped.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
	}
	other = synth.New("10.0.0.1:40031", "10.0.0.2:8080").Wait(shift).Open().UpgradeURI("/other")
	for s := 1; s <= 9; s++ {
		other.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte("hello"))
	}
	return stopped, other
}

// stompAt is sockJSStomp opened at synth.Start plus shift.
func stompAt(client string, shift time.Duration) *synth.Conv {
	c := synth.New(client, "10.0.0.2:8080").Wait(shift).Open().UpgradeURI("/stomp/123/abcdefgh/websocket")
	c.Frame(false, wsparse.OpText, []byte("o"))
	c.Frame(true, wsparse.OpText, []byte("[\"CONNECT\\naccept-version:1.1,1.0\\nheart-beat:10000,10000\\n\\n\\u0000\"]"))
	c.Frame(false, wsparse.OpText, []byte("a[\"CONNECTED\\nversion:1.1\\nheart-beat:10000,10000\\n\\n\\u0000\"]"))
	return c
}

// timeOrdered is the packets of convs in time order, as a capture of them
// all is written (equal times in the order given).
func timeOrdered(convs ...*synth.Conv) []synth.Packet {
	var pkts []synth.Packet
	for _, c := range convs {
		pkts = append(pkts, c.Packets...)
	}
	slices.SortStableFunc(pkts, func(a, b synth.Packet) int { return a.TS.Compare(b.TS) })
	return pkts
}

// lonePacket is one SYN of a connection of its own, at ts.
func lonePacket(ts time.Time) synth.Packet {
	p := synth.New("10.0.0.9:40039", "10.0.0.2:8080").Syn().Packets[0]
	p.TS = ts
	return p
}

const stoppedOK = `stomp heart-beat s2c 10.0s 6 missed (max gap 60.0s, none in the last 60.0s, open at capture end)"`

// connsEach runs conns on files with -j 1 and -j 2 (and --per-file when
// perFile) and checks the two give the same bytes, stdout and stderr.
func connsEach(t *testing.T, perFile bool, files ...string) (out, errs string) {
	t.Helper()
	for _, jobs := range []int{1, 2} {
		var o, e bytes.Buffer
		if err := RunConns(&ConnsOptions{Out: &o, Format: "jsonl", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
			Input: Input{Err: &e, Reads: files, PerFile: perFile, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
			t.Fatal(err)
		}
		if jobs == 1 {
			out, errs = o.String(), e.String()
		} else if o.String() != out || e.String() != errs {
			t.Errorf("-j 2 differs from -j 1:\n%s%s\n-j 1:\n%s%s", o.String(), e.String(), out, errs)
		}
	}
	return out, errs
}

func wantIn(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: no %q in\n%s", what, w, got)
		}
	}
}

// TestClockFutureOutlier: one packet a year ahead at the end of the
// input (a tap that stamped it wrong). Before, the stopped server's beats
// were judged to it: 3 153 595 missed, and nothing said why. Now the
// stopped session is judged to the end of its run of packets (90 s), the
// jump is said, and which end was judged to.
func TestClockFutureOutlier(t *testing.T) {
	stopped, other := clockSessions(0)
	pkts := timeOrdered(stopped, other)
	last := pkts[len(pkts)-1].TS
	pkts = append(pkts, lonePacket(last.Add(365*24*time.Hour)))
	file := writeCapture(t, pkts)
	out, errs := connsEach(t, false, file)
	wantIn(t, "conns", out, stoppedOK,
		`{"type":"clock_jump","packet":26,"ts":"2025-05-06T07:09:39.013000000Z","jump":31536000.000000,"largest_gap_before":10.001000}
{"type":"clock_run","from_packet":1,"last_packet":25,"packets":25,"first_ts":"2024-05-06T07:08:09.000000000Z","last_ts":"2024-05-06T07:09:39.013000000Z","end_ts":"2024-05-06T07:09:39.013000000Z","open_judged_to_end":true}
{"type":"clock_run","from_packet":26,"last_packet":26,"packets":1,"first_ts":"2025-05-06T07:09:39.013000000Z","last_ts":"2025-05-06T07:09:39.013000000Z","end_ts":"2025-05-06T07:09:39.013000000Z","open_judged_to_end":false}
`)
	wantIn(t, "stderr", errs,
		"wsdump: the capture's clock jumped forward 365d0s at packet 26 (2025-05-06T07:09:39.013000Z), where its gaps had been at most 10.001s",
		"wsdump: the capture's clock jumped: a connection still open at its end is judged to the end of its run of packets on one clock, not to the last packet's time (2025-05-06T07:09:39.013000Z): 2024-05-06T07:09:39.013000Z (packets 1-25); taken for a clock error, too short a run: packet 26")
	if n := len(pkts); n != 26 {
		t.Fatalf("%d packets, the test's notices name 26", n)
	}
}

// TestClockMiddleOutlier: one packet a year ahead in the middle of the
// input, the clock back where it was after it. The packets on either
// side are one run: the stopped session is judged to the last packet, as
// without the outlier (before the run went on past it, the session was
// judged to the packet before the outlier: 3 missed, not 6).
func TestClockMiddleOutlier(t *testing.T) {
	stopped, other := clockSessions(0)
	pkts := timeOrdered(stopped, other)
	mid := slices.IndexFunc(pkts, func(p synth.Packet) bool { return p.TS.After(synth.Start.Add(45 * time.Second)) })
	pkts = slices.Insert(pkts, mid, lonePacket(pkts[mid-1].TS.Add(365*24*time.Hour)))
	file := writeCapture(t, pkts)
	out, errs := connsEach(t, false, file)
	wantIn(t, "conns", out, stoppedOK, `{"type":"clock_run","from_packet":1,"last_packet":26,"packets":25,`)
	wantIn(t, "stderr", errs, fmt.Sprintf("wsdump: the capture's clock jumped forward 365d0s at packet %d (", mid+1),
		fmt.Sprintf("(packets 1-26); taken for a clock error, too short a run: packet %d\n", mid+1))
}

// TestClockPastOutlier: one packet an hour behind at the end of the
// input. Before, the capture's end (that packet) came before the stopped
// session's own end: it was judged to its own end, "ok", nothing said.
func TestClockPastOutlier(t *testing.T) {
	stopped, other := clockSessions(0)
	pkts := timeOrdered(stopped, other)
	last := pkts[len(pkts)-1].TS
	pkts = append(pkts, lonePacket(last.Add(-time.Hour)))
	file := writeCapture(t, pkts)
	out, errs := connsEach(t, false, file)
	wantIn(t, "conns", out, stoppedOK)
	wantIn(t, "stderr", errs,
		"wsdump: the capture's clock stepped back 1h0m0s at packet 26 (2024-05-06T06:09:39.013000Z)",
		"(2024-05-06T06:09:39.013000Z): 2024-05-06T07:09:39.013000Z (packets 1-25); taken for a clock error, too short a run: packet 26")
}

// TestClockStepBackRun: the clock steps back an hour after 90 s (an NTP
// step) and the capture goes on for 200 s more on the new clock, another
// session beating there and falling silent, open. Before, the capture's
// end (290 s less an hour) came before the stopped session's end: judged
// to its own end, "ok". Now each is judged to the end of its own run:
// the stopped one to 90 s, the later one to the capture's last packet.
func TestClockStepBackRun(t *testing.T) {
	stopped, other := clockSessions(0)
	later := stompAt("10.0.0.1:40032", 100*time.Second-time.Hour)
	for s := 1; s <= 5; s++ {
		later.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
	}
	other.Wait(-time.Hour)
	for s := 1; s <= 20; s++ {
		other.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte("hello"))
	}
	pkts := timeOrdered(stopped, other)
	// The file's order: the packets before the step, then those after.
	var before, after []synth.Packet
	for _, p := range pkts {
		if !p.TS.Before(synth.Start) {
			before = append(before, p)
		}
	}
	for _, p := range timeOrdered(other, later) {
		if p.TS.Before(synth.Start) {
			after = append(after, p)
		}
	}
	file := writeCapture(t, append(before, after...))
	out, errs := connsEach(t, false, file)
	wantIn(t, "conns", out, stoppedOK,
		// later: beats to 150 s on the new clock, judged to 290 s.
		`stomp heart-beat s2c 10.0s 14 missed (max gap 140s, none in the last 140s, open at capture end)"`)
	wantIn(t, "stderr", errs, "wsdump: the capture's clock stepped back 59m50.013s at packet 26 (2024-05-06T06:09:49.000000Z)",
		"not to the last packet's time (2024-05-06T06:12:59.033000Z): 2024-05-06T07:09:39.013000Z (packets 1-25), 2024-05-06T06:12:59.033000Z (packets 26-58)\n")
}

// TestClockMergedHostAhead: two hosts' captures read merged, the second
// host's clock five hours ahead of the first's throughout: merged by
// time, the first's packets all come before the second's, and the clock
// jumps forward five hours between them. Both runs are long: wsdump
// cannot tell which clock is right, and judges each connection to the end
// of its own host's run: the stopped session to its capture's end (90 s),
// not five hours later (1 805 missed beats before). --per-file, each
// file on its own, says the same.
func TestClockMergedHostAhead(t *testing.T) {
	stopped, other := clockSessions(0)
	ahead := stompAt("10.0.0.3:40033", 5*time.Hour)
	for s := 1; s <= 5; s++ {
		ahead.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
	}
	aheadOther := synth.New("10.0.0.3:40034", "10.0.0.2:8080").Wait(5 * time.Hour).Open().UpgradeURI("/other")
	for s := 1; s <= 20; s++ {
		aheadOther.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte("hello"))
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	if err := os.Rename(writeCapture(t, timeOrdered(stopped, other)), a); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(writeCapture(t, timeOrdered(ahead, aheadOther)), b); err != nil {
		t.Fatal(err)
	}
	aheadJudged := `stomp heart-beat s2c 10.0s 15 missed (max gap 150s, none in the last 150s, open at capture end)"`
	out, errs := connsEach(t, false, a, b)
	wantIn(t, "conns", out, stoppedOK, aheadJudged, `{"type":"clock_jump","packet":26,"ts":"2024-05-06T12:08:09.000000000Z","jump":17909.987000,"largest_gap_before":10.001000,"file":"`+b+`"}`)
	wantIn(t, "stderr", errs, "wsdump: the capture's clock jumped forward 4h58m29.987s at packet 26 (2024-05-06T12:08:09.000000Z, in "+b+"), where its gaps had been at most 10.001s",
		"(2024-05-06T12:11:29.024000Z): 2024-05-06T07:09:39.013000Z (packets 1-25), 2024-05-06T12:11:29.024000Z (packets 26-63)\n")
	perFile, _ := connsEach(t, true, a, b)
	wantIn(t, "conns --per-file", perFile, stoppedOK, aheadJudged)
}

// TestParquetHeartbeatsClockJump: the heartbeats dataset judges open
// connections to the same end as conns when the clock jumped (a lone
// packet a year ahead at the end), -j 1 and 2: the stopped server 6
// missed, not 3 153 606.
func TestParquetHeartbeatsClockJump(t *testing.T) {
	stopped, other := clockSessions(0)
	pkts := timeOrdered(stopped, other)
	pkts = append(pkts, lonePacket(pkts[len(pkts)-1].TS.Add(365*24*time.Hour)))
	file := writeCapture(t, pkts)
	for _, jobs := range []int{1, 2} {
		// A series with no beat has no date: it is in the default
		// partition.
		rows, _, errs := parquetHeartbeats(t, file, jobs)
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprint(r.Kind, " ", r.Dir, " ", r.Missed))
		}
		slices.Sort(got)
		if want := "app c2s 0,stomp c2s 9,stomp s2c 6"; strings.Join(got, ",") != want {
			t.Errorf("-j %d: heartbeats %v, want %s (as conns)", jobs, got, want)
		}
		wantIn(t, "stderr", errs, "wsdump: the capture's clock jumped forward 365d0s at packet 26",
			"not to the last packet's time (2025-05-06T07:09:39.013000Z): 2024-05-06T07:09:39.013000Z (packets 1-25)")
	}
}

// heartbeatRow is a row of the Parquet heartbeats dataset.
type heartbeatRow struct {
	Conn   int64  `parquet:"conn"`
	Kind   string `parquet:"kind"`
	Dir    string `parquet:"dir"`
	Missed int64  `parquet:"missed"`
}

// parquetHeartbeats writes file's Parquet datasets on jobs workers and
// returns the rows of heartbeats, from how many files, and stderr.
func parquetHeartbeats(t *testing.T, file string, jobs int) (rows []heartbeatRow, files int, stderr string) {
	t.Helper()
	dir := t.TempDir()
	var o, e bytes.Buffer
	if err := RunView(&ViewOptions{Out: &o, Format: "parquet", OutDir: dir, Time: "rel", Preview: 64,
		Input: Input{Err: &e, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "heartbeats", "*", "*.parquet"))
	for _, f := range names {
		r, err := parquet.ReadFile[heartbeatRow](f)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	return rows, len(names), e.String()
}

// TestClockMergecapHostAhead: a realistic merged input made by the tools
// operators use: gen__app-sockjs-stomp's capture shifted with editcap
// -t to start 5 h after gen__hb-stopped's (a second host whose clock is
// 5 h ahead), merged with it by mergecap (and by wsdump, given both).
// Each connection says what it says in its own capture: hb-stopped's
// stopped server 18 missed, judged to hb-stopped's end, not 5 h later.
// Skipped without editcap and mergecap (wireshark's tools), failed under
// CI=true.
func TestClockMergecapHostAhead(t *testing.T) {
	var tools [2]string
	for i, name := range []string{"editcap", "mergecap"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not installed: %v", name, err)
			}
			t.Skipf("%s not installed: %v", name, err)
		}
		tools[i] = p
	}
	const a, b0 = "../testdata/pcaps/gen__hb-stopped.pcap", "../testdata/pcaps/gen__app-sockjs-stomp.pcap"
	first := func(f string) time.Time {
		p, err := synth.ReadPcap(f)
		if err != nil || len(p) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		return p[0].TS
	}
	shift := first(a).Add(5 * time.Hour).Sub(first(b0))
	dir := t.TempDir()
	b, merged := filepath.Join(dir, "ahead.pcap"), filepath.Join(dir, "merged.pcap")
	for _, cmd := range [][]string{
		{tools[0], "-t", strconv.FormatFloat(shift.Seconds(), 'f', 6, 64), b0, b},
		{tools[1], "-F", "pcap", "-w", merged, a, b},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	glances := func(out string) []string {
		var g []string
		for _, l := range strings.Split(out, "\n") {
			if i := strings.Index(l, `"glance":"`); i >= 0 && strings.HasPrefix(l, `{"type":"conn"`) {
				g = append(g, l[i:i+strings.Index(l[i+10:], `"`)+10])
			}
		}
		slices.Sort(g)
		return g
	}
	alone, _ := connsEach(t, false, a)
	aheadAlone, _ := connsEach(t, false, b)
	want := glances(alone + aheadAlone)
	if !slices.Contains(want, `"glance":"stomp heart-beat s2c 2.0s 18 missed (max gap 36.3s, none in the last 36.3s, open at capture end)`) {
		t.Fatalf("hb-stopped alone: %v", want)
	}
	for _, files := range [][]string{{merged}, {a, b}} {
		out, errs := connsEach(t, false, files...)
		if got := glances(out); !slices.Equal(got, want) {
			t.Errorf("%v: heartbeats\n%s\nwant each capture's own\n%s", files, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		wantIn(t, fmt.Sprint(files, " stderr"), errs, "wsdump: the capture's clock jumped forward 4h59m", "wsdump: the capture's clock jumped: a connection still open at its end is judged to the end of its run")
	}
}

// TestClockRotationGap: one host's capture rotated into two files with 3
// h between them (the capture stopped and started again), read as one
// capture. The gap is a jump forward by the rule: the notice names the
// second file and says that a capture silent that long is a cause too,
// whose missed beats are not counted (it said only a wrong clock or
// hosts merged); the stopped session is judged to the first file's end.
func TestClockRotationGap(t *testing.T) {
	stopped, other := clockSessions(0)
	later := stompAt("10.0.0.1:40035", 3*time.Hour)
	for s := 1; s <= 5; s++ {
		later.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "ws-0700.pcap"), filepath.Join(dir, "ws-1000.pcap")
	if err := os.Rename(writeCapture(t, timeOrdered(stopped, other)), a); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(writeCapture(t, timeOrdered(later)), b); err != nil {
		t.Fatal(err)
	}
	out, errs := connsEach(t, false, a, b)
	wantIn(t, "conns", out, stoppedOK)
	wantIn(t, "stderr", errs, "wsdump: the capture's clock jumped forward 2h58m29.987s at packet 26 (2024-05-06T10:08:09.000000Z, in "+b+"), where its gaps had been at most 10.001s: a clock set wrong, captures of hosts whose clocks disagree merged, or a capture that saw nothing that long (stopped and started again, or a network gone silent: beats missed in it are not counted)\n")
}
