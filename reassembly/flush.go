// Flushing by packet time, Finish, and the records held during a flush
// (emitted grouped by connection number): the Assembler as the decoders'
// sink.

package reassembly

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"time"

	tcpasm "github.com/google/gopacket/reassembly"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// maybeFlush pushes data stuck behind old holes, by packet time, and keeps
// the closed connections remembered within their bound.
func (a *Assembler) maybeFlush(ts time.Time) {
	if a.lastFlush.IsZero() {
		a.lastFlush = ts
	} else if ts.Sub(a.lastFlush) >= a.opts.FlushEvery {
		a.lastFlush = ts
		a.flush(ts)
	}
	if a.sinceBound++; a.sinceBound >= boundEvery(a.opts.MaxConnections) {
		a.sinceBound = 0
		if len(a.closed) > 2*a.opts.MaxConnections {
			a.forgetClosedBefore(a.newestClosed(a.opts.MaxConnections)[a.opts.MaxConnections-1])
		}
	}
}

// flush forgets old closed connections and pushes through what waits
// behind holes that will not be filled (holes.go), as seen at packet time ts.
func (a *Assembler) flush(ts time.Time) {
	a.forgetClosed(ts.Add(-closedMemory))
	if a.split != nil {
		a.pruneSplit()
	}

	opt := tcpasm.FlushOptions{T: ts.Add(-a.opts.LateWait)}
	if a.opts.IdleTimeout > 0 {
		opt.TC = ts.Add(-a.opts.IdleTimeout)
	}
	a.hold()
	if len(a.holey) > 0 {
		a.pushHoles(ts)
	}
	if a.shared != nil {
		a.shared.ExpireAnswers(ts) // a 101 held for its request, past its second
	}
	a.asm.FlushWithOptions(opt)
	if a.opts.IdleTimeout > 0 {
		a.endParkedBefore(opt.TC)
	}
	a.release()
}

// forgetClosed drops the closed connections remembered since before t.
// (Their count is bounded at fixed packets: maybeFlush.) The tombs are
// not dropped by time, only by count (tombLedger): forgotten two minutes
// after it was ended early, a WebSocket connection silent that long came
// back as a new connection found afresh, its lone frames taken for other
// bytes and dropped without a word (and when each worker of -j forgot them
// depended on the packets it was given).
func (a *Assembler) forgetClosed(t time.Time) {
	for k, c := range a.closed {
		if c.at.Before(t) {
			delete(a.closed, k)
		}
	}
}

// The closed connections remembered are bounded by count too (a flood of
// short connections): every boundEvery decoded packets, before the packet
// (after its flush), when more than twice MaxConnections entries (one per
// direction) are remembered, the newest MaxConnections are kept, newest by
// closing time, then by flow key: an order, and packets to check at,
// that do not depend on how connections are spread over the workers of a
// Parallel (it asks them all, and they forget what an Assembler would).
// Between checks, at most two connections close per packet, besides a
// flush's.
func boundEvery(maxConns int) int { return max(1, maxConns/8) }

// closedKey orders the closed connections' entries.
type closedKey struct {
	at time.Time
	k  tuple
}

func (x closedKey) compare(y closedKey) int {
	if c := x.at.Compare(y.at); c != 0 {
		return c
	}
	if c := bytes.Compare(x.k.src[:], y.k.src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(x.k.dst[:], y.k.dst[:]); c != 0 {
		return c
	}
	if x.k.sp != y.k.sp {
		return cmp.Compare(x.k.sp, y.k.sp)
	}
	if x.k.dp != y.k.dp {
		return cmp.Compare(x.k.dp, y.k.dp)
	}
	if x.k.v6 != y.k.v6 {
		if x.k.v6 {
			return 1
		}
		return -1
	}
	return 0
}

// newestClosed returns the keys of the n newest entries of closed, newest
// first.
func (a *Assembler) newestClosed(n int) []closedKey {
	keys := make([]closedKey, 0, len(a.closed))
	for k, c := range a.closed {
		keys = append(keys, closedKey{c.at, k.tuple()})
	}
	slices.SortFunc(keys, func(x, y closedKey) int { return y.compare(x) })
	return keys[:min(n, len(keys))]
}

// forgetClosedBefore drops the entries of closed older than cut.
func (a *Assembler) forgetClosedBefore(cut closedKey) {
	for k, c := range a.closed {
		if (closedKey{c.at, k.tuple()}).compare(cut) < 0 {
			delete(a.closed, k)
		}
	}
}

// Tick lets the assembler flush by time while no packet arrives (live
// capture): now stands in for the next packet's time.
func (a *Assembler) Tick(now time.Time) { a.maybeFlush(now) }

// Finish pushes everything still held through and ends every connection.
//
// The records must come out grouped by connection in connection order, and
// gopacket ends connections in map order: holding a copy of every open
// connection's last records until all are ended would take as much memory
// again as the open connections themselves (100 000 of them assembling a
// message: 140 MB). So the bytes waiting behind holes are pushed through
// first (held, few), then each connection, live or parked, is ended in
// connection order, its held records first and its last ones going
// straight out.
func (a *Assembler) Finish() {
	a.dec.defrag.finish(&a.stats)
	a.ending = true
	a.hold()
	a.asm.FlushWithOptions(tcpasm.FlushOptions{T: time.Unix(1<<62, 0)})
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	ends := make([]*stream, 0, a.live.len()+a.parkQ.Len())
	for s := range a.live.all() {
		if !s.stale {
			ends = append(ends, s)
		}
	}
	for e := a.parkQ.Front(); e != nil; e = e.Next() {
		ends = append(ends, e.Value.(*stream))
	}
	slices.SortFunc(ends, func(x, y *stream) int { return x.id - y.id })
	held := a.held
	for _, s := range ends {
		n := 0
		for n < len(held) && held[n].conn.ID <= s.id {
			n++
		}
		a.emitHeld(held[:n])
		held = held[n:]
		if s.parked() != nil && s.parked().at != nil {
			a.unpark(s)
		} else if k := s.gkey().tuple(); a.live.get(k) == s {
			a.live.del(k)
		}
		s.complete(false)
		// gopacket holds the stream until FlushAll below: what the
		// connection decoded with is not needed any more (the sinks
		// build their results of the ending connections meanwhile).
		s.conn, s.recent = nil, segmentRing{}
		if s.rare != nil {
			s.rare.tls, s.rare.h2 = nil, nil
		}
	}
	a.emitHeld(held)
	clear(a.held)
	a.held = a.held[:0]
	a.asm.FlushAll() // gopacket's side: the streams are all complete
}

func (a *Assembler) hold() { a.holding = true }

// release emits the records held during a flush, grouped by connection in
// connection order; each connection's records keep their order.
func (a *Assembler) release() {
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	a.emitHeld(a.held)
	clear(a.held)
	a.held = a.held[:0]
}

// emitHeld passes held records on, in their order.
func (a *Assembler) emitHeld(held []heldRecord) {
	var sum *wsparse.Summary // the held empty Ends', in turn
	for i := range held {
		r := &held[i]
		switch {
		case r.hs != nil:
			a.put(record.Record{Kind: record.Handshake, Conn: r.conn, Handshake: r.hs})
		case r.frame != nil:
			a.put(record.Record{Kind: record.Frame, Conn: r.conn, Frame: r.frame})
		case r.msg != nil:
			a.put(record.Record{Kind: record.Message, Conn: r.conn, Message: r.msg})
		case r.sum != nil:
			a.put(record.Record{Kind: record.End, Conn: r.conn, Summary: r.sum})
		case r.empty != nil:
			if sum == nil {
				sum = new(wsparse.Summary)
			}
			a.put(record.Record{Kind: record.End, Conn: r.conn, Summary: r.empty.summary(sum)})
		case r.tls != nil:
			a.put(record.Record{Kind: record.TLS, Conn: r.conn, TLS: &record.TLSConn{TS: r.tls.ts, Client: r.tls.client, Server: r.tls.server, Info: &r.tls.info}})
		}
	}
}

// put hands r to out.
func (a *Assembler) put(r record.Record) {
	a.rec = r
	a.out.Put(&a.rec)
}

// heldRecord is a copy of a record produced during a flush.
type heldRecord struct {
	conn  *wsparse.Conn
	hs    *wsparse.Handshake
	frame *wsparse.Frame
	msg   *wsparse.Message
	sum   *wsparse.Summary
	empty *emptyEnd
	tls   *tlsRecord
}

type tlsRecord struct {
	ts             time.Time
	client, server netip.AddrPort
	info           wsparse.TLSInfo
}

// The Assembler sits between the decoders and the output sink.

func (a *Assembler) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if a.holding {
		cp := *h
		a.held = append(a.held, heldRecord{conn: c, hs: &cp})
		return
	}
	a.put(record.Record{Kind: record.Handshake, Conn: c, Handshake: h})
}

func (a *Assembler) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if a.holding {
		cp := *f
		cp.Payload = slices.Clone(f.Payload)
		a.held = append(a.held, heldRecord{conn: c, frame: &cp})
		return
	}
	a.put(record.Record{Kind: record.Frame, Conn: c, Frame: f})
}

func (a *Assembler) Message(c *wsparse.Conn, m *wsparse.Message) {
	if a.holding {
		cp := *m
		cp.Data = slices.Clone(m.Data)
		a.held = append(a.held, heldRecord{conn: c, msg: &cp})
		return
	}
	a.put(record.Record{Kind: record.Message, Conn: c, Message: m})
}

func (a *Assembler) End(c *wsparse.Conn, s *wsparse.Summary) {
	if f := a.feeding; s.TLS != nil && f != nil && f.h2Layer() != nil && f.tlsLayer() != nil && f.tlsInfo() == s.TLS {
		// A WebSocket stream of an HTTP/2 connection over TLS ending
		// before the connection: its TLS layer as it is now (synced
		// otherwise at the first plaintext and the connection's end).
		f.syncTLS()
	}
	switch {
	case a.holding && s.Connect != "":
		a.held = append(a.held, heldRecord{conn: c, empty: newEmptyEnd(s)})
		return
	case a.holding:
		cp := *s
		if s.Handshake != nil {
			hs := *s.Handshake // reused by the decoder once End returns
			cp.Handshake = &hs
		}
		a.held = append(a.held, heldRecord{conn: c, sum: &cp})
		return
	}
	a.put(record.Record{Kind: record.End, Conn: c, Summary: s})
}

// TLSConn passes a TLS connection on, held like the records during a flush.
func (a *Assembler) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo) {
	if a.holding {
		a.held = append(a.held, heldRecord{conn: c, tls: &tlsRecord{ts: ts, client: client, server: server, info: *info}})
		return
	}
	a.put(record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{TS: ts, Client: client, Server: server, Info: info}})
}
