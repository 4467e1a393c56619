package main

import (
	"io"
	"strings"
	"testing"
)

// TestLintHeartbeatFlags: lint takes conns' heartbeat and storm flags,
// registered once (same name, help and default: WS707 reads the storm
// flags); given them, the seed capture's SEND ping is judged as conns
// judges it: 3 beats missed (WS706), exit 3 with --fail-on warning; a
// --tolerance under 1 is a usage error, as for conns. Before, lint had
// none of these flags.
func TestLintHeartbeatFlags(t *testing.T) {
	lf := newLintCmd(nil, io.Discard, io.Discard).Flags()
	cf := newConnsCmd(nil, io.Discard, io.Discard).Flags()
	for _, name := range []string{"heartbeat-text", "heartbeat-interval", "tolerance", "storm-attempts", "storm-window"} {
		l, c := lf.Lookup(name), cf.Lookup(name)
		if l == nil || c == nil || l.Usage != c.Usage || l.DefValue != c.DefValue || l.Value.Type() != c.Value.Type() {
			t.Errorf("--%s: lint %+v, conns %+v", name, l, c)
		}
	}
	const file = "../../testdata/pcaps/gen__seed-sockjs-stomp-twotimers.pcap"
	out, errs, code := runWsdump(t, nil, "lint", "--fail-on", "warning", "-r", file, "--heartbeat-text", "ping", "--heartbeat-interval", "10s")
	if code != 3 || !strings.Contains(out, "WS706 heartbeat-missed          20.092131   conn 2 c2s connection  text c2s 10.0s (--heartbeat-interval): 3 missed (max gap 40.0s)") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	// --heartbeat-interval alone: the STOMP SEND ping health finds by
	// itself, its own period 10 s, is judged against it (before: no
	// finding, exit 0, while conns showed "3 missed"); a 30 s declared
	// is another rhythm than the SEND ping's.
	out, errs, code = runWsdump(t, nil, "lint", "--fail-on", "warning", "-r", file, "--heartbeat-interval", "10s")
	if code != 3 || !strings.Contains(out, "WS706 heartbeat-missed          20.092131   conn 2 c2s connection  stomp SEND ping c2s 10.0s (--heartbeat-interval): 3 missed (max gap 40.0s)") {
		t.Errorf("--heartbeat-interval 10s: exit %d\n%s%s", code, out, errs)
	}
	if out, errs, _ := runWsdump(t, nil, "lint", "-r", file, "--heartbeat-interval", "30s"); strings.Contains(out, "WS706") {
		t.Errorf("--heartbeat-interval 30s:\n%s%s", out, errs)
	}
	if out, errs, code := runWsdump(t, nil, "lint", "-r", file, "--tolerance", "0.5"); code != 1 || !strings.Contains(errs, "--tolerance must be at least 1") {
		t.Errorf("--tolerance 0.5: exit %d\n%s%s", code, out, errs)
	}
	if out, errs, code := runWsdump(t, nil, "lint", "-r", file, "--storm-attempts", "1"); code != 1 || !strings.Contains(errs, "--storm-attempts must be at least 2") {
		t.Errorf("--storm-attempts 1: exit %d\n%s%s", code, out, errs)
	}
}
