package wsparse

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// sniffStep is what a sniffer held after one piece: the decision, the
// window, and the chains.
type sniffStep struct {
	best, base, scanned int
	cands               []cand
}

// sniffRun feeds a sniffer the pieces (where gaps[i] > 0, a gap of that
// many lost bytes instead), deciding after each, and returns what it held
// after each step; walkAll, with no passages kept.
func sniffRun(walkAll bool, want int8, lenient bool, limit int, pieces [][]byte, gaps []int) []sniffStep {
	s := newSniffer(want, sniffMinFrames, lenient, limit)
	s.walkAll = walkAll
	var out []sniffStep
	for i, b := range pieces {
		if gaps[i] > 0 {
			s.gap(gaps[i])
		} else {
			s.add(b)
		}
		best := s.decide(i == len(pieces)-1)
		out = append(out, sniffStep{best, s.base, s.scanned, slices.Clone(s.cands)})
		s.trim()
	}
	return out
}

// sniffDiff returns the first step where two runs differ, or -1.
func sniffDiff(a, b []sniffStep) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i].best != b[i].best || a[i].base != b[i].base || a[i].scanned != b[i].scanned || !slices.Equal(a[i].cands, b[i].cands) {
			return i
		}
	}
	return -1
}

// sniffInput makes bytes where many offsets start plausible frames: runs
// of zero bytes, real frames of every kind (masked or not, fragmented,
// RSV1, control), random bytes, cut into random pieces with gaps.
func sniffInput(rng *rand.Rand) (pieces [][]byte, gaps []int) {
	var b []byte
	for b2 := 0; b2 < 1+rng.IntN(12); b2++ {
		switch rng.IntN(5) {
		case 0:
			b = append(b, make([]byte, rng.IntN(3000))...)
		case 1, 2:
			for range 1 + rng.IntN(20) {
				op := []Opcode{OpText, OpBinary, OpContinuation, OpPing, OpClose}[rng.IntN(5)]
				fin, rsv := rng.IntN(4) != 0, uint8(0)
				if (op == OpText || op == OpBinary) && rng.IntN(6) == 0 {
					rsv = 4
				}
				n := rng.IntN(300)
				if op.IsControl() {
					fin, n = true, rng.IntN(40)
				}
				p := make([]byte, n)
				for i := range p {
					p[i] = byte('a' + rng.IntN(26))
				}
				var key []byte
				if rng.IntN(2) == 0 {
					key = []byte{byte(rng.Uint32()), 1, 2, 3}
				}
				b = append(b, frame(fin, rsv, op, key, string(p))...)
			}
		case 3:
			for range rng.IntN(500) {
				b = append(b, byte(rng.Uint32()))
			}
		default:
			for range rng.IntN(800) {
				b = append(b, []byte{0, 0x80, 0x81, 0x82, 0x02, 0x01, 0x00}[rng.IntN(7)])
			}
		}
	}
	for len(b) > 0 {
		if rng.IntN(12) == 0 {
			pieces, gaps = append(pieces, nil), append(gaps, 1+rng.IntN(2000))
			continue
		}
		n := min(len(b), 1+rng.IntN(1500))
		pieces, gaps = append(pieces, b[:n]), append(gaps, 0)
		b = b[n:]
	}
	return pieces, gaps
}

// TestSniffMemoSame: the chains, their counts and the decisions are the
// same, step by step, with the passages kept (a chain that comes where
// another passed takes its end: jump) as when every chain walks every
// frame, on inputs made to have many plausible frame starts.
func TestSniffMemoSame(t *testing.T) {
	t.Parallel()
	type input struct {
		pieces  [][]byte
		gaps    []int
		want    int8
		lenient bool
		limit   int
	}
	// The inputs are drawn in order from one seed, then compared in
	// parallel parts (the walk of every chain takes seconds).
	rng := rand.New(rand.NewPCG(29, 6))
	inputs := make([]input, 600)
	for i := range inputs {
		in := &inputs[i]
		in.pieces, in.gaps = sniffInput(rng)
		in.want = int8(rng.IntN(3) - 1)
		in.lenient = rng.IntN(3) == 0
		in.limit = []int{1 << 10, 1 << 10, 8 << 10, 256 << 10}[rng.IntN(4)]
	}
	const parts = 4
	for part := range parts {
		t.Run(fmt.Sprint(part), func(t *testing.T) {
			t.Parallel()
			for i := part; i < len(inputs); i += parts {
				in := inputs[i]
				walked := sniffRun(true, in.want, in.lenient, in.limit, in.pieces, in.gaps)
				kept := sniffRun(false, in.want, in.lenient, in.limit, in.pieces, in.gaps)
				if k := sniffDiff(walked, kept); k >= 0 {
					t.Fatalf("input %d, step %d of %d:\nwalking every chain %.600v\nwith passages      %.600v", i, k, len(walked), walked[min(k, len(walked)-1)], kept[min(k, len(kept)-1)])
				}
			}
		})
	}
}

// TestSniffZeroBytesLinear: a direction of zero bytes (every pair an
// empty continuation frame) costs the search a few frame headers read
// per byte, not a walk of every frame for every offset: 264 KB in 1 200-
// byte pieces read ~190 headers a byte (1.45 s) before the passages.
func TestSniffZeroBytesLinear(t *testing.T) {
	t.Parallel()
	per := func(walkAll bool, pieces int) float64 {
		s := newSniffer(-1, sniffMinFrames, false, 256<<10)
		s.walkAll = walkAll
		zero := make([]byte, 1200)
		for range pieces {
			s.add(zero)
			s.decide(false)
			s.trim()
		}
		return float64(s.walked) / float64(pieces*1200)
	}
	walking := per(true, 20) // the first 24 KB only: the walk is the slow part
	kept := per(false, 220)
	t.Logf("frame headers read per byte of zeros: %.1f walking every chain, %.2f with the passages", walking, kept)
	if walking < 20 {
		t.Fatalf("%.1f frame headers read per byte walking every chain: the input no longer makes the many chains this test is about", walking)
	}
	if kept > 4 {
		t.Errorf("%.1f frame headers read per byte of zeros, want at most 4", kept)
	}
}

// FuzzSniffMemoSame: TestSniffMemoSame on any bytes, cut into pieces of
// the sizes the first bytes say (a piece of size 0: a gap of 100 lost
// bytes).
func FuzzSniffMemoSame(f *testing.F) {
	f.Add([]byte{3, 7, 0}, make([]byte, 400), int8(-1), false)
	f.Add([]byte{200, 1}, append(frame(true, 0, OpText, nil, "hello there"), frame(false, 4, OpBinary, testMask, "abcdefgh")...), int8(1), true)
	f.Fuzz(func(t *testing.T, sizes, data []byte, want int8, lenient bool) {
		if len(sizes) == 0 || len(data) > 4<<10 {
			return
		}
		want = max(min(want, 1), -1)
		var pieces [][]byte
		var gaps []int
		for i := 0; len(data) > 0 && i < 64; i++ {
			n := int(sizes[i%len(sizes)])
			if n == 0 {
				pieces, gaps = append(pieces, nil), append(gaps, 100)
				continue
			}
			n = min(n, len(data))
			pieces, gaps = append(pieces, data[:n]), append(gaps, 0)
			data = data[n:]
		}
		if len(pieces) == 0 {
			return
		}
		walked := sniffRun(true, want, lenient, 1<<10, pieces, gaps)
		kept := sniffRun(false, want, lenient, 1<<10, pieces, gaps)
		if k := sniffDiff(walked, kept); k >= 0 {
			t.Fatalf("step %d of %d: with passages\n%.600v\nwalking every chain\n%.600v", k, len(walked), kept[min(k, len(kept)-1)], walked[min(k, len(walked)-1)])
		}
	})
}
