package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestConnsSTOMPFramesAlive: STOMP over SockJS with heart-beats of 10 s
// each way, against a broker that sends an EOL only when it wrote nothing
// for 10 s (Spring's simple broker does): from 40 to 90 s it sends a
// MESSAGE every 3 s and no EOL. The server was alive all along (STOMP
// 1.2: any data counts); conns said "stomp heart-beat s2c 10.0s 5 missed
// (max gap 57.0s)".
func TestConnsSTOMPFramesAlive(t *testing.T) {
	c := sockJSStomp("10.0.0.1:40010", "10000,10000")
	lastWrite := 0
	for s := 1; s <= 150; s++ {
		c.Wait(time.Second)
		if s%10 == 0 {
			c.Frame(true, wsparse.OpText, []byte(`["\n"]`))
		}
		switch {
		case s > 40 && s < 90 && s%3 == 0:
			c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf(`a["MESSAGE\ndestination:/topic/x\nsubscription:sub-0\nmessage-id:%d\n\nhello\u0000"]`, s)))
			lastWrite = s
		case s-lastWrite >= 10:
			c.Frame(false, wsparse.OpText, []byte(`a["\n"]`))
			lastWrite = s
		}
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	out, _ := connsJSONL(t, writeCapture(t, c.Packets), 1)
	if want := `stomp heart-beat c2s 10.0s ok; stomp heart-beat s2c 10.0s ok"`; !strings.Contains(out, want) {
		t.Errorf("no %s in\n%s", want, out)
	}
	if strings.Contains(out, "stomp-frame") {
		t.Errorf("the frames are a series:\n%s", out)
	}
}

// TestConnsSTOMPPromisedNone: the seed's stack against a server that
// answered CONNECTED heart-beat:10000,10000 and then sent nothing for
// 45 s while the client beat every 10 s. The server's silence is a series
// of no beats from the CONNECTED (its time carried by the Negotiated
// record, through -j's merge too): 4 missed. Until session 36 conns said
// only "stomp heart-beat c2s 10.0s ok".
func TestConnsSTOMPPromisedNone(t *testing.T) {
	c := sockJSStomp("10.0.0.1:40011", "10000,10000")
	for s := 1; s <= 45; s++ {
		c.Wait(time.Second)
		if s%10 == 0 {
			c.Frame(true, wsparse.OpText, []byte(`["\n"]`))
		}
	}
	c.Fin(true).Fin(false)
	file := writeCapture(t, c.Packets)
	for _, jobs := range []int{1, 2} {
		out, _ := connsJSONL(t, file, jobs)
		want := `stomp heart-beat c2s 10.0s ok; stomp heart-beat s2c 10.0s 4 missed (none in 45.0s since negotiated)"`
		if !strings.Contains(out, want) {
			t.Errorf("-j %d: no %s in\n%s", jobs, want, out)
		}
		if !strings.Contains(out, `"dir":"s2c","count":0,"first_ts":null`) {
			t.Errorf("-j %d: no s2c series of no beats in\n%s", jobs, out)
		}
	}
}

// TestConnsClockStepBack: the capture's clock steps back an hour in the
// middle of a STOMP session with 10 s heart-beats each way. conns says
// so (a notice, "clock stepped back", clock_steps_back) and misses no
// beat; sorted by time, the hour had been one gap of hundreds of missed
// beats.
func TestConnsClockStepBack(t *testing.T) {
	c := sockJSStomp("10.0.0.1:40012", "10000,10000")
	for s := 1; s <= 120; s++ {
		if s == 61 {
			c.Wait(-time.Hour)
		}
		c.Wait(time.Second)
		if s%10 == 0 {
			c.Frame(true, wsparse.OpText, []byte(`["\n"]`)).Frame(false, wsparse.OpText, []byte(`a["\n"]`))
		}
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	file := writeCapture(t, c.Packets)
	for _, jobs := range []int{1, 2} {
		out, errs := connsJSONL(t, file, jobs)
		for _, want := range []string{`stomp heart-beat c2s 10.0s clock stepped back; stomp heart-beat s2c 10.0s clock stepped back"`, `"missed":0,"timers":0,"gaps":[],"clock_steps_back":1}`} {
			if !strings.Contains(out, want) {
				t.Errorf("-j %d: no %s in\n%s", jobs, want, out)
			}
		}
		if want := "wsdump: the capture's clock stepped back within 1 connection"; !strings.Contains(errs, want) {
			t.Errorf("-j %d: no notice %q in %q", jobs, want, errs)
		}
	}
}
