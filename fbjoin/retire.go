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
// that costs no scan of the sessions.

// quiet is a session in done: valid while gen is the session's (it has
// had no open connection since) and it is not retired.
type quiet struct {
	s   *session
	gen int
}

func (s *session) finished() bool { return s.closed || s.wsEnd != nil }

// hold notes that the open connection id carries s. A held connection
// that already ended (its session confirmed after its End) is not open.
func (j *Joiner) hold(s *session, id int) {
	if j.gone[id] {
		return
	}
	j.live[id] = append(j.live[id], s)
	if s.open == 0 {
		s.gen++
		s.queued = false
	}
	s.open++
}

// release notes that connection id ended: a finished session with no
// open connection left is queued to be retired.
func (j *Joiner) release(id int) {
	for _, s := range j.live[id] {
		if s.open--; s.open == 0 && !s.queued && !s.retired && s.finished() {
			s.queued = true
			j.push(quiet{s, s.gen})
		}
	}
	delete(j.live, id)
}

// push queues q in done. Entries of sessions that got a connection again
// stay in done until popped or dropped here, when the entries outnumber
// twice the sessions held: each entry is looked at a bounded number of
// times.
func (j *Joiner) push(q quiet) {
	if n := len(j.done) - j.doneHead; n > 2*len(j.sessions)+1024 {
		kept := j.done[:0]
		for _, e := range j.done[j.doneHead:] {
			if e.valid() {
				kept = append(kept, e)
			}
		}
		clear(j.done[len(kept):])
		j.done, j.doneHead = kept, 0
	}
	j.done = append(j.done, q)
}

func (q quiet) valid() bool { return q.gen == q.s.gen && q.s.open == 0 && !q.s.retired }

// retire ends the session finished longest, if any, and tells whether it
// did.
func (j *Joiner) retire() bool {
	for j.doneHead < len(j.done) {
		q := j.done[j.doneHead]
		j.done[j.doneHead] = quiet{}
		j.doneHead++
		if j.doneHead > 1024 && j.doneHead*2 > len(j.done) {
			n := copy(j.done, j.done[j.doneHead:])
			clear(j.done[n:])
			j.done, j.doneHead = j.done[:n], 0
		}
		if !q.valid() {
			continue
		}
		s := q.s
		s.retired = true
		delete(j.sessions, s.key)
		j.endSession(s)
		s.conns, s.sum.Requests, s.wsEnd = nil, nil, nil
		if j.retired++; j.retired*2 > len(j.order) {
			kept := j.order[:0]
			for _, o := range j.order {
				if !o.retired {
					kept = append(kept, o)
				}
			}
			clear(j.order[len(kept):])
			j.order, j.retired = kept, 0
		}
		return true
	}
	return false
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
		sum.TCPFin, sum.TCPRst, sum.TCPEndTS = w.TCPFin, w.TCPRst, w.TCPEndTS
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
