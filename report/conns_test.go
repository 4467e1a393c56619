package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// TestConnsTableGroups: the group row of a load run (attempts that
// overlap: one entry for a run of them, no delay) and of a loop that
// never came back (its outage, down at the end, every refused attempt
// with its delay).
func TestConnsTableGroups(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	load := &health.Group{ClientIP: netip.MustParseAddr("10.0.0.1"), Host: "h", Path: "/load", MaxParallel: 3}
	for i := range 5 {
		load.Attempts = append(load.Attempts, health.Attempt{Conn: i + 1, Start: at(i), End: at(100 + i), Outcome: health.OutcomeOK, Concurrent: i > 0})
	}
	load.Attempts = append(load.Attempts, health.Attempt{Conn: 6, Start: at(300), End: at(400), Outcome: health.OutcomeOK, After: 196 * time.Millisecond, HasAfter: true})
	down := &health.Group{ClientIP: netip.MustParseAddr("10.0.0.2"), Server: netip.MustParseAddrPort("10.0.0.3:8080"),
		Refused: 2, Errors: 1, DownAtEnd: 6 * time.Second, Backoff: "fixed", BackoffInterval: 3 * time.Second, Attempts: []health.Attempt{
			{Conn: 7, Via: []int{8}, Outcome: health.OutcomeError},
			{Conn: 9, Outcome: health.OutcomeConnRefused, After: 3 * time.Second, HasAfter: true, Retry: true},
			{Conn: 10, Outcome: health.OutcomeConnRefused, After: 3 * time.Second, HasAfter: true, Retry: true},
		}}
	var b bytes.Buffer
	if err := WriteConnsTable(&b, &health.Report{Groups: []*health.Group{load, down}}, ConnsTableOptions{Origin: t0}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"h/load         6 (3 parallel)  0        0       0       -                 no     -           1 ok, 2…5 ok ×4 parallel, 6 ok +196ms",
		"10.0.0.3:8080  3               2        0       1       down 6.0s at end  no     fixed 3.0s  7 error via 8, 9 conn_refused +3.0s, 10 conn_refused +3.0s",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no row %q in\n%s", want, b.String())
		}
	}
}
