package health

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Tracker is a pass-through wsparse.Sink that accumulates connection health.
// It is not safe for concurrent use (neither is the decoder feeding it).
type Tracker struct {
	next  wsparse.Sink
	opts  Options
	text  *regexp.Regexp // HeartbeatText anchored
	split bool           // text beats come through Beat (SplitText)
	conns map[int]*connState
	kept  int // beat times kept (maxBeatsKept)
	rtts  int // round trips kept (maxRTTsKept)
	// application heartbeat keys followed (maxAppKeysTotal)
	appKeys int
	finish  bool // FinishAtEnd
	// await: AwaitCaptureEnd, until CaptureEnd: the results of the
	// connections open at the end of the input wait for it.
	await bool
	// packed: with FinishAtEnd, the results of the connections that ended,
	// packed (packConn), by connection; scratch is the buffer they are
	// packed in.
	packed  map[int]string
	scratch []byte
	lazy    *lazyHeads // HeadsAtEnd: the connections whose head waits for their End (lazyhead.go)

	connects connects // of connections that never showed WebSocket (reconnect.go)
	// retryGroupsOnly: Report's groups are only those that may hold two
	// attempts or more (RetryGroupsOnly).
	retryGroupsOnly bool

	h2                []*HTTP2Conn // HTTP/2 connections (Summary.HTTP2), the first maxHTTP2Kept, then those not wholly followed
	h2More            int
	h2MoreNotFollowed int
}

// maxHTTP2Kept bounds the HTTP/2 connections a report lists, and
// maxHTTP2NotFollowedKept those not wholly followed it lists past them;
// the rest are counted (Report.HTTP2More, HTTP2MoreNotFollowed).
const (
	maxHTTP2Kept            = 1000
	maxHTTP2NotFollowedKept = 10000
)

type seriesKey struct {
	dir  wsparse.Dir
	kind string
}

type connState struct {
	// c is the connection's result, made by Report (or when its head
	// does not fit): until then it is head, its end packed in it once it
	// ended, or in end when that does not pack (80 bytes, not a Conn's
	// 760; compact.go).
	c     *Conn
	head  connHead
	beats *beatState // nil until the first ping, pong, beat, negotiated interval or Close
	end   *endState  // nil until the connection ends with what does not pack (packEnd)
}

// beatState is what a connection's heartbeats and pings need, made at the
// first: most open connections have none (a connState is 176 bytes, was
// 256 with these fields and the head's four strings).
type beatState struct {
	pings      *[2]pingTrack // by the pinging side's direction; made at the first ping or pong
	series     map[seriesKey]*beatSeries
	negotiated map[seriesKey]Negotiated
	firstClose time.Time
	// eioPings: the directions that sent Engine.IO pings (Beat.Key
	// "ping"): they ask, the other side's pongs answer (lastAsked).
	eioPings [2]bool
	// open: the connection was still open when the input ended
	// (wsparse.EndOpen): its beats are judged to the capture's end.
	open   bool
	app    *appState // application heartbeat candidates (appbeats.go)
	appEnd *AppEnd   // Close.App
	// final: the results, made at the connection's end (FinishAtEnd);
	// the other fields are then empty.
	final *finalBeats
}

// finalBeats is a connection's ping results and heartbeat series, made
// at its end (FinishAtEnd).
type finalBeats struct {
	ping   [2]PingStats
	series []*Series
	appEnd *AppEnd
}

// beatsOf returns the connection's heartbeat state, made at the first call.
func (st *connState) beatsOf() *beatState {
	if st.beats == nil {
		st.beats = new(beatState)
	}
	return st.beats
}

// conn returns the connection's result, made from its head and end at
// the first call.
func (st *connState) conn(id int) *Conn {
	if st.c == nil {
		h := &st.head
		host, uri, sub, ext := h.fields()
		client, server := h.addrs()
		start, end := h.times()
		c := &Conn{ID: id, Client: client, Server: server, Host: host, URI: uri, Status: int(h.status),
			Subprotocol: sub, Extensions: ext, Start: start, End: end, Encap: wsparse.EncapName(h.encap), Input: h.inputOf()}
		c.Path, c.Session = splitURI(uri)
		if e, ok := h.unpackEnd(); ok {
			e.apply(c)
		}
		if st.end != nil {
			st.end.apply(c)
		}
		st.c, st.head, st.end = c, connHead{stepped: h.stepped}, nil
	}
	return st.c
}

// pingTracks returns the connection's ping tracks, made at its first ping
// or pong: most connections have none.
func (st *connState) pingTracks() *[2]pingTrack {
	b := st.beatsOf()
	if b.pings == nil {
		b.pings = new([2]pingTrack)
	}
	return b.pings
}

// New returns a Tracker forwarding every record to next (which may be nil).
func New(next wsparse.Sink, opts Options) *Tracker {
	t := &Tracker{next: next, opts: opts.WithDefaults(), conns: map[int]*connState{}}
	if opts.HeartbeatText != nil {
		t.text = regexp.MustCompile(`^(?:` + opts.HeartbeatText.String() + `)$`)
	}
	return t
}

// FinishAtEnd makes each connection's ping results and heartbeat series
// when it ends, and lets go of its beats then, rather than keeping them
// all for Report: what the tracker holds no longer grows with the beats
// of the connections that ended (a long capture's thousands of them).
// For a caller whose records of a connection all come before its End (a
// decoder's stream: Beat and Negotiated come before the message they
// were found in) and that needs no BeatTimes: Report is then the same,
// but a connection's beats or End after its End change nothing.
func (t *Tracker) FinishAtEnd() { t.finish = true }

// CaptureEnd tells the tracker when the input ended: its last packet's
// time (a live capture's, when it stopped). A connection still open then
// (no FIN, RST nor Close: wsparse.EndOpen) is judged to that time, not to
// its own last byte: a heartbeat that stopped a minute before the capture
// ended is a minute late, though the connection's last byte was that
// beat. Call it once the input's records are all in, before Report. With
// FinishAtEnd, the results of the open connections, kept since their End
// (AwaitCaptureEnd), are made and packed now.
func (t *Tracker) CaptureEnd(ts time.Time) {
	t.opts.captureEnd, t.opts.endOf = ts, nil
	t.capturedEnd()
}

// CaptureEndOf is CaptureEnd for a capture whose clock jumped: endOf
// gives the end to which a connection still open is judged, from its own
// end (the end of the run of packets on one clock that holds it:
// pipeline's clock watch). As with CaptureEnd, an end before the
// connection's own leaves its own.
func (t *Tracker) CaptureEndOf(endOf func(own time.Time) time.Time) {
	t.opts.captureEnd, t.opts.endOf = time.Time{}, endOf
	t.capturedEnd()
}

// capturedEnd makes the results awaited (AwaitCaptureEnd), the capture's
// end known.
func (t *Tracker) capturedEnd() {
	if !t.await {
		return
	}
	t.await = false
	for id, st := range t.conns {
		if st.beats != nil && st.beats.open && st.beats.final == nil {
			t.ended(id, st)
		}
	}
}

// AwaitCaptureEnd is for a caller of FinishAtEnd that will call
// CaptureEnd: the connections open at the end of the input keep their
// beats at their End, to be judged to the capture's end. Without it, they
// are judged at their End, to their own end.
func (t *Tracker) AwaitCaptureEnd() { t.await = true }

func (t *Tracker) state(c *wsparse.Conn) *connState {
	return t.stateID(c.ID, c)
}

func (t *Tracker) stateID(id int, c *wsparse.Conn) *connState {
	st := t.conns[id]
	if st == nil {
		st = t.unpack(id) // a record after its End (FinishAtEnd): as it was
	}
	if st == nil {
		st = &connState{} // maps made at the first beat: most connections have none
		t.conns[id] = st
	}
	if c == nil {
		return st
	}
	if st.c == nil && st.head.ckind == addrNone && !st.head.setAddrs(c.Client(), c.Server()) {
		st.conn(id) // an address with a zone: the result now
	}
	if st.c != nil && !st.c.Client.IsValid() {
		st.c.Client, st.c.Server = c.Client(), c.Server()
	}
	st.setEncap(c)
	return st
}

// setEncap notes c's encapsulation and input in st's head or result.
func (st *connState) setEncap(c *wsparse.Conn) {
	if st.c != nil {
		st.c.Input = int32(c.Input())
	} else {
		st.head.setInput(c.Input())
	}
	switch {
	case c.EncapID() == 0:
	case st.c != nil:
		st.c.Encap = c.Encap()
	default:
		st.head.encap = c.EncapID()
	}
}

// Handshake implements wsparse.Sink.
func (t *Tracker) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if t.lazy != nil {
		if t.deferHead(c, h) {
			if t.next != nil {
				t.next.Handshake(c, h)
			}
			return
		}
		t.lazy.take(c.ID) // an earlier handshake's, if any: this one is the head
	}
	t.setHandshake(t.state(c), c, h)
	if t.next != nil {
		t.next.Handshake(c, h)
	}
}

// setHandshake sets the connection's head, or its result, from its
// handshake.
func (t *Tracker) setHandshake(st *connState, c *wsparse.Conn, h *wsparse.Handshake) {
	if st.c == nil {
		var hd connHead
		if hd.setConn(c.Client(), c.Server(), h) {
			if n := st.head.endN; n > 0 {
				// A handshake after an end: the end stays.
				hd.all, hd.endN = hd.all+st.head.all[len(st.head.all)-int(n):], n
			}
			hd.stepped = st.head.stepped
			st.head = hd
		} else {
			st.conn(c.ID) // does not fit (a long URI, an HTTP/2 :status out of range, a zone): the result now
		}
	}
	if x := st.c; x != nil {
		x.Client, x.Server = c.Client(), c.Server()
		x.Host, x.URI, x.Status = h.Host, h.URI, h.Status
		x.Path, x.Session = splitURI(h.URI)
		x.Subprotocol, x.Extensions = h.Subprotocol, h.Extensions
		x.Start, x.End = requestStart(h), h.TS
	}
	st.setEncap(c)
}

// Frame implements wsparse.Sink.
func (t *Tracker) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if f.Opcode != wsparse.OpPing && f.Opcode != wsparse.OpPong && f.Opcode != wsparse.OpClose && t.lazy.has(c.ID) {
		// Its head waits for its end (HeadsAtEnd): a data frame changes nothing.
		if t.next != nil {
			t.next.Frame(c, f)
		}
		return
	}
	st := t.state(c)
	switch f.Opcode {
	case wsparse.OpPing:
		p := &st.pingTracks()[f.Dir]
		p.n++
		if len(p.outstanding) == maxOutstanding {
			// Forget the older half: they stay unanswered. The first of
			// them after the latest answered ping is kept unless an
			// earlier one is: the unanswered tail may begin there
			// (PingStats.UnansweredSince).
			if p.forgot.idx <= p.maxAnswered {
				if i := slices.IndexFunc(p.outstanding[:maxOutstanding/2], func(q pendingPing) bool { return q.idx > p.maxAnswered }); i >= 0 {
					p.forgot = p.outstanding[i]
				}
			}
			p.outstanding = append(p.outstanding[:0], p.outstanding[maxOutstanding/2:]...)
		}
		p.outstanding = append(p.outstanding, pendingPing{idx: p.n, ts: f.TS, sum: payloadSum(f.Payload)})
		t.addBeat(st, f.Dir, KindWSPing, f.TS)
	case wsparse.OpPong:
		t.pong(st, f)
		t.addBeat(st, f.Dir, KindWSPong, f.TS)
	case wsparse.OpClose:
		if b := st.beatsOf(); b.firstClose.IsZero() {
			b.firstClose = f.TS
		}
	}
	if t.next != nil {
		t.next.Frame(c, f)
	}
}

// pong matches a pong to the oldest outstanding ping of the other side with
// the same payload, else to the oldest outstanding one.
func (t *Tracker) pong(st *connState, f *wsparse.Frame) {
	p := &st.pingTracks()[1-f.Dir]
	if len(p.outstanding) == 0 {
		p.stats.Unsolicited++
		return
	}
	sum := payloadSum(f.Payload)
	i := slices.IndexFunc(p.outstanding, func(q pendingPing) bool { return q.sum == sum })
	if i < 0 {
		i = 0
		p.stats.Mismatched++
	}
	q := p.outstanding[i]
	p.outstanding = slices.Delete(p.outstanding, i, i+1)
	p.answered++
	p.maxAnswered = max(p.maxAnswered, q.idx)
	rtt := f.TS.Sub(q.ts)
	if p.answered == 1 || rtt < p.rttMin {
		p.rttMin = rtt
	}
	if p.answered == 1 || rtt > p.rttMax {
		p.rttMax = rtt
	}
	if rtt <= pingRTTJump {
		p.graceRTT = max(p.graceRTT, rtt)
	}
	if t.rtts < maxRTTsKept {
		t.rtts++
		p.rtts = append(p.rtts, rtt)
	}
}

// Forwards returns the sink the tracker passes records on to (nil: none).
func (t *Tracker) Forwards() wsparse.Sink { return t.next }

// Message implements wsparse.Sink.
func (t *Tracker) Message(c *wsparse.Conn, m *wsparse.Message) {
	if !t.split && t.IsTextBeat(m) {
		t.addBeat(t.state(c), m.Dir, KindText, m.TS)
	}
	if t.next != nil {
		t.next.Message(c, m)
	}
}

// End implements wsparse.Sink.
func (t *Tracker) End(c *wsparse.Conn, s *wsparse.Summary) {
	if s.End == wsparse.EndNotWebSocket {
		// Not a WebSocket connection (wsparse.Config.EndAll): an attempt, maybe.
		t.notWebSocket(c, s)
		if t.next != nil {
			t.next.End(c, s)
		}
		return
	}
	// A step back over clockStepBack within it (its duration leaves it
	// out), or its last bytes before its first.
	stepped := s.SteppedBack > clockStepBack || !s.Last.IsZero() && s.First.Sub(s.Last) > clockStepBack
	var hs wsparse.Handshake
	packed := false // the end is in the head already
	if t.lazyHandshake(c, s, &hs) {
		// Its head waited for its end (HeadsAtEnd): made now, as its
		// handshake would have, its packed end in the same string.
		st := t.stateID(c.ID, nil)
		var buf [256]byte
		var hd connHead
		if b, ok := hd.endBytes(buf[:0], s); ok && st.c == nil && hd.setConnEnd(c.Client(), c.Server(), &hs, b) {
			hd.stepped = st.head.stepped
			st.head, packed = hd, true
			st.setEncap(c)
		} else {
			t.setHandshake(st, c, &hs)
		}
	}
	st := t.state(c)
	prev := st.endedBefore(c.ID, s)
	if stepped {
		// The clock stepped back within it: its duration leaves the
		// step out (the notice says so).
		st.head.stepped = true
	}
	if s.End == wsparse.EndOpen && st.beats != nil {
		st.beats.open = true
	}
	for d := range s.Close {
		if ci := s.Close[d]; ci.Sent {
			if b := st.beatsOf(); ci.TS.Before(b.firstClose) || b.firstClose.IsZero() {
				b.firstClose = ci.TS
			}
		}
	}
	if st.c == nil {
		h := st.head
		start, end := h.times()
		// A step back's length has no place in the head: the result now.
		if s.SteppedBack == 0 && h.setTimes(endTimes(start, end, s)) {
			if st.end != nil || !packed && !h.packEnd(s) {
				if st.end == nil {
					st.end = &endState{midstream: h.packedMidstream()}
				}
				h.dropEnd()
				st.end.update(s)
			}
			st.head = h
			t.ended(c.ID, st)
			if t.next != nil {
				t.next.End(c, s)
			}
			return
		}
		st.conn(c.ID) // a time out of range: the result now
	}
	x := st.c
	x.Start, x.End = endTimes(x.Start, x.End, s)
	x.SteppedBack = s.SteppedBack
	var e endState
	e.update(s)
	e.apply(x)
	if prev != nil {
		addResumed(x, prev)
	}
	t.ended(c.ID, st)
	if t.next != nil {
		t.next.End(c, s)
	}
}

// ended makes a connection's results at its end and keeps them packed
// (FinishAtEnd), its state let go.
func (t *Tracker) ended(id int, st *connState) {
	if !t.finish || t.await && st.beats != nil && st.beats.open && st.beats.final == nil {
		// Open at the end of the input: judged once the capture's end
		// is known (CaptureEnd).
		return
	}
	st.finish(t.opts)
	if st.c == nil && st.end == nil && st.beats == nil {
		// Its head with its end packed in it (packEnd) is as small, and
		// made without a result's garbage: the 100 000 connections open at
		// the end of a capture end at once, while the decoder holds theirs.
		return
	}
	c := st.conn(id)
	st.fill(c, t.opts)
	st.noteSteps(c)
	// The first byte says whether it had beats (packedBeats: a ping after
	// the End of one that had none is counted, as it is when nothing is
	// packed) and whether it saw the clock step back (packedStepped).
	flags := byte(0)
	if st.beats != nil {
		flags |= packedBeats
	}
	if st.head.stepped {
		flags |= packedStepped
	}
	b, ok := packConn(append(t.scratch[:0], flags), c)
	t.scratch = b[:0]
	if !ok {
		return // kept as it is
	}
	if t.packed == nil {
		t.packed = map[int]string{}
	}
	t.packed[id] = string(b)
	delete(t.conns, id)
}

// The flags of a packed connection's first byte.
const (
	packedBeats   = 1 << iota // it had beats
	packedStepped             // it saw the clock step back
)

// unpack makes connection id's state again from its packed result, as
// ended left it; nil when it has none.
func (t *Tracker) unpack(id int) *connState {
	p, ok := t.packed[id]
	if !ok {
		return nil
	}
	delete(t.packed, id)
	c := unpackConn(id, p[1:])
	st := &connState{c: c}
	st.head.stepped = p[0]&packedStepped != 0
	if p[0]&packedBeats != 0 {
		st.beats = &beatState{final: &finalBeats{ping: c.Ping, series: c.Heartbeats, appEnd: c.Close.App}}
	}
	t.conns[id] = st
	return st
}

// requestStart is when a connection starts by its handshake: its upgrade
// request, or the 101 when the capture lacks the request (a capture
// started after it, filtered to the servers' packets): the zero time
// made START -9223372036.855 and DUR 9223372037s.
func requestStart(h *wsparse.Handshake) time.Time {
	if h.RequestTS.IsZero() {
		return h.TS
	}
	return h.RequestTS
}

// endTimes gives a connection's start and end, given the ones it had, once
// it ended as s says: from the upgrade request (else its first byte) to
// its last byte or the FIN or RST that ended it. When the clock stepped
// back within it, the end is its last packet's time as it came, as every
// record says (the latest time seen was before the step).
func endTimes(start, end time.Time, s *wsparse.Summary) (time.Time, time.Time) {
	if s.Handshake != nil && !s.Handshake.RequestTS.IsZero() {
		start = s.Handshake.RequestTS
	} else {
		start = s.First
	}
	if s.SteppedBack > 0 && !s.Last.IsZero() {
		return start, s.Last
	}
	if s.Last.After(end) {
		end = s.Last
	}
	for _, ts := range s.TCPEndTS {
		if ts.After(end) {
			end = ts // the FIN or RST that ended it, after the last data
		}
	}
	return start, end
}

// Beat records a heartbeat found by an application-protocol decoder.
func (t *Tracker) Beat(b Beat) {
	switch b.Kind {
	case KindApp:
		t.addApp(t.stateID(b.Conn, nil), b)
		return
	case KindAppEnd:
		bs := t.stateID(b.Conn, nil).beatsOf()
		if bs.final == nil && (bs.appEnd == nil || b.Failed && !bs.appEnd.Failed) {
			bs.appEnd = &AppEnd{TS: b.TS, Dir: b.Dir, Text: b.Key, Failed: b.Failed}
		}
		return
	}
	st := t.stateID(b.Conn, nil)
	if b.Kind == "engineio" && b.Key == "ping" {
		st.beatsOf().eioPings[b.Dir&1] = true
	}
	t.addBeat(st, b.Dir, b.Kind, b.TS)
}

// Negotiated records the interval agreed for one kind of beat.
func (t *Tracker) Negotiated(n Negotiated) {
	b := t.stateID(n.Conn, nil).beatsOf()
	if b.negotiated == nil {
		b.negotiated = map[seriesKey]Negotiated{}
	}
	b.negotiated[seriesKey{n.Dir, n.Kind}] = n
}

func (t *Tracker) addBeat(st *connState, d wsparse.Dir, kind string, ts time.Time) {
	k := seriesKey{d, kind}
	b := st.beatsOf()
	bs := b.series[k]
	if bs == nil {
		bs = &beatSeries{}
		if b.series == nil {
			b.series = map[seriesKey]*beatSeries{}
		}
		b.series[k] = bs
	}
	if t.kept < maxBeatsKept {
		t.kept++
		bs.add(ts)
		return
	}
	if bs.extra == 0 || ts.After(bs.last) {
		bs.last = ts
	}
	bs.extra++
}

// splitURI returns the path of a request URI (SockJS session URLs
// normalised) and the SockJS session or Socket.IO sid it names.
func splitURI(uri string) (path, session string) {
	path, query, _ := strings.Cut(uri, "?")
	for kv := range strings.SplitSeq(query, "&") { // no list made: one URI a connection
		if v, ok := strings.CutPrefix(kv, "sid="); ok {
			session = v
		}
	}
	// SockJS: <prefix>/<server>/<session>/websocket (SockJS protocol,
	// "Session URLs"). Clients pick a numeric server id; requiring one
	// keeps plain paths ending in /websocket apart.
	if rest, ok := strings.CutSuffix(path, "/websocket"); ok {
		parts := strings.Split(rest, "/")
		if n := len(parts); n >= 3 && digits(parts[n-2]) && sockjsPart(parts[n-1]) {
			session = parts[n-1]
			path = strings.Join(parts[:n-2], "/") + "/*/*/websocket"
		}
	}
	return path, session
}

func sockjsPart(s string) bool { return s != "" && !strings.Contains(s, ".") }

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ConnectsKept counts the connections that never showed WebSocket kept as
// attempts so far (a refused, unanswered or closed connect, an HTTP
// request before an upgrade), at most maxConnectsKept: only those are
// named in a group's Attempts, the others counted (Group.Unlisted).
func (t *Tracker) ConnectsKept() int { return len(t.connects.kept) }
