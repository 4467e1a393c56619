package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Matcher applies a Filter to packets read from a file (-r F tcp port 80):
// the program CompileFilter makes for the live path, run by
// golang.org/x/net/bpf's VM on the packet's network header, so a file is
// filtered exactly as a live capture.
type Matcher struct {
	vm *bpf.VM
}

// NewMatcher compiles f for IP packets (the link header stripped).
func NewMatcher(f Filter) (*Matcher, error) {
	prog, err := CompileFilter(f, LinkRaw)
	if err != nil {
		return nil, err
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("capture: filter: %w", err)
	}
	return &Matcher{vm: vm}, nil
}

// Match reports whether the IP packet ip (IPv4 or IPv6, starting at the IP
// header) passes the filter. A packet too short for a field the filter
// reads does not pass, as in the kernel.
func (m *Matcher) Match(ip []byte) bool {
	n, err := m.vm.Run(ip)
	return err == nil && n > 0
}
