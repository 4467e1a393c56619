package wsparse

import (
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
	found := map[int]bool{}
	for _, l := range s2c {
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
			t.Errorf("frame decoded from the wrong place: %s", l)
		}
	}
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
