package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLimitNoticesEveryCommand: the notices of what a capture ran into
// that no record shows (here: a link type its packets do not match, so
// nothing is decoded) reach stderr from every command that reads a
// capture, not only the main view; lint and diff, which read several
// captures each on its own, name the capture. Before, conns said nothing
// but an empty table and lint "no findings".
func TestLimitNoticesEveryCommand(t *testing.T) {
	p, path := newRawPcap(t, 1) // Ethernet, but the packets are raw IP
	for _, pk := range conv(false).Packets {
		p.packet(pk.Data[14:], len(pk.Data)-14)
	}
	p.close(t)
	const notice = "none of the 5 packets carries IPv4 or IPv6 as its link type says: wrong link type?"
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		named bool
	}{
		{[]string{"-r", path}, false},
		{[]string{"conns", "-r", path}, false},
		{[]string{"conns", "--format", "jsonl", "-r", path}, false},
		{[]string{"report", "-o", filepath.Join(dir, "r.html"), "-r", path}, false},
		{[]string{"lint", path}, true},
		{[]string{"diff", path, path}, true},
		{[]string{"follow", "-r", path}, true},
		{[]string{"export", "-o", filepath.Join(dir, "x"), "-r", path}, true},
	} {
		_, errs, _ := runWsdump(t, nil, c.args...)
		want := "wsdump: " + notice
		if c.named {
			want = "wsdump: " + path + ": " + notice
		}
		if n := strings.Count(errs, notice); n == 0 || !strings.Contains(errs, want) {
			t.Errorf("wsdump %s: stderr %q, want %q", strings.Join(c.args, " "), errs, want)
		}
	}
}
