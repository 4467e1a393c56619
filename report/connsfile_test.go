package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// TestConnsFileColumn: the conns table of several inputs has a FILE column
// after SERVER, each connection's file (health.Report.File); fitted to a
// narrow terminal it is cut keeping its end (the rotation's part), "…"
// first; the table of one input has none.
func TestConnsFileColumn(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 19, 2, 9, 0, time.UTC)
	files := []string{"caps/host-a/ws-20261207-1900.pcap", "caps/host-b/ws-20261207-1905.pcap"}
	rep := func(files []string) *health.Report {
		var cs []*health.Conn
		for i := range 2 {
			cs = append(cs, &health.Conn{ID: i + 1, Input: int32(i), Start: t0, End: t0.Add(time.Second), Status: 101,
				Client: netip.MustParseAddrPort("10.0.0.1:4000"), Server: netip.MustParseAddrPort("10.0.0.2:80"), Host: "h", URI: "/"})
		}
		return &health.Report{Conns: cs, Files: files}
	}
	var b bytes.Buffer
	if err := WriteConnsTable(&b, rep(files), ConnsTableOptions{Origin: t0}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if h := strings.Fields(lines[0]); len(h) < 7 || h[4] != "SERVER" || h[5] != "FILE" || h[6] != "URL" {
		t.Fatalf("header %q", lines[0])
	}
	for i, f := range files {
		if got := strings.Fields(lines[i+1])[5]; got != f {
			t.Errorf("row %d: FILE %q, want %q", i+1, got, f)
		}
	}
	b.Reset()
	if err := WriteConnsTable(&b, rep(files), ConnsTableOptions{Origin: t0, Width: 90}); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(b.String(), "\n")
	for i, f := range files {
		want := "…" + f[len(f)-29:]
		if !strings.Contains(lines[i+1], "  "+want+"  ") {
			t.Errorf("width 90, row %d: no %q:\n%s", i+1, want, b.String())
		}
	}
	b.Reset()
	if err := WriteConnsTable(&b, rep(files[:1]), ConnsTableOptions{Origin: t0}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "FILE") || strings.Contains(b.String(), "caps/") {
		t.Errorf("one input: a file column:\n%s", b.String())
	}
}
