package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
)

// tenantGroups is two tenants' groups of one client IP, Host and URL, and
// with plain, a third group without tenant.
func tenantGroups(plain bool) *health.Report {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var gs []*health.Group
	for i, encap := range []string{"vxlan:10", "vlan:20", ""} {
		if encap == "" && !plain {
			continue
		}
		g := &health.Group{ClientIP: netip.MustParseAddr("10.9.0.1"), Host: "feed.example", Path: "/feed", Attempts: []health.Attempt{
			{Conn: 2*i + 1, Start: t0, End: t0.Add(time.Second), Outcome: health.OutcomeError},
			{Conn: 2*i + 2, Start: t0.Add(2 * time.Second), End: t0.Add(3 * time.Second), Outcome: health.OutcomeOK, After: time.Second, HasAfter: true, Retry: true},
		}}
		g.SetEncap(encap)
		gs = append(gs, g)
	}
	return &health.Report{Groups: gs}
}

// TestConnsTableGroupsEncap: the groups table has an ENCAP column, after
// CLIENT, when a group has a tenant ("-" for one without), and none
// otherwise; fitted to a narrow width, ENCAP stays when CLIENT goes (the
// tenant is what tells two rows of one client IP apart).
func TestConnsTableGroupsEncap(t *testing.T) {
	var b bytes.Buffer
	if err := WriteConnsTable(&b, tenantGroups(true), ConnsTableOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Reconnect groups (client IP, tenant, Host, base URL):\n",
		"GROUP  CLIENT    ENCAP     URL ",
		"1      10.9.0.1  vxlan:10  feed.example/feed  2 ",
		"2      10.9.0.1  vlan:20   feed.example/feed  2 ",
		"3      10.9.0.1  -         feed.example/feed  2 ",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	plain := tenantGroups(true)
	plain.Groups = plain.Groups[2:]
	if err := WriteConnsTable(&b, plain, ConnsTableOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "ENCAP") || !strings.Contains(s, "Reconnect groups (client IP, Host, base URL):\nGROUP  CLIENT    URL ") {
		t.Errorf("plain groups: want the table as before, without ENCAP:\n%s", s)
	}
	b.Reset()
	if err := WriteConnsTable(&b, tenantGroups(false), ConnsTableOptions{Width: 60}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "GROUP  ENCAP ") || !strings.Contains(b.String(), "1      vxlan:10  ") {
		t.Errorf("width 60: the tenant gone:\n%s", b.String())
	}
}

// TestHealthJSONLGroupEncap: a group's "encap" follows its key fields
// (client_ip, server, host, path); a group without tenant has none.
func TestHealthJSONLGroupEncap(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHealthJSONL(&b, tenantGroups(true), health.Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for i, want := range []string{`"path":"/feed","encap":"vxlan:10","attempts":2,`, `"path":"/feed","encap":"vlan:20","attempts":2,`, `"path":"/feed","attempts":2,`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %s, want %s", i+1, lines[i], want)
		}
	}
}

// TestHTMLGroupsEncap: the report's groups table has an ENCAP column when
// a group has a tenant, and the timeline's lanes name it.
func TestHTMLGroupsEncap(t *testing.T) {
	for _, tc := range []struct {
		rep  *health.Report
		want int
	}{{tenantGroups(true), 1}, {&health.Report{Groups: tenantGroups(true).Groups[2:]}, 0}} {
		var b bytes.Buffer
		if err := WriteHTML(&b, HTMLInput{Title: "t", Report: tc.rep}); err != nil {
			t.Fatal(err)
		}
		s := b.String()
		if n := strings.Count(s, "<th>ENCAP</th>"); n != tc.want {
			t.Errorf("%d ENCAP columns, want %d", n, tc.want)
		}
		if tc.want > 0 && (!strings.Contains(s, "<td>vxlan:10</td>") || !strings.Contains(s, "1 10.9.0.1 vxlan:10 feed.example/feed")) {
			t.Errorf("no vxlan:10 cell or lane label in the report")
		}
	}
}

// TestHTMLGroupsEncapEscaped: a group's encap reaches the report escaped,
// in the groups table and on its timeline lane (encap is made of numbers
// from the capture, but the report does not rely on it).
func TestHTMLGroupsEncapEscaped(t *testing.T) {
	rep := tenantGroups(true)
	rep.Groups[0].SetEncap(`vlan:1<script>alert("x")</script>&`)
	var b bytes.Buffer
	if err := WriteHTML(&b, HTMLInput{Title: "t", Report: rep}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script") || strings.Contains(s, `alert("x")`) {
		t.Errorf("the encap unescaped in the report")
	}
	if n := strings.Count(s, "vlan:1&lt;script&gt;"); n < 2 {
		t.Errorf("the escaped encap %d times, want in the table and on the lane", n)
	}
}
