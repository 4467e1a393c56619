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
// judges it, are linted (lint.Linter.Health), and so are its reconnect
// groups (lint.Linter.Reconnect). The tracker is given every connection
// (lintSink), refused connects and the HTTP requests before an upgrade
// included (wsparse.Config.EndAll), as conns gives it: a connection's
// head waits for its End (health.Tracker.HeadsAtEnd), its health is made
// at its end and kept packed (health.Tracker.FinishAtEnd), its beats let
// go.
func (in *Input) lintInto(names []string, spec filter.Spec, ho health.Options, l *lint.Linter) (time.Time, error) {
	window := ho.WithDefaults().StormWindow
	return in.lintRead(names, spec, ho, l, l.Health, func(g *health.Group) { l.Reconnect(g, window) })
}

// lintRead is lintInto, each connection's health verdict handed to judge
// and each reconnect group to group. ho is the tracker's options: conns'
// heartbeat and storm flags.
func (in *Input) lintRead(names []string, spec filter.Spec, ho health.Options, l *lint.Linter, judge func(*health.Conn), group func(*health.Group)) (time.Time, error) {
	src, keys, feed, err := in.openKeyed(names)
	if err != nil {
		return time.Time{}, err
	}
	defer src.Close()
	tr := health.New(nil, ho)
	tr.FinishAtEnd()
	tr.AwaitCaptureEnd()
	// Every connection ends before the report, its End to the tracker
	// (no filter before it): an open connection's head waits for it.
	tr.HeadsAtEnd()
	// Only groups of two attempts or more can be linted (WS707-WS709):
	// nothing is kept for the others.
	tr.RetryGroupsOnly()
	ts := &lintSink{tr: tr}
	var u *undecrypted
	opts := in.Options(wsparse.Config{EndAll: true}, keys)
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
		// The verdicts are made on every record of every connection, as
		// without the filter (a -Y that drops the pongs makes no ping
		// unanswered, a --host that drops the refused connects no group
		// recovered): the tracker is fed beside the filter. The filter
		// picks the records linted, and the connections whose verdicts
		// are: those whose End it passes (lintShown), and the groups of
		// which it passes a connection's.
		shown = map[int]bool{}
		ls := &lintShown{l: l, shown: shown}
		u = &undecrypted{next: ls}
		var sink record.Sink
		sink, f = Select(u, spec, false)
		tracked := Apps(ts, apps)
		jobs := in.Jobs
		if spec.Count > 0 {
			jobs = 1
		}
		asm = New(record.Func(func(r *record.Record) {
			if lintable(r) {
				// A -Y on a connection's fields (conn, server, host...)
				// selects a WebSocket connection by its End as it does
				// an attempt below: one it does not select is neither
				// judged nor shown in a group. The End still goes
				// through the filter, which keeps count of it.
				ls.skip = r.Kind == record.End && !f.ConnSelected(r.Conn, r.Summary)
				sink.Put(r)
				ls.skip = false
				tracked.Put(r)
				return
			}
			// A connection that never reached WebSocket: an attempt of a
			// group, maybe, which its End selects. Noted only when the
			// tracker kept it as one (a group names at most
			// maxConnectsKept), so that a flood of refused connects costs
			// no more here than there.
			sel := f.AttemptSelected(r.Conn, r.Summary)
			kept := tr.ConnectsKept()
			tracked.Put(r)
			if sel && tr.ConnectsKept() > kept {
				shown[r.Conn.ID] = true
			}
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
	for _, g := range rep.Groups {
		if shown == nil || groupShown(g, shown) {
			group(g)
		}
	}
	if err == nil && u.none() && spec.IsZero() {
		report.WriteNoWebSocket(report.NameNotices(in.Err, feed.Name), asm.Stats())
	}
	return origin, err
}

// groupShown reports whether the filter passed the End of one of g's
// connections.
func groupShown(g *health.Group, shown map[int]bool) bool {
	for _, a := range g.Attempts {
		if shown[a.Conn] {
			return true
		}
		for _, v := range a.Via {
			if shown[v] {
				return true
			}
		}
	}
	return false
}

// lintable reports whether the linter is given r: not the End of a
// connection that never showed WebSocket (wsparse.Config.EndAll gives
// every connection's, for the reconnect groups), unless it is an HTTP/2
// connection not wholly followed, whose End every view reports with or
// without EndAll (wsparse.Summary.H2NotFollowed).
func lintable(r *record.Record) bool {
	return r.Kind != record.End || r.Summary.End != wsparse.EndNotWebSocket || r.Summary.H2NotFollowed()
}

// lintSink hands the linter (l; nil: the records linted are a filter's,
// lintShown) the records it lints (lintable), and the tracker every
// connection's handshake and End, its pings, pongs and Closes, and the
// heartbeats and keepalives of the application decoders. Data frames
// and messages change no verdict: they are not given.
type lintSink struct {
	tr *health.Tracker
	l  *lint.Linter // nil: lintShown lints
}

func (s *lintSink) Put(r *record.Record) {
	if s.l != nil && lintable(r) {
		s.l.Put(r)
	}
	switch r.Kind {
	case record.Beat:
		s.tr.Beat(r.Beat)
	case record.Negotiated:
		s.tr.Negotiated(r.Negotiated)
	case record.Handshake:
		s.tr.Handshake(r.Conn, r.Handshake)
	case record.Frame:
		switch r.Frame.Opcode {
		case wsparse.OpPing, wsparse.OpPong, wsparse.OpClose:
			s.tr.Frame(r.Conn, r.Frame)
		}
	case record.End:
		s.tr.End(r.Conn, r.Summary)
	}
}

// lintShown is the linter behind lint's filter: it notes the connections
// whose End the filter passed, whose verdicts are linted. skip: the End
// put is of a connection -Y does not select (Filter.ConnSelected).
type lintShown struct {
	l     *lint.Linter
	shown map[int]bool
	skip  bool
}

func (s *lintShown) Put(r *record.Record) {
	if s.skip && r.Kind == record.End {
		return
	}
	if r.Kind == record.End {
		s.shown[r.Conn.ID] = true
	}
	s.l.Put(r)
}
