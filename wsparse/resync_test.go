package wsparse

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// bigFrames returns n unmasked binary frames of size bytes of seeded
// random payload each, and their log lines' payload fields.
func bigFrames(n, size int) ([][]byte, []string) {
	rng := rand.New(rand.NewSource(7))
	var frames [][]byte
	var want []string
	for i := 0; i < n; i++ {
		p := make([]byte, size)
		rng.Read(p)
		frames = append(frames, frame(true, 0, OpBinary, nil, string(p)))
		want = append(want, "payload="+short(p)+" ")
	}
	return frames, want
}

// matchFrames reports which of the wanted frames (by payload) the decoded
// frame lines show, and fails for a whole frame that matches none: one
// decoded from the wrong place.
func matchFrames(t *testing.T, prefix string, lines, want []string) map[int]bool {
	t.Helper()
	found := map[int]bool{}
	for _, l := range lines {
		if strings.Contains(l, "payload_incomplete") {
			continue
		}
		ok := false
		for i, w := range want {
			if strings.Contains(l, w) {
				ok, found[i] = true, true
			}
		}
		if !ok {
			t.Errorf("%sframe decoded from the wrong place: %s", prefix, l)
		}
	}
	return found
}

// TestResyncFramesLongerThanWindow: after a gap, frames longer than the
// bytes the search keeps (MaxSniff) are still found again, and decoding
// of the direction goes on to the end; nothing is decoded from the wrong
// place.
func TestResyncFramesLongerThanWindow(t *testing.T) {
	frames, want := bigFrames(12, 100<<10)
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxSniff: 32 << 10}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	stream := cat(frames...)
	lossAt := len(frames[0]) + 5000 // inside the second frame
	for off := 0; off < len(stream); off += 16 << 10 {
		seg := stream[off:min(off+16<<10, len(stream))]
		if off <= lossAt && lossAt < off+len(seg) {
			c.Gap(1, len(seg), testTime)
			continue
		}
		c.Feed(1, seg, testTime)
	}
	c.End(testTime)
	_, s2c := wsFrames(s.lines)
	found := matchFrames(t, "", s2c, want)
	// The gap hit frame 2; the search needs four whole frames (binary
	// frames prove little) before it trusts the boundaries.
	for i := 7; i < len(frames); i++ {
		if !found[i] {
			t.Errorf("frame %d of %d not decoded after the gap:\n%s", i+1, len(frames), strings.Join(s2c, "\n"))
		}
	}
}

// BenchmarkResyncRandom: a direction that lost its frame boundaries and
// then carries nothing but random bytes is searched to the end, in memory
// bounded by MaxSniff and the candidate cap and in time linear in its
// bytes.
func BenchmarkResyncRandom(b *testing.B) {
	const seg = 64 << 10
	data := make([]byte, 4<<20)
	rand.New(rand.NewSource(1)).Read(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(1, testClient, testServer, Config{}, &logSink{})
		c.Feed(0, []byte(upgradeRequest("")), testTime)
		c.Feed(1, []byte(upgradeResponse("")), testTime)
		c.Feed(1, frame(true, 0, OpText, nil, "hello"), testTime)
		c.Gap(1, 100, testTime)
		for off := 0; off < len(data); off += seg {
			c.Feed(1, data[off:off+seg], testTime.Add(time.Duration(off)))
		}
		c.End(testTime)
	}
}

// headerCutStream is a direction's frames for TestResyncGapInsideHeader:
// n binary frames of size bytes of seeded random payload, masked or not,
// with their start offsets and their log lines' payload fields.
func headerCutStream(n, size int, masked bool) (stream []byte, starts []int, want []string) {
	rng := rand.New(rand.NewSource(int64(size)))
	for i := 0; i < n; i++ {
		p := make([]byte, size)
		rng.Read(p)
		for j := 1024; j < size; j++ {
			// Past its first KiB a long payload is 0xff (a reserved
			// opcode: no candidate frame starts there), or the search
			// through it would make the test slow.
			p[j] = 0xff
		}
		var key []byte
		if masked {
			key = []byte{byte(i), 0x5a, byte(size), 0xc3}
		}
		starts = append(starts, len(stream))
		stream = append(stream, frame(true, 0, OpBinary, key, string(p))...)
		want = append(want, "payload="+short(p)+" ")
	}
	return stream, starts, want
}

// feedHeaderCut feeds one direction of a handshaken connection: the bytes
// up to mid-payload of frame 4, a gap to mid-payload of frame 5 (the frame
// boundaries are lost: the search starts), the bytes up to cut (cut into
// pieces by chunks, nil: in one piece, as reassembly hands them over after
// a gap), then either a gap to mid-payload of frame 12 and the rest, or
// (end) the end of the capture.
func feedHeaderCut(side int, stream []byte, starts []int, cut int, end bool, chunks func(n int) []int) *logSink {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{MaxSniff: 1 << 20}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	mid := func(i int) int { return (starts[i] + starts[i+1]) / 2 }
	c.Feed(side, stream[:mid(4)], testTime)
	c.Gap(side, mid(5)-mid(4), testTime)
	piece := stream[mid(5):cut]
	p := 0
	if chunks != nil {
		for _, q := range chunks(len(piece)) {
			c.Feed(side, piece[p:q], testTime)
			p = q
		}
	}
	c.Feed(side, piece[p:], testTime)
	if !end {
		c.Gap(side, mid(12)-cut, testTime)
		c.Feed(side, stream[mid(12):], testTime)
	}
	c.End(testTime)
	return s
}

// TestResyncGapInsideHeader: while the frame boundaries are being searched
// for after a gap, a second gap (or the end of the capture) that starts at
// any byte of a frame header, for every header size (2, 4 and 10 bytes,
// and 6, 8 and 14 masked), leaves every frame it did not touch decoded:
// the bytes before it end inside a header, as they end inside a payload
// when a gap starts there. The result does not depend on how the bytes
// were cut into feeds.
func TestResyncGapInsideHeader(t *testing.T) {
	t.Parallel()
	for _, size := range []int{100, 1000, 70000} {
		for _, masked := range []bool{false, true} {
			side := 1
			if masked {
				side = 0
			}
			stream, starts, want := headerCutStream(18, size, masked)
			hdrLen, _ := ParseHeader(stream[starts[11]:])
			for _, end := range []bool{false, true} {
				for off := 0; off <= hdrLen.Size; off++ {
					name := fmt.Sprintf("hdr%d/off%d/end=%v", hdrLen.Size, off, end)
					cut := starts[11] + off
					s := feedHeaderCut(side, stream, starts, cut, end, nil)
					c2s, s2c := wsFrames(s.lines)
					got := s2c
					if masked {
						got = c2s
					}
					found := matchFrames(t, name+": ", got, want)
					var missing []int
					for i := range want {
						touched := i == 4 || i == 5 || i >= 11 && (end || i <= 12)
						if !touched && !found[i] {
							missing = append(missing, i)
						}
					}
					if len(missing) > 0 {
						t.Errorf("%s: untouched frames not decoded: %v", name, missing)
					}
					if end {
						continue // the same feeds as with the gap
					}
					// The same bytes fed in other pieces decode the same:
					// every feed but the last ending inside a header, and
					// (short frames: long ones take long to search) in
					// segments and at random.
					whole := s.String()
					base := (starts[5] + starts[6]) / 2
					pieces := []func(n int) []int{func(n int) []int {
						var cuts []int
						for i := 6; i <= 10; i++ {
							cuts = append(cuts, starts[i]+1+(i+off)%(hdrLen.Size-1)-base)
						}
						return cuts
					}}
					if size < 65536 {
						rng := rand.New(rand.NewSource(int64(off)))
						pieces = append(pieces,
							func(n int) []int { return steps(n, 1460) },
							func(n int) []int { return randomCuts(rng, n, 3000) })
					}
					for _, ch := range pieces {
						if got := feedHeaderCut(side, stream, starts, cut, end, ch).String(); got != whole {
							t.Errorf("%s: fed in pieces, decoded differently:\n%s\nin one piece:\n%s", name, got, whole)
						}
					}
				}
			}
		}
	}
}

// steps returns cut points every k bytes of n.
func steps(n, k int) []int {
	var cuts []int
	for p := k; p < n; p += k {
		cuts = append(cuts, p)
	}
	return cuts
}

// randomCuts returns cut points of n bytes at most max bytes apart.
func randomCuts(rng *rand.Rand, n, max int) []int {
	var cuts []int
	for p := 1 + rng.Intn(max); p < n; p += 1 + rng.Intn(max) {
		cuts = append(cuts, p)
	}
	return cuts
}
