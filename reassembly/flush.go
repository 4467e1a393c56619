// Flushing by packet time, Finish, and the records held during a flush
// (emitted grouped by connection number): the Assembler as the decoders'
// sink.

package reassembly

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	tcpasm "github.com/google/gopacket/reassembly"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// maybeFlush pushes data stuck behind old holes, by packet time.
func (a *Assembler) maybeFlush(ts time.Time) {
	if a.lastFlush.IsZero() {
		a.lastFlush = ts
		return
	}
	if ts.Sub(a.lastFlush) < a.opts.FlushEvery {
		return
	}
	a.lastFlush = ts
	a.flush(ts)
}

// flush forgets old closed connections and pushes through what waits
// behind holes older than the gap timeout, as seen at packet time ts.
func (a *Assembler) flush(ts time.Time) {
	a.forgetClosed(ts.Add(-closedMemory))

	opt := tcpasm.FlushOptions{T: ts.Add(-a.opts.GapTimeout)}
	if a.opts.IdleTimeout > 0 {
		opt.TC = ts.Add(-a.opts.IdleTimeout)
	}
	a.hold()
	a.asm.FlushWithOptions(opt)
	if a.opts.IdleTimeout > 0 {
		a.endParkedBefore(opt.TC)
	}
	a.release()
}

// forgetClosed drops the closed connections remembered since before t and,
// when more are remembered than MaxConnections allows (a flood of short
// connections), the older half of them.
func (a *Assembler) forgetClosed(t time.Time) {
	for k, c := range a.closed {
		if c.at.Before(t) {
			delete(a.closed, k)
		}
	}
	for k, c := range a.tombs {
		if c.at.Before(t) {
			a.bury(k, c)
		}
	}
	if len(a.closed) <= 2*a.opts.MaxConnections {
		return
	}
	at := make([]time.Time, 0, len(a.closed))
	for _, c := range a.closed {
		at = append(at, c.at)
	}
	slices.SortFunc(at, time.Time.Compare)
	mid := at[len(at)/2]
	for k, c := range a.closed {
		if c.at.Before(mid) {
			delete(a.closed, k)
		}
	}
	if len(a.closed) <= a.opts.MaxConnections {
		return
	}
	// Ties at mid: the oldest by time, then by connection number, go
	// first, the same on every run (map order would change which late
	// segments are known, and with them the connection numbers).
	type entry struct {
		k flowKey
		c closedConn
	}
	rest := make([]entry, 0, len(a.closed))
	for k, c := range a.closed {
		rest = append(rest, entry{k, c})
	}
	slices.SortFunc(rest, func(x, y entry) int {
		if c := x.c.at.Compare(y.c.at); c != 0 {
			return c
		}
		if x.c.id != y.c.id {
			return cmp.Compare(x.c.id, y.c.id)
		}
		if x.c.canon != y.c.canon {
			if x.c.canon {
				return 1
			}
			return -1
		}
		return 0
	})
	for _, e := range rest[:len(rest)-a.opts.MaxConnections] {
		delete(a.closed, e.k)
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
	a.ending = true
	a.hold()
	a.asm.FlushWithOptions(tcpasm.FlushOptions{T: time.Unix(1<<62, 0)})
	a.holding = false
	slices.SortStableFunc(a.held, func(x, y heldRecord) int { return x.conn.ID - y.conn.ID })
	ends := make([]*stream, 0, len(a.live)+a.parkQ.Len())
	for _, s := range a.live {
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
		if s.park != nil && s.park.at != nil {
			a.unpark(s)
		} else if k := s.gkey().tuple(); a.live[k] == s {
			delete(a.live, k)
		}
		s.complete(false)
		// gopacket holds the stream until FlushAll below: what the
		// connection decoded with is not needed any more (the sinks
		// build their results of the ending connections meanwhile).
		s.conn, s.tls, s.h2, s.recent = nil, nil, nil, [2]*segmentRing{}
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
			a.put(record.Record{Kind: record.End, Conn: r.conn, Summary: r.empty.summary()})
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
	switch {
	case a.holding && s.Connect != "":
		a.held = append(a.held, heldRecord{conn: c, empty: newEmptyEnd(s)})
		return
	case a.holding:
		cp := *s
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
