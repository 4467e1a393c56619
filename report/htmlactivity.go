package report

import (
	"slices"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Activity collects what the HTML report draws over time besides the
// health report: messages per direction in time buckets, and the round
// trip of each WebSocket ping answered by a pong. It is a wsparse.Sink at
// the end of a chain (a health.Tracker forwards to it). What it keeps is
// bounded whatever the capture: at most maxBuckets buckets (their width
// doubles as the capture goes on) and maxRTTPoints round trips (the rest
// counted).
type Activity struct {
	width   time.Duration // of a bucket
	buckets map[int64]*bucket
	pings   map[pingKey][]pendingPing
	pending int // pings outstanding over all connections
	RTTs    []RTTPoint
	// RTTsDropped counts round trips past maxRTTPoints: measured, not drawn.
	RTTsDropped int
	Messages    [2]int // by direction
}

// RTTPoint is one ping answered: when the pong came, and how long after.
type RTTPoint struct {
	Conn int
	Dir  wsparse.Dir // of the ping
	TS   time.Time
	RTT  time.Duration
}

type bucket struct {
	n     [2]int
	bytes [2]uint64
	max   [2]uint64
}

type pingKey struct {
	conn int
	dir  wsparse.Dir
}

type pendingPing struct {
	ts      time.Time
	payload string
}

const (
	maxBuckets     = 1024
	maxRTTPoints   = 2000
	maxPendingConn = 64      // unanswered pings remembered per connection and direction
	maxPendingAll  = 1 << 16 // and over all connections
)

// NewActivity returns an empty collector.
func NewActivity() *Activity {
	return &Activity{width: time.Millisecond, buckets: map[int64]*bucket{}, pings: map[pingKey][]pendingPing{}}
}

// Handshake implements wsparse.Sink.
func (a *Activity) Handshake(*wsparse.Conn, *wsparse.Handshake) {}

// End implements wsparse.Sink.
func (a *Activity) End(c *wsparse.Conn, _ *wsparse.Summary) {
	for d := range 2 {
		k := pingKey{c.ID, wsparse.Dir(d)}
		a.pending -= len(a.pings[k])
		delete(a.pings, k)
	}
}

// Message implements wsparse.Sink.
func (a *Activity) Message(c *wsparse.Conn, m *wsparse.Message) {
	d := m.Dir & 1
	a.Messages[d]++
	k := m.TS.UnixNano() / int64(a.width)
	b := a.buckets[k]
	if b == nil {
		if len(a.buckets) >= maxBuckets {
			for len(a.buckets) >= maxBuckets/2 { // merging pairs may merge none
				a.widen()
			}
			k = m.TS.UnixNano() / int64(a.width)
			b = a.buckets[k]
		}
		if b == nil {
			b = &bucket{}
			a.buckets[k] = b
		}
	}
	b.n[d]++
	b.bytes[d] += m.Len
	b.max[d] = max(b.max[d], m.Len)
}

// widen doubles the buckets' width, merging them pairwise.
func (a *Activity) widen() {
	a.width *= 2
	old := a.buckets
	a.buckets = make(map[int64]*bucket, len(old)/2+1)
	for k, b := range old {
		nk := k >> 1 // floor division by 2, negative times included
		x := a.buckets[nk]
		if x == nil {
			a.buckets[nk] = b
			continue
		}
		for d := range 2 {
			x.n[d] += b.n[d]
			x.bytes[d] += b.bytes[d]
			x.max[d] = max(x.max[d], b.max[d])
		}
	}
}

// Frame implements wsparse.Sink: pings and pongs, matched as the health
// tracker matches them (the oldest outstanding ping of the other side with
// the same payload, else the oldest).
func (a *Activity) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	switch f.Opcode {
	case wsparse.OpPing:
		k := pingKey{c.ID, f.Dir & 1}
		q := a.pings[k]
		if len(q) == maxPendingConn || a.pending >= maxPendingAll {
			if len(q) == 0 {
				return
			}
			q = q[1:] // the oldest stays unanswered
			a.pending--
		}
		a.pings[k] = append(q, pendingPing{f.TS, string(f.Payload)})
		a.pending++
	case wsparse.OpPong:
		k := pingKey{c.ID, 1 - f.Dir&1}
		q := a.pings[k]
		if len(q) == 0 {
			return
		}
		i := slices.IndexFunc(q, func(p pendingPing) bool { return p.payload == string(f.Payload) })
		if i < 0 {
			i = 0
		}
		p := q[i]
		a.pings[k] = slices.Delete(q, i, i+1)
		a.pending--
		if len(a.RTTs) == maxRTTPoints {
			a.RTTsDropped++
			return
		}
		a.RTTs = append(a.RTTs, RTTPoint{Conn: c.ID, Dir: k.dir, TS: f.TS, RTT: f.TS.Sub(p.ts)})
	}
}

// Bucket is one time bucket of messages.
type Bucket struct {
	Start    time.Time
	Messages [2]int    // by direction
	Bytes    [2]uint64 // message bytes (inflated), by direction
	Max      [2]uint64 // the largest message, by direction
}

// Buckets returns the non-empty buckets in time order, and their width.
func (a *Activity) Buckets() ([]Bucket, time.Duration) {
	keys := make([]int64, 0, len(a.buckets))
	for k := range a.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Bucket, len(keys))
	for i, k := range keys {
		b := a.buckets[k]
		out[i] = Bucket{Start: time.Unix(0, k*int64(a.width)), Messages: b.n, Bytes: b.bytes, Max: b.max}
	}
	return out, a.width
}
