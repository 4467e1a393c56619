package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
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

// TestConnsViewRelease: with Release the jsonl and csv writers drop each
// connection from the report once written, so that the conns view's
// 100 000 results (77 MB) can be collected while the rest are written;
// the bytes are the same. Without it the report stays whole.
func TestConnsViewRelease(t *testing.T) {
	mk := func() *health.Report {
		tr := health.New(nil, health.Options{})
		for i := range 50 {
			c := wsparse.NewConn(i+1, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 5000), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second)
			hs := &wsparse.Handshake{RequestTS: t0, TS: t0.Add(time.Millisecond), Method: "GET", URI: "/ws", Host: "example.test", Status: 101}
			tr.Handshake(c, hs)
			tr.End(c, &wsparse.Summary{First: t0, Last: t0.Add(time.Second), Handshake: hs, End: wsparse.EndOpen})
		}
		return tr.Report()
	}
	for _, format := range []string{"jsonl", "csv"} {
		var kept, released bytes.Buffer
		whole, rep := mk(), mk()
		if err := WriteConns(&kept, whole, ConnsView{Format: format}); err != nil {
			t.Fatal(err)
		}
		if err := WriteConns(&released, rep, ConnsView{Format: format, Release: true}); err != nil {
			t.Fatal(err)
		}
		if kept.String() != released.String() || kept.Len() == 0 {
			t.Errorf("%s: released\n%s\nnot\n%s", format, released.String(), kept.String())
		}
		for i, c := range rep.Conns {
			if c != nil {
				t.Errorf("%s: connection %d kept after it was written", format, i)
				break
			}
		}
		for i, c := range whole.Conns {
			if c == nil {
				t.Errorf("%s: connection %d dropped without Release", format, i)
				break
			}
		}
	}
}

// TestConnsHTTP2More: the conns table says how many HTTP/2 connections it
// does not list, and how many of them were not wholly followed.
func TestConnsHTTP2More(t *testing.T) {
	h := &health.HTTP2Conn{ID: 1, Streams: 1, Requests: 1}
	for _, tc := range []struct {
		more, notFollowed int
		want              string
	}{
		{4, 0, "and 4 more HTTP/2 connections\n"},
		{4, 2, "and 4 more HTTP/2 connections, 2 of them not wholly followed\n"},
	} {
		var b strings.Builder
		if err := WriteConnsTable(&b, &health.Report{HTTP2: []*health.HTTP2Conn{h}, HTTP2More: tc.more, HTTP2MoreNotFollowed: tc.notFollowed}, ConnsTableOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(b.String(), tc.want) {
			t.Errorf("table ends %q, want %q", b.String()[max(0, b.Len()-80):], tc.want)
		}
	}
}
