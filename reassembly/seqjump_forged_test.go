package reassembly

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestSeqSpaceJumpForged: three forged segments on a quiet connection, two
// of the server's in a space 2 GiB off acknowledging the client's own and
// one of the client's at its end acknowledging into them (an attacker that
// sends packets the endpoints drop but the capture sees), then the real
// conversation goes on in its own spaces. They took the server's side on
// as a capture gap's (seqjump.go): the real server's segments, and the
// client's acknowledging them, were skipped as another connection's from
// then on, 8 messages and both closes lost with 2 GiB counted lost, the
// conversation "end open frames 2/2 [seq_space_mixed seq_space_jump]".
// The old spaces going on take the jump back: all decoded, nothing lost,
// seq_space_mixed; the forged segments skipped but the one that came
// after the jump was taken on (evil2), which stays decoded.
func TestSeqSpaceJumpForged(t *testing.T) {
	t.Parallel()
	const gap = 1 << 31
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade()
	frames := func(from, to int) {
		for i := from; i < to; i++ {
			c.Frame(true, wsparse.OpText, fmt.Appendf(nil, "c%d", i))
			c.Frame(false, wsparse.OpText, fmt.Appendf(nil, "s%d", i))
		}
	}
	frames(0, 2)
	c.Skip(false, gap)
	c.Frame(false, wsparse.OpText, []byte("evil0")).Frame(false, wsparse.OpText, []byte("evil1"))
	c.Segment(true, nil) // the client's ACK, forged
	c.Frame(false, wsparse.OpText, []byte("evil2"))
	back := uint32(gap + 3*7)
	c.Skip(false, -back) // the real server's numbers again
	frames(2, 6)
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true)
	prefix := "conn 1 10.0.0.1:40000->10.0.0.2:80 "
	var want []string
	for i := range 6 {
		want = append(want, fmt.Sprintf("%smessage c2s %q []", prefix, fmt.Sprintf("c%d", i)), fmt.Sprintf("%smessage s2c %q []", prefix, fmt.Sprintf("s%d", i)))
	}
	want = append(want, prefix+"message s2c \"evil2\" []", prefix+"counts lost 0/0 skipped 0/14", prefix+"end clean frames 7/8 [seq_space_mixed]")
	for _, l := range edgeRun(t, "forged jump", c.Packets, want...) {
		if strings.Contains(l, "evil0") || strings.Contains(l, "evil1") {
			t.Errorf("%s", l)
		}
	}
}
