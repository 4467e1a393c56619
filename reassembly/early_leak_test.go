package reassembly

import (
	"testing"
	"time"
)

// TestEarlyDataTotalBalance: 40 TLS connections one after another, 3 s
// apart, each holding 64 KiB of 0-RTT early data that no answer decides,
// with room in --max-pending-total (300 KiB: 150 KiB a worker with -j 2)
// for two at once: ended by FIN, by eviction and parking past
// --max-connections 1, or by --idle-timeout, each gives back what it held,
// and none of the later ones finds the total full. A connection that kept
// its count would turn every later one's hold off (without the release,
// 38 of 40 were past the total).
func TestEarlyDataTotalBalance(t *testing.T) {
	for _, tc := range []struct {
		fin      bool
		maxConns int
		idle     time.Duration
	}{{true, 0, 0}, {false, 1, 0}, {false, 0, 2 * time.Second}} {
		earlyBalance(t, tc.fin, tc.maxConns, tc.idle)
	}
}

// earlyBalance runs TestEarlyDataTotalBalance's case.
func earlyBalance(t *testing.T, fin bool, maxConns int, idle time.Duration) {
	pkts, keys := earlyConns(t, 40, 3*time.Second, fin)
	for _, jobs := range []int{1, 2} {
		opts := Options{Keys: keys, MaxConnections: maxConns, IdleTimeout: idle}
		opts.Decoder.MaxPendingTotal = 300 << 10
		_, st := run(pkts, opts, jobs)
		if st.EarlyTotalLimit != 0 {
			t.Errorf("fin %v max %d idle %v -j %d: %d connections past the total (evicted %d)", fin, maxConns, idle, jobs, st.EarlyTotalLimit, st.Evicted)
		}
	}
}
