package reassembly

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

func TestSegmentRing(t *testing.T) {
	var r segmentRing
	if r.conflict(0, 100, []byte("hello")) {
		t.Fatal("a first segment is no conflict")
	}
	if r.conflict(0, 100, []byte("hello")) {
		t.Fatal("an identical retransmission is no conflict")
	}
	if !r.conflict(0, 100, []byte("HELLO")) {
		t.Fatal("the same range with other bytes is a conflict")
	}
	if r.conflict(0, 100, []byte("hello!")) {
		t.Fatal("another length is not compared")
	}
	// The ring forgets the oldest segments.
	for i := uint32(0); i < 64; i++ {
		r.conflict(0, 1000+i, []byte{byte(i)})
	}
	if r.conflict(0, 100, []byte("HELLO")) {
		t.Fatal("a forgotten segment is not compared")
	}
}

// TestSegmentRingPartial: a retransmission that covers an earlier segment
// and more (joined segments, or one that goes on) is compared where it
// covers it; it raised no conflict when only exact ranges were compared.
func TestSegmentRingPartial(t *testing.T) {
	var r segmentRing
	r.conflict(0, 100, []byte("hello"))
	r.conflict(0, 105, []byte(" world"))
	if r.conflict(0, 100, []byte("hello world, again")) {
		t.Fatal("the same bytes, joined and extended, are no conflict")
	}
	if !r.conflict(0, 98, []byte("..hellO world")) {
		t.Fatal("other bytes where an earlier segment lies inside are a conflict")
	}
	if !r.conflict(0, 105, []byte(" w0rld and more")) {
		t.Fatal("other bytes at the start of a longer retransmission are a conflict")
	}
	// Across the wrap of the sequence space.
	var w segmentRing
	w.conflict(0, 0xfffffffe, []byte("abcd"))
	if !w.conflict(0, 0xfffffffc, []byte("..abXd..")) || w.conflict(0, 0xfffffffd, []byte(".abcd")) {
		t.Fatal("sequence numbers wrap")
	}
}

// TestPartialOverlapConflict: a retransmission that overlaps an earlier
// segment and goes on past it, with other bytes in the overlap, is a
// retransmission_conflict (the first copy is decoded), with -j too.
func TestPartialOverlapConflict(t *testing.T) {
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
	c.Frame(false, wsparse.OpText, []byte("first copy"))
	// 12 bytes back: the frame again with other bytes, and the start of
	// the next frame, which then comes whole.
	c.Retransmit(false, 12, []byte("\x81\x0aother copy\x81\x04la"))
	c.Frame(false, wsparse.OpText, []byte("last"))
	for _, jobs := range []int{1, 2} {
		l, st := run(c.Packets, Options{}, jobs)
		if st.RetransmitConflicts != 1 || l.count("retransmission_conflict") != 1 || l.count(`message s2c "first copy"`) != 1 || l.count(`message s2c "last"`) != 1 {
			t.Errorf("-j %d: %d conflicts:\n%s", jobs, st.RetransmitConflicts, strings.Join(l.lines, "\n"))
		}
	}
}

// TestSegmentRingSides: both sides share one ring, each side's segments
// compared only with its own, and each side keeps its last ringSize
// whatever the other sends.
func TestSegmentRingSides(t *testing.T) {
	var r segmentRing
	r.conflict(0, 100, []byte("hello"))
	if r.conflict(1, 100, []byte("HELLO")) {
		t.Fatal("the other side's segment on the same range is no conflict")
	}
	for i := uint32(0); i < 2*ringSize; i++ {
		r.conflict(1, 1000+i, []byte{byte(i)})
	}
	if !r.conflict(0, 100, []byte("HELLO")) {
		t.Fatal("side 0's segment was forgotten for side 1's")
	}
	if n := len(r.entries()); n != ringSize+1 {
		t.Fatalf("%d entries, want %d", n, ringSize+1)
	}
}

// TestRingInPlace: the recent segments of an open connection (an
// upgrade's request and response, a frame each way) take no allocation of
// their own; a ring of 4 entries was made for every connection (48 bytes,
// 4.8 MB for 100 000). The fifth segment moves them to one.
func TestRingInPlace(t *testing.T) {
	payload := []byte("segment")
	var r segmentRing
	allocs := testing.AllocsPerRun(100, func() {
		r = segmentRing{}
		r.conflict(0, 100, payload)
		r.conflict(1, 900, payload)
		r.conflict(0, 107, payload)
		r.conflict(1, 907, payload)
	})
	t.Logf("%.0f allocations for 4 segments", allocs)
	if allocs != 0 {
		t.Errorf("%.0f allocations for 4 segments", allocs)
	}
	if !r.conflict(0, 107, []byte("SEGMENT")) || r.conflict(1, 114, payload) || len(r.entries()) != 5 {
		t.Errorf("after a fifth segment: %d entries", len(r.entries()))
	}
	if !r.conflict(1, 900, []byte("SEGMENT")) {
		t.Error("an entry moved out of place is not compared")
	}
}

// refRing is segmentRing.conflict without the range check: every segment
// compared with every entry of its side, the oldest of a side dropped past
// ringSize.
type refRing struct{ seg []segmentSum }

func (r *refRing) conflict(sd int, seq uint32, payload []byte) bool {
	sum := uint32(maphash.Bytes(segmentSeed, payload))
	n, tag := uint32(len(payload)), uint32(sd)<<31
	conflict, oldest, count := false, -1, 0
	for i, e := range r.seg {
		if e.n&sideBit != tag {
			continue
		}
		if oldest < 0 {
			oldest = i
		}
		count++
		en := e.n &^ sideBit
		if e.seq == seq && en == n {
			return e.sum != sum
		}
		if off := int64(int32(e.seq - seq)); off >= 0 && off+int64(en) <= int64(n) {
			if uint32(maphash.Bytes(segmentSeed, payload[off:off+int64(en)])) != e.sum {
				conflict = true
			}
		}
	}
	if count >= ringSize {
		r.seg = append(r.seg[:oldest], r.seg[oldest+1:]...)
	}
	r.seg = append(r.seg, segmentSum{seq, n | tag, sum})
	return conflict
}

// TestSegmentRingRangeCheck: a segment past every entry of its side is
// not compared with each (the range kept in ringMore), and the ring still
// answers as one that compares every segment with every entry: streams
// in order, retransmissions with the same and other bytes, sequence
// numbers that wrap, and hostile jumps over the sequence space.
func TestSegmentRingRangeCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(rng.IntN(4)) // few values: joined ranges often match
	}
	for run := 0; run < 200; run++ {
		var r segmentRing
		var ref refRing
		next := [2]uint32{rng.Uint32(), rng.Uint32()}
		if run%4 == 0 {
			next[0] = 0xffffffff - uint32(rng.IntN(5000)) // wraps soon
		}
		conflicts := 0
		for i := 0; i < 2000; i++ {
			sd := rng.IntN(2)
			n := 1 + rng.IntN(300)
			seq := next[sd]
			switch k := rng.IntN(20); {
			case k < 12: // in order
				next[sd] += uint32(n)
			case k < 17: // a retransmission of recent bytes
				seq -= uint32(rng.IntN(3000))
			case k < 18: // a jump anywhere
				seq = rng.Uint32()
			case k < 19: // about half the space away, just under or just over
				seq += 1<<31 - 5000 + uint32(rng.IntN(10000))
			default: // a big step forward
				seq += 1<<30 + uint32(rng.IntN(1<<20))
				next[sd] = seq + uint32(n)
			}
			off := int(seq % uint32(len(data)-n))
			payload := data[off : off+n]
			if rng.IntN(10) == 0 {
				payload = append([]byte(nil), payload...)
				payload[rng.IntN(n)] ^= 0xff
			}
			got, want := r.conflict(sd, seq, payload), ref.conflict(sd, seq, payload)
			if got != want {
				t.Fatalf("run %d, segment %d (side %d, seq %d, %d bytes): conflict %v, a ring comparing every entry says %v", run, i, sd, seq, n, got, want)
			}
			if got {
				conflicts++
			}
			if e := r.entries(); len(e) != len(ref.seg) {
				t.Fatalf("run %d, segment %d: %d entries, want %d", run, i, len(e), len(ref.seg))
			}
		}
		if conflicts == 0 {
			t.Fatalf("run %d: no conflict in 2000 segments: the test shows nothing", run)
		}
	}
}

// BenchmarkSegmentRingInOrder: the common case, a stream in order, each
// segment past every entry of its side.
func BenchmarkSegmentRingInOrder(b *testing.B) {
	payload := make([]byte, 1400)
	var r segmentRing
	seq := [2]uint32{1000, 5000}
	b.SetBytes(int64(len(payload)))
	for i := 0; i < b.N; i++ {
		sd := i & 1
		r.conflict(sd, seq[sd], payload)
		seq[sd] += uint32(len(payload))
	}
}

// TestSegmentRingRangeReset: a jump of just over half the sequence space
// from a side's range start, shorter than the range, moves both ends of
// the range (each signed difference says so) onto the new segment alone:
// the entries before it drop out of the range unseen. A second such jump
// back lands among them, and a segment that repeats one of them with
// other bytes must still be a conflict.
func TestSegmentRingRangeReset(t *testing.T) {
	pay := func(n int, b byte) []byte { return []byte(strings.Repeat(string(rune(b)), n)) }
	var r segmentRing
	var ref refRing
	steps := []struct {
		seq uint32
		p   []byte
	}{
		{0, pay(100, 'a')},
		{1000, pay(100, 'b')},        // the entry repeated at the end
		{0x80000010, pay(10, 'c')},   // 2^31+16 past lo, shorter than the range: range reset to it
		{0x8000001a, pay(1000, 'd')}, // in order: the range grows to 1010
		{0x10, pay(10, 'e')},         // 2^31 back: the range reset to [0x10, 0x1a)
		{1000, pay(100, 'X')},        // repeats the entry at 1000 with other bytes
	}
	for i, s := range steps {
		got, want := r.conflict(0, s.seq, s.p), ref.conflict(0, s.seq, s.p)
		if got != want {
			t.Fatalf("segment %d (seq %#x, %d bytes): conflict %v, a ring comparing every entry says %v", i, s.seq, len(s.p), got, want)
		}
	}
}

// TestHostileJumpConflict: TestSegmentRingRangeReset through a capture.
// After a frame, the server sends a few bytes just under 2^31 ahead (by
// less than the side's range), goes on there, and jumps 2^31 back to
// before the frame; the frame then comes again with other bytes, which is
// a retransmission_conflict, with -j too.
func TestHostileJumpConflict(t *testing.T) {
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
	c.Frame(false, wsparse.OpText, []byte("first copy")) // 12 bytes
	// Offsets from the next sequence number N (back is how far before it).
	c.Retransmit(false, 110-(1<<31), []byte("jump1"))                   // N-110+2^31
	c.Retransmit(false, 105-(1<<31), []byte(strings.Repeat("j", 1000))) // in order after it
	c.Retransmit(false, 110, []byte("back!"))                           // N-110: 2^31 on from the first jump
	c.Retransmit(false, 12, []byte("\x81\x0aother copy"))               // the frame with other bytes
	for _, jobs := range []int{1, 2} {
		l, st := run(c.Packets, Options{}, jobs)
		if st.RetransmitConflicts != 1 || l.count("retransmission_conflict") != 1 {
			t.Errorf("-j %d: %d conflicts, want 1:\n%s", jobs, st.RetransmitConflicts, strings.Join(l.lines, "\n"))
		}
	}
}
