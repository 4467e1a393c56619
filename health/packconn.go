package health

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// With FinishAtEnd a connection that ended is kept until Report as its
// result packed into one string (packConn: ~330 bytes on the load capture
// of bench/gen.sh, in a map of strings), not as a connState with its
// head, its endState and Close frames, its ping results and its heartbeat
// Series (~1 500 bytes: 14 MB of `wsdump conns` on the 9 600 connections
// of a 3 GB capture, which the collector's target doubled). The times are nanoseconds from the
// connection's start, the usual names an index (packNames), the counts
// varints. ReportEach makes each result from it when it is read.

// packNames are the strings a packed result names by index: the kinds,
// interval sources, sides and ends most series and Closes have.
var packNames = [...]string{"", KindWSPing, KindWSPong, KindText, KindApp, "negotiated", "flag", "observed",
	"client", "server", string(wsparse.EndClean), string(wsparse.EndCloseUnanswered), string(wsparse.EndFINWithoutClose),
	string(wsparse.EndRSTWithoutClose), string(wsparse.EndOpen), string(wsparse.EndNotUpgraded)}

// The flags of a packed result.
const (
	pcMidstream = 1 << iota
	pcEnded
	pcPathOwn // Path and Session are not splitURI's: packed
	pcClean
	pcDataAfter
	pcFin0
	pcFin1
	pcRst0
	pcRst1
	pcApp // Close.App is packed
	pcAppFailed
	pcSteppedBack // SteppedBack is packed
	pcInput       // Input is packed (not 0)
	pcFirst0
	pcFirst1
)

// connPacker appends a result's fields; ok turns false at one that does
// not pack (a time in another location or out of range).
type connPacker struct {
	b    []byte
	base int64 // the start's nanoseconds: times are packed from it
	ok   bool
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (p *connPacker) uint(v uint64) { p.b = binary.AppendUvarint(p.b, v) }
func (p *connPacker) int(v int64)   { p.b = binary.AppendVarint(p.b, v) }

func (p *connPacker) str(s string) {
	p.uint(uint64(len(s)))
	p.b = append(p.b, s...)
}

// name packs s as its index in packNames, else whole.
func (p *connPacker) name(s string) {
	if i := slices.Index(packNames[:], s); i >= 0 {
		p.uint(uint64(i))
		return
	}
	p.uint(uint64(len(packNames)))
	p.str(s)
}

// time packs t: 0 the zero time, else 1 in UTC or 2 in the local
// location, then its nanoseconds from the base.
func (p *connPacker) time(t time.Time) {
	ns, utc, set, ok := packTime(t)
	switch {
	case !ok:
		p.ok = false
	case !set:
		p.uint(0)
	default:
		p.uint(2 - b2u(utc))
		p.int(ns - p.base)
	}
}

// count packs the length of a slice, nil apart from empty: 0 nil, else
// its length + 1.
func (p *connPacker) count(n int, isNil bool) {
	if isNil {
		p.uint(0)
		return
	}
	p.uint(uint64(n) + 1)
}

func (p *connPacker) addrPort(a netip.AddrPort) {
	n := len(p.b)
	p.b = append(p.b, 0)
	var err error
	if p.b, err = a.AppendBinary(p.b); err != nil || len(p.b)-n-1 > 127 {
		p.ok = false
		return
	}
	p.b[n] = byte(len(p.b) - n - 1)
}

// packConn appends c (but its ID) packed to b; false when it does not
// pack.
func packConn(b []byte, c *Conn) ([]byte, bool) {
	p := connPacker{b: b, ok: true}
	var fl uint64
	path, session := splitURI(c.URI)
	cl := &c.Close
	for i, set := range [...]bool{c.Midstream, c.Ended, path != c.Path || session != c.Session, cl.Clean, cl.DataAfterClose,
		cl.TCPFin[0], cl.TCPFin[1], cl.TCPRst[0], cl.TCPRst[1], cl.App != nil, cl.App != nil && cl.App.Failed, c.SteppedBack != 0, c.Input != 0,
		cl.TCPFirst[0], cl.TCPFirst[1]} {
		if set {
			fl |= 1 << i
		}
	}
	p.uint(fl)
	p.time(c.Start)
	if !p.ok {
		return b, false
	}
	p.base, _, _, _ = packTime(c.Start)
	p.time(c.End)
	if fl&pcSteppedBack != 0 {
		p.int(int64(c.SteppedBack))
	}
	if fl&pcInput != 0 {
		p.uint(uint64(c.Input))
	}
	p.addrPort(c.Client)
	p.addrPort(c.Server)
	p.str(c.Host)
	p.str(c.URI)
	if fl&pcPathOwn != 0 {
		p.str(c.Path)
		p.str(c.Session)
	}
	p.str(c.Transport)
	p.str(c.Encap)
	p.count(len(c.HTTPConns), c.HTTPConns == nil)
	for _, id := range c.HTTPConns {
		p.int(int64(id))
	}
	p.int(int64(c.HTTPRequests))
	p.int(int64(c.Status))
	p.str(c.Subprotocol)
	p.str(c.Extensions)
	p.b = packStats(p.b, &c.Stats)
	p.name(string(cl.End))
	p.name(cl.Initiator)
	p.str(cl.StreamEnd)
	p.str(cl.TLSStopped)
	for _, f := range cl.Frames {
		if f == nil {
			p.uint(0)
			continue
		}
		// 1, 2 with a code, 3 with a code whose name is its usual one.
		k := uint64(1)
		if f.HasCode {
			k = 2
			if f.Name == wsparse.CloseCodeName(f.Code) {
				k = 3
			}
		}
		p.uint(k)
		p.time(f.TS)
		p.uint(uint64(f.Code))
		if k != 3 {
			p.str(f.Name)
		}
		p.str(f.Reason)
	}
	if cl.App != nil {
		p.time(cl.App.TS)
		p.uint(uint64(cl.App.Dir))
		p.str(cl.App.Text)
	}
	for d := range c.Ping {
		s := &c.Ping[d]
		for _, v := range [...]int{s.Pings, s.Answered, s.Unanswered, s.UnansweredTail, s.OverdueTail, s.Mismatched, s.Unsolicited} {
			p.int(int64(v))
		}
		p.time(s.UnansweredSince)
		for _, v := range [...]time.Duration{s.RTTMin, s.RTTMedian, s.RTTP95, s.RTTMax} {
			p.int(int64(v))
		}
	}
	p.count(len(c.Heartbeats), c.Heartbeats == nil)
	for _, s := range c.Heartbeats {
		if s == nil {
			return b, false
		}
		p.series(s)
	}
	p.uint(uint64(c.Anomalies))
	if !p.ok {
		return b, false
	}
	return p.b, true
}

func (p *connPacker) series(s *Series) {
	p.name(s.Kind)
	p.str(s.Proto)
	p.str(s.Key)
	p.uint(uint64(s.Dir))
	p.int(int64(s.Count))
	p.int(int64(s.Unmeasured))
	p.time(s.First)
	p.time(s.Last)
	p.int(int64(s.Interval))
	p.name(s.IntervalSource)
	for _, v := range [...]time.Duration{s.Timeout, s.Mean, s.Jitter, s.MaxGap} {
		p.int(int64(v))
	}
	p.time(s.MaxGapAt)
	p.int(int64(s.Missed))
	p.count(len(s.Gaps), s.Gaps == nil)
	for _, g := range s.Gaps {
		p.time(g.From)
		p.time(g.To)
		p.int(int64(g.Missed))
		p.uint(b2u(g.Trailing) | b2u(g.Open)<<1)
	}
	p.uint(b2u(s.GapsTruncated))
	p.int(int64(s.Timers))
	p.count(len(s.TimerOffsets), s.TimerOffsets == nil)
	for _, v := range s.TimerOffsets {
		p.int(int64(v))
	}
	p.int(int64(s.Extra))
	p.int(int64(s.ClockSteps))
}

// connUnpacker reads what connPacker wrote.
type connUnpacker struct {
	statsReader
	base int64
}

func (u *connUnpacker) str() string {
	n := int(u.uint())
	s := u.b[:n]
	u.b = u.b[n:]
	return s
}

func (u *connUnpacker) name() string {
	if i := int(u.uint()); i < len(packNames) {
		return packNames[i]
	}
	return u.str()
}

func (u *connUnpacker) time() time.Time {
	switch u.uint() {
	case 0:
		return time.Time{}
	case 1:
		return unpackTime(u.base+u.int(), true, true)
	}
	return unpackTime(u.base+u.int(), false, true)
}

func (u *connUnpacker) dur() time.Duration { return time.Duration(u.int()) }
func (u *connUnpacker) n() int             { return int(u.int()) }

// count reads a packed length: -1 a nil slice.
func (u *connUnpacker) count() int { return int(u.uint()) - 1 }

func (u *connUnpacker) addrPort() netip.AddrPort {
	n := int(u.b[0])
	var a netip.AddrPort
	a.UnmarshalBinary([]byte(u.b[1 : 1+n])) // packed by AppendBinary
	u.b = u.b[1+n:]
	return a
}

// unpackConn returns connection id's result packed as p (packConn). Its
// strings are parts of p.
func unpackConn(id int, p string) *Conn {
	u := connUnpacker{statsReader: statsReader{b: p}}
	c := &Conn{ID: id}
	fl := u.uint()
	c.Start = u.time()
	u.base, _, _, _ = packTime(c.Start)
	c.End = u.time()
	if fl&pcSteppedBack != 0 {
		c.SteppedBack = u.dur()
	}
	if fl&pcInput != 0 {
		c.Input = int32(u.uint())
	}
	c.Client = u.addrPort()
	c.Server = u.addrPort()
	c.Host = u.str()
	c.URI = u.str()
	if fl&pcPathOwn != 0 {
		c.Path = u.str()
		c.Session = u.str()
	} else {
		c.Path, c.Session = splitURI(c.URI)
	}
	c.Transport = u.str()
	c.Encap = u.str()
	if n := u.count(); n >= 0 {
		c.HTTPConns = make([]int, n)
		for i := range c.HTTPConns {
			c.HTTPConns[i] = u.n()
		}
	}
	c.HTTPRequests = u.n()
	c.Status = u.n()
	c.Subprotocol = u.str()
	c.Extensions = u.str()
	u.stats(&c.Stats)
	cl := &c.Close
	cl.End = wsparse.End(u.name())
	cl.Initiator = u.name()
	cl.StreamEnd = u.str()
	cl.TLSStopped = u.str()
	for d := range cl.Frames {
		k := u.uint()
		if k == 0 {
			continue
		}
		f := &CloseFrame{HasCode: k >= 2}
		f.TS = u.time()
		f.Code = uint16(u.uint())
		if k == 3 {
			f.Name = wsparse.CloseCodeName(f.Code)
		} else {
			f.Name = u.str()
		}
		f.Reason = u.str()
		cl.Frames[d] = f
	}
	if fl&pcApp != 0 {
		cl.App = &AppEnd{TS: u.time(), Dir: wsparse.Dir(u.uint()), Text: u.str(), Failed: fl&pcAppFailed != 0}
	}
	for d := range c.Ping {
		s := &c.Ping[d]
		s.Pings, s.Answered, s.Unanswered, s.UnansweredTail, s.OverdueTail, s.Mismatched, s.Unsolicited = u.n(), u.n(), u.n(), u.n(), u.n(), u.n(), u.n()
		s.UnansweredSince = u.time()
		s.RTTMin, s.RTTMedian, s.RTTP95, s.RTTMax = u.dur(), u.dur(), u.dur(), u.dur()
	}
	if n := u.count(); n >= 0 {
		c.Heartbeats = make([]*Series, n)
		for i := range c.Heartbeats {
			c.Heartbeats[i] = u.series()
		}
	}
	c.Anomalies = wsparse.Anomalies(u.uint())
	c.Midstream, c.Ended = fl&pcMidstream != 0, fl&pcEnded != 0
	cl.Clean, cl.DataAfterClose = fl&pcClean != 0, fl&pcDataAfter != 0
	cl.TCPFin = [2]bool{fl&pcFin0 != 0, fl&pcFin1 != 0}
	cl.TCPRst = [2]bool{fl&pcRst0 != 0, fl&pcRst1 != 0}
	cl.TCPFirst = [2]bool{fl&pcFirst0 != 0, fl&pcFirst1 != 0}
	return c
}

func (u *connUnpacker) series() *Series {
	s := &Series{Kind: u.name(), Proto: u.str(), Key: u.str(), Dir: wsparse.Dir(u.uint())}
	s.Count, s.Unmeasured = u.n(), u.n()
	s.First, s.Last = u.time(), u.time()
	s.Interval = u.dur()
	s.IntervalSource = u.name()
	s.Timeout, s.Mean, s.Jitter, s.MaxGap = u.dur(), u.dur(), u.dur(), u.dur()
	s.MaxGapAt = u.time()
	s.Missed = u.n()
	if n := u.count(); n >= 0 {
		s.Gaps = make([]Gap, n)
		for i := range s.Gaps {
			g := &s.Gaps[i]
			g.From, g.To = u.time(), u.time()
			g.Missed = u.n()
			v := u.uint()
			g.Trailing, g.Open = v&1 != 0, v&2 != 0
		}
	}
	s.GapsTruncated = u.uint() == 1
	s.Timers = u.n()
	if n := u.count(); n >= 0 {
		s.TimerOffsets = make([]time.Duration, n)
		for i := range s.TimerOffsets {
			s.TimerOffsets[i] = u.dur()
		}
	}
	s.Extra = u.n()
	s.ClockSteps = u.n()
	return s
}
