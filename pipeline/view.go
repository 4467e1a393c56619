package pipeline

import (
	"io"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
)

// View is the main view's reading of a capture: every record, application
// messages decoded, through the filter for Spec, into an exporter.
type View struct {
	Spec    filter.Spec
	App     AppOptions
	Options reassembly.Options
	Jobs    int // -j (0: one per core); one when Spec counts (-c)
	Feed    FeedOptions
	Limits  Limits
	Err     io.Writer // the limits' notices
}

// Run reads src into exp and closes exp. It returns the error that ended
// the reading (Feed's), and exp's Close error, as a *WriteError.
func (v *View) Run(src capture.Source, exp report.Exporter) (readErr, writeErr error) {
	exp, flt := FilteredExporter(exp, v.Spec)
	src = stopWhen(src, flt)
	jobs := v.Jobs
	if v.Spec.Count > 0 {
		jobs = 1 // -c stops reading as soon as enough records are out
	}
	asm := NewApps(exp, v.App, v.Options, jobs)
	feed := v.Feed
	feed.Origin = exp.SetOrigin
	readErr = Feed(src, asm, feed)
	asm.Finish()
	v.Limits.Report(v.Err, asm.Stats())
	if err := exp.Close(); err != nil {
		return readErr, &WriteError{err}
	}
	return readErr, nil
}
