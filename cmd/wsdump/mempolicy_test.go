package main

import "testing"

// TestMemPolicy: GOMEMLIMIT leaves the runtime's memory limit and GOGC to
// the user (no memtarget), GOGC its own percentage (no Growth), and
// neither leaves memoryPolicy as it is, Growth included.
func TestMemPolicy(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		start  bool
		growth float64
	}{
		{"neither", nil, true, memoryPolicy.Growth},
		{"GOGC", map[string]string{"GOGC": "200"}, true, 0},
		{"GOGC off", map[string]string{"GOGC": "off"}, true, 0},
		{"GOMEMLIMIT", map[string]string{"GOMEMLIMIT": "1GiB"}, false, 0},
		{"both", map[string]string{"GOGC": "50", "GOMEMLIMIT": "1GiB"}, false, 0},
	} {
		lookup := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		p, start := memPolicy(lookup)
		if start != c.start {
			t.Errorf("%s: memtarget started %v, want %v", c.name, start, c.start)
			continue
		}
		if !start {
			continue
		}
		if p.Growth != c.growth {
			t.Errorf("%s: Growth %v, want %v", c.name, p.Growth, c.growth)
		}
		q := p
		q.Growth = memoryPolicy.Growth
		if q != memoryPolicy {
			t.Errorf("%s: %+v, want memoryPolicy %+v but for Growth", c.name, p, memoryPolicy)
		}
	}
	if memoryPolicy.Growth == 0 {
		t.Error("memoryPolicy has no Growth: the cases above tell nothing")
	}
}
