// Package diff compares two decoded captures connection by connection
// (the n-th WebSocket connection of A with the n-th of B) and, in each
// direction, message by message. It returns the differences as values;
// report renders them (report.WriteDiff).
package diff

import (
	"hash/maphash"
	"strconv"

	"github.com/wsdump/wsdump/wsparse"
)

// item is one thing compared in a direction: a data message or a
// control frame. Its bytes are compared by a 128-bit hash; they are kept
// only where a difference is to be shown (see Run).
type item struct {
	op    wsparse.Opcode // the message's, or the control frame's
	index int32          // message index, or frame index for a control frame
	close int32          // close frames with a code: 1 + index in the collector's closes
	next  int32          // the next item of its connection and direction (itemRef), 0: none
	size  uint64         // bytes on the record (message length, payload length)
	sum   [2]uint64      // of the bytes (diffSum)
	// No pointers: a capture's items are scanned by no garbage collection.
}

var diffSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func diffSum(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(diffSeeds[0], b), maphash.Bytes(diffSeeds[1], b)}
}

// diffConn is what is compared of a connection: 48 bytes, kept in the
// collector's conns by value, its items in the collector's chunks. With a
// diffConn allocated for each connection, a slice of items for each
// direction and a string for each handshake, a connection cost ~216 bytes
// besides its items, and diff holds every connection of A while B's are
// open (issue 16: 100 000 open connections).
type diffConn struct {
	id    int
	hs    int32 // the handshake, in the collector's strs
	end   int32 // how it ended, in strs
	dirs  [2]dirItems
	encap uint32 // wsparse.EncapID: shown, never compared (as addresses are not)
}

// dirItems lists a direction's items: first and last are itemRefs.
type dirItems struct{ first, last, n int32 }

// Key is an item's place: connection (ord), direction, position.
type Key struct{ Conn, Dir, Pos int }

// Collector is a sink that keeps what diff compares.
type Collector struct {
	ignoreControl bool
	closeText     func(code uint16, reason string) string
	keep          map[Key]bool // items whose bytes to keep; nil: all
	only          []uint64     // a bit by place: the connections kept (differ); nil: all
	paired        int          // with only: places both captures have; past them only handshakes are kept
	bytesOnly     bool         // only the bytes kept are wanted, not the hashes
	conns         []diffConn
	byConn        map[*wsparse.Conn]int32 // open connections' place in conns
	items         [][]item                // in chunks of itemChunk, never moved
	nItems        int
	strs          []string         // handshakes and ends, the same ones once (see str)
	strIdx        map[string]int32 // up to maxStrs of them
	data          map[Key][]byte   // the bytes kept
	closes        []string         // close frames' code and reason
}

const (
	itemChunk = 4096
	maxStrs   = 4096 // distinct strings looked up; past it, each is kept as it comes
)

func newCollector(o *Options, keep map[Key]bool) *Collector {
	return &Collector{ignoreControl: o.IgnoreControl, closeText: o.CloseText, keep: keep, byConn: map[*wsparse.Conn]int32{},
		strs: []string{""}, strIdx: map[string]int32{"": 0}, data: map[Key][]byte{}}
}

// conn returns the place of c's connection in conns.
func (d *Collector) conn(c *wsparse.Conn) int32 {
	ord, ok := d.byConn[c]
	if !ok {
		ord = int32(len(d.conns))
		d.byConn[c] = ord
		d.conns = append(d.conns, diffConn{id: c.ID, encap: c.EncapID()})
	}
	return ord
}

// str returns s's place in strs: a handshake is most often one of a few.
func (d *Collector) str(s string) int32 {
	if i, ok := d.strIdx[s]; ok {
		return i
	}
	i := int32(len(d.strs))
	d.strs = append(d.strs, s)
	if len(d.strIdx) < maxStrs {
		d.strIdx[s] = i
	}
	return i
}

// at returns the item of an itemRef (1-based: 0 is none).
func (d *Collector) at(ref int32) *item {
	i := int(ref) - 1
	return &d.items[i/itemChunk][i%itemChunk]
}

func (d *Collector) add(ord int32, dir wsparse.Dir, it item, data []byte) {
	if !d.bytesOnly {
		it.sum = diffSum(data)
	}
	di := &d.conns[ord].dirs[dir]
	k := Key{int(ord), int(dir), int(di.n)}
	if d.keep == nil || d.keep[k] {
		d.data[k] = append([]byte(nil), data...)
	}
	if d.nItems%itemChunk == 0 {
		d.items = append(d.items, make([]item, 0, itemChunk))
	}
	last := &d.items[len(d.items)-1]
	*last = append(*last, it)
	d.nItems++
	ref := int32(d.nItems)
	if di.n == 0 {
		di.first = ref
	} else {
		d.at(di.last).next = ref
	}
	di.last = ref
	di.n++
}

// view is what the item ref, of connection ord, direction dir, at pos,
// is compared and shown as.
func (d *Collector) view(ord, dir, pos int, ref int32) Item {
	it := d.at(ref)
	v := Item{Op: it.op, Index: int(it.index), Size: it.size, sum: it.sum}
	v.Data, v.Kept = d.data[Key{ord, dir, pos}]
	if it.close > 0 {
		v.Close = d.closes[it.close-1]
	}
	return v
}

// Item is a message or control frame in a difference, with its close
// text and kept bytes.
type Item struct {
	Op    wsparse.Opcode // the message's, or the control frame's
	Index int            // message index, or frame index for a control frame
	Size  uint64         // bytes on the record (message length, payload length)
	Close string         // a close frame's code and reason (Options.CloseText)
	Data  []byte         // the bytes kept, when Kept
	Kept  bool           // Data holds the bytes
	sum   [2]uint64
}

// wants reports whether the connection at ord is kept, its handshake at
// least (hs) or all of it.
func (d *Collector) wants(ord int32, hs bool) bool {
	return d.only == nil || bit(d.only, int(ord)) && (hs || int(ord) < d.paired)
}

// handshakeText is what is compared of a handshake.
func handshakeText(h *wsparse.Handshake) string {
	s := h.Method + " " + h.URI + " -> " + strconv.Itoa(h.Status)
	if h.Subprotocol != "" {
		s += " subprotocol " + h.Subprotocol
	}
	if h.Extensions != "" {
		s += " extensions " + h.Extensions
	}
	if h.Anomalies != 0 {
		s += " !" + h.Anomalies.String()
	}
	return s
}

func (d *Collector) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if ord := d.conn(c); d.wants(ord, true) {
		d.conns[ord].hs = d.str(handshakeText(h))
	}
}

func (d *Collector) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	ord := d.conn(c)
	if d.ignoreControl || !f.Opcode.IsControl() || !d.wants(ord, false) {
		return
	}
	it := item{op: f.Opcode, index: int32(f.Index), size: f.Length}
	data := f.Payload
	if f.Opcode == wsparse.OpClose {
		data = nil
		if f.HasCloseCode {
			d.closes = append(d.closes, d.closeText(f.CloseCode, f.CloseReason))
			it.close = int32(len(d.closes))
		}
	}
	d.add(ord, f.Dir, it, data)
}

func (d *Collector) Message(c *wsparse.Conn, m *wsparse.Message) {
	if ord := d.conn(c); d.wants(ord, false) {
		d.add(ord, m.Dir, item{op: m.Opcode, index: int32(m.Index), size: m.Len}, m.Data)
	}
}

func (d *Collector) End(c *wsparse.Conn, s *wsparse.Summary) {
	if ord := d.conn(c); d.wants(ord, false) {
		d.conns[ord].end = d.str(string(s.End))
	}
	delete(d.byConn, c)
}

func (d *Collector) count() (n int) {
	for i := range d.conns {
		n += int(d.conns[i].dirs[0].n + d.conns[i].dirs[1].n)
	}
	return n
}

// Options are what Run compares and how much it keeps.
type Options struct {
	IgnoreControl bool // data messages only, not pings, pongs and closes
	Shown         int  // differences shown: the bytes of these are kept
	// CloseText is how a close frame's code and reason are compared and
	// shown (cmd passes report.DiffCloseText).
	CloseText func(code uint16, reason string) string
	// Twice: both captures can be decoded again (not standard input).
	Twice bool
}

// Decode decodes one capture (0: A, 1: B) into sink; quiet: without the
// notices on standard error (a reading the user does not see twice).
type Decode func(side int, sink wsparse.Sink, quiet bool) error

// Result is the comparison of two captures.
type Result struct {
	Diffs    []Difference
	Conns    int // connections of A
	Compared int // messages and control frames of A
}

// Run compares two captures. The first reading keeps a sketch of each
// connection (a sum of hashes of what is compared, 24 bytes) and the
// second compares, in full, only the connections whose sketches differ,
// keeping a hash of each message: memory goes with the number of
// connections and of messages that differ, not with their size. A third
// reading fetches the bytes of the differences to be shown. Standard input
// cannot be read twice: without o.Twice, one reading keeps every message
// and its bytes.
func Run(o Options, decode Decode) (*Result, error) {
	if !o.Twice {
		ca, cb, err := collect(&o, decode, [2]map[Key]bool{}, nil, 0, false, false)
		if err != nil {
			return nil, err
		}
		diffs := compareCaptures(ca, cb, o.Shown, [2]map[Key]bool{{}, {}})
		return &Result{Diffs: diffs, Conns: len(ca.conns), Compared: ca.count()}, nil
	}
	sa, sb := newSketcher(&o), newSketcher(&o)
	if err := decode(0, sa, false); err != nil {
		return nil, err
	}
	sb.against(sa)
	if err := decode(1, sb, false); err != nil {
		return nil, err
	}
	res := &Result{Conns: sa.nConns, Compared: sa.items}
	only := differ(sa, sb)
	sb.chunks, sb.open = nil, openTable{}
	if only == nil {
		return res, nil
	}
	none := [2]map[Key]bool{{}, {}}
	paired := min(sa.nConns, sb.nConns)
	ca, cb, err := collect(&o, decode, none, only, paired, false, true)
	if err != nil {
		return nil, err
	}
	need := [2]map[Key]bool{{}, {}}
	diffs := compareCaptures(ca, cb, o.Shown, need)
	if len(need[0])+len(need[1]) > 0 {
		// The third reading fetches the bytes to show; the comparison
		// stays the second one's, now with them. The differences are
		// not kept meanwhile (~250 bytes each): they are made again.
		diffs = nil
		ba, bb, err := collect(&o, decode, need, only, paired, true, false)
		if err != nil {
			return nil, err
		}
		ca.data, cb.data = ba.data, bb.data
		diffs = compareCaptures(ca, cb, o.Shown, need)
	}
	res.Diffs = diffs
	return res, nil
}

// collect decodes both captures into Collectors keeping the bytes of keep
// (nil: all) of the connections only (nil: all; see Collector.paired).
func collect(o *Options, decode Decode, keep [2]map[Key]bool, only []uint64, paired int, bytesOnly, quiet bool) (*Collector, *Collector, error) {
	var cs [2]*Collector
	for side := range cs {
		cs[side] = newCollector(o, keep[side])
		cs[side].only, cs[side].paired, cs[side].bytesOnly = only, paired, bytesOnly
		if err := decode(side, cs[side], quiet); err != nil {
			return nil, nil, err
		}
	}
	return cs[0], cs[1], nil
}

// Kind is what a difference is about.
type Kind uint8

const (
	OnlyInA   Kind = iota // A has a connection B has not (ConnA, Text[0])
	OnlyInB               // B has a connection A has not (ConnB, Text[1])
	Handshake             // the handshakes differ (Text)
	Opcode                // items of different kinds at one place (A, B)
	Close                 // close frames' code or reason (A, B)
	Bytes                 // the bytes of one kind of item (A, B)
	Count                 // a direction's item counts (Count; A or B: the first extra item)
	End                   // how the connection ended (Text)
)

// Difference is one difference, in order of connection, direction and
// message.
type Difference struct {
	Kind         Kind
	ConnA, ConnB int // connection IDs
	// EncapA and EncapB are what carried each connection ("vlan:10";
	// "": nothing): not compared, as addresses are not, but shown so
	// that two tenants' connections on one 4-tuple are told apart.
	EncapA, EncapB string
	Dir            wsparse.Dir // Opcode, Close, Bytes, Count
	A, B           Item        // Opcode, Close, Bytes; Count: the longer side's first extra item
	Text           [2]string   // Handshake, End: A's and B's ("": none); OnlyInA/B: the handshake
	Count          [2]int      // Count: items in A and in B
}

// compareCaptures returns the differences, in order of connection,
// direction and message. The items whose bytes the first shown ones
// describe are added to need (by capture).
func compareCaptures(a, b *Collector, shown int, need [2]map[Key]bool) []Difference {
	var out []Difference
	n := max(len(a.conns), len(b.conns))
	for i := 0; i < n; i++ {
		if i >= len(a.conns) {
			out = append(out, Difference{Kind: OnlyInB, ConnB: b.conns[i].id, EncapB: wsparse.EncapName(b.conns[i].encap), Text: [2]string{1: b.strs[b.conns[i].hs]}})
			continue
		}
		if i >= len(b.conns) {
			out = append(out, Difference{Kind: OnlyInA, ConnA: a.conns[i].id, EncapA: wsparse.EncapName(a.conns[i].encap), Text: [2]string{0: a.strs[a.conns[i].hs]}})
			continue
		}
		from := len(out)
		ac, bc := &a.conns[i], &b.conns[i]
		if ahs, bhs := a.strs[ac.hs], b.strs[bc.hs]; ahs != bhs {
			out = append(out, Difference{Kind: Handshake, ConnA: ac.id, ConnB: bc.id, Text: [2]string{ahs, bhs}})
		}
		for d := range ac.dirs {
			c := &dirCompare{connA: ac.id, connB: bc.id, conn: i, dir: d, need: need, a: a, b: b}
			if len(out) < shown {
				c.budget = shown - len(out)
			}
			out = append(out, c.compare(ac.dirs[d], bc.dirs[d])...)
		}
		if aend, bend := a.strs[ac.end], b.strs[bc.end]; aend != bend {
			out = append(out, Difference{Kind: End, ConnA: ac.id, ConnB: bc.id, Text: [2]string{aend, bend}})
		}
		if from < len(out) && (ac.encap != 0 || bc.encap != 0) {
			ea, eb := wsparse.EncapName(ac.encap), wsparse.EncapName(bc.encap)
			for j := from; j < len(out); j++ {
				out[j].EncapA, out[j].EncapB = ea, eb
			}
		}
	}
	return out
}

// dirCompare compares one direction of a connection.
type dirCompare struct {
	connA, connB int
	conn, dir    int
	need         [2]map[Key]bool
	budget       int // differences still to be shown: their bytes are needed
	a, b         *Collector
}

// use notes that side's item at pos is described in a difference shown.
func (c *dirCompare) use(side, pos int) {
	if c.budget > 0 {
		c.need[side][Key{c.conn, c.dir, pos}] = true
	}
}

func (c *dirCompare) compare(da, db dirItems) []Difference {
	var out []Difference
	add := func(d Difference) {
		d.ConnA, d.ConnB, d.Dir = c.connA, c.connB, wsparse.Dir(c.dir)
		out = append(out, d)
		c.budget = max(c.budget-1, 0)
	}
	na, nb := int(da.n), int(db.n)
	ra, rb := da.first, db.first // the items at i, walking the lists
	for i := 0; i < na && i < nb; i++ {
		x, y := c.a.view(c.conn, c.dir, i, ra), c.b.view(c.conn, c.dir, i, rb)
		switch {
		case x.Op != y.Op:
			add(Difference{Kind: Opcode, A: x, B: y})
		case x.Close != y.Close:
			add(Difference{Kind: Close, A: x, B: y})
		case x.Size != y.Size || x.sum != y.sum:
			c.use(0, i)
			c.use(1, i)
			add(Difference{Kind: Bytes, A: x, B: y})
		}
		ra, rb = c.a.at(ra).next, c.b.at(rb).next
	}
	if na != nb {
		col, side, ref := c.b, 1, rb
		if na > nb {
			col, side, ref = c.a, 0, ra
		}
		at := min(na, nb)
		first := col.view(c.conn, c.dir, at, ref)
		c.use(side, at)
		d := Difference{Kind: Count, Count: [2]int{na, nb}}
		if side == 0 {
			d.A = first
		} else {
			d.B = first
		}
		add(d)
	}
	return out
}
