package pipeline

import (
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
)

// notWebSocketEnd reports whether r is the End of a connection that never
// showed WebSocket (wsparse.Config.EndAll): a reconnect attempt, maybe (a
// refused, unanswered or closed connect, an HTTP request before an
// upgrade), which has no other record for a filter to pass, so that lint
// and conns select it by its End alone (filter.Filter.AttemptSelected).
// An HTTP/2 connection not wholly followed is not one: every view reports
// its End (lintable).
func notWebSocketEnd(r *record.Record) bool { return !lintable(r) }

// attemptFilter is the filter conns and report select the attempts that
// never reached WebSocket with, as lint selects them (AttemptSelected):
// spec's connection selectors, and x, conns' -Y, when it reads only the
// fields such an attempt has (filter.Expr.OnAttempts). A -Y that reads
// any other (status, duration, conn.heartbeat.missed) selects none of
// them: conns' -Y selects connections, and an attempt has no such field
// (where lint's passes them, as it passes the End of every connection,
// for its frames and messages to be selected). nil: none selected.
func attemptFilter(spec filter.Spec, x *filter.Expr) *filter.Filter {
	if x != nil && !x.OnAttempts() {
		return nil
	}
	spec.Expr = x
	return filter.New(nil, spec)
}

// attemptGate passes the End of a connection that never showed WebSocket
// to attempts when f selects it (nil f: none), dropping it otherwise,
// and every other record to next. The tracker behind attempts keeps at
// most a bound of them as groups' attempts (health.Tracker.ConnectsKept)
// and counts the rest, as lint's does: a flood of refused connects costs
// no more under a filter than without one.
type attemptGate struct {
	f        *filter.Filter
	next     record.Sink
	attempts record.Sink
}

func (g *attemptGate) Put(r *record.Record) {
	if !notWebSocketEnd(r) {
		g.next.Put(r)
		return
	}
	if g.f != nil && g.f.AttemptSelected(r.Conn, r.Summary) {
		g.attempts.Put(r)
	}
}

// attemptExporter is an exporter with an attemptGate in front: the main
// view's Parquet export under a filter (View.Attempts).
type attemptExporter struct {
	report.Exporter
	g attemptGate
}

func (e *attemptExporter) Put(r *record.Record) { e.g.Put(r) }
