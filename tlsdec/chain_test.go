package tlsdec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestPlausibleHeader: the header rules of the chain search, one by one.
func TestPlausibleHeader(t *testing.T) {
	for _, tc := range []struct {
		h    []byte
		want bool
		why  string
	}{
		{[]byte{23, 3, 3, 0, 1}, true, "application data, TLS 1.2, 1 byte"},
		{[]byte{23, 3, 3, 0x48, 0}, true, "application data of MaxRecord (2^14+2048)"},
		{[]byte{23, 3, 3, 0x48, 1}, false, "one byte over MaxRecord"},
		{[]byte{23, 3, 3, 0, 0}, false, "empty record"},
		{[]byte{22, 3, 1, 0, 50}, true, "handshake, TLS 1.0 version (a ClientHello's)"},
		{[]byte{22, 3, 4, 0, 50}, true, "minor 4"},
		{[]byte{22, 3, 0, 0, 50}, false, "SSL 3.0"},
		{[]byte{22, 3, 5, 0, 50}, false, "minor 5"},
		{[]byte{22, 2, 3, 0, 50}, false, "major 2"},
		{[]byte{20, 3, 3, 0, 1}, true, "ChangeCipherSpec of 1 byte"},
		{[]byte{20, 3, 3, 0, 2}, false, "ChangeCipherSpec of 2 bytes"},
		{[]byte{21, 3, 3, 0, 2}, true, "alert of 2 bytes"},
		{[]byte{21, 3, 3, 0, 1}, false, "alert of 1 byte"},
		{[]byte{21, 3, 3, 0, 26}, true, "encrypted alert"},
		{[]byte{24, 3, 3, 0, 20}, false, "heartbeat"},
		{[]byte{19, 3, 3, 0, 20}, false, "type 19"},
		{[]byte{0, 0, 0, 0, 0}, false, "zeros"},
		{[]byte{23, 3, 3, 0}, false, "4 bytes"},
	} {
		if got := PlausibleHeader(tc.h); got != tc.want {
			t.Errorf("%s: % x: %v, want %v", tc.why, tc.h, got, tc.want)
		}
	}
}

// rec is a record of type typ and version 3.minor with a body of n
// bytes of seeded noise.
func rec(r *rand.Rand, typ, minor uint8, n int) []byte {
	b := []byte{typ, 3, minor, byte(n >> 8), byte(n)}
	for range n {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// chainRef is the chain search done the slow way: the first offset from
// which ChainHeaders plausible headers of one version follow each other
// in b (or, final, fewer whose last record ends at b's end); -1 none.
func chainRef(b []byte, final bool) int {
	for i := range b {
		q, n := i, 0
		var ver [2]byte
		for n < ChainHeaders && q+5 <= len(b) && PlausibleHeader(b[q:q+5]) && (n == 0 || ver == [2]byte{b[q+1], b[q+2]}) {
			ver = [2]byte{b[q+1], b[q+2]}
			q += 5 + (int(b[q+3])<<8 | int(b[q+4]))
			n++
		}
		if n == ChainHeaders || final && n > 0 && q == len(b) {
			return i
		}
	}
	return -1
}

// TestChainSearch: a side's bytes that start inside a record (its start
// lost), fed whole and in pieces of 1, 7 and 1448 bytes: the boundary
// found is the first record's after the cut, or none; the same as the
// slow reference's.
func TestChainSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	records := func(sizes ...int) []byte {
		var b []byte
		for _, n := range sizes {
			b = append(b, rec(r, 23, 3, n)...)
		}
		return b
	}
	ccs := []byte{20, 3, 3, 0, 1, 1}
	for _, tc := range []struct {
		name  string
		b     []byte
		final bool // only found at the end (a chain ending at the last byte)
		want  int  // -1 none
	}{
		{"cut 1 byte into a record", append(records(100)[1:], records(50, 60, 70)...), false, 104},
		{"cut in the header", append(records(100)[3:], records(50, 60, 70)...), false, 102},
		{"whole records", records(50, 60, 70), false, 0},
		{"cut in a 16 KiB record", append(records(16384)[700:], records(16384, 16384, 10)...), false, 16389 - 700},
		{"ChangeCipherSpec then records", append(append(records(300)[200:], ccs...), records(53, 206)...), false, 105},
		{"two records after the cut, then the end", append(records(300)[200:], records(53, 206)...), true, 105},
		{"one record after the cut, then the end", append(records(300)[200:], records(53)...), true, 105},
		{"the end inside the last record", append(records(300)[200:], records(53, 206)[:200]...), true, -1},
		{"noise only", rec(r, 0, 0, 5000)[5:], true, -1},
		{"versions differ", append(append(records(30)[10:], rec(r, 23, 1, 40)...), records(40, 40)...), true, 70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ref := chainRef(tc.b, tc.final); ref != tc.want {
				t.Fatalf("reference %d, want %d", ref, tc.want)
			}
			for _, piece := range []int{len(tc.b), 1, 7, 1448} {
				var s ChainSearch
				done := false
				for b := tc.b; len(b) > 0 && !done; {
					n := min(piece, len(b))
					done = s.Add(b[:n])
					b = b[n:]
				}
				if done != (tc.want >= 0 && !tc.final) {
					t.Errorf("piece %d: done %v before the end", piece, done)
				}
				found := s.Finish()
				if got := -1; found {
					got = int(s.Start())
					if got != tc.want || !bytes.HasPrefix(tc.b[got:], s.Rest()[:min(len(s.Rest()), 5)]) {
						t.Errorf("piece %d: found at %d, want %d", piece, got, tc.want)
					}
				} else if tc.want >= 0 {
					t.Errorf("piece %d: not found, want %d", piece, tc.want)
				}
			}
		})
	}
}

// TestChainSearchBounded: 8 MB that hold no chain but plausible headers
// everywhere they can (every offset of a run of 23 3 3 0 1 ... whose
// chains break at their second or third header), fed in pieces of 1448
// bytes and in one: the search reads at most ChainHeaders headers an
// offset (linear) and keeps at most 3 records' bytes and a piece.
func TestChainSearchBounded(t *testing.T) {
	unit := []byte{23, 3, 3, 0, 1, 0, 23, 3, 3, 0, 1, 0, 21} // two chained, then an alert of 0x0303 bytes... that breaks
	var b []byte
	for len(b) < 8<<20 {
		b = append(b, unit...)
	}
	if chainRef(b[:1<<16], true) >= 0 {
		t.Fatal("the input holds a chain")
	}
	for _, piece := range []int{1448, len(b)} {
		s := ChainSearch{}
		most := 0
		for p := b; len(p) > 0; {
			n := min(piece, len(p))
			if s.Add(p[:n]) {
				t.Fatalf("piece %d: found at %d", piece, s.Start())
			}
			p = p[n:]
			most = max(most, len(s.buf))
		}
		if s.tried > ChainHeaders*len(b) {
			t.Errorf("piece %d: %d headers read for %d bytes: not linear", piece, s.tried, len(b))
		}
		if bound := 3*(5+MaxRecord) + 5 + piece; piece < len(b) && most > bound {
			t.Errorf("piece %d: %d bytes kept, more than %d", piece, most, bound)
		}
		if s.Held() > 4*(5+MaxRecord) && piece < len(b) {
			t.Errorf("piece %d: %d bytes of capacity kept", piece, s.Held())
		}
	}
}

// TestHelloLostInsideRecord: a side's first record and part of its next
// lost (the loss ends inside a record: a flight over several segments,
// only the first lost), TLS 1.2 and 1.3, the rest fed whole or cut every
// 3 bytes: the side's records are found again at the next record after
// the cut one, the bytes before it counted as skipped (and in Bytes),
// every record after counted, every byte counted or lost, and the error
// says it. Until then the side read the cut record's tail as a header
// ("not a TLS record", or a wrong record length swallowing the rest).
func TestHelloLostInsideRecord(t *testing.T) {
	for _, id := range []uint16{0xc02f, 0x1301} {
		for _, lose := range []int{0, 1} {
			for _, into := range []int{1, 4, 9, -1} { // bytes of the second record lost (-1: all but 1)
				s := newSession(id, false)
				s.exchange([]int{40, 3000, 500, 20}, s.handshake())
				var evs []event
				var total [2]int64
				var recs [2]int
				for _, ev := range s.evs {
					total[ev.side] += int64(len(ev.data))
					recs[ev.side]++
				}
				var lost int
				var cut int // the side's records before the one found
				for _, ev := range s.evs {
					switch {
					case ev.side == lose && cut == 0:
						lost, cut = len(ev.data), 1
						continue
					case ev.side == lose && cut == 1:
						n := into
						if n < 0 || n >= len(ev.data) {
							n = len(ev.data) - 1
						}
						lost += n
						cut = 2
						ev = event{ev.side, ev.data[n:]}
					}
					evs = append(evs, ev)
				}
				skipped := int64(len(s.evs[0].data)) // (placeholder, set below)
				for i, n := 0, 0; i < len(s.evs); i++ {
					if s.evs[i].side == lose {
						if n++; n == 2 {
							skipped = int64(len(s.evs[i].data)) - int64(lost) + int64(len(firstOf(s.evs, lose)))
						}
					}
				}
				for _, split := range []int{0, 3} {
					t.Run(fmt.Sprintf("%04x/side%d/into%d/split%d", id, lose, into, split), func(t *testing.T) {
						c := NewConn(newSession(id, false).keys(), func(int, []byte, time.Time) {})
						c.Gap(lose, lost, time.Time{})
						for _, ev := range evs {
							b := ev.data
							for split > 0 && len(b) > split {
								c.Feed(ev.side, b[:split], time.Time{})
								b = b[split:]
							}
							c.Feed(ev.side, b, time.Time{})
						}
						c.End(time.Time{})
						in := c.Info()
						want := fmt.Sprintf("%s: lost with the first bytes of side %d (%d), records counted (side %d: records found again by their headers, %d bytes searched and not decoded)",
							HelloLost, lose, lost, lose, skipped)
						if in.Error != want || c.NotRecords() || in.Decrypted {
							t.Errorf("error %q, want %q", in.Error, want)
						}
						if in.Skipped[lose] != skipped || in.Skipped[1-lose] != 0 || in.Found[lose] != 1 {
							t.Errorf("skipped %v found %v, want %d on side %d", in.Skipped, in.Found, skipped, lose)
						}
						if in.Records[lose] != recs[lose]-2 || in.Records[1-lose] != recs[1-lose] {
							t.Errorf("records %v, want %d and %d", in.Records, recs[lose]-2, recs[1-lose])
						}
						wantBytes := total
						wantBytes[lose] -= int64(lost)
						if in.Bytes != wantBytes {
							t.Errorf("bytes %v, want %v", in.Bytes, wantBytes)
						}
					})
				}
			}
		}
	}
}

func firstOf(evs []event, side int) []byte {
	for _, ev := range evs {
		if ev.side == side {
			return ev.data
		}
	}
	return nil
}

// TestGapOpaqueFound: a gap that ends inside a record of a side whose
// records are only counted (no key log): its records are found again by
// their headers, counted on, the cut record's tail skipped. Until then
// the side's records were not followed past the gap.
func TestGapOpaqueFound(t *testing.T) {
	for _, id := range []uint16{0xc02f, 0x1301} {
		s := newSession(id, false)
		s.exchange([]int{40, 3000, 500, 20, 700, 30}, s.handshake())
		var recs [2]int
		for _, ev := range s.evs {
			recs[ev.side]++
		}
		// Lose the last 10 bytes of the 3000-byte record and the first
		// 20 of the next (a gap over a record boundary).
		c := NewConn(nil, func(int, []byte, time.Time) {})
		var at, side = -1, -1
		for i, ev := range s.evs {
			if at < 0 && len(ev.data) > 3000 && len(ev.data) < 3060 { // (application data, not the server's flight)
				at, side = i, ev.side
			}
		}
		next := at + 1
		for s.evs[next].side != side || len(s.evs[next].data) < 25 {
			next++
		}
		skipped := int64(len(s.evs[next].data) - 20)
		for i, ev := range s.evs {
			switch i {
			case at:
				c.Feed(side, ev.data[:len(ev.data)-10], time.Time{})
				c.Gap(side, 30, time.Time{})
			case next:
				c.Feed(side, ev.data[20:], time.Time{})
			default:
				c.Feed(ev.side, ev.data, time.Time{})
			}
		}
		c.End(time.Time{})
		in := c.Info()
		if in.Skipped[side] != skipped || in.Found[side] != 1 {
			t.Errorf("%04x: skipped %v found %v, want %d on side %d", id, in.Skipped, in.Found, skipped, side)
		}
		if in.Records[side] != recs[side]-2 || in.Records[1-side] != recs[1-side] {
			t.Errorf("%04x: records %v, want %d on side %d (error %q)", id, in.Records, recs[side]-2, side, in.Error)
		}
	}
}

// FuzzChainSearch: any bytes, fed in pieces of any size: the boundary the
// search finds (before the end, and at it) is the slow reference's, and
// what it keeps stays within 3 records and a piece.
func FuzzChainSearch(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	f.Add(append(rec(r, 23, 3, 100)[7:], append(rec(r, 20, 3, 1), rec(r, 23, 3, 53)...)...), uint16(7))
	f.Add([]byte{23, 3, 3, 0, 1, 0, 23, 3, 3, 0, 1, 0, 23, 3, 3, 0, 1}, uint16(1))
	f.Add(rec(r, 22, 1, 300)[2:], uint16(1448))
	f.Fuzz(func(t *testing.T, b []byte, piece uint16) {
		p := int(piece)%2048 + 1
		var s ChainSearch
		done := false
		for rest := b; len(rest) > 0 && !done; {
			n := min(p, len(rest))
			done = s.Add(rest[:n])
			rest = rest[n:]
			if len(s.buf) > 3*(5+MaxRecord)+5+p {
				t.Fatalf("%d bytes kept", len(s.buf))
			}
		}
		want := chainRef(b, !done)
		if done && int(s.Start()) != want {
			t.Fatalf("found at %d before the end, reference %d", s.Start(), want)
		}
		got := -1
		if s.Finish() {
			got = int(s.Start())
		}
		if got != want && !(done && got == int(s.Start())) {
			t.Fatalf("found at %d, reference %d", got, want)
		}
		if got >= 0 && !bytes.HasPrefix(b[got:], s.Rest()) {
			t.Fatal("Rest is not the bytes from the boundary")
		}
		if s.tried > ChainHeaders*(len(b)+1) {
			t.Fatalf("%d headers read for %d bytes", s.tried, len(b))
		}
	})
}

// BenchmarkChainSearchRandom: random bytes (no chain), fed in 1448-byte
// pieces: the search's speed where it finds nothing.
func BenchmarkChainSearchRandom(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		var s ChainSearch
		for p := buf; len(p) > 0; p = p[min(1448, len(p)):] {
			s.Add(p[:min(1448, len(p))])
		}
	}
}

// TestEndCountsRecordCut: a side's records found again after its start
// was lost, the last of them longer than what the side sent before the
// connection ended (a record a capture's end cut, or the chain's last
// header read in bytes that were no TLS: a length up to 18 KB): the bytes
// of that record are counted in the side's TLS bytes at the end, as a gap
// counts those of a record it cuts. Before, they were counted nowhere:
// of 52 + 565 bytes sent after the loss, 52 were TLS bytes.
func TestEndCountsRecordCut(t *testing.T) {
	tail := bytes.Repeat([]byte{0xa5}, 40)
	chain := []byte{23, 3, 3, 0, 1, 'x', 23, 3, 3, 0, 1, 'x', 23, 3, 3, 2, 0x58} // the last: 600 bytes
	for _, cut := range []int{0, 2, 5, 300} {                                    // bytes of the last record sent: its header's first 2, its header, part of its body
		for _, split := range []int{0, 7} {
			c := NewConn(nil, func(int, []byte, time.Time) {})
			c.Gap(1, 129, time.Time{})
			b := append(append(append([]byte(nil), tail...), chain...), bytes.Repeat([]byte{0x81}, 300)...)
			b = b[:len(tail)+len(chain)-5+cut]
			if cut == 300 {
				b = append(b[:len(tail)+len(chain)], bytes.Repeat([]byte{0x81}, 295)...)
			}
			for p := b; len(p) > 0; {
				n := len(p)
				if split > 0 {
					n = min(split, n)
				}
				c.Feed(1, p[:n], time.Time{})
				p = p[n:]
			}
			c.End(time.Time{})
			if got := c.Info().Bytes[1]; got != int64(len(b)) {
				t.Errorf("last record cut %d bytes in, pieces of %d: %d TLS bytes, want the %d sent (skipped %d)", cut, split, got, len(b), c.Info().Skipped[1])
			}
		}
	}
}
