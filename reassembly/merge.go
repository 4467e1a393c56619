// The ordered merge of a Parallel's workers' records: by packet index,
// flushes grouped by connection number, with global connection numbers.

package reassembly

import (
	"net/netip"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// cursor reads one worker's chunks.
type cursor struct {
	ch  <-chan *outBatch
	ob  *outBatch
	pos int
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
		p.ids[w][r.id].SetEncapID(ob.encaps[r.idx])
		p.ids[w][r.id].SetInput(int(ob.inputs[r.idx]))
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
			p.ids[w][r.id].SetEncapID(ob.encaps[r.idx])
			p.ids[w][r.id].SetInput(int(ob.inputs[r.idx]))
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
			c.SetEncapID(pc.EncapID())
			c.SetInput(pc.Input())
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
		out.Kind, out.Summary = record.End, ob.ends[r.idx].summary()
	case recEmptyEnd:
		out.Kind, out.Summary = record.End, ob.empties[r.idx].summary(&ob.emptySum)
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
