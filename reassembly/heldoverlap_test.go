package reassembly

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestHeldStartOverCopies: a connection that lost its start (held for the
// TLS chain search) whose bytes past the hole also come again, different,
// before the hole is passed over (copies of bytes out of order): the
// first copy is what the TLS search sees, as the receiver kept it, the
// conflict is counted, and no copy is held at the end, with -j 1 and -j 2.
func TestHeldStartOverCopies(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xa5}, n)...)
	}
	client := append(append(append(bytes.Repeat([]byte{0xa5}, 30), rec(100)...), rec(50)...), rec(20)...)
	// The second copy breaks the first record's header: taken, the chain
	// would start later (or not at all).
	alt := append([]byte(nil), client...)
	for i := 30; i < 35; i++ {
		alt[i] = 0xee
	}
	const want = "192.0.2.1:40000->192.0.2.2:443 TLS hello not captured: lost with the first bytes of side 0 (100), records counted" +
		" (side 0: records found again by their headers, 30 bytes searched and not decoded)"
	c := synth.New("192.0.2.1:40000", "192.0.2.2:443").Open()
	c.Skip(true, 100).Send(true, client[:60])
	c.Retransmit(true, 60, alt[:60]) // past the hole still: a copy held, and this one over it
	c.Send(true, client[60:])
	c.Wait(3 * time.Second)
	c.Segment(false, nil) // (its ACK past the hole: passed over)
	c.Wait(3 * time.Second)
	c.Segment(false, nil)
	tlsRecords(t, "held start over copies", c.Packets, want)
	if a := decodeAll(&logSink{}, c.Packets, Options{}, 1).(*Assembler); a.oooHeld != 0 {
		t.Errorf("%d bytes of copies held at the end", a.oooHeld)
	}
	for _, jobs := range []int{1, 2} {
		l, st := run(c.Packets, Options{}, jobs)
		if st.RetransmitConflicts != 1 {
			t.Errorf("-j %d: %d conflicts, want 1:\n%s", jobs, st.RetransmitConflicts, strings.Join(l.lines, "\n"))
		}
	}
}
