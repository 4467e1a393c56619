package health

import (
	"cmp"
	"container/heap"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Group is one client's attempts to stay connected to one application:
// the connections from one client IP to one Host and base URL, with the
// TCP connects to the same server that got no further (refused or
// unanswered) and the HTTP requests that precede an upgrade (SockJS /info,
// the Engine.IO handshake poll).
type Group struct {
	ClientIP netip.Addr
	Server   netip.AddrPort // of its first attempt
	Host     string
	// Path is the application's base URL: SockJS's prefix before
	// /{server}/{session}/websocket or /info, Socket.IO's path, else the
	// WebSocket's path; "" for a group of TCP connects only.
	Path     string
	Attempts []Attempt
	// Unlisted counts the connects past the tracker's bound on those it
	// keeps (maxConnectsKept): in Refused and Failed, not in Attempts.
	Unlisted int
	// Refused counts the attempts the server turned away: a connect
	// answered by RST, an upgrade answered other than 101. Failed counts
	// the other attempts that got no WebSocket: a connect never answered,
	// an upgrade request never answered, an HTTP request before an upgrade
	// that failed or led to none. Errors counts upgraded connections that
	// ended in error.
	Refused, Failed, Errors int
	// InFlight counts the attempts in flight when the capture ended
	// (Attempt.InFlight): in neither Refused nor Failed.
	InFlight int
	// Outage is the longest time from a good (upgraded) connection's end
	// to the start of the next good one that a retry opened; Outages
	// counts those. DownAtEnd: after the last good connection's end only
	// failed attempts came, the last of them ending this long after it
	// (attempts in flight at the capture's end not counted: they may
	// have worked).
	Outage    time.Duration
	Outages   int
	DownAtEnd time.Duration
	// MaxParallel is the most attempts open at once.
	MaxParallel int
	// MaxInWindow is the most attempts of the retry loop (retries and the
	// attempts they retried) that started within StormWindow; Storm is
	// MaxInWindow >= StormAttempts.
	MaxInWindow int
	Storm       bool
	// encap is Encap's wsparse.EncapID (a number, not a string: Group
	// stays in its size class), tenant its number in the report's
	// tenants.
	encap, tenant uint32
	// Backoff is the rhythm of the retries' delays: "fixed" (all within 25 %
	// of their median, BackoffInterval), "exponential" (each 1.3-3 × the one
	// before, then possibly capped), "increasing", "random", or "" with
	// fewer than 2 retries.
	Backoff         string
	BackoffInterval time.Duration
}

// Attempt is one attempt of a group: a connection, with the HTTP requests
// that preceded it.
type Attempt struct {
	Conn int
	// Via lists the connections of the HTTP requests made for this attempt
	// before it (SockJS /info, Engine.IO's handshake poll).
	Via     []int
	Start   time.Time // of the first request or connect
	End     time.Time
	Status  int
	Outcome string // see Outcome*
	Session string
	// After is the time from the end of the previous attempt to this
	// one's start; HasAfter is false for the first attempt and for one
	// that started while another was open (Concurrent): those are not
	// retries of each other. After is never negative.
	After      time.Duration
	HasAfter   bool
	Concurrent bool
	// Retry: the previous attempt had ended without a clean close (its
	// delay is part of the group's rhythm).
	Retry bool
	// Outage is the time since the last good connection's end, on a good
	// connection that a retry opened.
	Outage    time.Duration
	HasOutage bool
	// InFlight: the attempt was still waiting for its answer when the
	// capture ended: a TCP connect never answered, an upgrade request or
	// an HTTP request before one never answered, or an HTTP request
	// answered and no upgrade yet, that started (a connect: its last SYN
	// was sent) at most inFlightWindow before the capture's end and that
	// no later attempt followed. Its
	// Outcome is what the capture shows (timeout, no_response,
	// http_timeout, http_only); it counts as neither failed nor good: a
	// capture cut is no evidence the client did not recover. A
	// connection a FIN or RST ended (either side's) was answered, or
	// given up: not in flight, whenever it ended.
	InFlight bool
	// tcpEnded: its TCP connection ended, a FIN or RST from either side
	// (of an upgrade, its own connection's; of a request, the one that
	// carried it).
	tcpEnded bool
}

// Attempt outcomes.
const (
	OutcomeConnRefused = "conn_refused" // the TCP connect was answered by RST
	OutcomeTimeout     = "timeout"      // the TCP connect was never answered
	OutcomeConnClosed  = "conn_closed"  // the TCP connect was accepted, then the server closed it (FIN) before any byte
	OutcomeConnReset   = "conn_reset"   // the TCP connect was accepted, then the server reset it (RST) before any byte
	OutcomeHTTPError   = "http_error"   // an HTTP request before the upgrade failed
	OutcomeHTTPTimeout = "http_timeout" // an HTTP request before the upgrade got no answer before the next attempt
	OutcomeHTTPOnly    = "http_only"    // an HTTP request before the upgrade, and no upgrade followed
	OutcomeRefused     = "refused"      // the upgrade got an answer other than 101
	OutcomeNoResponse  = "no_response"  // the upgrade request got no answer
	OutcomeError       = "error"        // upgraded, then ended without a clean 1000/1001 close, or its application said it failed (Close.App)
	OutcomeOK          = "ok"           // upgraded, closed cleanly with 1000, 1001 or no code
	OutcomeOpen        = "open"         // still open when the capture ended
)

// Failed reports whether an attempt never got a WebSocket.
func (a Attempt) Failed() bool {
	switch a.Outcome {
	case OutcomeError, OutcomeOK, OutcomeOpen:
		return false
	}
	return true
}

// Refused reports whether the server turned the attempt away.
func (a Attempt) Refused() bool {
	return a.Outcome == OutcomeConnRefused || a.Outcome == OutcomeRefused
}

// What the tracker keeps of connections that never showed WebSocket: a
// flood of SYNs must not grow it without bound. Past maxConnectsKept
// connects are counted by client IP and server (up to maxConnectKeys of
// those), then in Report.ConnectsUncounted.
const (
	maxConnectsKept = 1 << 14
	maxConnectKeys  = 1 << 12
	// preludeWindow: an HTTP request precedes an upgrade that starts at
	// most this long after it.
	preludeWindow = 10 * time.Second
	// inFlightWindow: an attempt still unanswered at the capture's end
	// that started (a connect: its last SYN) at most this long before it is in flight
	// (Attempt.InFlight); one that started earlier failed. It is
	// preludeWindow: the time the grouping gives an answered request for
	// its upgrade to follow.
	inFlightWindow = preludeWindow
)

// connect is a connection that never showed WebSocket and counts as an
// attempt: a TCP connect refused or unanswered, or an HTTP request that
// precedes an upgrade (req set).
type connect struct {
	conn       int
	encap      uint32 // wsparse.EncapID
	client     netip.Addr
	server     netip.AddrPort
	start, end time.Time
	outcome    string
	status     int
	req        *prelude
	tcpEnded   bool // a FIN or RST from either side
}

type prelude struct {
	host, base string
	answered   time.Time // zero: never
}

type connectKey struct {
	client netip.Addr
	server netip.AddrPort
}

type connectCount struct{ refused, failed int }

// connects is what the tracker keeps of connections that never showed
// WebSocket.
type connects struct {
	kept      []connect
	over      map[overKey]*connectCount
	uncounted int
}

func (cs *connects) add(x connect) {
	if len(cs.kept) < maxConnectsKept {
		cs.kept = append(cs.kept, x)
		return
	}
	k := overKey{x.client, x.server, x.encap}
	n := cs.over[k]
	if n == nil {
		if len(cs.over) >= maxConnectKeys {
			cs.uncounted++
			return
		}
		if cs.over == nil {
			cs.over = map[overKey]*connectCount{}
		}
		n = &connectCount{}
		cs.over[k] = n
	}
	if x.outcome == OutcomeConnRefused {
		n.refused++
	} else {
		n.failed++
	}
}

// notWebSocket keeps what a connection that never showed WebSocket says of
// a client's attempts: its refused or unanswered connect, or its HTTP
// requests that precede an upgrade.
func (t *Tracker) notWebSocket(c *wsparse.Conn, s *wsparse.Summary) {
	client, server := c.Client(), c.Server()
	encap := c.EncapID()
	end := s.Last
	tcpEnded := false
	for _, ts := range s.TCPEndTS {
		if ts.After(end) {
			end = ts
		}
		tcpEnded = tcpEnded || !ts.IsZero()
	}
	if h := s.HTTP2; h != nil {
		// Past the first maxHTTP2Kept, those not wholly followed are kept
		// still (a WebSocket may be in what was not decoded), up to
		// maxHTTP2NotFollowedKept more: they were counted with the others.
		notAll := s.H2NotFollowed()
		if len(t.h2) < maxHTTP2Kept || notAll && len(t.h2) < maxHTTP2Kept+maxHTTP2NotFollowedKept {
			t.h2 = append(t.h2, &HTTP2Conn{ID: c.ID, Client: client, Server: server, Start: s.First, End: end,
				Streams: h.Streams, Requests: h.Requests, WebSockets: h.WebSockets, RequestBytes: h.RequestBytes, GoAway: h.GoAway, Anomalies: s.Anomalies,
				NotFollowed: h.NotFollowed, SkippedBytes: s.Stats[0].SkippedBytes + s.Stats[1].SkippedBytes, LostBytes: s.Stats[0].LostBytes + s.Stats[1].LostBytes,
				SteppedBack: s.SteppedBack})
		} else {
			t.h2More++
			if notAll {
				t.h2MoreNotFollowed++
			}
		}
	}
	switch s.Connect {
	case wsparse.ConnectRefused:
		t.connects.add(connect{conn: c.ID, encap: encap, client: client.Addr(), server: server, start: s.First, end: end, outcome: OutcomeConnRefused})
		return
	case wsparse.ConnectUnanswered:
		t.connects.add(connect{conn: c.ID, encap: encap, client: client.Addr(), server: server, start: s.First, end: end, outcome: OutcomeTimeout})
		return
	case wsparse.ConnectClosed, wsparse.ConnectReset:
		// Accepted and closed or reset at once: an attempt that failed.
		if out, ok := closedOutcome(s); ok {
			t.connects.add(connect{conn: c.ID, encap: encap, client: client.Addr(), server: server, start: s.First, end: end, outcome: out, tcpEnded: true})
		}
		return
	}
	for _, r := range s.Requests {
		base, ok := preludeBase(r.Method, r.URI)
		if !ok {
			continue
		}
		out := OutcomeHTTPOnly
		if r.Status < 200 || r.Status >= 400 {
			out = OutcomeHTTPError
		}
		t.connects.add(connect{conn: c.ID, encap: encap, client: client.Addr(), server: server, start: r.TS, end: r.TS,
			outcome: out, status: r.Status, req: &prelude{host: r.Host, base: base, answered: r.RespTS}, tcpEnded: tcpEnded})
	}
}

// preludeBase reports whether an HTTP request precedes an upgrade, and the
// application's base URL: SockJS's GET <prefix>/info, Engine.IO's
// handshake poll (EIO= and transport=polling, no sid yet).
func preludeBase(method, uri string) (string, bool) {
	path, query, _ := strings.Cut(uri, "?")
	if method != "GET" {
		return "", false
	}
	if p, ok := strings.CutSuffix(path, "/info"); ok {
		return cmp.Or(p, "/"), true
	}
	var eio, polling, sid bool
	for _, kv := range strings.Split(query, "&") {
		eio = eio || strings.HasPrefix(kv, "EIO=")
		polling = polling || kv == "transport=polling"
		sid = sid || strings.HasPrefix(kv, "sid=")
	}
	if eio && polling && !sid {
		return path, true
	}
	return "", false
}

// baseOf is the base URL of a WebSocket's path (splitURI's): a SockJS
// session URL's prefix.
func baseOf(path string) string {
	if p, ok := strings.CutSuffix(path, "/*/*/websocket"); ok {
		return cmp.Or(p, "/")
	}
	return path
}

// item is one connection or request of a group, before attempts are made
// of them.
type item struct {
	conn       int
	start, end time.Time
	status     int
	outcome    string
	session    string
	prelude    bool
	answered   time.Time // a prelude's answer; zero: none
	via        []int     // a fallback session's first HTTP connection
	tcpEnded   bool      // Attempt.tcpEnded
}

type groupKey struct {
	ip         netip.Addr
	host, path string
}

// groups puts connections, connects and requests into reconnect groups,
// ordered by their first attempt, and counts the connects in none: groups
// of connects only (no URL) are made for maxConnectKeys connects kept and
// as many client and server pairs counted, so that a flood from many
// clients is counted rather than grouped.
func (t *Tracker) groups(n int, conn func(i int) *Conn) ([]*Group, int) {
	var lone []bool // retryGroupsOnly: the connections in no group of two attempts
	size := n
	if t.retryGroupsOnly {
		lone, size = t.loneConns(n, conn)
	}
	// Sized for a group each (clients that connected once): growing them
	// was a third of the grouping on 100 000 connections.
	byKey := make(map[groupKey]*Group, size)
	items := make(map[*Group][]item, size)
	var out []*Group
	var ts tenants
	var byTenant map[tenantGroupKey]*Group
	group := func(k groupKey, tenant uint32, server netip.AddrPort) *Group {
		var g *Group
		if tenant == 0 {
			g = byKey[k]
		} else {
			g = byTenant[tenantGroupKey{k, tenant}]
		}
		if g == nil {
			g = &Group{ClientIP: k.ip, Server: server, Host: k.host, Path: k.path, encap: wsparse.EncapID(ts.name(tenant)), tenant: tenant}
			if tenant == 0 {
				byKey[k] = g
			} else {
				if byTenant == nil {
					byTenant = map[tenantGroupKey]*Group{}
				}
				byTenant[tenantGroupKey{k, tenant}] = g
			}
			out = append(out, g)
		}
		return g
	}
	// By client IP and server: the groups a connect without a URL may
	// belong to.
	byServer := make(map[connectKey][]*Group, size)
	note := func(g *Group, server netip.AddrPort) {
		k := connectKey{g.ClientIP, server} // of every tenant: the callers pick theirs
		if !slices.Contains(byServer[k], g) {
			byServer[k] = append(byServer[k], g)
		}
	}
	var pathless []item
	var pathlessKey []connectKey
	var pathlessTenant []uint32
	for i := range n {
		if lone != nil && lone[i] {
			continue
		}
		c := conn(i)
		it := item{conn: c.ID, start: c.Start, end: attemptEnd(c), status: c.Status, outcome: outcome(c), session: c.Session,
			tcpEnded: c.Close.TCPFin != [2]bool{} || c.Close.TCPRst != [2]bool{}}
		if len(c.HTTPConns) > 0 {
			// A SockJS or Engine.IO session over HTTP: its first request
			// (the handshake poll) is its way in.
			it.via = c.HTTPConns[:1]
		}
		tenant := ts.of(c.Encap)
		if c.Host == "" && c.Path == "" {
			// No handshake: a URL unknown, like a connect's.
			pathless = append(pathless, it)
			pathlessKey = append(pathlessKey, connectKey{c.Client.Addr(), c.Server})
			pathlessTenant = append(pathlessTenant, tenant)
			continue
		}
		g := group(groupKey{c.Client.Addr(), c.Host, baseOf(c.Path)}, tenant, c.Server)
		items[g] = append(items[g], it)
		note(g, c.Server)
	}
	nConns := len(pathless) // connections without a handshake, before the connects
	for _, x := range t.connects.kept {
		it := item{conn: x.conn, start: x.start, end: x.end, status: x.status, outcome: x.outcome, tcpEnded: x.tcpEnded}
		if x.req == nil {
			pathless = append(pathless, it)
			pathlessKey = append(pathlessKey, connectKey{x.client, x.server})
			pathlessTenant = append(pathlessTenant, ts.of(wsparse.EncapName(x.encap)))
			continue
		}
		it.prelude, it.answered = true, x.req.answered
		g := group(groupKey{x.client, x.req.host, x.req.base}, ts.of(wsparse.EncapName(x.encap)), x.server)
		items[g] = append(items[g], it)
		note(g, x.server)
	}
	for g := range items {
		slices.SortStableFunc(items[g], func(a, b item) int { return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.conn, b.conn)) })
	}
	// A connect without a URL (or a connection without a handshake) goes
	// to the group of its client and server with the latest attempt
	// before it, else the first after it; with none, to a group of its
	// own (connects: up to maxConnectKeys of those, then counted).
	own, uncounted := 0, 0 // groups of connects only, and connects in none
	for i, it := range pathless {
		k := pathlessKey[i]
		var best *Group
		var bestAt time.Time
		before := false
		for _, g := range byServer[k] {
			if g.tenant != pathlessTenant[i] {
				continue
			}
			its := items[g]
			j, _ := slices.BinarySearchFunc(its, it.start, func(x item, t time.Time) int { return x.start.Compare(t) })
			switch {
			case j > 0 && (!before || its[j-1].start.After(bestAt)):
				best, bestAt, before = g, its[j-1].start, true
			case j == 0 && !before && (best == nil || its[0].start.Before(bestAt)):
				best, bestAt = g, its[0].start
			}
		}
		if best == nil {
			if i >= nConns {
				if own >= maxConnectKeys {
					uncounted++ // a flood from many clients: counted
					continue
				}
				own++
			}
			best = group(groupKey{ip: k.client, host: "", path: k.server.String()}, pathlessTenant[i], k.server)
			best.Path = ""
			note(best, k.server)
		}
		its := items[best]
		j, _ := slices.BinarySearchFunc(its, it.start, func(x item, t time.Time) int { return x.start.Compare(t) })
		items[best] = slices.Insert(its, j, it)
	}
	over := make([]overKey, 0, len(t.connects.over))
	for k := range t.connects.over {
		over = append(over, k)
	}
	slices.SortFunc(over, func(a, b overKey) int {
		return cmp.Or(a.client.Compare(b.client), a.server.Compare(b.server), strings.Compare(wsparse.EncapName(a.encap), wsparse.EncapName(b.encap)))
	})
	for _, o := range over {
		n := t.connects.over[o]
		k, tenant := connectKey{o.client, o.server}, ts.of(wsparse.EncapName(o.encap))
		var g *Group
		if i := slices.IndexFunc(byServer[k], func(g *Group) bool { return g.tenant == tenant }); i >= 0 {
			g = byServer[k][i]
		} else if own < 2*maxConnectKeys {
			own++
			g = group(groupKey{ip: k.client, path: k.server.String()}, tenant, k.server)
			g.Path = ""
		} else {
			uncounted += n.refused + n.failed
			continue
		}
		g.Unlisted += n.refused + n.failed
		g.Refused += n.refused
		g.Failed += n.failed
	}
	slices.SortStableFunc(out, func(a, b *Group) int {
		x, y := firstStart(items[a]), firstStart(items[b])
		return cmp.Or(cmp.Compare(b2i(x.IsZero()), b2i(y.IsZero())), x.Compare(y)) // groups of counted connects only last
	})
	for _, g := range out {
		g.finish(items[g], t.opts)
	}
	return out, t.connects.uncounted + uncounted
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// attemptEnd is when a connection stopped serving its client: its first
// Close frame, else its end. A client that gives up on a peer that does
// not answer (a ping timeout) sends its Close and tries again at once,
// while the TCP connection may linger: its retries do not overlap it.
func attemptEnd(c *Conn) time.Time {
	end := c.Until()
	for _, f := range c.Close.Frames {
		if f != nil && !f.TS.IsZero() && f.TS.Before(end) && !f.TS.Before(c.Start) {
			end = f.TS
		}
	}
	return end
}

func firstStart(its []item) time.Time {
	var t time.Time
	for _, it := range its {
		if t.IsZero() || it.start.Before(t) {
			t = it.start
		}
	}
	return t
}

func outcome(c *Conn) string {
	switch {
	case c.Upgraded():
	case c.Status == 0:
		return OutcomeNoResponse
	default:
		return OutcomeRefused
	}
	switch {
	case c.Close.End == wsparse.EndOpen || !c.Ended:
		return OutcomeOpen
	case !c.Close.Clean, c.Close.App != nil && c.Close.App.Failed:
		return OutcomeError
	}
	if f := c.Close.First(); f != nil && f.HasCode && f.Code != 1000 && f.Code != 1001 {
		return OutcomeError
	}
	return OutcomeOK
}

// attempts makes the group's attempts of its items: a connection that is
// no HTTP request before an upgrade takes the latest such request that was
// answered before it started, within preludeWindow (a request answered
// only later, or failed, was given up on); a request that none takes is an
// attempt of its own.
func attempts(its []item) []Attempt {
	slices.SortStableFunc(its, func(a, b item) int { return cmp.Or(a.start.Compare(b.start), cmp.Compare(a.conn, b.conn)) })
	var out []Attempt
	var pending []item       // requests waiting for their upgrade
	var answered []time.Time // of the lone requests, by attempt
	alone := func(p item) {
		out = append(out, Attempt{Conn: p.conn, Start: p.start, End: p.end, Status: p.status, Outcome: p.outcome, tcpEnded: p.tcpEnded})
		answered = append(answered, p.answered)
	}
	for _, it := range its {
		// Requests too old for this connection, or failed, led to no upgrade.
		for len(pending) > 0 && (it.start.Sub(pending[0].start) > preludeWindow || pending[0].outcome == OutcomeHTTPError) {
			alone(pending[0])
			pending = pending[1:]
		}
		if it.prelude {
			pending = append(pending, it)
			continue
		}
		a := Attempt{Conn: it.conn, Start: it.start, End: it.end, Status: it.status, Outcome: it.outcome, Session: it.session, Via: it.via, tcpEnded: it.tcpEnded}
		for k := len(pending) - 1; k >= 0 && a.Via == nil; k-- {
			if p := pending[k]; !p.answered.IsZero() && !p.answered.After(it.start) {
				a.Via, a.Start = []int{p.conn}, p.start
				pending = slices.Delete(pending, k, k+1)
				break
			}
		}
		out = append(out, a)
		answered = append(answered, time.Time{})
	}
	for _, p := range pending {
		alone(p)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		return cmp.Or(out[i].Start.Compare(out[j].Start), cmp.Compare(out[i].Conn, out[j].Conn))
	})
	sorted := make([]Attempt, len(out))
	for k, i := range idx {
		sorted[k] = out[i]
		// A lone request not answered before the next attempt started
		// was given up on.
		if a := &sorted[k]; a.Outcome == OutcomeHTTPOnly || a.Outcome == OutcomeHTTPError && a.Status == 0 {
			next := time.Time{}
			if k+1 < len(idx) {
				next = out[idx[k+1]].Start
			}
			if answered[i].IsZero() || !next.IsZero() && answered[i].After(next) {
				a.Outcome = OutcomeHTTPTimeout
			}
		}
	}
	return sorted
}

// endHeap is the ends of the attempts open, earliest first.
type endHeap []time.Time

func (h endHeap) Len() int           { return len(h) }
func (h endHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h endHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (g *Group) finish(its []item, o Options) {
	g.Attempts = attempts(its)
	inFlight(g.Attempts, o)
	var delays []time.Duration
	loop := make([]bool, len(g.Attempts)) // retries and the attempts they retried
	var open endHeap
	var lastEnd, lastGood time.Time      // the latest end so far, and of a good attempt
	last := -1                           // the attempt that ended at lastEnd
	lastDone, doneEnd := -1, time.Time{} // of the attempts not in flight: the last, the latest end
	for i := range g.Attempts {
		a := &g.Attempts[i]
		switch {
		case a.InFlight:
			g.InFlight++
		case a.Refused():
			g.Refused++
		case a.Failed():
			g.Failed++
		case a.Outcome == OutcomeError:
			g.Errors++
		}
		for len(open) > 0 && !open[0].After(a.Start) {
			heap.Pop(&open)
		}
		heap.Push(&open, a.End)
		g.MaxParallel = max(g.MaxParallel, len(open))
		switch {
		case last < 0:
		case lastEnd.After(a.Start):
			// Another attempt was open: not a retry of it.
			a.Concurrent = true
		default:
			a.After, a.HasAfter = a.Start.Sub(lastEnd), true
			if g.Attempts[last].Outcome != OutcomeOK {
				a.Retry = true
				loop[i], loop[last] = true, true
				delays = append(delays, a.After)
				if !a.Failed() && !lastGood.IsZero() {
					a.Outage, a.HasOutage = a.Start.Sub(lastGood), true
					g.Outages++
					g.Outage = max(g.Outage, a.Outage)
				}
			}
		}
		if last < 0 || a.End.After(lastEnd) {
			lastEnd, last = a.End, i
		}
		if !a.Failed() && a.End.After(lastGood) {
			lastGood = a.End
		}
		if !a.InFlight {
			lastDone = i
			if a.End.After(doneEnd) {
				doneEnd = a.End
			}
		}
	}
	if lastDone >= 0 && !lastGood.IsZero() && g.Attempts[lastDone].Failed() && doneEnd.After(lastGood) {
		g.DownAtEnd = doneEnd.Sub(lastGood)
	}
	var starts []time.Time
	for i, a := range g.Attempts {
		if loop[i] {
			starts = append(starts, a.Start)
		}
	}
	for i, j := 0, 0; i < len(starts); i++ {
		for j < len(starts) && starts[j].Sub(starts[i]) <= o.StormWindow {
			j++
		}
		g.MaxInWindow = max(g.MaxInWindow, j-i)
	}
	g.Storm = g.MaxInWindow >= o.StormAttempts
	g.Backoff, g.BackoffInterval = backoff(delays)
}
