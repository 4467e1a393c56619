package pipeline

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// stepConv is a connection of 3 ms whose capture's clock steps back 10 s
// (an NTP step) before its server's message, and 4 ms more after it.
func stepConv() *synth.Conv {
	c := synth.New("10.0.0.1:40012", "10.0.0.2:8080").Open().UpgradeURI("/chat")
	c.Wait(time.Millisecond).Frame(true, wsparse.OpText, []byte("a"))
	c.Wait(-10*time.Second).Frame(false, wsparse.OpText, []byte("b"))
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	return c
}

// TestDurationClockStepBack: a connection whose clock stepped back has one
// duration in every view: its time on each side of the step, 7 ms. Before,
// the records' jsonl (and Parquet, and -Y duration) said -9.992 s, last
// minus first, and conns 1.00ms, to its latest time before the step (its
// upgrade's 101, its last_ts neither the records' nor its last packet's).
func TestDurationClockStepBack(t *testing.T) {
	file := writeCapture(t, stepConv().Packets)
	for _, jobs := range []int{1, 2} {
		in := Input{Err: new(bytes.Buffer), Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}
		var view bytes.Buffer
		if err := RunView(&ViewOptions{Out: &view, Format: "jsonl", Time: "rel", Preview: 64, Input: in,
			Filter: filter.Flags{Expr: `type == "conn" && duration > 0.0069 && duration < 0.0071`}}); err != nil {
			t.Fatal(err)
		}
		rec := connLine(t, "records", view.String())
		connsOut, _ := connsJSONL(t, file, jobs)
		conn := connLine(t, "conns", connsOut)
		for _, c := range []struct {
			name string
			m    map[string]any
		}{{"records", rec}, {"conns", conn}} {
			if c.m["duration"] != 0.007 || c.m["last_ts"] != "2024-05-06T07:07:59.011000000Z" {
				t.Errorf("-j %d: %s duration %v last_ts %v, want 0.007 and the last packet's 07:07:59.011", jobs, c.name, c.m["duration"], c.m["last_ts"])
			}
		}
		var table bytes.Buffer
		if err := RunConns(&ConnsOptions{Out: &table, Format: "table", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
			Input: in}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(table.String(), " 7.00ms ") {
			t.Errorf("-j %d: conns table has no DUR 7.00ms:\n%s", jobs, table.String())
		}
		dir := t.TempDir()
		if err := RunView(&ViewOptions{Out: new(bytes.Buffer), Format: "parquet", OutDir: dir, Time: "rel", Preview: 64, Input: in}); err != nil {
			t.Fatal(err)
		}
		names, _ := filepath.Glob(filepath.Join(dir, "conns", "*", "*.parquet"))
		if len(names) != 1 {
			t.Fatalf("-j %d: conns dataset files %v", jobs, names)
		}
		rows, err := parquet.ReadFile[struct {
			Duration float64 `parquet:"duration"`
		}](names[0])
		if err != nil || len(rows) != 1 || rows[0].Duration != 0.007 {
			t.Errorf("-j %d: Parquet conns %v %v, want one row of duration 0.007", jobs, rows, err)
		}
	}
}

// connLine is the one conn record of jsonl out, decoded.
func connLine(t *testing.T, name, out string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, `{"type":"conn",`) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("%s: no conn record in\n%s", name, out)
	return nil
}
