package reassembly

import (
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
