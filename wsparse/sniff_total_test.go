package wsparse

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// heldBySearches returns the bytes the connections' searches keep, and
// those of the searches not cut.
func heldBySearches(conns []*Conn) (all, uncut int) {
	for _, c := range conns {
		for side := range c.half {
			if s := c.half[side].sniff; s != nil {
				all += cap(s.buf)
				if !s.cut {
					uncut += cap(s.buf)
				}
			}
		}
	}
	return all, uncut
}

// TestSniffTotal: the bytes the searches for frame boundaries keep count,
// over all the connections of a Shared, against MaxSniffTotal: the
// search whose bytes would pass it keeps only its last windowMin bytes
// (LimitHits.SniffTotal), those not cut keep theirs, and every search
// ended gives its bytes back.
func TestSniffTotal(t *testing.T) {
	const limit, total = 8 << 10, 20 << 10
	sh := NewShared(Config{MaxSniff: limit, MaxSniffTotal: total}, &logSink{})
	var conns []*Conn
	for i := range 4 {
		conns = append(conns, sh.NewConn(i+1, testClient, testServer))
	}
	junk := bytes.Repeat([]byte{0xff}, 1000) // no frame starts with 0xff, and no HTTP
	for range 7 {                            // 7 000 bytes each, under MaxSniff
		for _, c := range conns {
			c.Feed(0, junk, testTime)
		}
	}
	all, uncut := heldBySearches(conns)
	if sh.sniffHeld != all || uncut > total || all > total+4*windowMin*len(conns) {
		t.Fatalf("searches keep %d bytes (%d not cut), %d in the total of %d", all, uncut, sh.sniffHeld, total)
	}
	cut := 0
	for _, c := range conns {
		s := c.half[0].sniff
		if s == nil || c.half[0].mode != modeSniff {
			t.Fatalf("conn %d: no longer searched", c.ID)
		}
		want := LimitHits{}
		if s.cut {
			cut++
			want.SniffTotal = 1
			if len(s.buf) > windowMin || s.searched != 7000 {
				t.Errorf("conn %d, cut: keeps %d bytes of %d searched", c.ID, len(s.buf), s.searched)
			}
		}
		if h := c.LimitHits(); h != want {
			t.Errorf("conn %d: limit hits %+v", c.ID, h)
		}
	}
	if cut == 0 || cut == len(conns) {
		t.Errorf("%d of %d searches cut", cut, len(conns))
	}
	for range 2 { // past MaxSniff: given up, cut or not
		for _, c := range conns {
			c.Feed(0, junk, testTime)
		}
	}
	for _, c := range conns {
		if c.half[0].mode != modeIgnore || c.LimitHits().Sniff != 1 {
			t.Errorf("conn %d: mode %d, limit hits %+v past MaxSniff", c.ID, c.half[0].mode, c.LimitHits())
		}
		c.End(testTime)
	}
	if sh.sniffHeld != 0 {
		t.Fatalf("after the ends: %d kept in the total", sh.sniffHeld)
	}
}

// TestSniffTotalResync: a search after a gap that the total cuts still
// finds the frame boundaries again (a gap never ends the decoding of a
// direction), in frames far longer than the bytes it keeps (as far
// longer than MaxSniff as the search not cut: the same frames decoded,
// the same bytes counted lost or skipped).
func TestSniffTotalResync(t *testing.T) {
	frames, want := bigFrames(12, 100<<10)
	stream := cat(frames...)
	var uncut DirStats
	for _, total := range []int{0, 40 << 10} {
		s := &logSink{}
		sh := NewShared(Config{MaxSniff: 32 << 10, MaxSniffTotal: total}, s)
		hog := sh.NewConn(2, testClient, testServer) // keeps 30 000 bytes searched
		hog.Feed(0, bytes.Repeat([]byte{0xff}, 30000), testTime)
		c := sh.NewConn(1, testClient, testServer)
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		lossAt, lost := len(frames[0])+5000, 0 // inside the second frame
		for off := 0; off < len(stream); off += 16 << 10 {
			seg := stream[off:min(off+16<<10, len(stream))]
			if off <= lossAt && lossAt < off+len(seg) {
				c.Gap(1, len(seg), testTime)
				lost += len(seg)
				continue
			}
			c.Feed(1, seg, testTime)
		}
		if hits := c.LimitHits().SniffTotal; hits != min(total, 1) {
			t.Errorf("total %d: cut %d times", total, hits)
		}
		c.End(testTime)
		st := s.sum.Stats[ServerToClient]
		if total == 0 {
			uncut = st
		}
		if st != uncut || st.LostBytes != uint64(lost) || st.SkippedBytes < uint64(len(stream)-lost)-st.WireBytes {
			t.Errorf("total %d: %+v, not cut %+v", total, st, uncut)
		}
		_, s2c := wsFrames(s.lines)
		found := matchFrames(t, "", s2c, want)
		for i := 8; i < len(frames); i++ {
			if !found[i] {
				t.Errorf("total %d: frame %d of %d not decoded after the gap:\n%s", total, i+1, len(frames), strings.Join(s2c, "\n"))
			}
		}
		hog.End(testTime)
		if sh.sniffHeld != 0 {
			t.Errorf("total %d: after the ends: %d kept in the total", total, sh.sniffHeld)
		}
	}
}

// TestSniffCandsShrink: the room for candidates a large feed of payload
// bytes grew is given back once few are left alive: kept, each search
// held ~700 KB outside MaxSniffTotal (512 searches of 64 KiB feeds of
// random bytes: 319 MB), the total bounding only their bytes.
func TestSniffCandsShrink(t *testing.T) {
	sh := NewShared(Config{}, &logSink{})
	c := sh.NewConn(1, testClient, testServer)
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 64<<10)
	for range 3 {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		c.Feed(0, buf, testTime)
		s := c.half[0].sniff
		if s == nil || c.half[0].mode != modeSniff {
			t.Fatal("no longer searched")
		}
		if n := cap(s.cands); n > max(candsKept, 4*len(s.cands)) {
			t.Errorf("room for %d candidates kept, %d alive", n, len(s.cands))
		}
	}
}
