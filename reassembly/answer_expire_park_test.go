package reassembly

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestAnswerHeldExpiresParked: a 101 held for its request on a connection
// parked by --max-connections is believed at the flush past its second as
// any other (its records then, its connection keeping its number), and the
// request that comes 2 s after it is read as frames: the same with -j 1
// and -j 2.
func TestAnswerHeldExpiresParked(t *testing.T) {
	held := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	held.Send(false, []byte(synth.UpgradeResponse+"\r\n"))
	pkts := slices.Clone(held.Packets)
	for i := range 12 {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 41000+i), "192.0.2.2:80").At(300*time.Millisecond + time.Duration(i)*100*time.Millisecond).Open()
		c.Upgrade().Frame(true, wsparse.OpText, []byte("crowd"))
		pkts = append(pkts, c.Packets...)
	}
	held.At(2*time.Second).Send(true, []byte(synth.UpgradeRequest+"\r\n"))
	held.Frame(true, wsparse.OpText, []byte("from the client"))
	pkts = append(pkts, held.Packets[len(held.Packets)-2:]...)
	l, st := sameRecords(t, synth.ByTime(pkts), Options{MaxConnections: 10})
	got := strings.Join(l.lines, "\n")
	if st.Evicted == 0 || !strings.Contains(got, "conn 1 192.0.2.1:40001->192.0.2.2:80 handshake 101 [request_incomplete]") || strings.Contains(got, "answer_before_request") {
		t.Errorf("%d evicted; records:\n%s", st.Evicted, got)
	}
}
