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
// a health tracker in front of l: the application decoders feed it
// their heartbeats (as in the conns view), and once the input has ended
// its verdicts, each connection's judged to the capture's end as conns
// judges it, are linted (lint.Linter.Health). Each connection's health
// is made at its end and kept packed (health.Tracker.FinishAtEnd), its
// beats let go: what the tracker holds does not grow with the beats of
// the connections that ended.
func (in *Input) lintInto(names []string, spec filter.Spec, l *lint.Linter) (time.Time, error) {
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
	tr := health.New(l, health.Options{})
	tr.FinishAtEnd()
	tr.AwaitCaptureEnd()
	u := &undecrypted{next: lintSink{Tracker(tr), l}}
	opts := in.Options(wsparse.Config{}, keys)
	apps := TrackerApps(tr, appproto.ModeAuto)
	apps.ProtocolBeats = true // lint judges no application heartbeat (lint.Linter.Health)
	var asm Assembler
	var f *filter.Filter
	if spec.IsZero() {
		// The application decoding runs on the -j workers, and every
		// connection ends with its decoder's summary (an open one's head
		// waits for its end, as in conns).
		tr.HeadsAtEnd()
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
		l.Health(rep.Conn(i))
		rep.Release(i)
	}
	if err == nil && u.none() && spec.IsZero() {
		report.WriteNoWebSocket(report.NameNotices(in.Err, feed.Name), asm.Stats())
	}
	return origin, err
}

// lintSink hands the records to the tracker (which passes the four
// wsparse kinds on to the linter) and a TLS connection not decrypted to
// the linter (WS309).
type lintSink struct {
	tr record.Sink // Tracker
	l  *lint.Linter
}

func (s lintSink) Put(r *record.Record) {
	switch r.Kind {
	case record.TLS:
		s.l.Put(r)
	default:
		s.tr.Put(r)
	}
}
