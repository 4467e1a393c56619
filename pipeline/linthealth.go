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
func (in *Input) lintInto(names []string, spec filter.Spec, l *lint.Linter) (time.Time, error) {
	return in.lintRead(names, spec, l, l.Health)
}

// lintRead is lintInto, each connection's health verdict handed to judge.
func (in *Input) lintRead(names []string, spec filter.Spec, l *lint.Linter, judge func(*health.Conn)) (time.Time, error) {
	keys, err := in.Keys(in.Err)
	if err != nil {
		return time.Time{}, err
	}
	src, err := in.open(names, in.Err)
	if err != nil {
		return time.Time{}, err
	}
	defer src.Close()
	feed := feedOptions(InputsName(names), keys)
	tr := health.New(nil, health.Options{})
	tr.FinishAtEnd()
	tr.AwaitCaptureEnd()
	u := &undecrypted{next: &lintSink{tr: tr, l: l, conns: map[*wsparse.Conn]*lintConn{}}}
	opts := in.Options(wsparse.Config{}, keys)
	apps := TrackerApps(tr, appproto.ModeAuto)
	apps.ProtocolBeats = true // lint judges no application heartbeat (lint.Linter.Health)
	var asm Assembler
	var f *filter.Filter
	if spec.IsZero() {
		// The application decoding runs on the -j workers.
		asm = NewApps(u, apps, opts, in.Jobs)
	} else {
		var sink record.Sink
		sink, f = Select(Apps(u, apps), spec, false)
		jobs := in.Jobs
		if spec.Count > 0 {
			jobs = 1
		}
		asm = New(sink, opts, jobs)
	}
	var origin time.Time
	feed.Origin = func(t time.Time) {
		origin = t
		if f != nil {
			f.SetOrigin(t)
		}
	}
	end := &inputEnd{Assembler: asm}
	err = Feed(stopWhen(src, f), end, feed)
	asm.Finish()
	in.Limits.ReportNamed(in.Err, asm.Stats(), feed.Name)
	if !end.last.IsZero() {
		tr.CaptureEnd(end.last)
	}
	rep := tr.ReportEach()
	for i := range rep.Len() {
		judge(rep.Conn(i))
		rep.Release(i)
	}
	if err == nil && u.none() && spec.IsZero() {
		report.WriteNoWebSocket(report.NameNotices(in.Err, feed.Name), asm.Stats())
	}
	return origin, err
}

// lintSink hands every record to the linter, and to the tracker those
// of the connections that pinged, ponged or beat (a heartbeat or a
// keepalive from the application decoders): from the first of them on,
// with the connection's first Close before it, kept till then (the
// tracker judges beats up to it), and its End.
type lintSink struct {
	tr    *health.Tracker
	l     *lint.Linter
	conns map[*wsparse.Conn]*lintConn // the connections that sent a Close or a beat, until their End
}

// lintConn is what lintSink keeps of a connection until its End.
type lintConn struct {
	tracked bool           // the tracker has its records
	close   *wsparse.Frame // its first Close, until it is tracked
}

func (s *lintSink) Put(r *record.Record) {
	switch r.Kind {
	case record.TLS:
		s.l.Put(r)
	case record.Beat:
		s.track(r.Conn)
		s.tr.Beat(r.Beat)
	case record.Negotiated:
		s.track(r.Conn)
		s.tr.Negotiated(r.Negotiated)
	case record.Frame:
		s.l.Frame(r.Conn, r.Frame)
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
		s.l.End(r.Conn, r.Summary)
		if lc := s.conns[r.Conn]; lc != nil {
			if lc.tracked {
				s.tr.End(r.Conn, r.Summary)
			}
			delete(s.conns, r.Conn)
		}
	default:
		record.ToWS(s.l, r)
	}
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
