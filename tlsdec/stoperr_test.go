package tlsdec

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStopError: Info.StopError is the failure that ended a side's
// decryption for good, not the connection's first failure, which may be
// one decryption went on past: an application record cut by lost bytes
// (passed over), then a renegotiation to keys the key log lacks (the
// stop). Until session 39 the views named the cut record as the reason
// decryption stopped. Without the earlier failure, both are the stop's.
func TestStopError(t *testing.T) {
	for _, cut := range []bool{true, false} {
		t.Run(fmt.Sprint("cut-", cut), func(t *testing.T) {
			s := newSession(0xc02f, false)
			s.sid = []byte("session-id-of-the-first-handshake")
			s.exchange([]int{40, 3000}, s.handshake())
			k := len(s.evs) - 1 // the last application record before the renegotiation
			s.renegotiate(1, renegOpts{unlogged: true})
			s.exchange([]int{100, 17}, [2][]byte{})
			c := NewConn(s.keys(), nil)
			for i, ev := range s.evs {
				if cut && i == k {
					c.Feed(ev.side, ev.data[:10], time.Time{})
					c.Gap(ev.side, 5, time.Time{})
					c.Feed(ev.side, ev.data[15:], time.Time{})
					continue
				}
				c.Feed(ev.side, ev.data, time.Time{})
			}
			in := c.Info()
			const stop = "renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line"
			const since = "(since: "
			if !in.Stopped || !strings.Contains(in.StopError, stop) || !strings.Contains(in.StopError, since) {
				t.Errorf("stopped %v, StopError %q, want it to contain %q and %q", in.Stopped, in.StopError, stop, since)
			}
			if wantFirst := "cut by lost bytes: "; cut && !strings.Contains(in.Error, wantFirst) || !cut && in.Error != in.StopError {
				t.Errorf("Error %q (the first failure), StopError %q", in.Error, in.StopError)
			}
		})
	}
	// Not stopped: no StopError.
	s := newSession(0xc02f, false)
	s.exchange([]int{40}, s.handshake())
	c := NewConn(s.keys(), nil)
	for _, ev := range s.evs {
		c.Feed(ev.side, ev.data, time.Time{})
	}
	if in := c.Info(); in.Stopped || in.StopError != "" {
		t.Errorf("stopped %v, StopError %q", in.Stopped, in.StopError)
	}
}
