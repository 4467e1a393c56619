package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// longStepConv is a connection of 30.008 s whose capture's clock steps
// back 60 s before its last frames: its last packet's time is 30 s before
// its upgrade request.
func longStepConv() *synth.Conv {
	c := synth.New("10.0.0.1:40012", "10.0.0.2:8080").Open().UpgradeURI("/chat")
	for range 3 {
		c.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte("b"))
	}
	c.Wait(-60*time.Second).Frame(true, wsparse.OpText, []byte("a"))
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	return c
}

// TestStepTimeline: a connection whose clock stepped back more than it
// lasted has its duration in the reconnect groups' timeline and the HTML
// report's bar too, not an end before its start. Before, the timeline's
// end_ts was its last packet's time, 30 s before its start_ts, the group's
// last_ts before its first_ts, and the HTML bar 2 px wide, the least drawn.
func TestStepTimeline(t *testing.T) {
	file := writeCapture(t, longStepConv().Packets)
	out, _ := connsEach(t, false, file)
	var conn, group struct {
		FirstTS  time.Time `json:"first_ts"`
		LastTS   time.Time `json:"last_ts"`
		Duration float64   `json:"duration"`
		Timeline []struct {
			StartTS time.Time `json:"start_ts"`
			EndTS   time.Time `json:"end_ts"`
		} `json:"timeline"`
	}
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, `{"type":"conn",`):
			if err := json.Unmarshal([]byte(l), &conn); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(l, `{"type":"client_group",`):
			if err := json.Unmarshal([]byte(l), &group); err != nil {
				t.Fatal(err)
			}
		}
	}
	if conn.Duration != 30.008 || len(group.Timeline) != 1 {
		t.Fatalf("conn duration %v, timeline %v:\n%s", conn.Duration, group.Timeline, out)
	}
	a := group.Timeline[0]
	if d := a.EndTS.Sub(a.StartTS).Seconds(); d != conn.Duration || group.LastTS.Before(group.FirstTS) {
		t.Errorf("timeline start_ts %v end_ts %v (%vs), group first_ts %v last_ts %v; want the conn's duration %vs", a.StartTS, a.EndTS, d, group.FirstTS, group.LastTS, conn.Duration)
	}

	html := filepath.Join(t.TempDir(), "r.html")
	var stderr bytes.Buffer
	if err := RunReport(&ReportOptions{Output: html, ConnsOptions: ConnsOptions{Out: new(bytes.Buffer), Format: "table", Time: "rel",
		HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
		Input:       Input{Err: &stderr, Reads: []string{file}, Jobs: 1, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<rect class="conn" data-conn="1"[^>]* width="([0-9.]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no bar for connection 1 in the report")
	}
	// The axis runs from the step's 30 s before the start to 30 s after:
	// a bar of 30 s is the half of it, far more than the least, 2 px.
	if w, _ := strconv.ParseFloat(string(m[1]), 64); w < 100 {
		t.Errorf("connection 1's bar is %v px wide, for 30 s of an axis of 60 s", w)
	}
}

// TestStepCountedLastAfterFirst: a connection of 30 s whose clock stepped
// back 5 s within it, its last packet still after its first, is one of
// those the notice counts, as its duration leaves the step out. Before,
// only a connection whose last bytes came over 1 s before its first (or a
// heartbeat series cut by the step) was counted: the notice said none.
func TestStepCountedLastAfterFirst(t *testing.T) {
	c := synth.New("10.0.0.1:40012", "10.0.0.2:8080").Open().UpgradeURI("/chat")
	for range 3 {
		c.Wait(10*time.Second).Frame(false, wsparse.OpText, []byte("b"))
	}
	c.Wait(-5*time.Second).Frame(true, wsparse.OpText, []byte("a"))
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	out, errs := connsEach(t, false, writeCapture(t, c.Packets))
	if m := connLine(t, "conns", out); m["duration"] != 30.008 {
		t.Errorf("duration %v, want 30.008", m["duration"])
	}
	wantIn(t, "stderr", errs, "wsdump: the capture's clock stepped back within 1 connection ")
}
