package pipeline

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestHTTP2DurationClockStepBack: an HTTP/2 connection whose capture's
// clock stepped back 10 s within it, 2 ms after its first bytes and 2 ms
// before its end, lasted 4 ms in the conns table's HTTP/2 rows, as its
// conn record and Parquet row say (wsparse.Summary.Duration). Before, the
// table (and the HTML report's) said -10.0s, last minus first.
func TestHTTP2DurationClockStepBack(t *testing.T) {
	h := synth.NewH2()
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open()
	c.Send(true, h.Preface())
	c.Send(false, h.Settings(false))
	c.Send(true, h.Headers(true, 1, true, ":method", "GET", ":scheme", "http", ":authority", "h", ":path", "/"))
	c.Wait(-10*time.Second).Send(false, h.Headers(false, 1, true, ":status", "200"))
	c.Fin(true).Fin(false)
	file := writeCapture(t, c.Packets)
	for _, jobs := range []int{1, 2} {
		var table bytes.Buffer
		if err := RunConns(&ConnsOptions{Out: &table, Format: "table", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
			Input: Input{Err: new(bytes.Buffer), Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
			t.Fatal(err)
		}
		if want := "1     0.003  4.00ms  10.0.0.1:40000"; !strings.Contains(table.String(), want) {
			t.Errorf("-j %d: no %q in the HTTP/2 rows:\n%s", jobs, want, table.String())
		}
	}
}
