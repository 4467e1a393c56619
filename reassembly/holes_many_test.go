package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestHolesManyPushed: a capture that misses a segment of the client's
// every second (capture loss, acknowledged past; or a capture of one
// direction) has a new hole every second: each is passed over once 2 s
// old, not one per 2 s, so the bytes behind them do not pile up: every
// frame sent 3 s or more before the server's frame "mark" comes before it.
func TestHolesManyPushed(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		cv := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
		sent := map[string]time.Duration{}
		var at time.Duration
		for i := range 300 { // 30 s, a frame each 100 ms
			if i%10 == 5 {
				cv.DropNext = 1
			}
			name := fmt.Sprintf("f%d", i)
			cv.Frame(true, wsparse.OpText, []byte(name))
			sent[name] = at
			if !quiet && i%5 == 0 {
				cv.Segment(false, nil)
			}
			cv.Wait(100 * time.Millisecond)
			at += 100 * time.Millisecond
		}
		cv.Frame(false, wsparse.OpText, []byte("mark"))
		pk := cv.Fin(true).Fin(false).Packets
		for _, jobs := range []int{1, 2} {
			l := &bytesSink{}
			decodeAll(l, pk, Options{}, jobs)
			mark := lineOf(l.lines, `message s2c "mark"`)
			late := 0
			for name, t0 := range sent {
				if i := lineOf(l.lines, fmt.Sprintf(`message c2s "%s" []`, name)); i > mark && at-t0 >= 3*time.Second {
					late++
				}
			}
			if late > 0 {
				t.Errorf("quiet %v, -j %d: %d frames sent 3 s or more before the mark came after it", quiet, jobs, late)
			}
		}
	}
}

// TestHoleAckReordered: the receiver acknowledged past the hole (the
// capture's loss), then an earlier ACK of its, up to the hole, comes
// after in the capture (two capture points, loopback's reordering): the
// acknowledgment does not go back, the hole is passed over once 2 s
// old, C before the server's frame "after" as with no such ACK.
func TestHoleAckReordered(t *testing.T) {
	text := func(s string) []byte { return synth.WSFrame(true, wsparse.OpText, []byte(s)) }
	b, c, e := text("frame B from the client"), text("frame C from the client"), text("frame E")
	cv := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("frame A"))
	cv.DropNext = 1
	cv.Send(true, b).Send(true, c).Send(true, e)
	cv.Frame(false, wsparse.OpText, []byte("server"))
	cv.Unacked = len(b) + len(c) + len(e)
	cv.Segment(false, nil) // the earlier ACK, up to the hole
	cv.Unacked = 0
	cv.Wait(3 * time.Second)
	pk := cv.Frame(false, wsparse.OpText, []byte("after")).Frame(true, wsparse.OpText, []byte("frame D")).Fin(true).Fin(false).Packets
	lines := edgeRun(t, "ack reordered", pk, `message c2s "frame C from the client" []`, fmt.Sprintf("counts lost %d/0 skipped 0/0", len(b)))
	if i := lineOf(lines, `message c2s "frame C from the client" []`); lines != nil && i > lineOf(lines, `message s2c "after" []`) {
		t.Errorf("C waited behind a hole acknowledged past, an earlier ACK after:\n%s", strings.Join(lines, "\n"))
	}
}
