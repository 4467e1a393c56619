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
	c, frames := jumpConv()
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

// TestSeqSpaceJumpStaleCopy: TestSeqSpaceJump's capture gap, and after
// the jump is taken on a copy of the server's last frame before the gap
// (a retransmission the capture shows late): behind the old end, it is no
// sign that the old space goes on, and the jump stands, the copy skipped.
func TestSeqSpaceJumpStaleCopy(t *testing.T) {
	t.Parallel()
	const gap = 3 << 29
	c, frames := jumpConv()
	frames(0, 2)
	c.Skip(false, gap)
	frames(2, 4)
	c.Retransmit(false, gap+2*4+4, []byte{0x81, 2, 's', '1'})
	frames(4, 6)
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true)
	prefix := "conn 1 10.0.0.1:40000->10.0.0.2:80 "
	edgeRun(t, "stale copy after the jump", c.Packets, prefix+"end clean frames 5/6 [seq_space_mixed seq_space_jump]",
		fmt.Sprintf("%scounts lost 0/%d skipped 16/8", prefix, gap), prefix+`message s2c "s5" []`)
}

// jumpConv is a WebSocket connection after its upgrade and what writes
// text frames "c<i>" and "s<i>", one each way, for i from from to to.
func jumpConv() (*synth.Conv, func(from, to int)) {
	c := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade()
	return c, func(from, to int) {
		for i := from; i < to; i++ {
			c.Frame(true, wsparse.OpText, fmt.Appendf(nil, "c%d", i))
			c.Frame(false, wsparse.OpText, fmt.Appendf(nil, "s%d", i))
		}
	}
}

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
	c, frames := jumpConv()
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
