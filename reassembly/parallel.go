package reassembly

import (
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// Parallel decodes a packet stream like an Assembler, with connections
// sharded across worker goroutines by a direction-independent hash of
// their addresses and ports, and passes records to the sink, on one
// goroutine, in exactly the order (and with exactly the connection numbers)
// an Assembler would.
//
// The reader (Packet) decodes the headers once, decides when to flush by
// packet time as an Assembler does, and hands each worker, in batches, its
// packets (copied) and every flush. Each worker runs its own Assembler,
// numbering its connections locally, and copies the records out with the
// index of the packet (or flush) that produced them. A merger takes the
// workers' batches in lockstep and emits the records by packet index;
// records produced by a flush or at the end, which an Assembler emits
// grouped by connection number, are gathered from all workers and sorted
// the same way. Connection numbers are given globally by the merger in the
// order the connections' first packets came.
//
// MaxConnections counts over all workers, exactly as an Assembler counts:
// the reader keeps an upper bound of the connections held (those at the
// last count, plus one for each 4-tuple seen since) and, when it passes
// the limit, counts them in the workers at that packet; over the limit,
// the workers' first candidates are merged, and each evicts its share
// (see Assembler.candidates), with the records grouped by connection
// number as an Assembler's eviction gives them.
//
// Output is identical to an Assembler's unless the limits that count over
// all connections are reached: MaxBufferedPagesTotal is divided among the
// workers, and the memory of closed connections is bounded per worker.
type Parallel struct {
	opts  Options
	out   record.Sink
	rec   record.Record // the record handed to out, reused
	n     int
	dec   headerDecoder
	stats Stats // packet counters, counted by the reader

	pkt       int64 // index of the next packet
	lastFlush time.Time

	// Connections held: at most base plus one per 4-tuple in touched.
	base    int
	touched map[tuple]struct{}
	ledger  tombLedger
	syncs   []chan syncReply

	cur      []*inBatch // per worker, being filled
	curBytes int
	curItems int
	ins      []chan *inBatch
	outs     []chan *outBatch
	freeIn   chan *inBatch
	freeOut  chan *outBatch
	done     chan struct{}
	finished bool

	// merger state
	next    int                     // connection numbers given so far
	ids     []map[int]*wsparse.Conn // per worker: local number -> the view of its connection
	tombIDs []map[int]int           // per worker: local number -> number, of connections ended early
	curs    []cursor
	gone    [][2]int // (worker, local number) of connections gone in this group
	tombed  [][2]int // and of connections ended early
	wstats  []Stats
	scratch []int
}

const (
	// maxTouched bounds the 4-tuples the reader remembers between counts
	// (~100 bytes each): past it, it counts the connections held. A count
	// under MaxConnections evicts nothing, so output does not change; it
	// waits for the workers, once per maxTouched new 4-tuples.
	maxTouched = 1 << 12

	batchBytes = 256 << 10 // packet bytes per batch, over all workers
	batchItems = 256
	queueDepth = 2 // batches queued per worker, each way
)

type itemKind uint8

const (
	itemPacket itemKind = iota
	itemFlush
	itemKeys
	itemFinish
	itemCount      // reply with the connections held and parked
	itemCandidates // reply with the first n candidates for eviction
	itemParked     // reply with the n connections parked longest
	itemEvict      // evict the first n candidates, after ending the m parked longest
)

// syncReply is a worker's answer to the reader's questions on eviction.
type syncReply struct {
	live, parked int
	keys         []candidate // without their streams
}

type item struct {
	kind    itemKind
	link    uint32
	pkt     int64
	off, n  int
	wireLen int
	ts      time.Time
	keys    *tlsdec.KeyLog
	m       int   // itemEvict: parked connections to end
	cutoff  int64 // itemEvict: the tombs of evictions before this packet are forgotten
}

type inBatch struct {
	items []item
	data  []byte
}

type recKind uint8

const (
	recNew recKind = iota
	recGone
	recHandshake
	recFrame
	recMessage
	recEnd
	recTLS
	recTomb   // a connection ended early: only its number is kept
	recResume // a connection ended early goes on
	recEmptyEnd
	recBeat
	recNegotiated
)

// Phases of a packet index: records of a flush before the packet, of the
// packet itself.
const (
	phaseFlush uint8 = iota
	phasePacket
	phaseEvict // after the packet, grouped by connection like a flush
)

// rec is one record copied out of a worker, or a connection numbered or
// gone. What the kind carries is in the chunk's tables, at idx.
type rec struct {
	pkt    int64
	id     int // the worker's number for the connection
	off, n int // Frame payload or Message data in the chunk's data
	idx    int32
	apps   int32 // a Message's application messages at apps[apps-1]; 0: not looked for
	phase  uint8
	kind   recKind
	side   int8 // the client side as the decoder knew it
}

// outBatch is a chunk of a worker's records for one input batch; the last
// chunk of the batch has end set. Chunks are bounded (chunkRecs, chunkBytes,
// or one record), so a packet that makes a million records does not make
// a million records wait.
type outBatch struct {
	recs    []rec
	frames  []wsparse.Frame
	msgs    []wsparse.Message
	addrs   [][2]netip.AddrPort
	others  []record.Record // Handshake, End, TLS, Beat, Negotiated records
	empties []emptyEnd
	apps    [][]appproto.App // Messages' Apps (record.Record.Decoded)
	data    []byte
	end     bool
	last    bool  // the worker's final batch
	stats   Stats // with last: the worker's counters
}

const (
	chunkRecs  = 1024
	chunkBytes = 1 << 20
)

// cursor reads one worker's chunks.
type cursor struct {
	ch  <-chan *outBatch
	ob  *outBatch
	pos int
}

// NewParallel returns a Parallel with n workers sending records to out. It
// calls out from its own goroutine (one at a time) until Finish returns.
func NewParallel(out record.Sink, opts Options, n int) *Parallel {
	return NewParallelStage(out, opts, n, nil)
}

// NewParallelStage is NewParallel with stage(next) run in each worker in
// front of the records' copying: per-connection work (application
// decoding) done on all cores. The stage passes on, in order, the records
// it is given (those it does not handle too) and may add its own: a
// Message's Apps, Beat and Negotiated records (their Beat.Conn and
// Negotiated.Conn are given the connection's number by the merge).
func NewParallelStage(out record.Sink, opts Options, n int, stage func(next record.Sink) record.Sink) *Parallel {
	n = max(n, 1)
	opts = opts.withDefaults()
	p := &Parallel{opts: opts, out: out, n: n, done: make(chan struct{}), touched: map[tuple]struct{}{},
		freeIn: make(chan *inBatch, n*(queueDepth+2)), freeOut: make(chan *outBatch, n*(queueDepth+2))}
	wopts := opts
	wopts.MaxBufferedPagesTotal = (opts.MaxBufferedPagesTotal + n - 1) / n
	for i := 0; i < n; i++ {
		in, o := make(chan *inBatch, queueDepth), make(chan *outBatch, queueDepth)
		p.ins, p.outs = append(p.ins, in), append(p.outs, o)
		p.cur = append(p.cur, p.getIn())
		p.ids = append(p.ids, map[int]*wsparse.Conn{})
		p.tombIDs = append(p.tombIDs, map[int]int{})
		w := &worker{p: p, dataUnused: opts.DataUnused}
		wo := wopts
		if opts.Keys != nil {
			// Each worker merges pcapng secrets at its own pace: a fork
			// of the key log, not a copy of it.
			wo.Keys = opts.Keys.Fork()
		}
		var sink record.Sink = w
		if stage != nil {
			sink = stage(w)
		}
		w.asm = New(sink, wo)
		w.asm.coordinated = true
		w.sync = make(chan syncReply, 1)
		p.syncs = append(p.syncs, w.sync)
		w.asm.onNew = func(id int, addr [2]netip.AddrPort) {
			r := w.add(recNew, nil)
			r.id, r.idx = id, int32(len(w.out.addrs))
			w.out.addrs = append(w.out.addrs, addr)
		}
		w.asm.onGone = func(id int) { w.add(recGone, nil).id = id }
		w.asm.onTomb = func(id int) { w.add(recTomb, nil).id = id }
		w.asm.onResume = func(id int, addr [2]netip.AddrPort) {
			r := w.add(recResume, nil)
			r.id, r.idx = id, int32(len(w.out.addrs))
			w.out.addrs = append(w.out.addrs, addr)
		}
		w.ch = o
		go w.run(in)
	}
	p.wstats = make([]Stats, n)
	p.curs = make([]cursor, n)
	for i := range p.curs {
		p.curs[i].ch = p.outs[i]
	}
	go p.merge()
	return p
}

// Stats returns the counters; complete after Finish.
func (p *Parallel) Stats() Stats {
	st := p.stats
	for _, w := range p.wstats {
		st.Connections += w.Connections
		st.Evicted += w.Evicted
		st.Parked += w.Parked
		st.Resumed += w.Resumed
		st.RetransmitConflicts += w.RetransmitConflicts
		st.PageLimitFlushes += w.PageLimitFlushes
		st.OverlapBytes += w.OverlapBytes
		st.OverlapSegments += w.OverlapSegments
		st.HTTPHeaderLimit += w.HTTPHeaderLimit
		st.PendingLimit += w.PendingLimit
		st.SniffLimit += w.SniffLimit
		st.InflateRatioLimit += w.InflateRatioLimit
	}
	return st
}

// Packet decodes one captured packet (see Assembler.Packet).
func (p *Parallel) Packet(link uint32, data []byte, ts time.Time, wireLen int) {
	idx := p.pkt
	p.pkt++
	netFlow, ok := p.dec.decode(link, data, wireLen, &p.stats)
	if !ok {
		return
	}
	// When an Assembler would flush (maybeFlush), every worker flushes.
	if p.lastFlush.IsZero() {
		p.lastFlush = ts
	} else if ts.Sub(p.lastFlush) >= p.opts.FlushEvery {
		p.lastFlush = ts
		for _, b := range p.cur {
			b.items = append(b.items, item{kind: itemFlush, pkt: idx, ts: ts})
		}
		p.curItems++
	}
	b := p.cur[shard(netFlow, p.dec.tcp.TransportFlow(), p.n)]
	b.items = append(b.items, item{kind: itemPacket, link: link, pkt: idx, off: len(b.data), n: len(data), wireLen: wireLen, ts: ts})
	b.data = append(b.data, data...)
	p.curBytes += len(data)
	p.curItems++
	p.touched[flowKey{netFlow, p.dec.tcp.TransportFlow()}.tuple().canonical()] = struct{}{}
	if p.base+len(p.touched) > p.opts.MaxConnections || len(p.touched) >= maxTouched {
		p.evict(idx, ts)
	} else if p.curBytes >= batchBytes || p.curItems >= batchItems {
		p.send()
	}
}

// shard is the worker of a packet's connection, the same for both
// directions (both flows' FastHash are the same either way round). The
// hash is mixed (splitmix64's finalizer): the low bits of the plain xor
// split memgen's connections 24/76 over two workers, and the larger
// worker's gopacket pool, which grows by doubling, took 130 048
// connections for 76 000.
func shard(netFlow, tcpFlow gopacket.Flow, n int) int {
	h := netFlow.FastHash()*0x9e3779b97f4a7c15 ^ tcpFlow.FastHash()
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return int(h % uint64(n))
}

// evict counts the connections the workers hold after packet idx and,
// past MaxConnections, has them evict what an Assembler would: the first
// candidates over all workers, and the connections parked longest past
// MaxConnections parked.
func (p *Parallel) evict(idx int64, ts time.Time) {
	live, parked := 0, 0
	for _, r := range p.ask(item{kind: itemCount}) {
		live, parked = live+r.live, parked+r.parked
	}
	if live > p.opts.MaxConnections {
		k := live - (p.opts.MaxConnections - p.opts.MaxConnections/10)
		n, ws := p.firstOf(p.ask(item{kind: itemCandidates, n: k}), k)
		var m []int
		over := max(0, parked+ws-p.opts.MaxConnections)
		if over > 0 {
			m, _ = p.firstOf(p.ask(item{kind: itemParked, n: over}), over)
		}
		cutoff := p.ledger.add(idx, k-ws+over, p.opts.MaxConnections)
		for i, b := range p.cur {
			it := item{kind: itemEvict, pkt: idx, ts: ts, n: n[i], cutoff: cutoff}
			if m != nil {
				it.m = m[i]
			}
			b.items = append(b.items, it)
		}
		live -= k
	}
	p.base = live
	clear(p.touched)
}

// ask sends every worker the current batch and a question, and returns
// their answers.
func (p *Parallel) ask(q item) []syncReply {
	for _, b := range p.cur {
		b.items = append(b.items, q)
	}
	p.send()
	r := make([]syncReply, p.n)
	for i, ch := range p.syncs {
		r[i] = <-ch
	}
	return r
}

// firstOf merges the workers' sorted keys and returns how many of the
// first k are each worker's, and how many of them are WebSocket
// connections.
func (p *Parallel) firstOf(r []syncReply, k int) (n []int, ws int) {
	type wk struct {
		w int
		c candidate
	}
	var all []wk
	for i := range r {
		for _, c := range r[i].keys {
			all = append(all, wk{i, c})
		}
	}
	slices.SortFunc(all, func(x, y wk) int { return x.c.compare(y.c) })
	n = make([]int, p.n)
	for _, x := range all[:min(k, len(all))] {
		n[x.w]++
		if x.c.class == classWebSocket {
			ws++
		}
	}
	return n, ws
}

// MergeKeys adds TLS secrets for the handshakes after the packets so far.
func (p *Parallel) MergeKeys(k *tlsdec.KeyLog) {
	if p.opts.Keys == nil {
		return
	}
	for _, b := range p.cur {
		b.items = append(b.items, item{kind: itemKeys, pkt: p.pkt, keys: k})
	}
}

// Finish ends every connection and waits until every record is out.
func (p *Parallel) Finish() {
	if p.finished {
		return
	}
	p.finished = true
	for _, b := range p.cur {
		b.items = append(b.items, item{kind: itemFinish})
	}
	p.send()
	for _, in := range p.ins {
		close(in)
	}
	<-p.done
}

// send hands every worker its part of the current batch.
func (p *Parallel) send() {
	for i, b := range p.cur {
		p.ins[i] <- b
		p.cur[i] = p.getIn()
	}
	p.curBytes, p.curItems = 0, 0
}

func (p *Parallel) getIn() *inBatch {
	select {
	case b := <-p.freeIn:
		return b
	default:
		return &inBatch{}
	}
}

func (p *Parallel) putIn(b *inBatch) {
	clear(b.items) // the key logs
	b.items, b.data = b.items[:0], b.data[:0]
	if cap(b.data) > 2*batchBytes {
		b.data = nil
	}
	select {
	case p.freeIn <- b:
	default:
	}
}

func (p *Parallel) getOut() *outBatch {
	select {
	case b := <-p.freeOut:
		return b
	default:
		return &outBatch{}
	}
}

func (p *Parallel) putOut(b *outBatch) {
	clear(b.frames) // payloads, close reasons
	clear(b.msgs)
	clear(b.addrs)
	clear(b.others)
	clear(b.apps)
	b.recs, b.frames, b.msgs, b.addrs, b.others, b.empties, b.data = b.recs[:0], b.frames[:0], b.msgs[:0], b.addrs[:0], b.others[:0], b.empties[:0], b.data[:0]
	b.apps = b.apps[:0]
	b.end, b.last, b.stats = false, false, Stats{}
	if cap(b.data) > 2*batchBytes {
		b.data = nil // a big message: do not keep its buffer
	}
	select {
	case p.freeOut <- b:
	default:
	}
}

// worker runs one shard's Assembler; it is the Assembler's sink.
type worker struct {
	p     *Parallel
	asm   *Assembler
	ch    chan<- *outBatch
	sync  chan syncReply
	cands []candidate // asked for by the reader, to evict
	out   *outBatch
	pkt   int64
	phase uint8

	// The last unfragmented data frame: its message's data is the same
	// bytes, kept once.
	last     []byte
	lastConn *wsparse.Conn
	lastRec  int

	dataUnused bool // Options.DataUnused
}

func (w *worker) run(in <-chan *inBatch) {
	var discard Stats
	for b := range in {
		w.out = w.p.getOut()
		for i := range b.items {
			it := &b.items[i]
			switch it.kind {
			case itemPacket:
				w.pkt, w.phase = it.pkt, phasePacket
				data := b.data[it.off : it.off+it.n]
				w.asm.pkt = it.pkt
				if netFlow, ok := w.asm.dec.decode(it.link, data, it.wireLen, &discard); ok {
					w.asm.assemble(netFlow, it.ts, len(data), it.wireLen)
				}
			case itemFlush:
				w.pkt, w.phase = it.pkt, phaseFlush
				w.asm.flush(it.ts)
			case itemKeys:
				w.asm.MergeKeys(it.keys)
			case itemCount:
				w.sync <- syncReply{live: len(w.asm.live), parked: len(w.asm.parked)}
			case itemCandidates:
				w.cands = w.asm.candidates(it.n)
				keys := make([]candidate, len(w.cands))
				for i, c := range w.cands {
					keys[i] = c
					keys[i].s = nil
				}
				w.sync <- syncReply{keys: keys}
			case itemParked:
				w.sync <- syncReply{keys: w.asm.oldestParked(it.n)}
			case itemEvict:
				w.pkt, w.phase = it.pkt, phaseEvict
				w.asm.now, w.asm.pkt = it.ts, it.pkt
				w.asm.evictAndEndParked(w.cands[:it.n], it.m, it.cutoff)
				w.cands = nil
			case itemFinish:
				w.pkt, w.phase = math.MaxInt64, phaseFlush
				w.asm.Finish()
				w.out.last, w.out.stats = true, w.asm.Stats()
			}
		}
		w.p.putIn(b)
		w.ship(true)
	}
	close(w.ch)
}

// ship hands the current chunk to the merger.
func (w *worker) ship(end bool) {
	w.out.end = end
	last := w.out.last
	w.ch <- w.out
	w.out, w.last, w.lastConn = nil, nil, nil
	if !end {
		w.out = w.p.getOut()
		w.out.last = last
	}
}

func (w *worker) add(kind recKind, c *wsparse.Conn) *rec {
	if len(w.out.recs) >= chunkRecs || len(w.out.data) >= chunkBytes {
		w.ship(false)
	}
	ob := w.out
	ob.recs = append(ob.recs, rec{pkt: w.pkt, phase: w.phase, kind: kind})
	r := &ob.recs[len(ob.recs)-1]
	if c != nil {
		r.id, r.side = c.ID, int8(c.ClientSide())
	}
	return r
}

func (w *worker) keep(r *rec, b []byte) {
	r.off, r.n = len(w.out.data), len(b)
	w.out.data = append(w.out.data, b...)
}

func (w *worker) other(r *rec, x record.Record) {
	r.idx = int32(len(w.out.others))
	w.out.others = append(w.out.others, x)
}

func copyHandshake(h *wsparse.Handshake) *wsparse.Handshake {
	cp := *h
	if h.TLS != nil {
		t := *h.TLS
		cp.TLS = &t
	}
	return &cp
}

// Put copies r into the current chunk.
func (w *worker) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		w.other(w.add(recHandshake, r.Conn), record.Record{Handshake: copyHandshake(r.Handshake)})
	case record.Frame:
		w.frame(r.Conn, r.Frame)
	case record.Message:
		w.message(r.Conn, r.Message)
		if r.Decoded {
			w.out.apps = append(w.out.apps, r.Apps)
			w.out.recs[len(w.out.recs)-1].apps = int32(len(w.out.apps))
		}
	case record.End:
		w.end(r.Conn, r.Summary)
	case record.TLS:
		t := *r.TLS
		info := *t.Info
		t.Info = &info
		w.other(w.add(recTLS, r.Conn), record.Record{TLS: &t})
	case record.Beat:
		w.other(w.add(recBeat, r.Conn), record.Record{Beat: r.Beat})
	case record.Negotiated:
		w.other(w.add(recNegotiated, r.Conn), record.Record{Negotiated: r.Negotiated})
	}
}

func (w *worker) frame(c *wsparse.Conn, f *wsparse.Frame) {
	r := w.add(recFrame, c)
	r.idx = int32(len(w.out.frames))
	w.out.frames = append(w.out.frames, *f)
	w.out.frames[r.idx].Payload = nil
	w.last, w.lastConn = nil, nil
	if w.dataUnused && !f.Opcode.IsControl() {
		return
	}
	w.keep(r, f.Payload)
	if f.Fin && (f.Opcode == wsparse.OpText || f.Opcode == wsparse.OpBinary) {
		w.last, w.lastConn, w.lastRec = f.Payload, c, len(w.out.recs)-1
	}
}

func (w *worker) message(c *wsparse.Conn, m *wsparse.Message) {
	r := w.add(recMessage, c) // may ship the chunk, and forget the last frame
	r.idx = int32(len(w.out.msgs))
	w.out.msgs = append(w.out.msgs, *m)
	w.out.msgs[r.idx].Data = nil
	if w.dataUnused && m.Fallback == nil { // a fallback session's messages are decoded after the merge
		return
	}
	// The decoder hands over an unfragmented message right after its
	// frame, with the frame's payload (the same memory) as its data.
	if c == w.lastConn && m.Frames == 1 && !m.Compressed && len(m.Data) <= len(w.last) && len(m.Data) > 0 && &m.Data[0] == &w.last[0] {
		r.off, r.n = w.out.recs[w.lastRec].off, len(m.Data)
	} else {
		w.keep(r, m.Data)
	}
	w.last, w.lastConn = nil, nil
}

func (w *worker) end(c *wsparse.Conn, s *wsparse.Summary) {
	if s.Connect != "" {
		r := w.add(recEmptyEnd, c)
		r.idx = int32(len(w.out.empties))
		w.out.empties = append(w.out.empties, *newEmptyEnd(s))
		return
	}
	cp := *s
	if s.Handshake != nil {
		cp.Handshake = copyHandshake(s.Handshake)
	}
	if s.TLS != nil {
		t := *s.TLS
		cp.TLS = &t
	}
	w.other(w.add(recEnd, c), record.Record{Summary: &cp})
}

// emptyEnd is the End of a connection that sent no bytes
// (wsparse.Config.EndAll: Summary.Connect set, all else zero), held or
// passed between goroutines in a quarter of a Summary: a flood of SYNs
// ends a great many at once.
type emptyEnd struct {
	first, last time.Time
	tcpEnd      [2]time.Time
	fin, rst    [2]bool
	connect     string
}

func newEmptyEnd(s *wsparse.Summary) *emptyEnd {
	return &emptyEnd{s.First, s.Last, s.TCPEndTS, s.TCPFin, s.TCPRst, s.Connect}
}

func (e *emptyEnd) summary() *wsparse.Summary {
	return &wsparse.Summary{First: e.first, Last: e.last, TCPEndTS: e.tcpEnd, TCPFin: e.fin, TCPRst: e.rst,
		Connect: e.connect, End: wsparse.EndNotWebSocket}
}

// merge takes the workers' batches in lockstep and emits their records.
func (p *Parallel) merge() {
	defer close(p.done)
	for {
		p.mergeBatch()
		last := false
		for i := range p.curs {
			c := &p.curs[i]
			if c.ob.last {
				p.wstats[i], last = c.ob.stats, true
			}
			p.putOut(c.ob)
			c.ob, c.pos = nil, 0
		}
		if last {
			return
		}
	}
}

// head returns a worker's next record in the current batch, or nil at the
// batch's end, reading chunks as needed.
func (p *Parallel) head(c *cursor) *rec {
	for c.ob == nil || c.pos == len(c.ob.recs) {
		if c.ob != nil {
			if c.ob.end {
				return nil
			}
			p.putOut(c.ob)
		}
		c.ob, c.pos = <-c.ch, 0
	}
	return &c.ob.recs[c.pos]
}

func (p *Parallel) mergeBatch() {
	for {
		// The earliest (packet, phase) left in any worker's records.
		best := -1
		var bp int64
		var bph uint8
		for i := range p.curs {
			r := p.head(&p.curs[i])
			if r == nil {
				continue
			}
			if best < 0 || r.pkt < bp || r.pkt == bp && r.phase < bph {
				best, bp, bph = i, r.pkt, r.phase
			}
		}
		if best < 0 {
			return
		}
		if bph == phasePacket {
			// One packet: one worker, in its order.
			c := &p.curs[best]
			for r := p.head(c); r != nil && r.pkt == bp && r.phase == bph; r = p.head(c) {
				p.emit(best, c.ob, r)
				c.pos++
			}
			p.forget()
			continue
		}
		// A flush (or the end): records of all workers, grouped by
		// connection number as Assembler.release does. Each worker's are
		// in its connection order already (Assembler.Finish ends them in
		// that order), which is the global order restricted to its
		// connections: a merge on the connection number emits them as they
		// come, where gathering and sorting them held every open
		// connection's last records at the end of the input.
		for {
			best, bg := -1, 0
			for i := range p.curs {
				r := p.groupHead(i, bp, bph)
				if r == nil {
					continue
				}
				if g := p.gid(i, r); best < 0 || g < bg {
					best, bg = i, g
				}
			}
			if best < 0 {
				break
			}
			c := &p.curs[best]
			for r := p.groupHead(best, bp, bph); r != nil && p.gid(best, r) == bg; r = p.groupHead(best, bp, bph) {
				p.emit(best, c.ob, r)
				c.pos++
			}
		}
		p.forget()
	}
}

// groupHead returns worker i's next record of the group (packet bp, phase
// bph), or nil; the connections gone or ended early on the way are noted
// for forget.
func (p *Parallel) groupHead(i int, bp int64, bph uint8) *rec {
	c := &p.curs[i]
	for r := p.head(c); r != nil && r.pkt == bp && r.phase == bph; r = p.head(c) {
		switch r.kind {
		case recGone:
			p.gone = append(p.gone, [2]int{i, r.id})
		case recTomb:
			p.tombed = append(p.tombed, [2]int{i, r.id})
		default:
			return r
		}
		c.pos++
	}
	return nil
}

// gid is the global number of a record's connection (0 if it has none): a
// connection that goes on after it was ended early has its old one.
func (p *Parallel) gid(w int, r *rec) int {
	id, stream := wsparse.SplitID(r.id)
	if v := p.ids[w][id]; v != nil {
		return wsparse.StreamID(v.ID, stream)
	}
	return wsparse.StreamID(p.tombIDs[w][id], stream)
}

// forget drops the numbers of the connections gone. It runs after each
// group: an Assembler holding records (flush, eviction) passes them on
// after the connection is gone.
func (p *Parallel) forget() {
	for _, g := range p.tombed {
		p.entomb(g[0], g[1])
	}
	p.tombed = p.tombed[:0]
	for _, g := range p.gone {
		delete(p.ids[g[0]], g[1])
		delete(p.tombIDs[g[0]], g[1])
	}
	p.gone = p.gone[:0]
}

// entomb keeps only the number of a connection ended early, once its
// records are out.
func (p *Parallel) entomb(w, id int) {
	if v := p.ids[w][id]; v != nil {
		p.tombIDs[w][id] = v.ID
		delete(p.ids[w], id)
	}
}

// emit passes one record on to the sink, under its global connection.
func (p *Parallel) emit(w int, ob *outBatch, r *rec) {
	switch r.kind {
	case recNew:
		p.next++
		p.ids[w][r.id] = wsparse.NewView(p.next, ob.addrs[r.idx])
		return
	case recGone:
		p.gone = append(p.gone, [2]int{w, r.id})
		return
	case recTomb:
		p.tombed = append(p.tombed, [2]int{w, r.id})
		return
	case recResume:
		if gid, ok := p.tombIDs[w][r.id]; ok {
			delete(p.tombIDs[w], r.id)
			p.ids[w][r.id] = wsparse.NewView(gid, ob.addrs[r.idx])
		}
		return
	}
	c := p.ids[w][r.id]
	if conn, stream := wsparse.SplitID(r.id); stream != 0 && c == nil {
		// A WebSocket in an HTTP/2 stream: numbered after its connection,
		// one view for all its records (sinks key by the view), forgotten
		// after its end.
		if pc := p.ids[w][conn]; pc != nil {
			c = wsparse.NewView(wsparse.StreamID(pc.ID, stream), pc.Addr)
			p.ids[w][r.id] = c
		}
	}
	if _, stream := wsparse.SplitID(r.id); stream != 0 && (r.kind == recEnd || r.kind == recEmptyEnd) {
		defer delete(p.ids[w], r.id)
	}
	if c == nil { // cannot happen: every connection is numbered first
		p.next++
		c = wsparse.NewView(p.next, [2]netip.AddrPort{})
		p.ids[w][r.id] = c
	}
	c.SetClientSide(int(r.side))
	data := ob.data[r.off : r.off+r.n : r.off+r.n]
	out := &p.rec
	*out = record.Record{Conn: c}
	switch r.kind {
	case recHandshake:
		out.Kind, out.Handshake = record.Handshake, ob.others[r.idx].Handshake
	case recFrame:
		f := &ob.frames[r.idx]
		f.Payload = data
		out.Kind, out.Frame = record.Frame, f
	case recMessage:
		m := &ob.msgs[r.idx]
		m.Data = data
		out.Kind, out.Message = record.Message, m
		if r.apps > 0 {
			out.Apps, out.Decoded = ob.apps[r.apps-1], true
		}
	case recEnd:
		out.Kind, out.Summary = record.End, ob.others[r.idx].Summary
	case recEmptyEnd:
		out.Kind, out.Summary = record.End, ob.empties[r.idx].summary()
	case recTLS:
		out.Kind, out.TLS = record.TLS, ob.others[r.idx].TLS
	case recBeat:
		// The worker numbered the connection its own way.
		out.Kind, out.Beat = record.Beat, ob.others[r.idx].Beat
		out.Beat.Conn = c.ID
	case recNegotiated:
		out.Kind, out.Negotiated = record.Negotiated, ob.others[r.idx].Negotiated
		out.Negotiated.Conn = c.ID
	default:
		return
	}
	p.out.Put(out)
}
