package reassembly

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestLateSegment: a segment held back past the 2 s wsdump waits behind a
// hole (a sender may do it on purpose: the receiving TCP queues what
// follows and reads the segment in order when it comes) cannot be decoded
// once the hole was passed over. Until session 34 gopacket dropped it with
// no word and its bytes stayed counted as lost, the capture blamed for a
// message it holds (tshark decodes it); now they count as skipped, with
// late_segment. A retransmission of bytes decoded, a hole filled in
// time and a hole never filled are as before.
func TestLateSegment(t *testing.T) {
	text := func(s string) []byte { return synth.WSFrame(true, wsparse.OpText, []byte(s)) }
	b, c := text("frame B from the client"), text("frame C from the client")
	conv := func(wait time.Duration, late int, again []byte) []synth.Packet {
		cv := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("frame A"))
		cv.DropNext = 1
		cv.Send(true, b).Send(true, c).Frame(false, wsparse.OpText, []byte("server"))
		cv.Wait(wait)
		back := len(b) + len(c)
		if late == 2 {
			// Another hole, never filled, passed over before B comes
			// twice: the second copy takes none of it.
			cv.DropNext = 1
			cv.Frame(true, wsparse.OpText, []byte("frame E"))
			cv.Frame(true, wsparse.OpText, []byte("frame F")).Wait(wait)
			back += 2 * len(text("frame E"))
		}
		for range late {
			cv.Retransmit(true, back, b)
		}
		if again != nil {
			cv.Retransmit(true, len(again), again)
		}
		return cv.Frame(true, wsparse.OpText, []byte("frame D")).Fin(true).Fin(false).Packets
	}
	n := len(b)
	edgeRun(t, "held back 3 s", conv(3*time.Second, 1, nil), `message c2s "frame A" []`, `message c2s "frame C from the client" []`,
		fmt.Sprintf("counts lost 0/0 skipped %d/0", n), "end fin_without_close frames 3/1 [late_segment]")
	edgeRun(t, "held back 500 ms", conv(500*time.Millisecond, 1, nil), `message c2s "frame B from the client" []`,
		"counts lost 0/0 skipped 0/0", "end fin_without_close frames 4/1 []")
	edgeRun(t, "never sent", conv(3*time.Second, 0, nil), fmt.Sprintf("counts lost %d/0 skipped 0/0", n),
		"end fin_without_close frames 3/1 []")
	edgeRun(t, "decoded bytes again", conv(3*time.Second, 0, c), fmt.Sprintf("counts lost %d/0 skipped 0/0", n),
		"end fin_without_close frames 3/1 []")
	edgeRun(t, "held back 3 s, sent twice, then a hole", conv(3*time.Second, 2, nil), fmt.Sprintf("counts lost %d/0 skipped %d/0", len(text("frame E")), n+len(c)+2*len(text("frame D"))),
		"end fin_without_close frames 1/1 [late_segment]") // C, F and D, alone between holes: not found again
}
