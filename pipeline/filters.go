package pipeline

import (
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
)

// Select puts in front of sink the chain of the views that read one
// capture into a sink (lint, diff, follow, export): a filter for spec
// (returned; nil when spec selects everything), and application decoding
// in front of it when sink wants application messages (apps: follow
// unwraps STOMP in SockJS) or the filter's expression reads app.*: the
// filter then sees each message's application messages, as in the main
// view.
func Select(sink record.Sink, spec filter.Spec, apps bool) (record.Sink, *filter.Filter) {
	var f *filter.Filter
	if !spec.IsZero() {
		f = filter.New(sink, spec)
		sink = f
	}
	if apps || spec.Expr != nil && spec.Expr.Uses("app") {
		sink = newAppDecoder(sink, AppOptions{Mode: appproto.ModeAuto, Apps: true})
	}
	return sink, f
}

// ConnFilter puts a filter for spec in front of next, or returns next.
func ConnFilter(next record.Sink, spec filter.Spec) record.Sink {
	if spec.IsZero() {
		return next
	}
	return filter.New(next, spec)
}

// filteredExporter puts a filter in front of an exporter.
type filteredExporter struct {
	report.Exporter
	f *filter.Filter
}

// FilteredExporter returns exp behind the filter, and the filter (whose
// Done says when -c is reached). With no filter it returns exp itself.
func FilteredExporter(exp report.Exporter, spec filter.Spec) (report.Exporter, *filter.Filter) {
	if spec.IsZero() {
		return exp, nil
	}
	fe := &filteredExporter{Exporter: exp, f: filter.New(exp, spec)}
	return fe, fe.f
}

func (e *filteredExporter) Put(r *record.Record) { e.f.Put(r) }

func (e *filteredExporter) SetOrigin(t time.Time) {
	e.f.SetOrigin(t)
	e.Exporter.SetOrigin(t)
}
