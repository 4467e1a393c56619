package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestSeqSpaceJump: a capture gap of 1.5 GiB on the server's side (rotated
// files missing in the middle of a transfer): the server's later segments
// lie outside its sequence space, but they acknowledge the client's own
// space, the client's acknowledge into theirs, and none of the server's
// old space comes any more. The new space is taken on as the server's at
// its second segment: the jump counted lost, seq_space_jump, what came
// before (a client frame, a server one, a client one) skipped, and the
// rest decoded. Until session 37 the rest of the side, and the client's
// segments acknowledging it, were seq_space_mixed: skipped, not decoded.
func TestSeqSpaceJump(t *testing.T) {
	t.Parallel()
	const gap = 3 << 29
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade()
	frames := func(from, to int) {
		for i := from; i < to; i++ {
			c.Frame(true, wsparse.OpText, fmt.Appendf(nil, "c%d", i))
			c.Frame(false, wsparse.OpText, fmt.Appendf(nil, "s%d", i))
		}
	}
	frames(0, 2)
	c.Skip(false, gap)
	frames(2, 6)
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true)
	prefix := "conn 1 10.0.0.1:40000->10.0.0.2:80 "
	var want []string
	for _, m := range []string{"c0", "s0", "c1", "s1", "s3", "c4", "s4", "c5", "s5"} {
		dir := map[byte]string{'c': "c2s", 's': "s2c"}[m[0]]
		want = append(want, fmt.Sprintf("%smessage %s %q []", prefix, dir, m))
	}
	// Skipped: c2 and c3 (8 bytes each, masked), s2 (4 bytes).
	want = append(want, prefix+"end clean frames 5/6 [seq_space_jump]", fmt.Sprintf("%scounts lost 0/%d skipped 16/4", prefix, gap))
	edgeRun(t, "1.5 GiB gap", c.Packets, want...)
}

// TestSeqSpaceMixedNotJump: another connection mixed in whose client's
// numbers happen to lie in the first's client space (1 time in 4) looks
// like a jump of the server's side: its server's numbers outside the
// first's, acknowledging the first's client space, and its client's
// acknowledging into them. But its client's segments are not at the first
// client's end (64 MiB past it), and while they come the first's server
// segments go on between its own: it is never taken on, even once the
// first connection stops. The first is decoded whole, the other's
// segments seq_space_mixed, skipped.
func TestSeqSpaceMixedNotJump(t *testing.T) {
	t.Parallel()
	conv := func(name string, client, server uint32, at time.Duration) *synth.Conv {
		c := synth.New("10.0.0.1:40000", "10.0.0.2:80").ISN(client, server).At(at).Open().Upgrade()
		for i := range 10 {
			c.Frame(true, wsparse.OpText, fmt.Appendf(nil, "%s c%d", name, i))
			c.Frame(false, wsparse.OpText, fmt.Appendf(nil, "%s s%d", name, i))
		}
		return c
	}
	a := conv("A", 0x10000000, 0x20000000, 0)
	d := conv("D", 0x10000000+64<<20, 0x80000000, 10500*time.Microsecond)
	pkts := synth.ByTime(a.Packets, d.Packets[3:]) // D from its first bytes (no SYN)
	prefix := "conn 1 10.0.0.1:40000->10.0.0.2:80 "
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("%smessage c2s %q []", prefix, fmt.Sprintf("A c%d", i)), fmt.Sprintf("%smessage s2c %q []", prefix, fmt.Sprintf("A s%d", i)))
	}
	want = append(want, prefix+"end open frames 10/10 [seq_space_mixed]")
	lines := edgeRun(t, "interleaved", pkts, want...)
	for _, l := range lines {
		if strings.Contains(l, "seq_space_jump") || strings.Contains(l, `"D `) {
			t.Errorf("%s", l)
		}
	}
}
