package report

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// The HTML report (wsdump report): one self-contained file, drawn on the
// server side as SVG by html/template, so that it needs no network and no
// script to be read, and escapes every text from the traffic. Its size is
// bounded whatever the capture: lanes, bars, series and beats drawn are
// capped (and the file says so), messages are counted in time bins.

// HTMLInput is what WriteHTML draws.
type HTMLInput struct {
	Title  string // the capture's name
	Report *health.Report
	// Beats returns the beats of a series and the timer of each (see
	// health.Tracker.BeatTimes); nil: no beats drawn.
	Beats    func(conn int, s *health.Series) ([]time.Time, []int)
	Activity *Activity // nil: no message or round-trip charts
	Origin   time.Time // the first packet; zero: the first connection
	Version  string    // of wsdump, in the footer
}

// Bounds of what the report draws.
const (
	htmlMaxLanes     = 40   // reconnect groups drawn on the timeline
	htmlMaxRows      = 32   // rows of one lane (attempts open at once)
	htmlMaxBars      = 1000 // connections drawn on the timeline
	htmlMaxMarks     = 1000 // refused connects and /info requests drawn
	htmlMaxSeries    = 60   // heartbeat series drawn
	htmlMaxBeats     = 5000 // beats drawn, over all series
	htmlMaxMissed    = 50   // missed beats marked in one gap
	htmlMaxTableRows = 500  // rows of the conns table
	htmlMaxGroupRows = 100  // rows of the reconnect groups table
	htmlBins         = 300  // time bins of the message charts
)

// Geometry of the SVG charts.
const (
	svgW   = 1340.0
	plotX0 = 300.0
	plotX1 = 1320.0
	laneH  = 16.0
)

// WriteHTML writes the report.
func WriteHTML(w io.Writer, in HTMLInput) error {
	v := buildHTML(in)
	bw := bufio.NewWriter(w)
	if err := htmlTmpl().Execute(bw, v); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlTmpl is the report's template, parsed at its first use: parsed at
// the start of every run, it was 2 000 allocations and 1.3 ms of every
// run's start (GODEBUG=inittrace=1), for the one command that uses it.
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"f":   func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) },
		"sub": func(a, b float64) float64 { return a - b },
	}).Parse(htmlSource))
})

//go:embed html.tmpl
var htmlSource string

// The view: everything computed, the template only writes it out.
type htmlView struct {
	Title, Version, Span, Origin string
	Summary                      []string
	Notes                        []string
	W                            float64
	Axis                         []tick
	Timeline                     chart
	Heartbeats                   chart
	Rate, Size, RTT              chart
	RTTNote, RateNote            string
	Conns                        []connRow
	Encaps                       bool // a connection came encapsulated: the ENCAP column
	GroupEncaps                  bool // a reconnect group has a tenant: its ENCAP column
	HTTP2                        []http2Row
	HTTP2Note                    string
	Groups                       []groupRow
	Legend                       []legendItem
}

type chart struct {
	H      float64
	Rows   []rowLabel
	Rects  []shape
	Lines  []shape
	Dots   []shape
	Marks  []shape
	Labels []rowLabel
	YTicks []rowLabel
	Empty  bool
}

// shape is a rect (X, Y, W, H), a line (X, Y to X2, Y2) or a dot (X, Y, R).
type shape struct {
	Class          string
	X, Y, W, H, R  float64
	X2, Y2         float64
	Fill           string
	Title          string
	ID, Conn, Kind string
	InFlight       bool // an attempt in flight at the capture's end (health.Attempt.InFlight)
}

type rowLabel struct {
	X, Y   float64
	Text   string
	Class  string
	Anchor string
}

type tick struct {
	X    float64
	Text string
}

type legendItem struct{ Color, Text string }

type connRow struct {
	ID, Start, Dur, Client, Server, URL, Proto, C2S, S2C, Close, Heartbeat string
	Outcome                                                                string
	Encap                                                                  string // "-" for a connection that came plain
}

// http2Row is an HTTP/2 connection wsdump did not wholly follow.
type http2Row struct {
	ID, Start, Dur, Client, Server, Streams, WebSockets, NotFollowed, Skipped, Lost, Anomalies string
}

type groupRow struct {
	N, Client, Encap, URL, Attempts, Refused, Failed, Errors, Outage, Storm, Backoff, Conns string
}

var outcomeColor = map[string]string{
	health.OutcomeOK:          "#2ca02c",
	health.OutcomeError:       "#d62728",
	health.OutcomeOpen:        "#1f77b4",
	health.OutcomeRefused:     "#ff7f0e",
	health.OutcomeNoResponse:  "#7f7f7f",
	health.OutcomeConnRefused: "#d62728",
	health.OutcomeConnClosed:  "#d62728",
	health.OutcomeConnReset:   "#d62728",
	health.OutcomeTimeout:     "#7f7f7f",
}

var timerColor = []string{"#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

var dirColor = [2]string{"#1f77b4", "#ff7f0e"} // c2s, s2c

// htmlText makes text from the traffic safe to show: control, format and
// line-breaking characters escaped as the tables escape them (the HTML
// escaping is html/template's), and cut to n runes.
func htmlText(s string, n int) string {
	s = escapeAll(s)
	if n > 0 && utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n-1]) + "…"
	}
	return s
}

type timeAxis struct {
	origin time.Time
	span   time.Duration
}

func (a timeAxis) x(t time.Time) float64 {
	if a.span <= 0 {
		return plotX0
	}
	f := float64(t.Sub(a.origin)) / float64(a.span)
	return plotX0 + math.Max(0, math.Min(1, f))*(plotX1-plotX0)
}

func (a timeAxis) rel(t time.Time) string {
	return strconv.FormatFloat(t.Sub(a.origin).Seconds(), 'f', 3, 64) + "s"
}

// niceStep returns a step of 1, 2 or 5 × a power of ten giving at most n
// steps over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func fmtSeconds(s, step float64) string {
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step)))
	}
	return strconv.FormatFloat(s, 'f', dec, 64) + "s"
}

func buildHTML(in HTMLInput) *htmlView {
	r := in.Report
	if r == nil {
		r = &health.Report{}
	}
	v := &htmlView{Title: in.Title, Version: in.Version, W: svgW}
	// The time axis: from the first packet (or connection) to the last
	// thing drawn.
	origin, end := in.Origin, time.Time{}
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if origin.IsZero() || t.Before(origin) {
			origin = t
		}
		if t.After(end) {
			end = t
		}
	}
	for _, c := range r.Conns {
		see(c.Start)
		see(c.End)
		for _, s := range c.Heartbeats {
			if n := len(s.Gaps); n > 0 && s.Gaps[n-1].Open {
				see(s.Gaps[n-1].To) // the capture's end, the gap drawn to it
			}
		}
	}
	for _, g := range r.Groups {
		for _, a := range g.Attempts {
			see(a.Start)
			see(a.End)
		}
	}
	for _, h := range r.HTTP2 {
		if h.NotAllFollowed() { // listed: START is on the axis
			see(h.Start)
			see(h.End)
		}
	}
	var bins []Bucket
	var binW time.Duration
	if in.Activity != nil {
		bins, binW = in.Activity.Buckets()
		for _, b := range bins {
			see(b.Start)
		}
		for _, p := range in.Activity.RTTs {
			see(p.TS)
		}
	}
	if end.Before(origin) { // nothing drawn
		end = origin
	}
	ax := timeAxis{origin: origin, span: end.Sub(origin)}
	v.Origin = origin.UTC().Format(time.RFC3339Nano)
	v.Span = Dur(ax.span)
	secs := ax.span.Seconds()
	step := niceStep(secs, 12)
	for s := 0.0; s <= secs+step/1e6; s += step {
		v.Axis = append(v.Axis, tick{X: ax.x(origin.Add(time.Duration(s * float64(time.Second)))), Text: fmtSeconds(s, step)})
	}

	byID := make(map[int]*health.Conn, len(r.Conns))
	for _, c := range r.Conns {
		byID[c.ID] = c
	}
	var refused, failed, inFlight int
	for _, g := range r.Groups {
		refused += g.Refused
		failed += g.Failed
		inFlight += g.InFlight
	}
	attempts := strconv.Itoa(refused) + " attempts refused, " + strconv.Itoa(failed) + " failed"
	if inFlight > 0 {
		attempts += ", " + strconv.Itoa(inFlight) + " in flight at the capture's end"
	}
	v.Summary = []string{
		text.Plural(len(r.Conns), "WebSocket connection") + " (upgrades refused included)",
		text.Plural(len(r.Groups), "reconnect group"),
		attempts,
	}
	if in.Activity != nil {
		v.Summary = append(v.Summary, strconv.Itoa(in.Activity.Messages[0])+" messages client to server, "+strconv.Itoa(in.Activity.Messages[1])+" server to client")
	}
	if r.ConnectsUncounted > 0 {
		v.Notes = append(v.Notes, strconv.Itoa(r.ConnectsUncounted)+" refused or unanswered connects are in no reconnect group (past the bounds on what is kept).")
	}
	if n := urgentNote(r.Conns); n != "" {
		v.Notes = append(v.Notes, n)
	}
	for _, o := range []string{health.OutcomeOK, health.OutcomeError, health.OutcomeOpen, health.OutcomeRefused, health.OutcomeNoResponse} {
		v.Legend = append(v.Legend, legendItem{outcomeColor[o], o})
	}

	v.timeline(r, byID, ax)
	v.heartbeats(r, in.Beats, ax)
	v.messages(bins, binW, ax)
	if in.Activity != nil {
		v.rtt(in.Activity, ax)
	} else {
		v.RTT.Empty = true
	}
	v.tables(r, ax)
	return v
}

// tables fills the conns and reconnect groups tables: the data of wsdump
// conns, every text from the traffic escaped.
func (v *htmlView) tables(r *health.Report, ax timeAxis) {
	for i, c := range r.Conns {
		if i == htmlMaxTableRows {
			v.Notes = append(v.Notes, fmt.Sprintf("Connections table: the first %d of %d rows.", i, len(r.Conns)))
			break
		}
		proto := connProto(c) // as wsdump conns has it
		out := "open"
		if c.Ended {
			out = connOutcome(c)
		}
		v.Conns = append(v.Conns, connRow{
			ID: wsparse.ConnLabel(c.ID), Start: ax.rel(c.Start), Dur: Dur(c.Duration()),
			Client: c.Client.String(), Server: c.Server.String(), URL: htmlText(c.Host+c.URI, 0), Proto: htmlText(proto, 0),
			C2S: connsDirCell(c, 0), S2C: connsDirCell(c, 1), Close: htmlText(CloseText(c), 0), Heartbeat: htmlText(Glance(c), 0),
			Outcome: out, Encap: cmp.Or(c.Encap, "-"),
		})
		v.Encaps = v.Encaps || c.Encap != ""
	}
	v.http2(r, ax)
	for i, g := range r.Groups {
		if i == htmlMaxGroupRows {
			v.Notes = append(v.Notes, fmt.Sprintf("Groups table: the first %d of %d rows.", i, len(r.Groups)))
			break
		}
		url, attempts, storm, backoff := groupCells(g)
		v.GroupEncaps = v.GroupEncaps || g.Encap() != ""
		v.Groups = append(v.Groups, groupRow{
			N: strconv.Itoa(i + 1), Client: g.ClientIP.String(), Encap: htmlText(cmp.Or(g.Encap(), "-"), 0), URL: htmlText(url, 0), Attempts: attempts,
			Refused: strconv.Itoa(g.Refused), Failed: strconv.Itoa(g.Failed), Errors: strconv.Itoa(g.Errors),
			Outage: outageCell(g), Storm: storm, Backoff: backoff, Conns: htmlText(timelineCell(g), 2000),
		})
	}
}

// http2 lists the HTTP/2 connections wsdump did not wholly follow
// (health.HTTP2Conn.NotAllFollowed): what was not followed, and the bytes
// not decoded. The report shows WebSockets; one may be in those bytes.
func (v *htmlView) http2(r *health.Report, ax timeAxis) {
	for _, h := range r.HTTP2 {
		if !h.NotAllFollowed() {
			continue
		}
		if len(v.HTTP2) == htmlMaxTableRows {
			v.HTTP2Note = fmt.Sprintf("The first %d are listed.", htmlMaxTableRows)
			break
		}
		var what []string
		if h.NotFollowed > 0 {
			what = append(what, fmt.Sprintf("%d of %d streams (h2_streams_over_limit)", h.NotFollowed, h.Streams))
		}
		if h.Anomalies&wsparse.AnomH2Malformed != 0 {
			what = append(what, "framing (h2_malformed)")
		}
		v.HTTP2 = append(v.HTTP2, http2Row{
			ID: wsparse.ConnLabel(h.ID), Start: ax.rel(h.Start), Dur: Dur(h.Duration()),
			Client: h.Client.String(), Server: h.Server.String(), Streams: strconv.Itoa(h.Streams), WebSockets: strconv.Itoa(h.WebSockets),
			NotFollowed: strings.Join(what, ", "), Skipped: strconv.FormatUint(h.SkippedBytes, 10), Lost: strconv.FormatUint(h.LostBytes, 10),
			Anomalies: h.Anomalies.String(),
		})
	}
	if len(v.HTTP2) > 0 {
		v.Notes = append(v.Notes, text.Plural(len(v.HTTP2), "HTTP/2 connection")+" not wholly followed: a WebSocket may be in what was not decoded (table at the end).")
	}
	if r.HTTP2More > 0 {
		what := "every one wholly followed"
		if r.HTTP2MoreNotFollowed > 0 {
			what = strconv.Itoa(r.HTTP2MoreNotFollowed) + " of them not wholly followed, not in the table"
		}
		v.Notes = append(v.Notes, text.Plural(r.HTTP2More, "more HTTP/2 connection")+" past those kept: "+what+".")
	}
}

// connOutcome is the outcome of a connection as its reconnect group's
// attempt would have it.
func connOutcome(c *health.Conn) string {
	switch {
	case !c.Upgraded() && c.Status == 0:
		return health.OutcomeNoResponse
	case !c.Upgraded():
		return health.OutcomeRefused
	case c.Close.End == wsparse.EndOpen:
		return health.OutcomeOpen
	case !c.Close.Clean:
		return health.OutcomeError
	}
	if f := c.Close.First(); f != nil && f.HasCode && f.Code != 1000 && f.Code != 1001 {
		return health.OutcomeError
	}
	return health.OutcomeOK
}

// urgentNote says which connections carried segments with the TCP URG
// flag (urgent_segments): the tables do not show it, and the server may
// have read other frames than the report shows. "" when none did.
func urgentNote(conns []*health.Conn) string {
	n, ids := 0, []string(nil)
	for _, c := range conns {
		if u := c.Stats[0].Urgent + c.Stats[1].Urgent; u > 0 {
			n += u
			if len(ids) < 5 {
				ids = append(ids, strconv.Itoa(c.ID))
			} else if len(ids) == 5 {
				ids = append(ids, "…")
			}
		}
	}
	if n == 0 {
		return ""
	}
	which := "connection "
	if len(ids) > 1 {
		which = "connections "
	}
	return text.Plural(n, "TCP segment") + " with the URG flag (urgent data) on " + which + strings.Join(ids, ", ") +
		": decoded with the urgent byte in the stream; a server without SO_OOBINLINE (node, Go) takes that byte out, and may have read other frames than shown (lint WS315)."
}
