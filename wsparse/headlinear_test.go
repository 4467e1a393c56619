package wsparse

import (
	"runtime"
	"strings"
	"testing"
)

// allocBytes is the least of three measures of the bytes f allocates
// (other tests running at once can only add to one).
func allocBytes(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestFoldedHeadLinear: a field folded over many lines (obs-fold, RFC 9112
// §5.2) is joined in bytes linear in its lines. Joining each line onto the
// value made so far copied it again at every line: 16 times the lines
// allocated 250 times the bytes (20 heads of 12 800 folded lines under the
// 64 KiB head bound took 3.4 CPU s).
func TestFoldedHeadLinear(t *testing.T) {
	cost := func(lines int) uint64 {
		head := []byte(upgradeRequest("X-F: a\r\n" + strings.Repeat(" b\r\n", lines)))
		return allocBytes(func() {
			h, _ := parseHead(head)
			if v := h.get("X-F"); len(v) != 1+2*lines {
				t.Fatalf("%d lines: value of %d bytes", lines, len(v))
			}
		})
	}
	small, large := cost(250), cost(16*250)
	t.Logf("bytes allocated: %d for 250 folded lines, %d for 4 000", small, large)
	if large > 32*small {
		t.Errorf("16 times the folded lines allocated %.0f times the bytes, want <= 32", float64(large)/float64(small))
	}
}

// TestRepeatedFieldsLinear: the values of a field repeated many times are
// joined (RFC 9110 §5.3) in bytes linear in their number.
func TestRepeatedFieldsLinear(t *testing.T) {
	cost := func(n int) uint64 {
		head := []byte(upgradeRequest(strings.Repeat("Sec-WebSocket-Protocol: chat\r\n", n)))
		return allocBytes(func() {
			h, _ := parseHead(head)
			if v := h.get("Sec-WebSocket-Protocol"); len(v) != 6*n-2 {
				t.Fatalf("%d fields: value of %d bytes", n, len(v))
			}
		})
	}
	small, large := cost(100), cost(16*100)
	t.Logf("bytes allocated: %d for 100 repeated fields, %d for 1 600", small, large)
	if large > 32*small {
		t.Errorf("16 times the repeated fields allocated %.0f times the bytes, want <= 32", float64(large)/float64(small))
	}
}
