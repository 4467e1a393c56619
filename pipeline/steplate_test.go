package pipeline

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestDurationHoleNotStep: bytes held behind a hole the capture missed
// and passed over 2 s later come with their own capture time, after the
// server's later ones: not a step back of the clock. The connection's
// duration is last_ts - first_ts, 4.010 s, its clock never stepped.
// Before, the 1 s by which they came late was counted as a step back and
// added: 5.011 s.
func TestDurationHoleNotStep(t *testing.T) {
	c := synth.New("10.0.0.1:40012", "10.0.0.2:8080").Open().UpgradeURI("/chat")
	f1, f2 := synth.WSFrame(true, wsparse.OpText, []byte("one")), synth.WSFrame(true, wsparse.OpText, []byte("two"))
	c.DropNext = 1
	c.Send(true, f1)
	c.Send(true, f2)
	c.Wait(time.Second).Frame(false, wsparse.OpText, []byte("s1"))
	c.Wait(time.Second).Frame(false, wsparse.OpText, []byte("s2"))
	c.Wait(time.Second).Retransmit(true, len(f1)+len(f2), f1)
	c.Wait(time.Second).Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	file := writeCapture(t, c.Packets)
	out, errs := connsEach(t, false, file)
	m := connLine(t, "conns", out)
	if m["duration"] != 4.01 || m["first_ts"] != "2024-05-06T07:08:09.003000000Z" || m["last_ts"] != "2024-05-06T07:08:13.013000000Z" {
		t.Errorf("conns: duration %v from %v to %v, want 4.01 from 07:08:09.003 to 07:08:13.013\n%s", m["duration"], m["first_ts"], m["last_ts"], errs)
	}
}
