package diff

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/wsdump/wsdump/wsparse"
)

// sketch is what the first reading keeps of a connection: a 128-bit sum of
// everything diff compares of it (see sketcher) and its items by
// direction. Two connections whose sums are equal compare equal; the
// others are read again in full (Run). 24 bytes, where a Collector keeps
// 40 and 40 an item; and B's start from A's (sketcher.against), so that
// A's are gone when B's connections are all open (issue 16: 100 000 open
// connections in each).
type sketch struct {
	sum [2]uint64
	n   [2]int32
}

// sketchChunk sketches are allocated at a time, never moved.
const sketchChunk = 4096

// sketcher is a sink that keeps a sketch of each connection. A sketch's sum
// adds a 128-bit hash of each thing compared, tagged with its place: the
// handshake, each item with its direction and position (its opcode, close
// text, size and the hash of its bytes, as Collector compares them), and
// how the connection ended. Adding makes the sum independent of how the
// two directions interleave, which diff does not compare.
type sketcher struct {
	ignoreControl bool
	closeText     func(code uint16, reason string) string
	chunks        [][]sketch
	nConns        int
	open          openTable  // open connections' place, by ID
	twice         []uint64   // a bit by place: a second handshake, which a sum cannot replace
	hs            []uint64   // a bit by place: a handshake was added
	items         int        // over all connections
	base          [][]sketch // A's, by chunk (see against)
	baseN         int
}

func newSketcher(o *Options) *sketcher {
	return &sketcher{ignoreControl: o.IgnoreControl, closeText: o.CloseText}
}

func (s *sketcher) at(ord int32) *sketch {
	return &s.chunks[ord/sketchChunk][ord%sketchChunk]
}

// conn returns the place of c's connection, in order of first sight as
// Collector.conn.
func (s *sketcher) conn(c *wsparse.Conn) int32 {
	ord, ok := s.open.get(c.ID)
	if !ok {
		ord = int32(s.nConns)
		s.open.put(c.ID, ord)
		if s.nConns%sketchChunk == 0 {
			s.chunks = append(s.chunks, make([]sketch, sketchChunk))
		}
		if s.nConns%64 == 0 {
			s.twice, s.hs = append(s.twice, 0), append(s.hs, 0)
		}
		s.nConns++
		if int(ord) < s.baseN {
			k, i := ord/sketchChunk, ord%sketchChunk
			a := &s.base[k][i].sum
			s.at(ord).sum = [2]uint64{-a[0], -a[1]}
			if i == sketchChunk-1 || int(ord) == s.baseN-1 {
				s.base[k] = nil // B has reached all of it
			}
		}
	}
	return ord
}

const (
	tagHandshake = 'h'
	tagItem      = 'i'
	tagEnd       = 'e'
)

// add adds the hash of a tagged record and a string to x's sum.
func (x *sketch) add(rec []byte, str string) {
	for i := range x.sum {
		var h maphash.Hash
		h.SetSeed(diffSeeds[i])
		h.Write(rec)
		h.WriteString(str)
		x.sum[i] += h.Sum64()
	}
}

func (s *sketcher) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	ord := s.conn(c)
	w, b := ord/64, uint64(1)<<(ord%64)
	if s.hs[w]&b != 0 {
		s.twice[w] |= b // Collector keeps the last one
		return
	}
	s.hs[w] |= b
	s.at(ord).add([]byte{tagHandshake}, handshakeText(h))
}

func (s *sketcher) item(ord int32, dir wsparse.Dir, op wsparse.Opcode, size uint64, data []byte, close string) {
	x := s.at(ord)
	sum := diffSum(data)
	var rec [1 + 1 + 1 + 4 + 8 + 16]byte
	rec[0], rec[1], rec[2] = tagItem, byte(dir), byte(op)
	binary.LittleEndian.PutUint32(rec[3:], uint32(x.n[dir]))
	binary.LittleEndian.PutUint64(rec[7:], size)
	binary.LittleEndian.PutUint64(rec[15:], sum[0])
	binary.LittleEndian.PutUint64(rec[23:], sum[1])
	x.add(rec[:], close)
	x.n[dir]++
	s.items++
}

func (s *sketcher) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	ord := s.conn(c)
	if s.ignoreControl || !f.Opcode.IsControl() {
		return
	}
	data, close := f.Payload, ""
	if f.Opcode == wsparse.OpClose {
		data = nil
		if f.HasCloseCode {
			close = s.closeText(f.CloseCode, f.CloseReason)
		}
	}
	s.item(ord, f.Dir, f.Opcode, f.Length, data, close)
}

func (s *sketcher) Message(c *wsparse.Conn, m *wsparse.Message) {
	s.item(s.conn(c), m.Dir, m.Opcode, m.Len, m.Data, "")
}

func (s *sketcher) End(c *wsparse.Conn, sum *wsparse.Summary) {
	ord := s.conn(c)
	if sum.End != "" { // Collector's none
		s.at(ord).add([]byte{tagEnd}, string(sum.End))
	}
	s.open.del(c.ID)
}

// against makes s sketch B against a, A's sketcher: B's connection at a
// place starts from the negated sum of A's there, so that its sum ends at
// zero when the two compare equal, and A's sketches are dropped as B's
// connections reach them (a chunk at a time). At the end of B, when all
// its connections are open at once (issue 16), what A kept is gone.
func (s *sketcher) against(a *sketcher) {
	s.base, s.baseN = a.chunks, a.nConns
	a.chunks, a.open = nil, openTable{}
}

// differ returns a bit by place of the connections to be read again: those
// whose sketches differ (b's sum is not zero, see against), those that one
// capture has and the other has not, and those with a second handshake.
// Nil: none.
func differ(a, b *sketcher) []uint64 {
	n := max(a.nConns, b.nConns)
	out := make([]uint64, (n+63)/64)
	any := false
	for i := range n {
		if i >= a.nConns || i >= b.nConns || b.at(int32(i)).sum != [2]uint64{} || bit(a.twice, i) || bit(b.twice, i) {
			out[i/64] |= 1 << (i % 64)
			any = true
		}
	}
	if !any {
		return nil
	}
	return out
}

// bit reports whether bit i of set is set (a set too short holds none).
func bit(set []uint64, i int) bool {
	return i/64 < len(set) && set[i/64]&(1<<(i%64)) != 0
}
