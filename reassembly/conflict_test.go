package reassembly

import "testing"

func TestSegmentRing(t *testing.T) {
	var r segmentRing
	if r.conflict(100, []byte("hello")) {
		t.Fatal("a first segment is no conflict")
	}
	if r.conflict(100, []byte("hello")) {
		t.Fatal("an identical retransmission is no conflict")
	}
	if !r.conflict(100, []byte("HELLO")) {
		t.Fatal("the same range with other bytes is a conflict")
	}
	if r.conflict(100, []byte("hello!")) {
		t.Fatal("another length is not compared")
	}
	// The ring forgets the oldest segments.
	for i := uint32(0); i < 64; i++ {
		r.conflict(1000+i, []byte{byte(i)})
	}
	if r.conflict(100, []byte("HELLO")) {
		t.Fatal("a forgotten segment is not compared")
	}
}
