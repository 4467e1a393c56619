package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestAnswerHeldExpiresOnCaptureClock: a 101 captured before its request,
// then silence on its connection (no request, no more from the server, no
// FIN) while other connections go on, is believed once it has waited 1 s
// of capture time, at the first flush past it: its records come before
// those of the connection that starts 1.5 s later, the same with -j 1 and
// -j 2. Until session 37 it waited for the end of the capture, its
// records after every later connection's.
func TestAnswerHeldExpiresOnCaptureClock(t *testing.T) {
	held := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	held.Send(false, []byte(synth.UpgradeResponse+"\r\n")).Frame(false, wsparse.OpText, []byte("from the server"))
	pkts := held.Packets
	for i := range 3 {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 41000+i), "192.0.2.2:80").At(1500*time.Millisecond + time.Duration(i)*400*time.Millisecond).Open()
		c.Upgrade().Frame(true, wsparse.OpText, []byte("later")).Fin(true).Fin(false)
		pkts = append(pkts, c.Packets...)
	}
	l, _ := sameRecords(t, synth.ByTime(pkts), Options{})
	var order []string
	for _, line := range l.lines {
		if f := strings.Fields(line); f[3] == "handshake" || f[3] == "message" {
			order = append(order, f[1]+" "+f[3]+" "+f[5])
		}
	}
	want := "1 handshake [request_incomplete]|1 message \"from|2 handshake []|2 message \"later\"|3 handshake []|3 message \"later\"|4 handshake []|4 message \"later\""
	if got := strings.Join(order, "|"); got != want {
		t.Errorf("records %s,\nwant %s\n%s", got, want, strings.Join(l.lines, "\n"))
	}
}
