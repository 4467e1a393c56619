package reassembly

import (
	"net/netip"
	"slices"
	"time"

	"github.com/google/gopacket"

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
// The closed connections remembered (for their late segments) are bounded
// over all workers too, at the packets an Assembler checks its bound at:
// the reader keeps an upper bound of the entries (those at the last count,
// plus two for each connection held then or opened since) and, past the
// limit, counts them and has each worker forget its entries older than the
// newest the limit keeps over all workers.
//
// Output is identical to an Assembler's unless MaxBufferedPagesTotal or
// the decoders' MaxPendingTotal, MaxSniffTotal or MaxHTTPHeaderTotal is
// reached: each is divided among the workers.
type Parallel struct {
	opts  Options
	out   record.Sink
	rec   record.Record // the record handed to out, reused
	n     int
	dec   headerDecoder
	stats Stats // packet counters, counted by the reader

	pkt       int64     // index of the next packet
	input     int32     // the input the packets come from (SetInput)
	now       time.Time // time of the last packet decoded (an Assembler's now)
	lastFlush time.Time

	// Closed connections remembered over all workers: at most closedN
	// entries plus two per connection in closers (held at the last count,
	// or opened since: at most one per packet).
	closedN, closers int
	sinceBound       int

	// Connections held: at most base plus one per 4-tuple in touched,
	// plus one per packet in untracked. Far from MaxConnections (at the
	// last count), the reader counts packets, not 4-tuples: hashing each
	// packet's 4-tuple into touched cost ~10 % of the reader's CPU.
	base      int
	touched   map[tuple]struct{}
	untracked int
	tracking  bool // the 4-tuples go in touched
	ledger    tombLedger
	syncs     []chan syncReply

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

// trackWithin: the reader tracks 4-tuples when the last count was within
// it of MaxConnections. Farther, it counts packets (each opens at most one
// connection), and counts the connections held again once they are
// MaxConnections minus those held: at least trackWithin packets apart,
// where tracking counts once per maxTouched new 4-tuples. A variable for
// the tests.
var trackWithin = 4 * maxTouched

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
	itemNewest     // reply with the keys of the n newest closed connections' entries
	itemForget     // forget the closed connections' entries older than ck
)

// syncReply is a worker's answer to the reader's questions on eviction.
type syncReply struct {
	live, parked, closed int
	keys                 []candidate // without their streams
	closedKeys           []closedKey
}

type item struct {
	kind itemKind
	// itemPacket of a datagram the fragments made (whole, sent as
	// linkTypeRaw): the tenant and encapsulation of its last fragment,
	// as an Assembler reads them (lanes.go, encap.go).
	whole   bool
	link    uint32
	tenant  uint32
	encap   uint32
	input   int32 // itemPacket: the input it came from (SetInput)
	pkt     int64
	off, n  int
	wireLen int
	ts      time.Time
	now     time.Time // itemFlush, itemFinish: the last packet's time
	keys    *tlsdec.KeyLog
	ck      *closedKey // itemForget
	m       int        // itemEvict: parked connections to end
	cutoff  int64      // itemEvict: the tombs of evictions before this packet are forgotten
}

type inBatch struct {
	items []item
	data  []byte
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
	p.counted(0)
	wopts := opts
	wopts.MaxBufferedPagesTotal = (opts.MaxBufferedPagesTotal + n - 1) / n
	wopts.MaxRenegGuessesTotal = (opts.MaxRenegGuessesTotal + n - 1) / n
	pend := opts.Decoder.MaxPendingTotal
	if pend <= 0 {
		pend = wsparse.DefaultMaxPendingTotal
	}
	wopts.Decoder.MaxPendingTotal = (pend + n - 1) / n
	sniff := opts.Decoder.MaxSniffTotal
	if sniff <= 0 {
		sniff = wsparse.DefaultMaxSniffTotal
	}
	wopts.Decoder.MaxSniffTotal = (sniff + n - 1) / n
	heads := opts.Decoder.MaxHTTPHeaderTotal
	if heads <= 0 {
		heads = wsparse.DefaultMaxHTTPHeaderTotal
	}
	wopts.Decoder.MaxHTTPHeaderTotal = (heads + n - 1) / n
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
		w.asm.onNew = func(id int, addr [2]netip.AddrPort, encap uint32, input int) {
			r := w.add(recNew, nil)
			r.id, r.idx = id, int32(len(w.out.addrs))
			w.out.addrs, w.out.encaps = append(w.out.addrs, addr), append(w.out.encaps, encap)
			w.out.inputs = append(w.out.inputs, int32(input))
		}
		w.asm.onGone = func(id int) { w.add(recGone, nil).id = id }
		w.asm.onTomb = func(id int) { w.add(recTomb, nil).id = id }
		w.asm.onResume = func(id int, addr [2]netip.AddrPort, encap uint32, input int) {
			r := w.add(recResume, nil)
			r.id, r.idx = id, int32(len(w.out.addrs))
			w.out.addrs, w.out.encaps = append(w.out.addrs, addr), append(w.out.encaps, encap)
			w.out.inputs = append(w.out.inputs, int32(input))
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
		st.ResumedUnframed += w.ResumedUnframed
		st.RetransmitConflicts += w.RetransmitConflicts
		st.HeldCopyLimit += w.HeldCopyLimit
		st.Urgent += w.Urgent
		st.UrgentUnshown += w.UrgentUnshown
		st.PageLimitFlushes += w.PageLimitFlushes
		st.OverlapBytes += w.OverlapBytes
		st.OverlapSegments += w.OverlapSegments
		st.HTTPHeaderLimit += w.HTTPHeaderLimit
		st.PendingLimit += w.PendingLimit
		st.PendingTotalLimit += w.PendingTotalLimit
		st.SniffLimit += w.SniffLimit
		st.SniffTotalLimit += w.SniffTotalLimit
		st.HTTPHeaderTotalLimit += w.HTTPHeaderTotalLimit
		st.InflateRatioLimit += w.InflateRatioLimit
		st.H2StreamLimit += w.H2StreamLimit
		st.EarlyTotalLimit += w.EarlyTotalLimit
		st.HeldStartTotalLimit += w.HeldStartTotalLimit
		st.RenegGuessTotalLimit += w.RenegGuessTotalLimit
		st.Lanes += w.Lanes
		st.LanesFull += w.LanesFull
		st.EncapsFull += w.EncapsFull
	}
	return st
}

// Packet decodes one captured packet (see Assembler.Packet).
func (p *Parallel) Packet(link uint32, data []byte, ts time.Time, wireLen int) {
	idx := p.pkt
	p.pkt++
	netFlow, whole, ok := p.dec.decode(link, data, wireLen, ts, &p.stats)
	if !ok {
		return
	}
	var ten, enc uint32
	if whole != nil { // the workers get the datagram the fragments made
		ten, enc = p.dec.tenant(), p.dec.encapID() // (of the last fragment's frame, which the datagram has lost)
		link, data, wireLen = linkTypeRaw, whole, len(whole)
	}
	// When an Assembler would flush (maybeFlush), every worker flushes.
	if p.lastFlush.IsZero() {
		p.lastFlush = ts
	} else if ts.Sub(p.lastFlush) >= p.opts.FlushEvery {
		p.lastFlush = ts
		for _, b := range p.cur {
			b.items = append(b.items, item{kind: itemFlush, pkt: idx, ts: ts, now: p.now})
		}
		p.curItems++
	}
	// Where an Assembler checks the closed connections' bound, so do the
	// workers, when their entries may be past it.
	if p.sinceBound++; p.sinceBound >= boundEvery(p.opts.MaxConnections) {
		p.sinceBound = 0
		if p.closedN+2*p.closers > 2*p.opts.MaxConnections {
			p.boundClosed()
		}
	}
	p.now = ts
	p.closers++
	b := p.cur[shard(netFlow, p.dec.tcp.TransportFlow(), p.n)]
	b.items = append(b.items, item{kind: itemPacket, link: link, whole: whole != nil, tenant: ten, encap: enc, input: p.input, pkt: idx, off: len(b.data), n: len(data), wireLen: wireLen, ts: ts})
	b.data = appendData(b.data, data, batchBytes)
	p.curBytes += len(data)
	p.curItems++
	if p.tracking {
		p.touched[flowKey{netFlow, p.dec.tcp.TransportFlow()}.tuple().canonical()] = struct{}{}
	} else {
		p.untracked++
	}
	if p.base+p.untracked+len(p.touched) > p.opts.MaxConnections || len(p.touched) >= maxTouched {
		p.evict(idx, ts)
	} else if p.curBytes >= batchBytes || p.curItems >= batchItems {
		p.send()
	}
}

// SetInput says which input the packets that follow come from (see
// Assembler.SetInput); each is handed to its worker with it.
func (p *Parallel) SetInput(i int) { p.input = int32(min(max(i, 0), wsparse.MaxInput)) }

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
	live, parked, closed := 0, 0, 0
	for _, r := range p.ask(item{kind: itemCount}) {
		live, parked, closed = live+r.live, parked+r.parked, closed+r.closed
	}
	// An eviction closes none: the connections it ends are ended early.
	p.closedN, p.closers = closed, live+parked
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
	p.counted(live)
}

// counted starts the bound on the connections held anew from a count.
func (p *Parallel) counted(live int) {
	p.base, p.untracked = live, 0
	clear(p.touched)
	p.tracking = p.opts.MaxConnections-live < trackWithin
}

// boundClosed counts the closed connections' entries the workers
// remember and, past twice MaxConnections, has them keep the newest
// MaxConnections over all workers, as an Assembler does.
func (p *Parallel) boundClosed() {
	live, held, closed := 0, 0, 0
	for _, r := range p.ask(item{kind: itemCount}) {
		live, held, closed = live+r.live, held+r.live+r.parked, closed+r.closed
	}
	// The count is as good as an eviction's for the connections held.
	p.counted(live)
	max := p.opts.MaxConnections
	if closed > 2*max {
		var all []closedKey
		for _, r := range p.ask(item{kind: itemNewest, n: max}) {
			all = append(all, r.closedKeys...)
		}
		slices.SortFunc(all, func(x, y closedKey) int { return y.compare(x) })
		cut := all[max-1]
		for _, b := range p.cur {
			b.items = append(b.items, item{kind: itemForget, ck: &cut})
		}
		closed = max
	}
	p.closedN, p.closers = closed, held
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
	p.dec.defrag.finish(&p.stats)
	for _, b := range p.cur {
		b.items = append(b.items, item{kind: itemFinish, now: p.now})
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

// appendData appends p to buf, a batch's or a chunk's data, which is kept
// for the next: growing it by doubling up to limit (what fills it), it
// reaches its size in a few allocations, where append's steps of a
// quarter took ~17 for each batch of small packets (all but the first
// copied in full). Past limit (a batch or chunk is sent once past it) it
// grows as append grows it, so what is kept is no more than before.
func appendData(buf, p []byte, limit int) []byte {
	if n := len(buf) + len(p); n > cap(buf) && n <= limit {
		buf = slices.Grow(buf, min(max(n, 2*cap(buf), minData), limit)-len(buf))
	}
	return append(buf, p...)
}

// minData is the least a batch's or chunk's data is allocated with.
const minData = 4 << 10

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
	b.arena.Reset()
	clear(b.ends)
	b.ends = b.ends[:0]
	b.recs, b.frames, b.msgs, b.addrs, b.encaps, b.inputs, b.others, b.empties, b.data = b.recs[:0], b.frames[:0], b.msgs[:0], b.addrs[:0], b.encaps[:0], b.inputs[:0], b.others[:0], b.empties[:0], b.data[:0]
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
