package main

import (
	"strings"
	"testing"
)

// TestConnsFilterGroups: conns' -Y selects connections as --conn and
// --host do, and its reconnect groups are those of the connections
// selected, as theirs are: the same output for the same selection, and
// -Y 'vni == 20' on gen__tenant-reconnect lists VXLAN 20's group only,
// its WebSocket connections and its refused connects (a field they have:
// selected as lint selects them), 10 attempts as without -Y. Before, -Y
// kept the rows and left the groups of the whole capture (both tenants'
// groups, connections listed that the table did not show); then the
// group of its 6 WebSocket connections alone, no refused connect.
func TestConnsFilterGroups(t *testing.T) {
	pcap, _ := tenantCapture(t)
	for _, c := range []struct{ expr, flag, val string }{
		{"conn == 2", "--conn", "2"},
		{"conn in [1, 3, 4]", "--conn", "1"}, // and 3 and 4
		{`host == "feed.example"`, "--host", "feed.example"},
	} {
		args := []string{c.flag, c.val}
		if strings.HasPrefix(c.expr, "conn in") {
			args = []string{"--conn", "1", "--conn", "3", "--conn", "4"}
		}
		for _, format := range []string{"table", "jsonl"} {
			byExpr, errs, code := runWsdump(t, nil, "conns", "-r", pcap, "--format", format, "-Y", c.expr)
			if code != 0 {
				t.Fatalf("-Y %q: exit %d: %s", c.expr, code, errs)
			}
			byFlag, errs, code := runWsdump(t, nil, append([]string{"conns", "-r", pcap, "--format", format}, args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errs)
			}
			if byExpr != byFlag {
				t.Errorf("%s: -Y %q:\n%s\nwant as %v:\n%s", format, c.expr, byExpr, args, byFlag)
			}
		}
	}
	out, errs, code := runWsdump(t, nil, "conns", "-r", pcap, "--format", "jsonl", "-Y", "vni == 20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	groups := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, `"type":"client_group"`) {
			continue
		}
		groups++
		if !strings.Contains(line, `"encap":"vxlan:20"`) || !strings.Contains(line, `"attempts":10,"refused":4`) {
			t.Errorf("-Y 'vni == 20': group %s; want VXLAN 20's 6 WebSocket connections and 4 refused connects", line)
		}
	}
	if groups != 1 {
		t.Errorf("-Y 'vni == 20': %d groups, want 1", groups)
	}
}
