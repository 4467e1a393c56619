package health

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// What the tracker keeps of a connection until Report makes its result
// (Conn, 760 bytes): the handshake's fields in a connHead, and, once it
// ended, what its end said packed at the end of the head's string
// (packEnd), else in an endState. 100 000 connections open at
// the end of a capture all end at once, when the decoder still holds
// theirs: a Conn each was 77 MB more on top of it in `wsdump conns`.

// connHead is what a connection's result takes from its handshake
// before Report: the addresses' bytes (4 or 16 each, by their kinds:
// packAddrs), then host, URI, subprotocol and extensions are one string
// (all) cut at hostN, uriN and subN; the times as Unix nanoseconds
// (packTime). 56 bytes (was 88 with the addresses as two [16]byte, the
// string 8 bytes longer for IPv4); a head that does not fit (a long URI,
// a time out of range, an address with a zone) is a Conn at once.
type connHead struct {
	all               string
	start, end        int64
	cport, sport      uint16
	hostN, uriN, subN uint16
	status            uint16
	ckind, skind      uint8 // addrNone, addr4, addr6
	tkinds            uint8 // the times' kinds: timeStartUTC, timeStartSet, timeEndUTC, timeEndSet
	endN              uint8 // the packed end at the end of all (packEnd); 0: none
	// stepped: the connection saw the capture's clock step back
	// (Report.ClockStepped). Kept when the head is replaced or the
	// result made (the head then holds nothing else): in its padding, no
	// byte more a connection.
	stepped bool
	// input is the connection's wsparse.Conn.Input (24 bits, in the
	// room the times' four bools took): the head stays 56 bytes.
	input [3]byte
	encap uint32 // wsparse.EncapID, in the padding
}

// The bits of connHead.tkinds (set false: the zero time).
const (
	timeStartUTC = 1 << iota
	timeStartSet
	timeEndUTC
	timeEndSet
)

// setInput keeps the input number i (wsparse.Conn.Input: at most
// wsparse.MaxInput).
func (h *connHead) setInput(i int) { h.input = [3]byte{byte(i), byte(i >> 8), byte(i >> 16)} }

// inputOf returns the number setInput kept.
func (h *connHead) inputOf() int32 {
	return int32(h.input[0]) | int32(h.input[1])<<8 | int32(h.input[2])<<16
}

// The kinds of a packed address.
const (
	addrNone = iota // the zero netip.Addr
	addr4
	addr6
)

// addrLen is the bytes of a packed address of kind k.
func addrLen(k uint8) int {
	switch k {
	case addr4:
		return 4
	case addr6:
		return 16
	}
	return 0
}

// addrsLen is the bytes of the head's addresses, at the start of all.
func (h *connHead) addrsLen() int { return addrLen(h.ckind) + addrLen(h.skind) }

// packAddrs gives the bytes of both addresses (b[:n]: 4 bytes an IPv4
// address, 16 an IPv6 one, none the zero one) and their kinds; ok is
// false for an address with a zone.
func packAddrs(client, server netip.Addr) (b [32]byte, n int, ck, sk uint8, ok bool) {
	ok = true
	kinds := [2]uint8{}
	for i, a := range [2]netip.Addr{client, server} {
		switch {
		case !a.IsValid():
		case a.Zone() != "":
			ok = false
		case a.Is4():
			kinds[i] = addr4
			a4 := a.As4()
			n += copy(b[n:], a4[:])
		default:
			kinds[i] = addr6
			a16 := a.As16()
			n += copy(b[n:], a16[:])
		}
	}
	return b, n, kinds[0], kinds[1], ok
}

func unpackAddr(b string, kind uint8) netip.Addr {
	switch kind {
	case addr4:
		return netip.AddrFrom4([4]byte([]byte(b[:4])))
	case addr6:
		return netip.AddrFrom16([16]byte([]byte(b[:16])))
	}
	return netip.Addr{}
}

// fields returns the head's host, URI, subprotocol and extensions.
func (h *connHead) fields() (host, uri, sub, ext string) {
	all := h.all[h.addrsLen() : len(h.all)-int(h.endN)]
	host, all = all[:h.hostN], all[h.hostN:]
	uri, all = all[:h.uriN], all[h.uriN:]
	return host, uri, all[:h.subN], all[h.subN:]
}

func (h *connHead) addrs() (client, server netip.AddrPort) {
	n := addrLen(h.ckind)
	return netip.AddrPortFrom(unpackAddr(h.all, h.ckind), h.cport), netip.AddrPortFrom(unpackAddr(h.all[n:], h.skind), h.sport)
}

// setAddrs sets the head's addresses; false when one does not fit.
func (h *connHead) setAddrs(client, server netip.AddrPort) bool {
	b, n, ck, sk, ok := packAddrs(client.Addr(), server.Addr())
	if old := h.all[:h.addrsLen()]; string(b[:n]) != old {
		h.all = string(b[:n]) + h.all[len(old):]
	}
	h.ckind, h.skind = ck, sk
	h.cport, h.sport = client.Port(), server.Port()
	return ok
}

// packTime gives t as Unix nanoseconds, whether it is in UTC and whether
// it is set (not the zero time); ok is false when t does not come back
// the same from them (another location, a monotonic reading, out of
// range).
func packTime(t time.Time) (ns int64, utc, set, ok bool) {
	if t.IsZero() {
		return 0, false, false, t == time.Time{}
	}
	if y := t.Year(); y < 1700 || y > 2200 {
		return 0, false, false, false
	}
	ns, utc = t.UnixNano(), t.Location() == time.UTC
	return ns, utc, true, unpackTime(ns, utc, true) == t
}

func unpackTime(ns int64, utc, set bool) time.Time {
	switch {
	case !set:
		return time.Time{}
	case utc:
		return time.Unix(0, ns).UTC()
	}
	return time.Unix(0, ns)
}

func (h *connHead) times() (start, end time.Time) {
	return unpackTime(h.start, h.tkinds&timeStartUTC != 0, h.tkinds&timeStartSet != 0),
		unpackTime(h.end, h.tkinds&timeEndUTC != 0, h.tkinds&timeEndSet != 0)
}

// setTimes sets the head's times; false when one does not fit.
func (h *connHead) setTimes(start, end time.Time) bool {
	var ok1, ok2, su, ss, eu, es bool
	h.start, su, ss, ok1 = packTime(start)
	h.end, eu, es, ok2 = packTime(end)
	h.tkinds = 0
	for i, b := range [4]bool{su, ss, eu, es} {
		if b {
			h.tkinds |= 1 << i
		}
	}
	return ok1 && ok2
}

// setConn sets the head from a connection's addresses and handshake;
// false when they do not fit.
func (h *connHead) setConn(client, server netip.AddrPort, hs *wsparse.Handshake) bool {
	return h.setConnEnd(client, server, hs, nil)
}

// setConnEnd is setConn with a packed end (endBytes) after the four: the
// head's string made once.
func (h *connHead) setConnEnd(client, server netip.AddrPort, hs *wsparse.Handshake, end []byte) bool {
	if len(hs.Host) > math.MaxUint16 || len(hs.URI) > math.MaxUint16 || len(hs.Subprotocol) > math.MaxUint16 ||
		hs.Status < 0 || hs.Status > math.MaxUint16 {
		return false
	}
	b, n, ck, sk, ok := packAddrs(client.Addr(), server.Addr())
	if !ok {
		return false
	}
	// One string for the addresses and the four, not pieces of the
	// handshake's (which hold all its fields: key, user agent, origin...).
	if end == nil {
		h.all = string(b[:n]) + hs.Host + hs.URI + hs.Subprotocol + hs.Extensions
	} else {
		var all strings.Builder
		all.Grow(n + len(hs.Host) + len(hs.URI) + len(hs.Subprotocol) + len(hs.Extensions) + len(end))
		all.Write(b[:n])
		all.WriteString(hs.Host)
		all.WriteString(hs.URI)
		all.WriteString(hs.Subprotocol)
		all.WriteString(hs.Extensions)
		all.Write(end)
		h.all = all.String()
	}
	h.endN = uint8(len(end))
	h.ckind, h.skind = ck, sk
	h.cport, h.sport = client.Port(), server.Port()
	h.hostN, h.uriN, h.subN = uint16(len(hs.Host)), uint16(len(hs.URI)), uint16(len(hs.Subprotocol))
	h.status = uint16(hs.Status)
	return h.setTimes(requestStart(hs), hs.TS)
}

// The kinds of end a packed end names (packEnd).
var packedEnds = [...]wsparse.End{wsparse.EndClean, wsparse.EndCloseUnanswered, wsparse.EndFINWithoutClose,
	wsparse.EndRSTWithoutClose, wsparse.EndOpen, wsparse.EndNotUpgraded}

// The flags of a packed end.
const (
	endFin0 = 1 << iota
	endFin1
	endRst0
	endRst1
	endMidstream
	endClean
	endFirst0
	endFirst1
)

// packEnd keeps what the connection's end said at the end of the head's
// all, as bytes: its flags, its kind, its anomalies and its traffic
// counts (packStats), when it has nothing else (no Close frame, no
// fallback session, no HTTP/2 stream end: the connections open at the end
// of a capture): 30-odd bytes more in one string, made at once, not an
// endState of 96 bytes and its counts (and their garbage) while the
// decoder ends 100 000 connections. An earlier packed end is replaced (a
// connection without handshake stays one); false when the end does not
// pack: the head is then as it was.
func (h *connHead) packEnd(s *wsparse.Summary) bool {
	var buf [256]byte
	b, ok := h.endBytes(buf[:0], s)
	if !ok {
		return false
	}
	// One string made (a concatenation would copy b first: it is longer
	// than the 32 bytes a conversion borrows from the stack).
	var all strings.Builder
	base := h.all[:len(h.all)-int(h.endN)]
	all.Grow(len(base) + len(b))
	all.WriteString(base)
	all.Write(b)
	h.all, h.endN = all.String(), uint8(len(b))
	return true
}

// endBytes appends the packed end of s to buf (packEnd); false when the
// end does not pack.
func (h *connHead) endBytes(buf []byte, s *wsparse.Summary) ([]byte, bool) {
	kind := slices.Index(packedEnds[:], s.End)
	if kind < 0 || s.Fallback != nil || s.StreamEnd != "" || s.Close[0].Sent || s.Close[1].Sent || s.TLS != nil && s.TLS.Stopped {
		return nil, false
	}
	b := append(buf, 0, byte(kind))
	b = binary.AppendUvarint(b, uint64(s.Anomalies))
	b = packStats(b, &s.Stats)
	if len(b) > math.MaxUint8 {
		return nil, false
	}
	var fl byte
	first := s.TCPFirst()
	for d, set := range [...]bool{s.TCPFin[0], s.TCPFin[1], s.TCPRst[0], s.TCPRst[1], s.Handshake == nil || h.packedMidstream(),
		s.End == wsparse.EndClean && s.Anomalies&wsparse.AnomDataAfterClose == 0, first[0], first[1]} {
		if set {
			fl |= 1 << d
		}
	}
	b[0] = fl
	return b, true
}

// packedMidstream reports whether a packed end says the connection had no
// handshake.
func (h *connHead) packedMidstream() bool {
	return h.endN > 0 && h.all[len(h.all)-int(h.endN)]&endMidstream != 0
}

// dropEnd removes the packed end, if any.
func (h *connHead) dropEnd() {
	h.all, h.endN = h.all[:len(h.all)-int(h.endN)], 0
}

// unpackEnd gives the endState of the packed end (its stats a part of
// all: no copy); false when there is none.
func (h *connHead) unpackEnd() (endState, bool) {
	if h.endN == 0 {
		return endState{}, false
	}
	p := h.all[len(h.all)-int(h.endN):]
	fl := p[0]
	e := endState{end: packedEnds[p[1]], midstream: fl&endMidstream != 0, clean: fl&endClean != 0,
		tcpFin: [2]bool{fl&endFin0 != 0, fl&endFin1 != 0}, tcpRst: [2]bool{fl&endRst0 != 0, fl&endRst1 != 0},
		tcpFirst: [2]bool{fl&endFirst0 != 0, fl&endFirst1 != 0}}
	r := statsReader{b: p[2:]}
	e.anomalies = wsparse.Anomalies(r.uint())
	e.dataAfter = e.anomalies&wsparse.AnomDataAfterClose != 0
	e.stats = r.b
	return e, true
}

// endState is what a connection's end said, kept until Report makes its
// result (apply) when it does not pack into the head (packEnd): 96 bytes
// and its packed traffic counts, not a Conn.
type endState struct {
	stats     string // [2]wsparse.DirStats, packed (packStats)
	anomalies wsparse.Anomalies
	fallback  *wsparse.FallbackSummary
	end       wsparse.End
	streamEnd string
	tlsStop   string // wsparse.TLSInfo.StopText
	frames    [2]*CloseFrame
	tcpFin    [2]bool
	tcpRst    [2]bool
	tcpFirst  [2]bool
	initiator wsparse.Dir
	midstream bool // no handshake: Conn.Midstream
	dataAfter bool
	clean     bool
}

// update sets e from the summary of the connection's end, as End once
// set the result's fields (a Close frame stays from an earlier end).
func (e *endState) update(s *wsparse.Summary) {
	var buf [256]byte
	e.stats = string(packStats(buf[:0], &s.Stats))
	e.anomalies = s.Anomalies
	if s.Fallback != nil {
		e.fallback = s.Fallback
	}
	e.end, e.tcpFin, e.tcpRst, e.tcpFirst, e.streamEnd = s.End, s.TCPFin, s.TCPRst, s.TCPFirst(), s.StreamEnd
	if s.TLS != nil {
		e.tlsStop = s.TLS.StopText()
	}
	e.dataAfter = s.Anomalies&wsparse.AnomDataAfterClose != 0
	for d := range s.Close {
		ci := s.Close[d]
		if !ci.Sent {
			continue
		}
		cf := &CloseFrame{TS: ci.TS, Code: ci.Code, HasCode: ci.HasCode, Reason: ci.Reason}
		if ci.HasCode {
			cf.Name = wsparse.CloseCodeName(ci.Code)
		}
		e.frames[d] = cf
	}
	e.initiator = s.Initiator // the result's when it has a Close frame
	e.clean = s.End == wsparse.EndClean && !e.dataAfter
	if s.Handshake == nil {
		e.midstream = true
	}
}

// apply sets the result's fields from e.
func (e *endState) apply(x *Conn) {
	x.Ended = true
	x.Midstream = x.Midstream || e.midstream
	unpackStats(&x.Stats, e.stats)
	x.Anomalies = e.anomalies
	if f := e.fallback; f != nil {
		x.Transport, x.HTTPConns, x.HTTPRequests = f.Transport, f.Conns, f.Requests
	}
	cl := &x.Close
	cl.End, cl.TCPFin, cl.TCPRst, cl.TCPFirst, cl.StreamEnd, cl.TLSStopped = e.end, e.tcpFin, e.tcpRst, e.tcpFirst, e.streamEnd, e.tlsStop
	cl.DataAfterClose = e.dataAfter
	for d, f := range e.frames {
		if f != nil {
			cl.Frames[d] = f
		}
	}
	if cl.Frames[0] != nil || cl.Frames[1] != nil {
		cl.Initiator = e.initiator.Side()
	}
	cl.Clean = e.clean
}

// packStats appends both directions' counts as varints: most are small
// or zero. unpackStats reads them back; TestPackStats checks every field
// of wsparse.DirStats comes back.
func packStats(b []byte, st *[2]wsparse.DirStats) []byte {
	for d := range st {
		s := &st[d]
		b = binary.AppendVarint(b, int64(s.Frames))
		b = binary.AppendVarint(b, int64(s.Messages))
		b = binary.AppendVarint(b, int64(s.ControlFrames))
		b = binary.AppendUvarint(b, s.PayloadBytes)
		b = binary.AppendUvarint(b, s.WireBytes)
		b = binary.AppendUvarint(b, s.LostBytes)
		b = binary.AppendUvarint(b, s.SkippedBytes)
		b = binary.AppendVarint(b, int64(s.Resyncs))
		b = binary.AppendVarint(b, int64(s.Conflicts))
		b = binary.AppendVarint(b, int64(s.Urgent))
		b = binary.AppendVarint(b, int64(s.CompressedMessages))
		b = binary.AppendUvarint(b, s.CompressedBytes)
		b = binary.AppendUvarint(b, s.InflatedBytes)
	}
	return b
}

func unpackStats(st *[2]wsparse.DirStats, b string) {
	r := statsReader{b: b}
	r.stats(st)
}

// stats reads both directions' counts (packStats).
func (r *statsReader) stats(st *[2]wsparse.DirStats) {
	for d := range st {
		s := &st[d]
		s.Frames = int(r.int())
		s.Messages = int(r.int())
		s.ControlFrames = int(r.int())
		s.PayloadBytes = r.uint()
		s.WireBytes = r.uint()
		s.LostBytes = r.uint()
		s.SkippedBytes = r.uint()
		s.Resyncs = int(r.int())
		s.Conflicts = int(r.int())
		s.Urgent = int(r.int())
		s.CompressedMessages = int(r.int())
		s.CompressedBytes = r.uint()
		s.InflatedBytes = r.uint()
	}
}

type statsReader struct{ b string }

func (r *statsReader) uint() uint64 {
	var v uint64
	for i := 0; i < len(r.b); i++ {
		c := r.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.b = r.b[i+1:]
			return v
		}
	}
	r.b = ""
	return v
}

func (r *statsReader) int() int64 {
	u := r.uint()
	return int64(u>>1) ^ -int64(u&1)
}
