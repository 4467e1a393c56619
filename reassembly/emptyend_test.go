package reassembly

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestEmptyEndKeepsOrder: the End of a connection that sent no bytes,
// held or passed between goroutines as an emptyEnd, keeps the order its
// two TCP ends came in (TCPEndOrder): with a clock stepped back between
// them, their times alone say the reverse of TCPFirst. Without it the
// server's FIN, which came second at an earlier time, was taken as first.
func TestEmptyEndKeepsOrder(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := wsparse.Summary{First: t0, Last: t0.Add(time.Second), Connect: "accepted", End: wsparse.EndNotWebSocket,
		TCPFin: [2]bool{true, true}, TCPEndTS: [2]time.Time{t0.Add(time.Second), t0.Add(-time.Second)}, TCPEndOrder: [2]uint8{1, 2}}
	var got wsparse.Summary
	newEmptyEnd(&s).summary(&got)
	if got.TCPFirst() != s.TCPFirst() || got.TCPEndOrder != s.TCPEndOrder {
		t.Errorf("TCPFirst %v, TCPEndOrder %v after the emptyEnd; want %v, %v", got.TCPFirst(), got.TCPEndOrder, s.TCPFirst(), s.TCPEndOrder)
	}
}
