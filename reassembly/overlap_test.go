package reassembly

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestOutOfOrderOverlap: segments that came past a hole and a later
// segment over them with other bytes. gopacket kept the later copy of
// held bytes (all of it, or the part it overlapped), with no word when
// the ranges differed; Linux keeps the first unless the later starts
// before it, or at its start and goes on past it, and tshark decodes as
// Linux does. Now the bytes Linux keeps are decoded and the connection
// says retransmission_conflict, -j 1 and -j 2 alike. A frame of 22 bytes
// (2 of header), its payload "0123456789abcdefghij", against the same
// with capitals.
func TestOutOfOrderOverlap(t *testing.T) {
	frame := func(s string) []byte { return synth.WSFrame(false, wsparse.OpText, []byte(s)) }
	f, alt := frame("0123456789abcdefghij"), frame("0123456789ABCDEFGHIJ")
	// at writes bytes [from, to) of b as one segment, the side's next
	// number 22 past the frame's start (the frame's whole range skipped).
	at := func(c *synth.Conv, b []byte, from, to int) { c.Retransmit(false, 22-from, b[from:to]) }
	cases := []struct {
		name     string
		send     func(c *synth.Conv)
		want     string
		conflict int
	}{
		{"same range", func(c *synth.Conv) { at(c, f, 2, 22); at(c, alt, 2, 22); at(c, f, 0, 2) }, "0123456789abcdefghij", 1},
		{"inside", func(c *synth.Conv) { at(c, f, 2, 22); at(c, alt, 10, 16); at(c, f, 0, 2) }, "0123456789abcdefghij", 1},
		{"covers", func(c *synth.Conv) { at(c, f, 10, 16); at(c, alt, 2, 22); at(c, f, 0, 2) }, "0123456789ABCDEFGHIJ", 1},
		{"same start, goes on past", func(c *synth.Conv) { at(c, f, 2, 16); at(c, alt, 2, 22); at(c, f, 0, 2) }, "0123456789ABCDEFGHIJ", 1},
		{"same start, shorter", func(c *synth.Conv) { at(c, f, 2, 22); at(c, alt, 2, 16); at(c, f, 0, 2) }, "0123456789abcdefghij", 1},
		{"goes on past", func(c *synth.Conv) { at(c, f, 2, 16); at(c, alt, 10, 22); at(c, f, 0, 2) }, "0123456789abcdEFGHIJ", 1},
		{"starts before", func(c *synth.Conv) { at(c, f, 10, 22); at(c, alt, 2, 16); at(c, f, 0, 2) }, "0123456789ABCDefghij", 1},
		{"in order over held", func(c *synth.Conv) { at(c, f, 10, 22); at(c, alt, 0, 16) }, "0123456789ABCDefghij", 1},
		{"then again over the later", func(c *synth.Conv) { at(c, f, 10, 22); at(c, alt, 4, 16); at(c, f, 10, 16); at(c, f, 0, 4) }, "0123456789ABCDefghij", 2},
		{"over two held, after one, before the other", func(c *synth.Conv) { at(c, f, 4, 14); at(c, f, 16, 18); at(c, alt, 6, 22); at(c, f, 0, 4) }, "0123456789abCDEFGHIJ", 1},
		// Linux takes a segment or not by the segment whose bytes it
		// overlaps (their start and end), not by the piece of it held:
		// the bytes 10-16 came with a segment that started at 6, so a
		// later one from 10 does not replace them; and one from 2 that
		// brought the same bytes as the held one from 10 over all of it
		// replaced it, so a later one from 10 is behind it.
		{"from the start of a piece of a later segment", func(c *synth.Conv) { at(c, f, 2, 10); at(c, alt, 6, 16); at(c, f, 10, 22); at(c, f, 0, 2) }, "0123456789ABCDefghij", 1},
		{"over a held segment replaced by the same bytes", func(c *synth.Conv) { at(c, f, 10, 16); at(c, f, 2, 16); at(c, alt, 10, 22); at(c, f, 0, 2) }, "0123456789abcdEFGHIJ", 1},
		// A segment past the hole that starts at the end of a held one is
		// appended to it (tcp_ooo_try_coalesce): a later one from its
		// start is inside that one, not at its start.
		{"from the start of one coalesced", func(c *synth.Conv) { at(c, f, 2, 10); at(c, f, 10, 16); at(c, alt, 10, 22); at(c, f, 0, 2) }, "0123456789abcdEFGHIJ", 1},
		{"same bytes again", func(c *synth.Conv) { at(c, f, 2, 22); at(c, f, 6, 12); at(c, f, 0, 8) }, "0123456789abcdefghij", 0},
		// Passed on in order: gopacket keeps the first copy, as receivers do
		// (a part of a segment is not compared: no word).
		{"in order, part again", func(c *synth.Conv) { at(c, f, 0, 16); at(c, alt, 10, 22) }, "0123456789abcdEFGHIJ", 0},
	}
	for k, tc := range cases {
		// Every other case, the frame's bytes go past 2^32 (the hole
		// before it, the held bytes after).
		c := synth.New("192.0.2.1:40000", "192.0.2.2:80")
		if k%2 == 1 {
			c.ISNBeforeWrap(uint32(k % 4 * 3))
		}
		c.Open().Upgrade().Skip(false, 22)
		tc.send(c)
		c.Frame(false, wsparse.OpText, []byte("last"))
		c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Fin(false)
		if a := decodeAll(&logSink{}, c.Packets, Options{}, 1).(*Assembler); a.oooHeld != 0 {
			t.Errorf("%s: %d bytes of copies held at the end", tc.name, a.oooHeld)
		}
		for _, jobs := range []int{1, 2} {
			l, st := run(c.Packets, Options{}, jobs)
			want := fmt.Sprintf("message s2c %q", tc.want)
			if l.count(want) != 1 || l.count(`message s2c "last"`) != 1 || st.RetransmitConflicts != tc.conflict ||
				l.count("retransmission_conflict") != min(tc.conflict, 1) {
				t.Errorf("%s, -j %d: want %s and %d conflicts, got %d:\n%s", tc.name, jobs, want, tc.conflict, st.RetransmitConflicts, strings.Join(l.lines, "\n"))
			}
		}
	}
}

// TestHeldCopiesLetGo: the copies of bytes past a hole go once the hole
// is filled (not at the connection's end), and none are made for a
// connection in order; their bound holds when a hole is never filled.
func TestHeldCopiesLetGo(t *testing.T) {
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
	c.Frame(false, wsparse.OpText, []byte("in order"))
	inOrder := len(c.Packets)
	f := synth.WSFrame(false, wsparse.OpText, []byte("0123456789abcdefghij"))
	c.Skip(false, 22).Retransmit(false, 20, f[2:])
	held := len(c.Packets)
	c.Retransmit(false, 22, f[:2])
	filled := len(c.Packets)
	a := New(&logSink{}, Options{})
	for i, p := range c.Packets {
		a.Packet(1, p.Data, p.TS, len(p.Data))
		want := 0
		if i+1 == held {
			want = 20 + heldOverhead
		}
		if i+1 == inOrder || i+1 == held || i+1 == filled {
			if a.oooHeld != want {
				t.Errorf("after packet %d: %d bytes held, want %d", i+1, a.oooHeld, want)
			}
		}
	}
	a.Finish()
	if n := a.Stats().HeldCopyLimit; n != 0 {
		t.Errorf("%d segments said not copied, under the bounds", n)
	}

	// Holes never filled, 1 MB past each, in 12 connections: the copies
	// stop at MaxHeldCopies.
	a = New(&logSink{}, Options{MaxBufferedPagesPerConnection: 1 << 20, MaxBufferedPagesTotal: 1 << 20})
	big := bytes.Repeat([]byte{0x83}, 1000) // a reserved opcode: no frame to search for
	for k := range 12 {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 40000+k), "192.0.2.2:80").Open().Upgrade().Skip(false, 1)
		for range 1000 {
			c.Segment(false, big)
		}
		for _, p := range c.Packets {
			a.Packet(1, p.Data, p.TS, len(p.Data))
		}
		if a.oooHeld > MaxHeldCopies {
			t.Fatalf("%d bytes held, over %d", a.oooHeld, MaxHeldCopies)
		}
	}
	if a.oooHeld < MaxHeldCopies-1000*1000 {
		t.Errorf("%d bytes held: the bound was not reached", a.oooHeld)
	}
	// Said, not silent: each segment not copied is counted (a notice).
	// (Each connection's segments are one range: Linux coalesces them,
	// and a range's overhead, 12 at most, is under a segment's bytes.)
	if n, want := a.Stats().HeldCopyLimit, 12*1000-a.oooHeld/1000; n != want {
		t.Errorf("%d segments said not copied, want %d", n, want)
	}
	a.Finish()
	if a.oooHeld != 0 {
		t.Errorf("%d bytes held after Finish", a.oooHeld)
	}
}

// TestHeldRangesBound: a side holds at most MaxHeldRanges ranges; the
// segment past them is not copied, and it is said (a notice), not
// silent.
func TestHeldRangesBound(t *testing.T) {
	const n = MaxHeldRanges + 1
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80")
	c.Step = time.Microsecond // all within the 2 s a hole is waited for
	c.Open().Upgrade().Skip(false, 2*n+1)
	for k := range n { // one byte in two past the hole
		c.Retransmit(false, 2*n+1-(1+2*k), []byte{0x83})
	}
	a := New(&logSink{}, Options{MaxBufferedPagesPerConnection: 1 << 20, MaxBufferedPagesTotal: 1 << 20})
	for _, p := range c.Packets {
		a.Packet(1, p.Data, p.TS, len(p.Data))
	}
	if got := a.Stats().HeldCopyLimit; got != 1 {
		t.Errorf("%d segments said not copied, want 1", got)
	}
	if want := MaxHeldRanges * (1 + heldOverhead); a.oooHeld != want {
		t.Errorf("%d bytes held, want %d", a.oooHeld, want)
	}
	a.Finish()
	if a.oooHeld != 0 {
		t.Errorf("%d bytes held after Finish", a.oooHeld)
	}
}

// TestHeldCoverJoins: a segment that Linux takes over held ranges
// (starting before them) replaces them, as Linux drops the segments it
// covers: its bytes are one range, not the ranges it covered and the
// bytes between them. Before, the ranges stayed, each later segment
// over them walked all of them, and at MaxHeldRanges the bytes between
// them were not copied: 20 000 such segments of 8 KiB over 4 096 ranges
// cost 2.3 s more than without the copies.
func TestHeldCoverJoins(t *testing.T) {
	const n = MaxHeldRanges
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80")
	c.Step = time.Microsecond
	c.Open().Upgrade().Skip(false, 2*n+2)
	for k := range n { // one byte in two past the hole
		c.Retransmit(false, 2*n+2-(2+2*k), []byte{0x83})
	}
	cover := len(c.Packets)
	c.Retransmit(false, 2*n+1, bytes.Repeat([]byte{0x84}, 2*n)) // from just before the first
	c.Retransmit(false, 2*n, bytes.Repeat([]byte{0x85}, 2*n-1)) // inside it: the held copy
	a := New(&logSink{}, Options{MaxBufferedPagesPerConnection: 1 << 20, MaxBufferedPagesTotal: 1 << 20})
	for i, p := range c.Packets {
		a.Packet(1, p.Data, p.TS, len(p.Data))
		if i+1 == cover {
			if want := n * (1 + heldOverhead); a.oooHeld != want {
				t.Fatalf("%d bytes held before the cover, want %d", a.oooHeld, want)
			}
		}
	}
	if want := 2*n + heldOverhead; a.oooHeld != want {
		t.Errorf("%d bytes held after the cover, want %d (one range)", a.oooHeld, want)
	}
	if st := a.Stats(); st.HeldCopyLimit != 0 || st.RetransmitConflicts != 2 {
		t.Errorf("%d segments not copied, %d conflicts; want 0 and 2", st.HeldCopyLimit, st.RetransmitConflicts)
	}
	a.Finish()
	if a.oooHeld != 0 {
		t.Errorf("%d bytes held after Finish", a.oooHeld)
	}
}

// BenchmarkOverHeldInOrder: what a segment in order costs with nothing
// held (every segment of a connection without a hole).
func BenchmarkOverHeldInOrder(b *testing.B) {
	s := &stream{a: &Assembler{}}
	tcp := &layers.TCP{Seq: 1000, BaseLayer: layers.BaseLayer{Payload: make([]byte, 100)}}
	for b.Loop() {
		if s.overCopies(0, tcp, 1000) {
			b.Fatal("conflict")
		}
	}
}
