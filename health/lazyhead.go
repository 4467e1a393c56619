package health

import (
	"math"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// An open connection that had its handshake and nothing the tracker
// keeps since (no beat, ping, pong, Close, negotiated interval) costs a
// connState and its map entry (~120 bytes: 12 MB of `wsdump conns` on
// 100 000 open connections). With HeadsAtEnd its head is made at its
// End from the summary's handshake (Summary.Handshake: the decoder
// rebuilds it from what it kept, the same host, URI, status,
// subprotocol, extensions and RequestTS) and the connection's addresses;
// the one field the summary lacks, the response's time, is kept until
// then as its distance from the request's, 8 bytes in a page of
// lazyPageLen (lazyHeads).

// lazyPageLen is the connections a page of lazyHeads covers.
const lazyPageLen = 256

// lazyPage is the response times of lazyPageLen consecutive connection
// numbers, those that are set (set) waiting for their End.
type lazyPage struct {
	since [lazyPageLen]time.Duration // TS - RequestTS
	set   [lazyPageLen / 64]uint64
	n     int
}

// lazyHeads is the connections whose head waits for their End, by page
// of connection numbers: numbers are given in increasing order, so the
// open connections fill few pages; a page goes once its connections
// ended. Pages are made while they hold at least one connection in
// lazyMinFill on average (past lazyFreePages), else a connection's head
// is made at once: a page is never much more than its connections' 120
// bytes each.
type lazyHeads struct {
	pages map[int]*lazyPage
	n     int // connections set
}

const (
	lazyMinFill   = 16
	lazyFreePages = 64
	// lazyMaxID bounds the connection numbers a head waits for (HTTP/2
	// streams are numbered far above: wsparse.SplitID).
	lazyMaxID = 1 << 31
)

func lazyAt(id int) (page, i int) { return id / lazyPageLen, id % lazyPageLen }

// add sets connection id's response time as since; false when it was not
// set (a page too many).
func (l *lazyHeads) add(id int, since time.Duration) bool {
	p, i := lazyAt(id)
	pg := l.pages[p]
	if pg == nil {
		if len(l.pages) >= lazyFreePages && (len(l.pages)+1)*lazyPageLen > (l.n+1)*lazyMinFill {
			return false
		}
		if l.pages == nil {
			l.pages = map[int]*lazyPage{}
		}
		pg = new(lazyPage)
		l.pages[p] = pg
	}
	if pg.set[i/64]&(1<<(i%64)) == 0 {
		pg.set[i/64] |= 1 << (i % 64)
		pg.n++
		l.n++
	}
	pg.since[i] = since
	return true
}

// has reports whether connection id's head waits for its End (l may be
// nil: none).
func (l *lazyHeads) has(id int) bool {
	if l == nil || l.n == 0 || id <= 0 || id >= lazyMaxID {
		return false
	}
	p, i := lazyAt(id)
	pg := l.pages[p]
	return pg != nil && pg.set[i/64]&(1<<(i%64)) != 0
}

// take returns connection id's response time and unsets it; false when
// it was not set.
func (l *lazyHeads) take(id int) (time.Duration, bool) {
	if l.n == 0 || id <= 0 || id >= lazyMaxID {
		return 0, false
	}
	p, i := lazyAt(id)
	pg := l.pages[p]
	if pg == nil || pg.set[i/64]&(1<<(i%64)) == 0 {
		return 0, false
	}
	since := pg.since[i]
	pg.set[i/64] &^= 1 << (i % 64)
	pg.since[i] = 0
	pg.n--
	l.n--
	if pg.n == 0 {
		delete(l.pages, p)
	}
	return since, true
}

// HeadsAtEnd makes the head of a connection that has had only its
// handshake at its End, from the summary's handshake: an open connection
// costs the tracker 8 bytes, not a connState. For a caller that hands
// every connection with a handshake its End before Report, with the
// summary of a decoder (wsparse.Conn: Summary.Handshake has the fields
// of the handshake record), and no filter in between that could drop the
// End: Report is then the same.
func (t *Tracker) HeadsAtEnd() { t.lazy = new(lazyHeads) }

// deferHead reports whether the head of connection c, whose handshake is
// h, waits for its End (HeadsAtEnd): not when the tracker has state for
// it already, nor for a handshake that the summary does not give back
// the same (HTTP/2, a fallback session, no response) or whose head would
// not fit.
func (t *Tracker) deferHead(c *wsparse.Conn, h *wsparse.Handshake) bool {
	id := c.ID
	if t.lazy == nil || id <= 0 || id >= lazyMaxID || h.Status <= 0 || h.Status > math.MaxUint16 ||
		h.Protocol != "" || h.Transport != "" || h.HTTPVersion == "HTTP/2" || t.conns[id] != nil || t.packed[id] != "" {
		return false
	}
	if len(h.Host) > math.MaxUint16 || len(h.URI) > math.MaxUint16 || len(h.Subprotocol) > math.MaxUint16 {
		return false
	}
	if _, _, _, _, ok := packAddrs(c.Client().Addr(), c.Server().Addr()); !ok {
		return false
	}
	var hd connHead
	if !hd.setTimes(h.RequestTS, h.TS) {
		return false
	}
	since := h.TS.Sub(h.RequestTS)
	if h.RequestTS.Add(since) != h.TS {
		return false
	}
	return t.lazy.add(id, since)
}

// lazyHandshake gives the handshake of connection c whose head waited
// for its End (HeadsAtEnd), from its summary; false when it did not.
func (t *Tracker) lazyHandshake(c *wsparse.Conn, s *wsparse.Summary, hs *wsparse.Handshake) bool {
	if t.lazy == nil {
		return false
	}
	since, ok := t.lazy.take(c.ID)
	if !ok || s.Handshake == nil {
		return false
	}
	*hs = *s.Handshake
	hs.TS = hs.RequestTS.Add(since)
	return true
}
