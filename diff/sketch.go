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
// 40 and 40 an item: diff holds every connection of A while B's are open
// (issue 16: 100 000 open connections in each).
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
	byConn        map[*wsparse.Conn]int32 // open connections' place
	twice         []uint64                // a bit by place: a second handshake, which a sum cannot replace
	hs            []uint64                // a bit by place: a handshake was added
	items         int                     // over all connections
}

func newSketcher(o *Options) *sketcher {
	return &sketcher{ignoreControl: o.IgnoreControl, closeText: o.CloseText, byConn: map[*wsparse.Conn]int32{}}
}

func (s *sketcher) at(ord int32) *sketch {
	return &s.chunks[ord/sketchChunk][ord%sketchChunk]
}

// conn returns the place of c's connection, in order of first sight as
// Collector.conn.
func (s *sketcher) conn(c *wsparse.Conn) int32 {
	ord, ok := s.byConn[c]
	if !ok {
		ord = int32(s.nConns)
		s.byConn[c] = ord
		if s.nConns%sketchChunk == 0 {
			s.chunks = append(s.chunks, make([]sketch, sketchChunk))
		}
		if s.nConns%64 == 0 {
			s.twice, s.hs = append(s.twice, 0), append(s.hs, 0)
		}
		s.nConns++
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
	delete(s.byConn, c)
}

// sums returns each connection's sum, by place, and drops the sketches.
func (s *sketcher) sums() [][2]uint64 {
	out := make([][2]uint64, s.nConns)
	for i := range out {
		out[i] = s.at(int32(i)).sum
	}
	s.chunks, s.byConn = nil, nil
	return out
}

// differ returns a bit by place of the connections to be read again:
// those whose sums differ, those that one capture has and the other has
// not, and those with a second handshake. Nil: none.
func differ(a *sketcher, sa [][2]uint64, b *sketcher, sb [][2]uint64) []uint64 {
	n := max(len(sa), len(sb))
	out := make([]uint64, (n+63)/64)
	any := false
	for i := range n {
		if i >= len(sa) || i >= len(sb) || sa[i] != sb[i] || bit(a.twice, i) || bit(b.twice, i) {
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
