package health

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Report computes the health of every connection seen so far and groups
// them into reconnect groups. Call it after the input ends; it may be called
// again after more records.
func (t *Tracker) Report() *Report {
	for id := range t.packed {
		t.unpack(id)
	}
	r := &Report{}
	ids := make([]int, 0, len(t.conns))
	for id, st := range t.conns {
		st.conn(id)
		if st.c.Start.IsZero() && !st.c.Ended {
			continue // only beats from a decoder, no handshake: not a connection we know
		}
		ids = append(ids, id)
	}
	// By connection, then HTTP/2 stream (wsparse.SplitID): a connection's
	// WebSocket streams follow it.
	slices.SortFunc(ids, compareIDs)
	if len(ids) > 0 {
		r.Conns = make([]*Conn, 0, len(ids))
	}
	for _, id := range ids {
		st := t.conns[id]
		c := st.c
		st.fill(c, t.opts)
		st.noteSteps(c)
		r.Conns = append(r.Conns, c)
	}
	r.Groups, r.ConnectsUncounted = t.groups(len(r.Conns), func(i int) *Conn { return r.Conns[i] })
	r.HTTP2, r.HTTP2More, r.HTTP2MoreNotFollowed = t.h2, t.h2More, t.h2MoreNotFollowed
	r.ClockStepped = t.countStepped()
	return r
}

// compareIDs orders connections by connection, then HTTP/2 stream
// (wsparse.SplitID).
func compareIDs(a, b int) int {
	ca, sa := wsparse.SplitID(a)
	cb, sb := wsparse.SplitID(b)
	if ca != cb {
		return ca - cb
	}
	return int(sa) - int(sb)
}

// ReportEach is Report for a caller that reads each connection once, in
// order, by Report.Len, Conn and Release (Conns is nil): the results
// kept packed (FinishAtEnd) are made one at a time as they are read, not
// all at once (the 9 600 of a 3 GB capture were 17 MB).
func (t *Tracker) ReportEach() *Report {
	r := &Report{each: make([]eachConn, 0, len(t.conns)+len(t.packed))}
	for id, st := range t.conns {
		fresh := st.c == nil
		c := st.conn(id)
		if c.Start.IsZero() && !c.Ended {
			continue // only beats from a decoder, no handshake: not a connection we know
		}
		st.fill(c, t.opts)
		st.noteSteps(c)
		if fresh && st.beats == nil && t.finish {
			// A head with its end packed in it (ended kept it so, the
			// decoder's memory still held): packed now, as ended packs
			// the others, its result let go. Made for each at once, the
			// results of the 100 000 connections open at the end of a
			// capture were 90 MB.
			flags := byte(0)
			if st.head.stepped {
				flags |= packedStepped
			}
			if b, ok := packConn(append(t.scratch[:0], flags), c); ok {
				t.scratch = b[:0]
				if t.packed == nil {
					t.packed = map[int]string{}
				}
				t.packed[id] = string(b)
				delete(t.conns, id)
				continue // read from t.packed below
			}
		}
		r.each = append(r.each, eachConn{id: id, c: c})
	}
	for id, p := range t.packed {
		r.each = append(r.each, eachConn{id: id, p: p[1:]}) // its first byte is for unpack
	}
	slices.SortFunc(r.each, func(a, b eachConn) int { return compareIDs(a.id, b.id) })
	r.Groups, r.ConnectsUncounted = t.groups(len(r.each), r.Conn)
	r.HTTP2, r.HTTP2More, r.HTTP2MoreNotFollowed = t.h2, t.h2More, t.h2MoreNotFollowed
	r.ClockStepped = t.countStepped()
	return r
}

// noteSteps marks the connection (c its result) when the capture's clock
// stepped back between the beats of one of its series
// (Report.ClockStepped); End marks the connections whose last bytes came
// before their first. A mark in the connection's state, not a set of
// them beside: it grew with every connection that saw a step.
func (st *connState) noteSteps(c *Conn) {
	for _, s := range c.Heartbeats {
		if s.ClockSteps > 0 {
			st.head.stepped = true
			return
		}
	}
}

// countStepped counts the connections marked as having seen the clock
// step back, kept or packed.
func (t *Tracker) countStepped() int {
	n := 0
	for _, st := range t.conns {
		if st.head.stepped {
			n++
		}
	}
	for _, p := range t.packed {
		if p[0]&packedStepped != 0 {
			n++
		}
	}
	return n
}

// eachConn is a connection of a report made by ReportEach: its result,
// or it packed (packConn).
type eachConn struct {
	id int
	c  *Conn
	p  string
}

// Len is the number of connections of the report.
func (r *Report) Len() int {
	if r.each != nil {
		return len(r.each)
	}
	return len(r.Conns)
}

// Conn returns the report's connection i: Conns[i], or, of a report
// made by ReportEach, made from what was kept at each call.
func (r *Report) Conn(i int) *Conn {
	if r.each == nil {
		return r.Conns[i]
	}
	if e := r.each[i]; e.c != nil {
		return e.c
	}
	return unpackConn(r.each[i].id, r.each[i].p)
}

// Release lets go of connection i, which the caller reads no more.
func (r *Report) Release(i int) {
	if r.each == nil {
		r.Conns[i] = nil
		return
	}
	r.each[i] = eachConn{}
}

// Keep keeps the connections for which keep is true, in order.
func (r *Report) Keep(keep func(*Conn) bool) {
	if r.each == nil {
		r.Conns = slices.DeleteFunc(r.Conns, func(c *Conn) bool { return !keep(c) })
		return
	}
	kept := r.each[:0]
	for i, e := range r.each {
		if keep(r.Conn(i)) {
			kept = append(kept, e)
		}
	}
	clear(r.each[len(kept):])
	r.each = kept
}

// results gives the connection's ping results and heartbeat series: the
// ones made at its end (FinishAtEnd), else made now.
func (st *connState) results(o Options) (ping [2]PingStats, hb []*Series) {
	if b := st.beats; b != nil && b.final != nil {
		return b.final.ping, b.final.series
	}
	stop, open := st.stop(o)
	if st.beats != nil && st.beats.pings != nil {
		p := st.beats.pings
		grace := max(pingGraceMin, pingGraceRTTs*max(p[0].graceRTT, p[1].graceRTT))
		for d := range p {
			ping[d] = p[d].finish(stop.Add(-grace))
		}
	}
	hb = st.series(o)
	app := st.appSeries(stop, o)
	if open {
		for _, s := range app {
			s.markOpen(stop)
		}
	}
	return ping, append(hb, app...)
}

// fill sets c's ping results, heartbeat series and Close.App.
func (st *connState) fill(c *Conn, o Options) {
	c.Ping, c.Heartbeats = st.results(o)
	c.Close.App = nil
	if b := st.beats; b != nil && b.final != nil {
		c.Close.App = b.final.appEnd
	} else if b != nil {
		c.Close.App = b.appEnd
	}
}

// finish makes the connection's ping results and heartbeat series at its
// end and lets go of its beats (FinishAtEnd).
func (st *connState) finish(o Options) {
	if st.beats == nil || st.beats.final != nil {
		return
	}
	ping, hb := st.results(o)
	st.beats = &beatState{final: &finalBeats{ping: ping, series: hb, appEnd: st.beats.appEnd}}
}

// A ping is owed a pong once the peer had this long to answer before the
// connection's stop: the longer of pingGraceMin and pingGraceRTTs times its
// longest ping round trip (both sides' pings) of at most pingRTTJump. A
// longer one is the clock's jump between a ping and its pong (an NTP step
// forward, a pong stamped a year ahead, the capture clock's jump floor):
// 4 × an hour's jump made every ping of the last 4 h owed nothing.
const (
	pingGraceMin  = time.Second
	pingGraceRTTs = 4
	pingRTTJump   = time.Hour
)

// finish makes the ping results; due is the last time a ping could be
// sent and still be owed a pong (PingStats.OverdueTail).
func (p *pingTrack) finish(due time.Time) PingStats {
	s := p.stats
	s.Pings = p.n
	s.Answered = p.answered
	s.Unanswered = s.Pings - s.Answered
	s.UnansweredTail = s.Pings - p.maxAnswered
	s.OverdueTail = s.UnansweredTail
	if p.forgot.idx > p.maxAnswered {
		// The tail began among the pings forgotten (maxOutstanding),
		// long before the end: they count as overdue.
		s.UnansweredSince = p.forgot.ts
	}
	for _, q := range p.outstanding {
		if q.idx <= p.maxAnswered {
			continue // unanswered in the middle
		}
		if s.UnansweredSince.IsZero() {
			s.UnansweredSince = q.ts
		}
		if q.ts.After(due) {
			s.OverdueTail-- // too close to the end
		}
	}
	if p.answered > 0 {
		s.RTTMin, s.RTTMax = p.rttMin, p.rttMax
	}
	if len(p.rtts) > 0 { // all of them, but past maxRTTsKept
		r := slices.Clone(p.rtts)
		slices.Sort(r)
		s.RTTMedian = percentile(r, 50)
		s.RTTP95 = percentile(r, 95)
	}
	return s
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := int(math.Ceil(float64(p) / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// series builds the heartbeat series of a connection, by direction then kind.
func (st *connState) series(o Options) []*Series {
	var b beatState
	if st.beats != nil {
		b = *st.beats
	}
	keys := make([]seriesKey, 0, len(b.series))
	for k := range b.series {
		keys = append(keys, k)
	}
	stop, open := st.stop(o)
	for k, n := range b.negotiated {
		if b.series[k] == nil && promised(n) && due(n, stop, o) {
			keys = append(keys, k) // beats promised and none came: a series of none
		}
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return cmp.Or(cmp.Compare(a.dir, b.dir), cmp.Compare(a.kind, b.kind))
	})
	out := make([]*Series, 0, len(keys))
	for _, k := range keys {
		if k.kind == KindSTOMPFrame {
			continue
		}
		neg, agreed := b.negotiated[k]
		alive := &lifeSigns{}
		if f := b.series[seriesKey{k.dir, KindSTOMPFrame}]; f != nil && k.kind == "stomp" && neg.Interval > 0 {
			alive.t = f.times()
			slices.SortFunc(alive.t, func(a, b time.Time) int { return a.Compare(b) })
		}
		bs := b.series[k]
		if bs == nil {
			bs = &beatSeries{}
		}
		end, endOpen := stop, open
		if last, ok := b.lastAsked(k); ok && last.Before(stop) {
			// An answer (a pong) is due only while the other side asks:
			// when the pings stop, the answerer is not late.
			end, endOpen = last, false
		}
		s := buildSeries(k, bs, neg, agreed, alive, end, o)
		if endOpen {
			s.markOpen(end)
		}
		out = append(out, s)
	}
	return out
}

// lastAsked returns, for a series of answers, the time of the last beat
// that asked for one: the last WebSocket ping of the other side for its
// pongs (RFC 6455 §5.5.3), the last Engine.IO ping for its pongs (the
// side whose beats are pings, Beat.Key; without those, the side whose
// beats came first: the server in v4, the client in v3).
// ok is false for a series that answers nothing, or nothing that asked.
func (b *beatState) lastAsked(k seriesKey) (last time.Time, ok bool) {
	var ask *beatSeries
	switch k.kind {
	case KindWSPong:
		ask = b.series[seriesKey{1 - k.dir, KindWSPing}]
	case "engineio":
		ask = b.series[seriesKey{1 - k.dir, k.kind}]
		if p := b.eioPings; p[0] != p[1] {
			// The beats said which are pings (Beat.Key): their side asks,
			// though the capture lost its first.
			if p[k.dir&1] {
				return last, false
			}
			break
		}
		own := b.series[k]
		if ask == nil || own == nil {
			return last, false
		}
		af, aok := ask.first()
		of, ook := own.first()
		if !aok || !ook || !af.Before(of) {
			return last, false // this side beat first: it asks
		}
	}
	if ask == nil {
		return last, false
	}
	last, ok = ask.lastBeat()
	if ok && k.kind == KindWSPong && b.series[k].beatsAfter(last) > 1 {
		// Pongs went on after the last ping's answer: unsolicited ones, a
		// one-way heartbeat of their own (RFC 6455 §5.5.3), due to the end.
		return last, false
	}
	return last, ok
}

// promised reports whether a negotiation promised beats in its direction
// from a known time, so that a direction that sent none is judged: STOMP's
// heart-beat header (STOMP 1.2 § Heart-beating: the sender must send
// something at least every interval). Not Engine.IO, whose pongs answer
// pings, nor MQTT, whose client sends PINGREQ only when it has nothing
// else to send (and its other packets are not followed as signs of life).
func promised(n Negotiated) bool {
	return n.Kind == "stomp" && n.Interval > 0 && !n.At.IsZero()
}

// due reports whether a beat promised by n was due before stop: the
// direction stayed open past a late gap from the promise (or the clock
// stepped back over it). A connection that ended sooner owed none: no
// series, rather than one that says no beat came.
func due(n Negotiated, stop time.Time, o Options) bool {
	g := stop.Sub(n.At)
	return g > time.Duration(float64(n.Interval)*o.Tolerance) || g < -clockStepBack
}

// stop is when a connection's heartbeats stop being expected: its first
// Close, else its end, or the capture's end (open true) when it was
// still open then (CaptureEnd). A capture end before the connection's
// (its clock stepped back after) leaves its end.
func (st *connState) stop(o Options) (stop time.Time, open bool) {
	if st.beats != nil && !st.beats.firstClose.IsZero() {
		return st.beats.firstClose, false
	}
	if st.c == nil {
		_, stop = st.head.times()
	} else {
		stop = st.c.End
	}
	if st.beats == nil || !st.beats.open {
		return stop, false
	}
	end := o.captureEnd
	if o.endOf != nil {
		end = o.endOf(stop)
	}
	if end.After(stop) {
		return end, true
	}
	return stop, false
}

// markOpen marks the trailing gaps that run to end, the capture's end
// with the connection still open (Gap.Open).
func (s *Series) markOpen(end time.Time) {
	for i := range s.Gaps {
		if g := &s.Gaps[i]; g.Trailing && g.To.Equal(end) {
			g.Open = true
		}
	}
}

// flagKind reports whether --heartbeat-interval judges beats of this kind:
// the ones the application sends (WebSocket ping/pong, texts, application
// heartbeats), not a protocol's own timer that negotiates nothing (SockJS
// "h" frames, 25 s by default on the server), which keeps its own period.
func flagKind(kind string) bool {
	switch kind {
	case KindWSPing, KindWSPong, KindText, KindApp:
		return true
	}
	return false
}

// minObserved is the shortest interval inferred from the beats themselves:
// closer beats are bursts (several in one message), not a rhythm to judge.
const minObserved = 100 * time.Millisecond

// buildSeries measures one kind of beat in one direction. agreed is true
// when the protocol negotiated its keepalive, even if this direction
// agreed to none (neg.Interval 0): then nothing is inferred.
// alive are other signs of life of the direction, in time order (STOMP
// frames: KindSTOMPFrame): a late gap is judged between them.
func buildSeries(k seriesKey, bs *beatSeries, neg Negotiated, agreed bool, alive *lifeSigns, stop time.Time, o Options) *Series {
	arrived := bs.times()
	if segs := clockSegments(arrived); len(segs) > 1 {
		return buildStepped(k, segs, bs, neg, agreed, alive, stop, o)
	}
	return buildRun(k, arrived, bs, neg, agreed, alive, stop, o)
}

// buildRun is buildSeries for beats (kept, in arrival order) with no step
// back of the clock between them.
func buildRun(k seriesKey, beats []time.Time, bs *beatSeries, neg Negotiated, agreed bool, alive *lifeSigns, stop time.Time, o Options) *Series {
	slices.SortStableFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
	s := &Series{Kind: k.kind, Dir: k.dir, Count: len(beats) + bs.extra, Unmeasured: bs.extra}
	if len(beats) == 0 && bs.extra == 0 && promised(neg) {
		// Promised and never sent: one gap from the promise to the end.
		s.Interval, s.IntervalSource, s.Timeout = neg.Interval, "negotiated", neg.Timeout
		switch g := stop.Sub(neg.At); {
		case g > 0:
			s.MaxGap, s.MaxGapAt = g, neg.At
			s.judgeGaps(neg.At, stop, true, alive, o)
		case g < -clockStepBack:
			s.ClockSteps = 1 // the end before the promise: no gap to judge
		}
		return s
	}
	if len(beats) == 0 { // all past maxBeatsKept: counted, not measured
		s.First, s.Last = bs.last, bs.last
		return s
	}
	s.First, s.Last = beats[0], beats[len(beats)-1]
	if bs.extra > 0 && bs.last.After(s.Last) {
		// Rhythm and gaps are measured on the beats kept; the trailing gap
		// is from the last of all.
		s.Last = bs.last
	}
	// Beats decoded from one message share its time: for the rhythm they
	// are one beat.
	beats = slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
	gaps := make([]time.Duration, 0, len(beats))
	for i := 1; i < len(beats); i++ {
		gaps = append(gaps, beats[i].Sub(beats[i-1]))
	}
	var fit *timerFit
	switch {
	case neg.Interval > 0:
		s.Interval, s.IntervalSource, s.Timeout = neg.Interval, "negotiated", neg.Timeout
	case o.HeartbeatInterval > 0 && flagKind(k.kind):
		s.Interval, s.IntervalSource = o.HeartbeatInterval, "flag"
	case agreed:
		// The protocol said this direction need not beat: no judgement.
	case len(beats) >= MinBeats:
		// The period of the timer(s) that sent the beats, not the median
		// interval: bursts of several timers make that up (series.go).
		if fit = fitTimers(beats, o.Tolerance); fit != nil {
			s.Interval, s.IntervalSource = fit.period, "observed"
			break
		}
		sorted := slices.Clone(gaps)
		slices.Sort(sorted)
		// No period explains the beats: the median interval, unless it
		// leaves more beats missing than on time (the offset of bursts).
		if m := sorted[(len(sorted)-1)/2]; m >= minObserved {
			if f := chainBeats(beats, m, o.Tolerance); f == nil || !f.tooManyMissed() {
				s.Interval, s.IntervalSource = m, "observed"
			}
		}
	}
	if fit == nil && s.Interval > 0 && len(beats) >= MinBeats {
		// A given interval: the beats may still come from several timers.
		if f := chainBeats(beats, s.Interval, o.Tolerance); f != nil && len(f.timers) > 1 && f.plausible() {
			fit = f
		}
	}
	if len(gaps) > 0 {
		var sum float64
		for _, g := range gaps {
			sum += float64(g)
		}
		mean := sum / float64(len(gaps))
		var sq float64
		for _, g := range gaps {
			sq += (float64(g) - mean) * (float64(g) - mean)
		}
		s.Mean = time.Duration(mean)
		s.Jitter = time.Duration(math.Sqrt(sq / float64(len(gaps))))
	}
	for i, g := range gaps {
		if g > s.MaxGap {
			s.MaxGap, s.MaxGapAt = g, beats[i]
		}
	}
	trailing := stop.Sub(s.Last)
	if trailing > s.MaxGap {
		s.MaxGap, s.MaxGapAt = trailing, s.Last
	}
	if s.Interval <= 0 {
		return s
	}
	if fit != nil {
		fit.judge(s, stop, o)
	} else {
		late := time.Duration(float64(s.Interval) * o.Tolerance)
		for i, g := range gaps {
			if g > late {
				s.judgeGaps(beats[i], beats[i+1], false, alive, o)
			}
		}
		if trailing > late {
			s.judgeGaps(s.Last, stop, true, alive, o)
		}
	}
	if promised(neg) && beats[0].After(neg.At) {
		s.judgeLead(neg.At, beats[0], alive, o)
	}
	return s
}

// judgeLead judges the gap from the negotiation (at) to the first beat
// as any other: STOMP's heart-beats are due from CONNECTED on, and a
// first beat three intervals late is two missed. Its late gaps go first.
func (s *Series) judgeLead(at, first time.Time, alive *lifeSigns, o Options) {
	if g := first.Sub(at); g > s.MaxGap {
		s.MaxGap, s.MaxGapAt = g, at
	}
	lead := &Series{Interval: s.Interval}
	lead.judgeGaps(at, first, false, alive, o)
	if lead.Missed == 0 && len(lead.Gaps) == 0 {
		return
	}
	s.Missed += lead.Missed
	s.Gaps = append(lead.Gaps, s.Gaps...)
	if len(s.Gaps) > maxGapsListed {
		s.Gaps, s.GapsTruncated = s.Gaps[:maxGapsListed], true
	}
	s.GapsTruncated = s.GapsTruncated || lead.GapsTruncated
}

// addGap adds a late gap to s.
func (s *Series) addGap(g Gap) {
	s.Missed += g.Missed
	if len(s.Gaps) < maxGapsListed {
		s.Gaps = append(s.Gaps, g)
	} else {
		s.GapsTruncated = true
	}
}

// judgeGaps adds the late gaps from..to of s (its Interval set), split at
// the signs of life in it (alive). The late gaps between two signs are
// taken from alive's index, not walked: the runs of a series cut by steps
// of the clock overlap in time (clockSegments).
func (s *Series) judgeGaps(from, to time.Time, trailing bool, alive *lifeSigns, o Options) {
	late := time.Duration(float64(s.Interval) * o.Tolerance)
	t := alive.t
	cmpT := func(a, t time.Time) int { return a.Compare(t) }
	i, _ := slices.BinarySearchFunc(t, from, cmpT)
	end, _ := slices.BinarySearchFunc(t, to, cmpT) // the first sign at or after to
	if i < end {
		if g := t[i].Sub(from); g > late {
			s.addGap(Gap{From: from, To: t[i], Missed: max(int(math.Round(float64(g)/float64(s.Interval)))-1, 1)})
		}
		alive.index(late, s.Interval)
		lo, _ := slices.BinarySearch(alive.late, i)     // the late gaps t[j]..t[j+1]
		hi, _ := slices.BinarySearch(alive.late, end-1) // with i <= j < end-1
		for n := lo; n < hi; n++ {
			if len(s.Gaps) == maxGapsListed {
				s.GapsTruncated = true
				break
			}
			j := alive.late[n]
			s.Gaps = append(s.Gaps, Gap{From: t[j], To: t[j+1], Missed: alive.missed[n+1] - alive.missed[n]})
		}
		s.Missed += alive.missed[hi] - alive.missed[lo]
		from = t[end-1]
	}
	s.lastGap(from, to, trailing, late)
}

// lastGap adds the gap from the last sign of life to to when it is late
// (trailing: to is the end, not a beat).
func (s *Series) lastGap(from, to time.Time, trailing bool, late time.Duration) {
	switch g := to.Sub(from); {
	case g <= late:
	case trailing:
		s.addGap(Gap{From: from, To: to, Missed: max(int(g/s.Interval), 1), Trailing: true})
	default:
		// A beat ended the gap: the ones expected in between are missing.
		s.addGap(Gap{From: from, To: to, Missed: max(int(math.Round(float64(g)/float64(s.Interval)))-1, 1)})
	}
}
