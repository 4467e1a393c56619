package wsparse

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// sniffRun feeds a sniffer the pieces (a negative piece is a gap of that
// many lost bytes), deciding after each, and returns what it held after
// each step: the chains, the decision, the window.
func sniffRun(want int8, lenient bool, limit int, pieces [][]byte, gaps []int) []string {
	s := newSniffer(want, sniffMinFrames, lenient, limit)
	var out []string
	for i, b := range pieces {
		if gaps[i] > 0 {
			s.gap(gaps[i])
		} else {
			s.add(b)
		}
		best := s.decide(i == len(pieces)-1)
		out = append(out, fmt.Sprintf("%d %d %d %+v", best, s.base, s.scanned, s.cands))
		s.trim()
	}
	return out
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
	defer func(v bool) { sniffMemo = v }(sniffMemo)
	rng := rand.New(rand.NewPCG(29, 6))
	for i := range 600 {
		pieces, gaps := sniffInput(rng)
		want := int8(rng.IntN(3) - 1)
		lenient := rng.IntN(3) == 0
		limit := []int{1 << 10, 1 << 10, 8 << 10, 256 << 10}[rng.IntN(4)]
		sniffMemo = false
		walked := sniffRun(want, lenient, limit, pieces, gaps)
		sniffMemo = true
		kept := sniffRun(want, lenient, limit, pieces, gaps)
		if !reflect.DeepEqual(walked, kept) {
			for k := range walked {
				if walked[k] != kept[k] {
					t.Fatalf("input %d, step %d of %d:\nwalking every chain %.600s\nwith passages      %.600s", i, k, len(walked), walked[k], kept[k])
				}
			}
		}
	}
}

// TestSniffZeroBytesLinear: a direction of zero bytes (every pair an
// empty continuation frame) costs the search a few frame headers read
// per byte, not a walk of every frame for every offset: 264 KB in 1 200-
// byte pieces read ~190 headers a byte (1.45 s) before the passages.
func TestSniffZeroBytesLinear(t *testing.T) {
	defer func(v bool) { sniffMemo = v }(sniffMemo)
	per := func(pieces int) float64 {
		s := newSniffer(-1, sniffMinFrames, false, 256<<10)
		zero := make([]byte, 1200)
		for range pieces {
			s.add(zero)
			s.decide(false)
			s.trim()
		}
		return float64(s.walked) / float64(pieces*1200)
	}
	sniffMemo = false
	walking := per(20) // the first 24 KB only: the walk is the slow part
	sniffMemo = true
	kept := per(220)
	t.Logf("frame headers read per byte of zeros: %.1f walking every chain, %.2f with the passages", walking, kept)
	if walking < 20 {
		t.Fatalf("%.1f frame headers read per byte walking every chain: the input no longer makes the many chains this test is about", walking)
	}
	if kept > 4 {
		t.Errorf("%.1f frame headers read per byte of zeros, want at most 4", kept)
	}
}
