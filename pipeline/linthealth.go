package pipeline

import (
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/lint"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// lintInto decodes the capture names for lint, as decodeInto does, with
// a health tracker beside l: the application decoders feed it their
// heartbeats (as in the conns view), and once the input has ended its
// verdicts, each connection's judged to the capture's end as conns
// judges it, are linted (lint.Linter.Health). The tracker is given only
// the connections that pinged, ponged or beat (lintSink): the others,
// most of a big capture's, cost it nothing. Each connection's health is
// made at its end and kept packed (health.Tracker.FinishAtEnd), its
// beats let go.
func (in *Input) lintInto(names []string, spec filter.Spec, ho health.Options, l *lint.Linter) (time.Time, error) {
	return in.lintRead(names, spec, ho, l, l.Health)
}

// lintRead is lintInto, each connection's health verdict handed to judge.
// ho is the tracker's options: conns' heartbeat and storm flags.
func (in *Input) lintRead(names []string, spec filter.Spec, ho health.Options, l *lint.Linter, judge func(*health.Conn)) (time.Time, error) {
	src, keys, feed, err := in.openKeyed(names)
	if err != nil {
		return time.Time{}, err
	}
	defer src.Close()
	tr := health.New(nil, ho)
	tr.FinishAtEnd()
	tr.AwaitCaptureEnd()
	ts := &lintSink{tr: tr, conns: map[*wsparse.Conn]*lintConn{}}
	var u *undecrypted
	opts := in.Options(wsparse.Config{}, keys)
	apps := TrackerApps(tr, appproto.ModeAuto)
	// Of the application messages that may be beats, those of STOMP,
	// Socket.IO and SockJS (a timer leak: lint.Linter.Health); looking
	// at every text was a tenth of lint's CPU.
	apps.ProtocolBeats, apps.ProtocolShapes = true, true
	var asm Assembler
	var f *filter.Filter
	var shown map[int]bool
	if spec.IsZero() {
		// The application decoding runs on the -j workers.
		ts.l = l
		u = &undecrypted{next: ts}
		asm = NewApps(u, apps, opts, in.Jobs)
	} else {
		// A connection's heartbeats are judged on all its records, as
		// without the filter (a -Y that drops the pongs makes no ping
		// unanswered): the tracker is fed beside the filter, of the
		// connections the filter picks whole (--conn, --host, --path).
		// The filter picks the records linted, and the connections whose
		// verdicts are: those whose End it passes (lintShown).
		shown = map[int]bool{}
		u = &undecrypted{next: lintShown{l: l, ts: ts, shown: shown}}
		var sink record.Sink
		sink, f = Select(u, spec, false)
		whole := ConnFilter(Apps(ts, apps), filter.Spec{Conns: spec.Conns, Hosts: spec.Hosts, Paths: spec.Paths})
		jobs := in.Jobs
		if spec.Count > 0 {
			jobs = 1
		}
		asm = New(record.Func(func(r *record.Record) {
			sink.Put(r) // first: lintShown reads whether the tracker has the connection before its End
			whole.Put(r)
		}), opts, jobs)
	}
	var origin time.Time
	feed.Origin = func(t time.Time) {
		origin = t
		if f != nil {
			f.SetOrigin(t)
		}
	}
	err = feedToEnd(asm, tr, func(a Assembler) error { return Feed(stopWhen(src, f), a, feed) })
	in.Limits.ReportNamed(in.Err, asm.Stats(), feed.Name)
	report.WriteClockEnd(report.NameNotices(in.Err, feed.Name), asm.Stats().Clock)
	l.DeclareInterval(ho.HeartbeatInterval)
	rep := tr.ReportEach()
	for i := range rep.Len() {
		if c := rep.Conn(i); shown == nil || shown[c.ID] {
			judge(c)
		}
		rep.Release(i)
	}
	if err == nil && u.none() && spec.IsZero() {
		report.WriteNoWebSocket(report.NameNotices(in.Err, feed.Name), asm.Stats())
	}
	return origin, err
}

// lintSink hands every record to the linter (l; nil: the records
// linted are a filter's, lintShown), and to the tracker those
// of the connections that pinged, ponged or beat (a heartbeat or a
// keepalive from the application decoders): from the first of them on,
// with the connection's first Close before it, kept till then (the
// tracker judges beats up to it), and its End.
type lintSink struct {
	tr    *health.Tracker
	l     *lint.Linter                // nil: lintShown lints
	conns map[*wsparse.Conn]*lintConn // the connections that sent a Close or a beat, until their End
}

// lintConn is what lintSink keeps of a connection until its End.
type lintConn struct {
	tracked bool           // the tracker has its records
	close   *wsparse.Frame // its first Close, until it is tracked
}

func (s *lintSink) Put(r *record.Record) {
	if s.l != nil {
		s.l.Put(r)
	}
	switch r.Kind {
	case record.Beat:
		s.track(r.Conn)
		s.tr.Beat(r.Beat)
	case record.Negotiated:
		s.track(r.Conn)
		s.tr.Negotiated(r.Negotiated)
	case record.Frame:
		switch f := r.Frame; f.Opcode {
		case wsparse.OpPing, wsparse.OpPong:
			s.track(r.Conn)
			s.tr.Frame(r.Conn, f)
		case wsparse.OpClose:
			if lc := s.conns[r.Conn]; lc != nil && lc.tracked {
				s.tr.Frame(r.Conn, f)
			} else if lc == nil {
				s.conns[r.Conn] = &lintConn{close: &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: f.Dir, TS: f.TS}}
			}
		}
	case record.End:
		if lc := s.conns[r.Conn]; lc != nil {
			if lc.tracked {
				s.tr.End(r.Conn, r.Summary)
			}
			delete(s.conns, r.Conn)
		}
	}
}

// lintShown is the linter behind lint's filter: it notes the connections
// of the tracker whose End the filter passed, whose verdicts are linted.
type lintShown struct {
	l     *lint.Linter
	ts    *lintSink
	shown map[int]bool
}

func (s lintShown) Put(r *record.Record) {
	if r.Kind == record.End {
		if lc := s.ts.conns[r.Conn]; lc != nil && lc.tracked {
			s.shown[r.Conn.ID] = true
		}
	}
	s.l.Put(r)
}

// track gives the tracker connection c's records from now on, its first
// Close first.
func (s *lintSink) track(c *wsparse.Conn) {
	lc := s.conns[c]
	if lc == nil {
		lc = &lintConn{}
		s.conns[c] = lc
	}
	if lc.tracked {
		return
	}
	lc.tracked = true
	if lc.close != nil {
		s.tr.Frame(c, lc.close)
		lc.close = nil
	}
}
