package pipeline

import (
	"fmt"
	"github.com/wsdump/wsdump/internal/text"
	"io"
	"slices"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// FeedFunc hands a capture's packets to asm, calling origin with the
// first packet's time; it returns the input's error (the command's
// reader: its source, its name, its secrets).
type FeedFunc func(asm Assembler, origin func(time.Time)) error

// ConnsConfig are what the conns and report views read a capture with.
type ConnsConfig struct {
	Health     health.Options
	Decode     string             // --decode (appproto modes)
	Spec       filter.Spec        // the connection filters (no -Y)
	Select     *filter.Expr       // -Y on the connections, known at their end (nil: all)
	Reassembly reassembly.Options // the decoder's EndAll is set here
	Jobs       int
	Next       wsparse.Sink // receives every record behind the tracker (nil: none)
	Err        io.Writer    // notices
	Limits     *Limits      // the limits in force, their notices on Err (nil: none written)
	Files      []string     // the inputs by number (health.Report.Files)
	// ReportOnly: the report is all that is read of the tracker (no
	// BeatTimes): each connection's heartbeats are measured at its end
	// and its beats let go (health.Tracker.FinishAtEnd).
	ReportOnly bool
}

// ConnsRead is what conns and report read from a capture.
type ConnsRead struct {
	Report  *health.Report // after -Y
	Tracker *health.Tracker
	Origin  time.Time         // the capture's first packet
	ReadErr error             // the input's error, reported after the output
	Clock   *reassembly.Clock // the capture's clock (its jumps, its runs)
}

// Conns reads a capture through the health tracker: the application
// decoders, the connection filters, -Y on the report.
func Conns(o ConnsConfig, feed FeedFunc) ConnsRead {
	var rd ConnsRead
	tr := health.New(o.Next, o.Health)
	if o.ReportOnly {
		tr.FinishAtEnd()
		tr.AwaitCaptureEnd()
	}
	// --max-payload and --max-message as given (16 MiB by default): a cut
	// compressed message loses the inflater's window, and text beats
	// after it with it. Application heartbeats (STOMP, SockJS, Engine.IO, MQTT, GraphQL)
	// come from the message decoders.
	// Connections that never showed WebSocket end too (refused and
	// unanswered connects, the HTTP requests before an upgrade): attempts
	// of the reconnect groups. Under a filter (the connection filters or
	// -Y) those it selects are given to the tracker, as lint selects them
	// (attemptGate), and no other: a group is made of the connections and
	// the attempts selected.
	spec := o.Spec
	opts := o.Reassembly
	opts.Decoder.EndAll = true
	var af *filter.Filter
	filtered := !spec.IsZero() || o.Select != nil
	if filtered {
		af = attemptFilter(spec, o.Select)
	}
	var asm Assembler
	var track record.Sink = Tracker(tr)
	if filtered && spec.IsZero() {
		// -Y alone: it selects the connections at their end
		// (selectConns), the attempts here.
		track = &attemptGate{f: af, next: track, attempts: track}
	}
	tls := &undecrypted{next: track}
	if spec.IsZero() {
		// Every connection ends before Report, with the decoder's
		// summary: an open connection's head waits for its end.
		tr.HeadsAtEnd()
		asm = NewApps(tls, TrackerApps(tr, o.Decode), opts, o.Jobs)
	} else {
		// The filter goes first: it picks whole connections (--conn,
		// --host, --path), each decoded as without it, and the decoding of
		// the others is saved; the attempts it selects go around it.
		var dec record.Sink = tls
		if o.Decode != appproto.ModeNone {
			dec = Apps(dec, TrackerApps(tr, o.Decode))
		}
		asm = New(&attemptGate{f: af, next: ConnFilter(dec, spec), attempts: dec}, opts, o.Jobs)
	}
	origin := func(t time.Time) {
		rd.Origin = t
		if af != nil {
			af.SetOrigin(t)
		}
	}
	rd.ReadErr = feedToEnd(asm, tr, func(a Assembler) error { return feed(a, origin) })
	st := asm.Stats()
	rd.Clock = st.Clock
	if o.Limits != nil {
		o.Limits.Report(o.Err, st)
	}
	report.WriteClockEnd(o.Err, st.Clock)
	tls.notice(o.Err, "", "are not in this report")
	tls.stoppedNotice(o.Err, "")
	if rd.ReadErr == nil && tls.none() && spec.IsZero() {
		report.WriteNoWebSocket(o.Err, st)
	}
	rd.Tracker = tr
	if o.ReportOnly {
		// Read once: each connection's result made as it is read.
		rd.Report = tr.ReportEach()
	} else {
		rd.Report = tr.Report()
	}
	rd.Report.Files = o.Files
	selectConns(tr, rd.Report, o.Select, rd.Origin)
	if n := rd.Report.ConnectsUncounted; n > 0 {
		are := "are"
		if n == 1 {
			are = "is"
		}
		fmt.Fprintf(o.Err, "wsdump: %s %s in no reconnect group (a flood from many clients past the bounds on what is kept)\n", text.Plural(n, "refused or unanswered connect"), are)
	}
	if n := rd.Report.ClockStepped; n > 0 {
		fmt.Fprintf(o.Err, "wsdump: the capture's clock stepped back within %s (an NTP step, captures merged with a clock off): no heartbeat interval is measured across a step (clock_steps_back), and a duration across one counts no time across the step\n",
			text.Plural(n, "connection"))
	}
	if n := rd.Report.HTTP2More; n > 0 {
		// The table says so under its HTTP/2 rows; the JSON lines have
		// no record for them.
		if n == 1 {
			how := ""
			if rd.Report.HTTP2MoreNotFollowed > 0 {
				how = ", not wholly followed"
			}
			fmt.Fprintf(o.Err, "wsdump: 1 HTTP/2 connection is not listed (past the first 1 000, and past 10 000 more of those not wholly followed)%s\n", how)
		} else {
			fmt.Fprintf(o.Err, "wsdump: %d HTTP/2 connections are not listed (past the first 1 000, and past 10 000 more of those not wholly followed), %d of them not wholly followed\n",
				n, rd.Report.HTTP2MoreNotFollowed)
		}
	}
	return rd
}

// selectConns keeps the connections of rep for which x is true, and
// makes its reconnect groups of those (as --conn's are).
func selectConns(tr *health.Tracker, rep *health.Report, x *filter.Expr, origin time.Time) {
	if x == nil {
		return
	}
	rep.Keep(func(c *health.Conn) bool { return x.Match(filter.ConnEnv(c, origin, rep.Files)) })
	tr.Regroup(rep)
}

// ConnHealth reads the capture once through the health tracker, with
// conns' defaults, and returns each connection's conn.* fields: a -Y that
// reads conn.heartbeat.missed selects frames and messages by their
// connection's health, known only at its end. It reads as conns does
// (Conns, ReportOnly: each connection's health measured at its end and
// kept packed, not its every beat until the end of the input). The second
// pass, the real one, holds nothing: the first keeps a few fields per
// connection. opts's decoder ends every connection (EndAll).
func ConnHealth(opts reassembly.Options, decode string, jobs int, feed FeedFunc) (func(int) *filter.Health, error) {
	rd := Conns(ConnsConfig{Decode: decode, Reassembly: opts, Jobs: jobs, Err: io.Discard, ReportOnly: true}, feed)
	if rd.ReadErr != nil {
		return nil, rd.ReadErr
	}
	// Held through the second pass for every connection of the capture:
	// a connection with no health (no beat, ping or clean close, most of
	// them in a big capture) is a bit, the others a filter.Health each
	// (~100 bytes), not maps.
	var h healthByID
	rep := rd.Report
	for i := range rep.Len() {
		h.add(rep.Conn(i).ID, filter.HealthOf(rep.Conn(i)))
		rep.Release(i)
	}
	return h.get, nil
}

// healthByID is the conn.* health of each connection by its ID.
type healthByID struct {
	zero  *filter.Health // the zero health, shared
	zeros []uint64       // a bit per connection number whose health is zero (numbers count the connections: as many bits)
	other map[int]*filter.Health
}

func (b *healthByID) add(id int, h *filter.Health) {
	if h.IsZero() && id >= 0 && id < 1<<32 {
		if b.zero == nil {
			b.zero = h
		}
		if w := id / 64; w >= len(b.zeros) {
			b.zeros = slices.Grow(b.zeros, w+1-len(b.zeros))[:w+1]
		}
		b.zeros[id/64] |= 1 << (id % 64)
		return
	}
	if b.other == nil {
		b.other = map[int]*filter.Health{}
	}
	b.other[id] = h
}

// get returns the health of the connection id, nil for one the first
// pass did not see.
func (b *healthByID) get(id int) *filter.Health {
	if h, ok := b.other[id]; ok {
		return h
	}
	if id >= 0 && id/64 < len(b.zeros) && b.zeros[id/64]&(1<<(id%64)) != 0 {
		return b.zero
	}
	return nil
}
