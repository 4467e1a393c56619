package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestPackageInitAllocs: each of wsdump's packages allocates little when
// the program starts (GODEBUG=inittrace=1), which every run pays, a short
// one too: what only one command uses (the HTML report's template, 2 064
// allocations and over a millisecond to parse) is made at its first use.
func TestPackageInitAllocs(t *testing.T) {
	cmd := wsdumpCmd("version")
	cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	seen := 0
	for sc := bufio.NewScanner(&errb); sc.Scan(); {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		var pkg, at, clock string
		var ms float64
		var bytes, allocs int
		line := sc.Text()
		if _, err := fmt.Sscanf(line, "init %s %s %s %f ms clock, %d bytes, %d allocs", &pkg, &at, &clock, &ms, &bytes, &allocs); err != nil ||
			!strings.HasPrefix(pkg, "github.com/wsdump/wsdump/") || strings.HasPrefix(pkg, "github.com/wsdump/wsdump/cmd/") {
			continue
		}
		seen++
		if allocs > 500 || bytes > 256<<10 {
			t.Errorf("%s", line)
		}
	}
	if seen == 0 {
		t.Fatalf("no init trace of wsdump's packages in %q", errb.String())
	}
	t.Logf("%d packages of wsdump traced", seen)
}
