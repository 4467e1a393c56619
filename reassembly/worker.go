// The workers of a Parallel: each runs an Assembler and copies its records
// into chunks (record buffers) for the merger.

package reassembly

import (
	"math"
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

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
	encaps  []uint32        // by addrs' index: the connection's encapsulation (wsparse.EncapID)
	inputs  []int32         // and the input its first packet came from (wsparse.Conn.Input)
	others  []record.Record // Handshake, TLS, Beat, Negotiated records
	ends    []endRec        // End records
	empties []emptyEnd
	apps    [][]appproto.App // Messages' Apps (record.Record.Decoded)
	arena   appproto.Arena   // their JSON objects' members, when they were borrowed (appproto.App.Rebase)
	data    []byte
	end     bool
	last    bool  // the worker's final batch
	stats   Stats // with last: the worker's counters

	// emptySum is the Summary the merger hands on for each of empties,
	// in turn.
	emptySum wsparse.Summary
}

// A chunk is small: the merger has up to queueDepth of each worker's
// waiting, and a few free ones are kept. At the end of the input, when
// every open connection's last records (its message so far, its summary)
// are copied at once, chunks of 1 024 records and 1 MB (their data buffers
// too big to be kept, grown anew for each) took 100 000 open connections'
// peak from ~340 to 384 MB RSS (TestParallelFinishChunks). Chunks of 64
// records and 64 KB took it no lower, for 10 % more CPU (the workers and
// the merger waiting on each other more, the collector taking that time).
const (
	chunkRecs  = 128
	chunkBytes = 128 << 10
)

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
				w.asm.pkt, w.asm.input = it.pkt, int(it.input)
				if netFlow, _, ok := w.asm.dec.decode(it.link, data, it.wireLen, it.ts, &discard); ok {
					w.asm.dec.fixed, w.asm.dec.fixedTenant, w.asm.dec.fixedEncap = it.whole, it.tenant, it.encap
					w.asm.assemble(netFlow, it.ts, len(data), it.wireLen)
				}
			case itemFlush:
				w.pkt, w.phase = it.pkt, phaseFlush
				w.asm.now, w.asm.pkt = it.now, it.pkt
				w.asm.flush(it.ts)
			case itemKeys:
				w.asm.MergeKeys(it.keys)
			case itemCount:
				w.sync <- syncReply{live: w.asm.live.len(), parked: len(w.asm.parked), closed: len(w.asm.closed)}
			case itemNewest:
				w.sync <- syncReply{closedKeys: w.asm.newestClosed(it.n)}
			case itemForget:
				w.asm.forgetClosedBefore(*it.ck)
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
				w.asm.now = it.now
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
	w.out.data = appendData(w.out.data, b, chunkBytes)
}

func (w *worker) other(r *rec, x record.Record) {
	r.idx = int32(len(w.out.others))
	w.out.others = append(w.out.others, x)
}

// copyHandshake returns what the merger may hold of h until it hands it
// on: h itself, which wsparse never changes once sent (keepHandshake
// keeps a copy of one it keeps whole), unless it names a TLS layer, whose
// TLSInfo the stream updates in place (its errors and byte counts, and
// again if an ended TLS connection goes on): then a copy of both. Not
// copying the rest saves a handshake's 384 bytes of garbage per
// connection with two workers (issue 16).
func copyHandshake(h *wsparse.Handshake) *wsparse.Handshake {
	if h.TLS == nil {
		return h
	}
	cp := *h
	t := *h.TLS
	cp.TLS = &t
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
		data := w.message(r.Conn, r.Message)
		if r.Decoded {
			for i := range r.Apps {
				if a := &r.Apps[i]; a.Borrowed() && !a.Rebase(data, &w.out.arena) {
					a.Own()
				}
			}
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

// message copies m into the chunk and returns its data there (nil when
// the stages after the merge read none): an App whose Body is borrowed
// from m.Data rebases onto it. The slice stays valid when the chunk's data
// grows (its old bytes are left as they are) until the merger has handed
// the chunk's records on.
func (w *worker) message(c *wsparse.Conn, m *wsparse.Message) []byte {
	r := w.add(recMessage, c) // may ship the chunk, and forget the last frame
	r.idx = int32(len(w.out.msgs))
	w.out.msgs = append(w.out.msgs, *m)
	w.out.msgs[r.idx].Data = nil
	if w.dataUnused && m.Fallback == nil { // a fallback session's messages are decoded after the merge
		return nil
	}
	// The decoder hands over an unfragmented message right after its
	// frame, with the frame's payload (the same memory) as its data.
	if c == w.lastConn && m.Frames == 1 && !m.Compressed && len(m.Data) <= len(w.last) && len(m.Data) > 0 && &m.Data[0] == &w.last[0] {
		r.off, r.n = w.out.recs[w.lastRec].off, len(m.Data)
	} else {
		w.keep(r, m.Data)
	}
	w.last, w.lastConn = nil, nil
	return w.out.data[r.off : r.off+r.n : r.off+r.n]
}

func (w *worker) end(c *wsparse.Conn, s *wsparse.Summary) {
	if s.Connect != "" {
		r := w.add(recEmptyEnd, c)
		r.idx = int32(len(w.out.empties))
		w.out.empties = append(w.out.empties, *newEmptyEnd(s))
		return
	}
	r := w.add(recEnd, c)
	r.idx = int32(len(w.out.ends))
	w.out.ends = append(w.out.ends, endRec{sum: *s})
	e := &w.out.ends[r.idx]
	e.sum.Handshake, e.sum.TLS = nil, nil // set by summary, in the chunk
	if s.TLS != nil {
		e.tls, e.has = *s.TLS, e.has|endTLS
	}
	if h := s.Handshake; h != nil {
		e.hs, e.has = *h, e.has|endHS
		switch {
		case h.TLS == nil:
		case h.TLS == s.TLS:
			e.hs.TLS, e.has = nil, e.has|endHSTLS
		default: // a handshake kept whole, of another TLS layer: rare
			t := *h.TLS
			e.hs.TLS = &t
		}
	}
}

// endRec is an End record in a chunk: the summary, its handshake and its
// TLS layer copied in (the decoder reuses its Summary and the handshake
// it rebuilt once End returns; the stream updates the TLS layer in place),
// and reused with the chunk rather than made anew: every open connection
// ends at the end of the input, and 1 536 bytes of garbage each (the
// decoder's Summary and Handshake, this copy of the Summary) raised the
// peak heap of 100 000 of them by up to 30 MiB while they ended (issue 16).
type endRec struct {
	sum wsparse.Summary
	hs  wsparse.Handshake
	tls wsparse.TLSInfo
	has uint8 // endHS, endTLS, endHSTLS
}

const (
	endHS    = 1 << iota // sum.Handshake is hs
	endTLS               // sum.TLS is tls
	endHSTLS             // hs.TLS is tls too
)

// summary returns the record's Summary, valid while its chunk is: its
// pointers are set here, once the chunk's ends no longer move.
func (e *endRec) summary() *wsparse.Summary {
	if e.has&endTLS != 0 {
		e.sum.TLS = &e.tls
	}
	if e.has&endHS != 0 {
		e.sum.Handshake = &e.hs
		if e.has&endHSTLS != 0 {
			e.hs.TLS = &e.tls
		}
	}
	return &e.sum
}

// emptyEnd is the End of a connection that sent no bytes
// (wsparse.Config.EndAll: Summary.Connect set, all else zero), held or
// passed between goroutines in a quarter of a Summary: a flood of SYNs
// ends a great many at once.
type emptyEnd struct {
	first, last time.Time
	tcpEnd      [2]time.Time
	fin, rst    [2]bool
	endOrder    [2]uint8 // (Summary.TCPEndOrder: in the padding after fin and rst)
	connect     string
}

func newEmptyEnd(s *wsparse.Summary) *emptyEnd {
	return &emptyEnd{s.First, s.Last, s.TCPEndTS, s.TCPFin, s.TCPRst, s.TCPEndOrder, s.Connect}
}

// summary sets s to the End's Summary and returns it: the merger's is its
// chunk's emptySum, not a Summary made for each (a flood of SYNs still
// open at the end of the input ends them all at once).
func (e *emptyEnd) summary(s *wsparse.Summary) *wsparse.Summary {
	*s = wsparse.Summary{First: e.first, Last: e.last, TCPEndTS: e.tcpEnd, TCPEndOrder: e.endOrder, TCPFin: e.fin, TCPRst: e.rst,
		Connect: e.connect, End: wsparse.EndNotWebSocket}
	return s
}
