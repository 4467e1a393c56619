package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// TestConnsUrgentColumn: when a connection carried segments with the TCP
// URG flag, the conns table has a URG C2S/S2C column after S2C F/M/B
// (each side's count, "-" for a connection with none), kept when fitted
// to a narrow terminal, and the CSV c2s_ and s2c_urgent_segments after
// heartbeat (before encap); a report without them has neither.
func TestConnsUrgentColumn(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 0, 18, 25, 0, time.UTC)
	rep := func(urgent bool, encap string) *health.Report {
		var cs []*health.Conn
		for i := range 2 {
			c := &health.Conn{ID: i + 1, Start: t0, End: t0.Add(time.Second), Status: 101, Encap: encap,
				Client: netip.MustParseAddrPort("10.0.0.1:4000"), Server: netip.MustParseAddrPort("10.0.0.2:80"), Host: "h", URI: "/"}
			if urgent && i == 0 {
				c.Stats[0].Urgent, c.Stats[1].Urgent = 3, 1
			}
			cs = append(cs, c)
		}
		return &health.Report{Conns: cs}
	}
	table := func(r *health.Report, width int) []string {
		var b bytes.Buffer
		if err := WriteConnsTable(&b, r, ConnsTableOptions{Origin: t0, Width: width}); err != nil {
			t.Fatal(err)
		}
		return strings.Split(b.String(), "\n")
	}
	csv := func(r *health.Report) []string {
		var b bytes.Buffer
		if err := WriteConnsCSV(&b, r, ConnsTableOptions{Origin: t0}); err != nil {
			t.Fatal(err)
		}
		return strings.Split(b.String(), "\n")
	}

	lines := table(rep(true, ""), 0)
	col := strings.Index(lines[0], "URG C2S/S2C")
	if col < 0 || !strings.Contains(lines[0], "S2C F/M/B  URG C2S/S2C  CLOSE") {
		t.Fatalf("header %q", lines[0])
	}
	for i, want := range []string{"3/1", "-"} {
		if got := strings.Fields(lines[i+1][col:])[0]; got != want {
			t.Errorf("row %d: URG %q, want %q", i+1, got, want)
		}
	}
	lines = table(rep(true, ""), 70)
	if !strings.Contains(lines[0], "URG C2S/S2C") || !strings.Contains(lines[1], " 3/1 ") {
		t.Errorf("width 70: no URG column:\n%s", strings.Join(lines, "\n"))
	}
	c := csv(rep(true, "vlan:10"))
	if !strings.HasSuffix(c[0], ",close,heartbeat,c2s_urgent_segments,s2c_urgent_segments,encap") ||
		!strings.HasSuffix(c[1], ",3,1,vlan:10") || !strings.HasSuffix(c[2], ",0,0,vlan:10") {
		t.Errorf("CSV:\n%s", strings.Join(c, "\n"))
	}

	// Without urgent segments: neither, the output of before.
	for _, out := range [][]string{table(rep(false, ""), 0), table(rep(false, ""), 70), csv(rep(false, ""))} {
		if s := strings.Join(out, "\n"); strings.Contains(strings.ToLower(s), "urg") {
			t.Errorf("no urgent segments, an urgent column:\n%s", s)
		}
	}
	if c := csv(rep(false, "")); !strings.HasSuffix(c[0], ",close,heartbeat") {
		t.Errorf("CSV header %q", c[0])
	}

	// AllColumns (--per-file, whose files share one header): both and
	// encap, whatever the connections.
	var b bytes.Buffer
	if err := WriteConnsCSV(&b, rep(false, ""), ConnsTableOptions{Origin: t0, AllColumns: true}); err != nil {
		t.Fatal(err)
	}
	if c := strings.Split(b.String(), "\n"); !strings.HasSuffix(c[0], ",heartbeat,c2s_urgent_segments,s2c_urgent_segments,encap") ||
		!strings.HasSuffix(c[1], ",0,0,") || !strings.HasSuffix(c[2], ",0,0,") {
		t.Errorf("CSV with AllColumns:\n%s", b.String())
	}
}
