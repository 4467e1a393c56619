package wsparse

import (
	"compress/flate"
	"math/rand/v2"
	"strings"
	"testing"
)

// spillScript is the bytes of conns connections, each an upgrade (every
// other one with permessage-deflate) and then messages in fragments of
// random sizes with pings between them, some compressed, some bigger than
// spillMax, as feeds of random lengths, the connections interleaved.
type spillFeed struct {
	conn, side int
	data       []byte
}

func spillScript(seed uint64, conns int) []spillFeed {
	r := rand.New(rand.NewPCG(seed, 7))
	var feeds []spillFeed
	streams := make([][2][]byte, conns)
	for i := range streams {
		ext := ""
		if i%2 == 1 {
			ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		}
		feeds = append(feeds, spillFeed{i, 0, []byte(upgradeRequest(ext))}, spillFeed{i, 1, []byte(upgradeResponse(ext))})
		var zw [2]*flate.Writer
		var zb [2]strings.Builder
		for m := range 12 {
			side := r.IntN(2)
			var key []byte
			if side == 0 {
				key = testMask
			}
			size := r.IntN(3000)
			if m == 5 {
				size = spillMax + 100 // stays in memory
			}
			msg := make([]byte, size)
			for j := range msg {
				msg[j] = 'a' + byte(r.IntN(26))
			}
			rsv := uint8(0)
			if i%2 == 1 && r.IntN(2) == 0 {
				// Compressed, with context takeover.
				if zw[side] == nil {
					zw[side], _ = flate.NewWriter(&zb[side], flate.BestSpeed)
				}
				zb[side].Reset()
				zw[side].Write(msg)
				zw[side].Flush()
				msg = []byte(strings.TrimSuffix(zb[side].String(), string(deflateTail)))
				rsv = 4
			}
			op := OpText
			for len(msg) > 0 || op != OpContinuation {
				n := min(len(msg), 1+r.IntN(900))
				fin := n == len(msg)
				streams[i][side] = append(streams[i][side], frame(fin, rsv, op, key, string(msg[:n]))...)
				msg, op, rsv = msg[n:], OpContinuation, 0
				if !fin && r.IntN(4) == 0 {
					streams[i][side] = append(streams[i][side], frame(true, 0, OpPing, key, "p")...)
				}
				if fin {
					break
				}
			}
		}
		if r.IntN(3) == 0 {
			// Ends in the middle of a message.
			streams[i][1] = append(streams[i][1], frame(false, 0, OpBinary, nil, strings.Repeat("z", 700))...)
		}
	}
	for {
		live := 0
		for i := range streams {
			for side := range 2 {
				if b := streams[i][side]; len(b) > 0 {
					live++
					n := min(len(b), 1+r.IntN(1500))
					feeds = append(feeds, spillFeed{i, side, b[:n]})
					streams[i][side] = b[n:]
				}
			}
		}
		if live == 0 {
			return feeds
		}
	}
}

// runSpill feeds the script to connections with cfg and returns each
// connection's records.
func runSpill(feeds []spillFeed, conns int, cfg Config) []string {
	sinks := make([]*logSink, conns)
	cs := make([]*Conn, conns)
	for i := range cs {
		sinks[i] = &logSink{}
		cs[i] = NewShared(cfg, sinks[i]).NewConn(i+1, testClient, testServer)
	}
	for _, f := range feeds {
		cs[f.conn].Feed(f.side, f.data, testTime)
	}
	out := make([]string, conns)
	for i, c := range cs {
		c.End(testTime)
		out[i] = sinks[i].String()
	}
	return out
}

// TestSpillSameRecords: with every open message and inflate window at
// rest spilled (SpillAbove 1), the records are those with nothing
// spilled, for fragmented messages, compressed ones (context takeover),
// ones too big to spill, pings between fragments and messages cut by the
// end; the file's slots are reused, and nothing stays counted at rest
// once the connections ended.
func TestSpillSameRecords(t *testing.T) {
	const conns = 40
	for seed := range uint64(3) {
		feeds := spillScript(seed, conns)
		heldBefore := spills.held.Load()
		spills.mu.Lock()
		before, endBefore := spills.spilled, spills.end
		spills.mu.Unlock()
		got := runSpill(feeds, conns, Config{SpillAbove: 1})
		want := runSpill(feeds, conns, Config{SpillAbove: -1})
		spills.mu.Lock()
		n, end := spills.spilled-before, spills.end
		spills.mu.Unlock()
		if n < conns*5 {
			t.Errorf("seed %d: %d messages spilled, want many", seed, n)
		}
		// At most one message at rest per side, of up to 3 000 bytes, in
		// slots of 64 B to 4 KiB, and one window of up to 32 KiB: without
		// the slots freed used again, the file would grow by every message
		// and window spilled.
		if grew := end - endBefore; grew > 2*conns*(8192+2*32768) {
			t.Errorf("seed %d: spill file grew by %d bytes for %d messages spilled, %d connections", seed, grew, n, conns)
		}
		if h := spills.held.Load(); h != heldBefore {
			t.Errorf("seed %d: %d bytes counted at rest after the ends, were %d", seed, h, heldBefore)
		}
		for i := range got {
			if got[i] != want[i] {
				g, w := strings.Split(got[i], "\n"), strings.Split(want[i], "\n")
				for j := range min(len(g), len(w)) {
					if g[j] != w[j] {
						t.Fatalf("seed %d conn %d record %d: spilled\n%s\nnot spilled\n%s", seed, i+1, j, g[j], w[j])
					}
				}
				t.Fatalf("seed %d conn %d: %d records spilled, %d not", seed, i+1, len(g), len(w))
			}
		}
		if SpillError() != nil {
			t.Fatal(SpillError())
		}
	}
}

// TestSpillStoreReadError: a slot that cannot be read back is an error,
// kept for SpillError, and its slot is free again.
func TestSpillStoreReadError(t *testing.T) {
	var s spillStore
	ref := s.write([]byte("hello"), true)
	if ref == 0 {
		t.Skip("no temporary file here")
	}
	b, err := s.read(ref, -1)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	ref = s.write([]byte("again"), true)
	if ref.off() != 0 {
		t.Errorf("slot at %d, want the freed one at 0", ref.off())
	}
	s.f.Close()
	if _, err := s.read(ref, -1); err == nil || s.readErr == nil {
		t.Errorf("read from a closed file: %v, kept %v", err, s.readErr)
	}
}
