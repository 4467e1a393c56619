package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnsHeartbeatsStoppedOpen reads gen__hb-stopped (testdata/gen/hb-stopped.js):
// the user's stack (stompjs 2.3.3 over sockjs-client) against two SockJS
// STOMP servers; one is SIGSTOPped 10 s after its CONNECTED and the
// capture runs 35 s more, kept going by the other session, with neither
// connection closed. The stopped server's heart-beats are judged to the
// capture's end (its last packet), not to the connection's last byte (its
// last beat): missed, "open at capture end", the gap from the last beat
// the client received to the capture's end. Before session 37 conns said
// "stomp heart-beat s2c 2.0s ok". The healthy session is ok to the end.
// -j 1 and -j 2 give the same bytes.
func TestConnsHeartbeatsStoppedOpen(t *testing.T) {
	const file = "../testdata/pcaps/gen__hb-stopped.pcap"
	raw, err := os.ReadFile("../testdata/pcaps/gen__hb-stopped.expect.json")
	if err != nil {
		t.Fatal(err)
	}
	type expConn struct {
		ServerPort int `json:"server_port"`
		Summary    struct {
			S2CBeats int     `json:"s2c_stomp_eol"`
			S2CLast  float64 `json:"s2c_last_beat"`
		} `json:"summary"`
		Server []struct {
			Event string  `json:"event"`
			Time  float64 `json:"time"`
		} `json:"server"`
	}
	var exp struct {
		Conns       map[string]expConn `json:"conns"`
		Quiet       float64            `json:"quiet"`
		CaptureStop float64            `json:"capture_stop"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	epoch := func(s float64) time.Time { return time.UnixMilli(int64(math.Round(s * 1000))) }
	out, _ := connsJSONL(t, file, 1)
	if out2, _ := connsJSONL(t, file, 2); out2 != out {
		t.Errorf("-j 2 differs from -j 1:\n%s\n%s", out2, out)
	}
	type gap struct {
		From   time.Time `json:"from_ts"`
		To     time.Time `json:"to_ts"`
		Missed int       `json:"missed"`
		Open   bool      `json:"open_at_end"`
	}
	type series struct {
		Kind, Dir string
		Count     int
		Missed    int
		Gaps      []gap
	}
	type conn struct {
		Type      string
		Server    string
		Heartbeat struct {
			Glance string
			Series []series
		}
	}
	var last time.Time // the capture's last packet: the end of a gap to it
	byPort := map[string]conn{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c conn
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.Type == "conn" && c.Heartbeat.Series != nil {
			byPort[c.Server[strings.LastIndexByte(c.Server, ':')+1:]] = c
		}
	}
	near := func(a, b time.Time, d time.Duration) bool { return a.Sub(b).Abs() <= d }
	port := func(name string) string { return strconv.Itoa(exp.Conns[name].ServerPort) }
	stopped, healthy := byPort[port("stopped")], byPort[port("healthy")]
	if len(stopped.Heartbeat.Series) != 1 || len(healthy.Heartbeat.Series) == 0 {
		t.Fatalf("series: stopped %+v, healthy %+v", stopped.Heartbeat, healthy.Heartbeat)
	}
	s, e := stopped.Heartbeat.Series[0], exp.Conns["stopped"]
	if s.Kind != "stomp" || s.Dir != "s2c" || s.Count != e.Summary.S2CBeats || len(s.Gaps) != 1 {
		t.Fatalf("stopped: %+v, want the s2c heart-beats, %d beats, one gap", s, e.Summary.S2CBeats)
	}
	g := s.Gaps[0]
	last = g.To
	// The client saw the last beat within a few ms of the capture; the
	// capture's last packet is the healthy session's last before it was
	// quietened (it beat every 2 s), 2.5 s before tcpdump stopped.
	stop := epoch(e.Server[len(e.Server)-1].Time)
	if e.Server[len(e.Server)-1].Event != "SIGSTOP" || !near(g.From, epoch(e.Summary.S2CLast), 50*time.Millisecond) || g.From.After(stop) ||
		!g.Open || last.After(epoch(exp.CaptureStop)) || epoch(exp.Quiet).Sub(last) > 2100*time.Millisecond ||
		g.Missed != int(last.Sub(g.From)/(2*time.Second)) || s.Missed != g.Missed {
		t.Errorf("stopped: gap %+v (missed %d), want from the last beat %v (SIGSTOP %v) to the capture's end (quiet %v, stopped %v), open, a beat every 2 s missed",
			g, s.Missed, epoch(e.Summary.S2CLast), stop, epoch(exp.Quiet), epoch(exp.CaptureStop))
	}
	if want := "open at capture end)"; !strings.HasSuffix(stopped.Heartbeat.Glance, want) {
		t.Errorf("stopped: %q, want ending %q", stopped.Heartbeat.Glance, want)
	}
	for _, want := range []string{"stomp heart-beat c2s 2.0s ok", "stomp heart-beat s2c 2.0s ok", "stomp SEND ping 5.0s ok"} {
		if !strings.Contains(healthy.Heartbeat.Glance, want) {
			t.Errorf("healthy: %q, want %q in it", healthy.Heartbeat.Glance, want)
		}
	}
	for _, s := range healthy.Heartbeat.Series {
		if s.Missed != 0 || len(s.Gaps) != 0 {
			t.Errorf("healthy: %+v, want nothing missed", s)
		}
	}
}

// TestConnsCaptureEndPerFile: with --per-file each file is judged to its
// own end. File a: a STOMP session whose server beats every 10 s until
// 30 s and then falls silent, open, while another session runs to 90 s;
// file b runs on to 1 000 s. Read as one capture, the silent session's
// gap runs to b's end; per file, to a's.
func TestConnsCaptureEndPerFile(t *testing.T) {
	a := sockJSStomp("10.0.0.1:40020", "10000,10000")
	for s := 1; s <= 3; s++ {
		a.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
	}
	other := synth.New("10.0.0.1:40021", "10.0.0.2:8080").Open().UpgradeURI("/other")
	for s := 1; s <= 9; s++ {
		other.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte("hello"))
	}
	b := synth.New("10.0.0.1:40022", "10.0.0.2:8080").Open().UpgradeURI("/later")
	b.Wait(1000*time.Second).Frame(true, wsparse.OpText, []byte("hello"))
	fileA := writeCapture(t, append(a.Packets, other.Packets...))
	fileB := filepath.Join(t.TempDir(), "b.pcap")
	if err := os.Rename(writeCapture(t, b.Packets), fileB); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		perFile bool
		want    string
	}{
		{false, `stomp heart-beat s2c 10.0s 96 missed (max gap 970s, none in the last 970s, open at capture end)"`},
		{true, `stomp heart-beat s2c 10.0s 6 missed (max gap 60.0s, none in the last 60.0s, open at capture end)"`},
	} {
		var o, e bytes.Buffer
		if err := RunConns(&ConnsOptions{Out: &o, Format: "jsonl", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
			Input: Input{Err: &e, Reads: []string{fileA, fileB}, PerFile: tc.perFile, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(o.String(), tc.want) {
			t.Errorf("per-file %v: no %s in\n%s", tc.perFile, tc.want, o.String())
		}
	}
}

// TestParquetHeartbeatsCaptureEnd: the heartbeats dataset is conns'
// heartbeat.series (README), open connections judged to the capture's end
// too: gen__hb-stopped's stopped server 18 missed, as conns says, with
// -j 1 and 2. Until a review in session 37 its row said 0 missed, judged to
// the connection's last beat.
func TestParquetHeartbeatsCaptureEnd(t *testing.T) {
	const file = "../testdata/pcaps/gen__hb-stopped.pcap"
	out, _ := connsJSONL(t, file, 1)
	want := map[string]int64{} // conn kind dir -> missed, from conns
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct {
			Type      string
			Conn      int
			Heartbeat struct {
				Series []struct {
					Kind, Dir string
					Missed    int64
				}
			}
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.Heartbeat.Series {
			want[fmt.Sprint(c.Conn, s.Kind, s.Dir)] = s.Missed
		}
	}
	for _, jobs := range []int{1, 2} {
		rows, files, _ := parquetHeartbeats(t, file, jobs)
		if files != 1 {
			t.Fatalf("-j %d: %d heartbeats files", jobs, files)
		}
		got := map[string]int64{}
		for _, r := range rows {
			got[fmt.Sprint(r.Conn, r.Kind, r.Dir)] = r.Missed
		}
		if !maps.Equal(got, want) || want["4stomps2c"] != 18 {
			t.Errorf("-j %d: heartbeats dataset %v, want conns' %v (4stomps2c 18)", jobs, got, want)
		}
	}
}
