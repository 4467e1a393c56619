package fbjoin

import (
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// A session is finished when it closed (SockJS c frame, Engine.IO close
// packet) or its Engine.IO WebSocket ended; it may be retired (its End
// passed on before the end of the capture) once every TCP connection of
// it has ended too. At MaxSessions a new session retires the one finished
// longest: sessions are queued in done as their last connection ends, so
// that costs no scan of the sessions. With none finished it ends early the
// one idle longest (queued in idle likewise), and with none of those
// either, the one least recently active whose connections are still open
// (in busy): behind a proxy, a few keep-alive connections carry every
// session, one request after another, and stay open for hours.

// quiet is a session in done or idle: valid while gen is the session's
// (it has had no open connection since) and it is not retired. In
// tombList, key and gen (its place) alone.
type quiet struct {
	s   *session
	key string
	gen int
}

func (q quiet) valid() bool { return q.gen == q.s.gen && q.s.open == 0 && !q.s.retired }

func (s *session) finished() bool { return s.closed || s.wsEnd != nil }

// queue is a FIFO of quiet entries.
type queue struct {
	q    []quiet
	head int
	n    int // entries pushed, ever
}

// push appends e. Entries no longer valid stay until popped or dropped
// here, when the queue holds more than twice most, the most entries that
// can be valid at once: each entry is looked at a bounded number of times.
func (f *queue) push(e quiet, most int, valid func(quiet) bool) {
	if len(f.q)-f.head > 2*most+1024 {
		kept := f.q[:0]
		for _, x := range f.q[f.head:] {
			if valid(x) {
				kept = append(kept, x)
			}
		}
		clear(f.q[len(kept):])
		f.q, f.head = kept, 0
	}
	f.q = append(f.q, e)
	f.n++
}

// pop removes and returns the oldest entry.
func (f *queue) pop() (quiet, bool) {
	if f.head == len(f.q) {
		return quiet{}, false
	}
	e := f.q[f.head]
	f.q[f.head] = quiet{}
	f.head++
	if f.head > 1024 && f.head*2 > len(f.q) {
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return e, true
}

func (f *queue) len() int { return len(f.q) - f.head }

// liveConn is the sessions an open TCP connection carried, each once
// (held), retired ones until the list is next compacted.
type liveConn struct {
	ss   []*session
	kept int // len(ss) after the last compaction
}

// heldKey is a session on an open connection.
type heldKey struct {
	id int
	s  *session
}

// hold notes that the open connection id carries s. A held connection
// that already ended (its session confirmed after its End) is not open.
// A keep-alive connection of a proxy carries sessions by the thousand and
// by turns, for hours: each is listed once, and the retired ones are
// dropped from the list when it has grown by a quarter (their memory with
// them: a retired session is ~2 KB, and the list holds up to MaxSessions
// live ones).
func (j *Joiner) hold(s *session, id int) {
	if j.gone[id] {
		return
	}
	k := heldKey{id, s}
	if _, ok := j.held[k]; ok {
		return
	}
	j.held[k] = struct{}{}
	l := j.live[id]
	if l == nil {
		l = &liveConn{}
		j.live[id] = l
	}
	l.ss = append(l.ss, s)
	if len(l.ss) > l.kept+l.kept/4+64 {
		kept := l.ss[:0]
		for _, x := range l.ss {
			if x.retired {
				delete(j.held, heldKey{id, x})
			} else {
				kept = append(kept, x)
			}
		}
		clear(l.ss[len(kept):])
		l.ss, l.kept = kept, len(kept)
	}
	if s.open == 0 {
		s.gen++
		s.queued = false
	}
	s.open++
}

// release notes that connection id ended: a session with no open
// connection left is queued to be retired, in done if it is finished.
// An Engine.IO session upgraded to a WebSocket (the client's upgrade
// packet came on it) whose WebSockets all ended is over (the server
// forgets its sid): with its last connection ended it is retired at once,
// so that its End comes in time order, not at Finish after the sessions
// that followed it (a client reconnecting after its server restarted).
// One whose WebSocket ended before the upgrade (its probe failed) polls
// on, on the same sid: it waits as any other; so does one whose WebSocket
// was open at the end of the input (its end, the capture's, comes at
// Finish, after what the flush of the other connections passes on).
func (j *Joiner) release(id int) {
	l := j.live[id]
	if l == nil {
		return
	}
	for _, s := range l.ss {
		delete(j.held, heldKey{id, s})
		if s.open--; s.open == 0 && !s.retired && s.upgraded && s.wsEnd != nil && s.wsEnd.End != wsparse.EndOpen && s.wsOpen == 0 {
			j.retireSession(s)
			continue
		}
		if s.open == 0 && !s.queued && !s.retired {
			s.queued = true
			q := &j.idle
			if s.finished() {
				q = &j.done
			}
			q.push(quiet{s: s, gen: s.gen}, len(j.sessions), quiet.valid)
		}
	}
	delete(j.live, id)
}

// retire ends the session finished longest, or else the one idle
// longest, or else the one least recently active that has no open
// WebSocket (ended early, but for a finished one), and tells whether it
// did. Only sessions whose Engine.IO WebSockets are all open are never
// retired: a WebSocket connection's records go on as the session's.
func (j *Joiner) retire() bool {
	for _, q := range [...]*queue{&j.done, &j.idle} {
		for {
			e, ok := q.pop()
			if !ok {
				break
			}
			if !e.valid() {
				continue
			}
			j.retireSession(e.s)
			return true
		}
	}
	if s := j.busy.head; s != nil {
		j.retireSession(s)
		return true
	}
	return false
}

// retireSession passes s's End on and forgets it. One not finished ends
// early: a later request of it is flagged (connection_resumed), as long as
// maxSessions others have not ended early since.
func (j *Joiner) retireSession(s *session) {
	if !s.finished() {
		j.dropped.EndedEarly++
		if j.tombList.len() >= j.maxSessions {
			if t, _ := j.tombList.pop(); j.tombs[t.key] == t.gen {
				delete(j.tombs, t.key)
			}
		}
		j.tombs[s.key] = j.tombList.n
		j.tombList.push(quiet{key: s.key, gen: j.tombList.n}, j.maxSessions, func(t quiet) bool { return j.tombs[t.key] == t.gen })
	}
	j.busy.remove(s)
	s.retired = true
	delete(j.sessions, s.key)
	j.endSession(s)
	s.conns, s.sum.Requests, s.wsEnd = nil, nil, nil
	if j.retired++; j.retired > len(j.order)/8+1024 {
		kept := j.order[:0]
		for _, o := range j.order {
			if !o.retired {
				kept = append(kept, o)
			}
		}
		clear(j.order[len(kept):])
		j.order, j.retired = kept, 0
	}
}

// endSession passes a session's End on.
func (j *Joiner) endSession(s *session) {
	sum := s.sum
	sum.Handshake = s.hs
	sum.Fallback = &wsparse.FallbackSummary{Transport: s.transport, Conns: s.conns, Requests: s.reqs}
	s.hs.Transport = s.transport
	switch {
	case s.wsEnd != nil:
		w := s.wsEnd
		sum.End, sum.Close, sum.Initiator = w.End, w.Close, w.Initiator
		sum.TCPFin, sum.TCPRst, sum.TCPEndTS, sum.TCPEndOrder = w.TCPFin, w.TCPRst, w.TCPEndTS, w.TCPEndOrder
		sum.Anomalies |= w.Anomalies
		for d := range sum.Stats {
			sum.Stats[d].ControlFrames += w.Stats[d].ControlFrames
			sum.Stats[d].Frames += w.Stats[d].ControlFrames
		}
		if w.Last.After(sum.Last) {
			sum.Last = w.Last
		}
	case s.closed:
		sum.End = wsparse.EndClean
	default:
		sum.End = wsparse.EndOpen
	}
	j.put(j.sess, record.Record{Kind: record.End, Conn: s.view, Summary: &sum})
}

// lru is a list of sessions, least recently active first, linked through
// the sessions themselves: a session is moved to the tail at each of its
// messages and requests, with no allocation.
type lru struct{ head, tail *session }

// push appends s, if not in the list.
func (l *lru) push(s *session) {
	if s.inBusy {
		return
	}
	s.inBusy, s.prev, s.next = true, l.tail, nil
	if l.tail != nil {
		l.tail.next = s
	} else {
		l.head = s
	}
	l.tail = s
}

// remove takes s out, if in the list.
func (l *lru) remove(s *session) {
	if !s.inBusy {
		return
	}
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		l.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		l.tail = s.prev
	}
	s.inBusy, s.prev, s.next = false, nil, nil
}

// touch moves s, if in the list, to its tail.
func (l *lru) touch(s *session) {
	if s.inBusy && l.tail != s {
		l.remove(s)
		l.push(s)
	}
}
