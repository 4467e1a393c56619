package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// ConnsTableOptions tunes WriteConnsTable.
type ConnsTableOptions struct {
	Origin  time.Time // START is counted from here (the first packet); zero: the first connection
	AbsTime bool      // START as RFC 3339 instead
	// Width fits the tables to a terminal this many columns wide (columns
	// dropped, cut or folded; see connsFit); 0: every column in full, the
	// fixed layout scripts read.
	Width int
	// AllColumns: the CSV has its optional columns (c2s_ and
	// s2c_urgent_segments, encap) whatever the connections: a file of
	// --per-file, whose rows go under the header of the first file.
	AllColumns bool
}

// WriteConnsTable writes the health report (wsdump conns) for people: one
// row per connection, then the reconnect groups that had more than one
// attempt or a failed one.
func WriteConnsTable(w io.Writer, r *health.Report, o ConnsTableOptions) error {
	origin := connsOrigin(r, o.Origin)
	when := func(t time.Time) string {
		if o.AbsTime {
			return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		}
		return strconv.FormatFloat(t.Sub(origin).Seconds(), 'f', 3, 64)
	}
	out := &trimWriter{w: bufio.NewWriter(w)}
	rows := connsRows(r, when)
	header, fit := connsHeader, connsFit
	encap, urgent := optionalColumns(r)
	if encap {
		header, rows, fit = encapColumn(r, header, rows, fit)
	}
	if r.SeveralFiles() {
		header, rows, fit = fileColumn(r, header, rows, fit)
	}
	if urgent {
		header, rows, fit = urgentColumn(r, header, rows, fit)
	}
	if o.Width > 0 {
		fitConns(out.w, header, rows, fit, "; ", o.Width)
	} else if err := renderConnsTable(out, header, rows); err != nil {
		return err
	}
	if len(r.HTTP2) > 0 {
		out.Write([]byte("\nHTTP/2 connections (WebSockets over HTTP/2, RFC 8441, are the rows CONN/STREAM above):\n"))
		t := newConnsTable(out)
		// What was not decoded, only when a connection has some: the
		// table of every other capture stays as it was.
		notDecoded := slices.ContainsFunc(r.HTTP2, func(h *health.HTTP2Conn) bool {
			return h.SkippedBytes > 0 || h.LostBytes > 0 || h.Anomalies != 0
		})
		if notDecoded {
			t.Header(append(slices.Clip(http2Header), "SKIPPED", "LOST", "ANOMALIES"))
		} else {
			t.Header(http2Header)
		}
		for _, h := range r.HTTP2 {
			goaway := h.GoAway
			if goaway == "" {
				goaway = "-"
			}
			row := []string{wsparse.ConnLabel(h.ID), when(h.Start), Dur(h.Duration()), h.Client.String(), h.Server.String(),
				strconv.Itoa(h.Streams), strconv.Itoa(h.WebSockets), strconv.Itoa(h.Requests), strconv.FormatInt(h.RequestBytes, 10), goaway}
			if notDecoded {
				an := cmp.Or(h.Anomalies.String(), "-")
				if h.NotFollowed > 0 {
					an = strings.Replace(an, "h2_streams_over_limit", "h2_streams_over_limit ("+strconv.Itoa(h.NotFollowed)+" streams)", 1)
				}
				row = append(row, strconv.FormatUint(h.SkippedBytes, 10), strconv.FormatUint(h.LostBytes, 10), an)
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		if r.HTTP2More > 0 {
			more := "and " + strconv.Itoa(r.HTTP2More) + " more HTTP/2 connections"
			if r.HTTP2MoreNotFollowed > 0 {
				more += ", " + strconv.Itoa(r.HTTP2MoreNotFollowed) + " of them not wholly followed"
			}
			out.Write([]byte(more + "\n"))
		}
	}
	shown := func(g *health.Group) bool {
		return len(g.Attempts) > 1 || g.Unlisted > 0 || g.Refused > 0 || g.Failed > 0
	}
	if slices.ContainsFunc(r.Groups, shown) {
		rows := groupRows(r, shown)
		header, fit := groupsHeader, groupsFit
		if slices.ContainsFunc(r.Groups, func(g *health.Group) bool { return shown(g) && g.Encap() != "" }) {
			// Tenants: the ENCAP column, only then, so that the table of a
			// plain capture stays as it was.
			out.Write([]byte("\nReconnect groups (client IP, tenant, Host, base URL):\n"))
			header, rows, fit = groupEncapColumn(r, shown, header, rows, fit)
		} else {
			out.Write([]byte("\nReconnect groups (client IP, Host, base URL):\n"))
		}
		if o.Width > 0 {
			fitConns(out.w, header, rows, fit, ", ", o.Width)
		} else if err := renderConnsTable(out, header, rows); err != nil {
			return err
		}
	}
	return out.w.Flush()
}

var (
	http2Header  = []string{"CONN", "START", "DUR", "CLIENT", "SERVER", "STREAMS", "WEBSOCKETS", "REQUESTS", "REQ BYTES", "GOAWAY"}
	connsHeader  = []string{"CONN", "START", "DUR", "CLIENT", "SERVER", "URL", "PROTO", "C2S F/M/B", "S2C F/M/B", "CLOSE", "HEARTBEAT"}
	groupsHeader = []string{"GROUP", "CLIENT", "URL", "ATTEMPTS", "REFUSED", "FAILED", "ERRORS", "OUTAGE", "STORM", "BACKOFF", "CONNS (OUTCOME, DELAY BEFORE)"}
	// How the conns table fits a terminal: PROTO goes first, then the
	// endpoints and START; URL and CLOSE are cut; then the traffic and
	// DUR go. The HEARTBEAT column (the one operators want) stays, folded
	// at "; ".
	connsFit = []fitStep{{6, 0}, {3, 0}, {4, 0}, {1, 0}, {5, 24}, {9, 20}, {7, 0}, {8, 0}, {2, 0}, {5, 16}, {9, 12}, {5, 10}, {9, 10}}
	// The groups table: the counts go first, then CLIENT, STORM and
	// BACKOFF; URL is cut; the attempts are folded at ", ".
	groupsFit = []fitStep{{5, 0}, {4, 0}, {6, 0}, {1, 0}, {8, 0}, {2, 24}, {9, 0}, {2, 16}, {2, 10}}
)

// fitConns writes rows under header fitted to width, as steps say; the
// last column folds at fold.
func fitConns(w *bufio.Writer, header []string, rows [][]string, steps []fitStep, fold string, width int) {
	cols := make([]fitColumn, len(header))
	cols[len(cols)-1].fold = fold
	for i := range cols {
		cols[i].name = header[i]
		for _, row := range rows {
			cols[i].cells = append(cols[i].cells, row[i])
		}
	}
	writeFitted(w, cols, steps, width)
}

// connsRows gives the cells of the conns table.
func connsRows(r *health.Report, when func(time.Time) string) [][]string {
	var rows [][]string
	for i := range r.Len() {
		c := r.Conn(i)
		proto := connProto(c)
		rows = append(rows, []string{wsparse.ConnLabel(c.ID), when(c.Start), Dur(c.Duration()), c.Client.String(), c.Server.String(),
			escapeAll(c.Host + c.URI), escapeAll(proto), connsDirCell(c, 0), connsDirCell(c, 1), CloseText(c), Glance(c)})
	}
	return rows
}

// connProto is a connection's PROTO cell (conns, the HTML report): its
// subprotocol and first extension, or for a SockJS or Engine.IO session
// over HTTP its carrier, its TCP connections and requests; "-" for none.
func connProto(c *health.Conn) string {
	proto := c.Subprotocol
	if c.Extensions != "" {
		if proto != "" {
			proto += " "
		}
		ext, _, _ := strings.Cut(c.Extensions, ";")
		proto += "+" + strings.TrimSpace(ext)
	}
	if c.Transport != "" {
		proto = fmt.Sprintf("%s (%d conns, %d requests)", c.Transport, len(c.HTTPConns), c.HTTPRequests)
	}
	if proto == "" {
		proto = "-"
	}
	return proto
}

// groupRows gives the cells of the reconnect groups table.
func groupRows(r *health.Report, shown func(*health.Group) bool) [][]string {
	var rows [][]string
	{
		for i, g := range r.Groups {
			if !shown(g) {
				continue
			}
			url, attempts, storm, backoff := groupCells(g)
			rows = append(rows, []string{strconv.Itoa(i + 1), g.ClientIP.String(), escapeAll(url), attempts,
				strconv.Itoa(g.Refused), strconv.Itoa(g.Failed), strconv.Itoa(g.Errors), outageCell(g), storm, backoff, timelineCell(g)})
		}
	}
	return rows
}

// groupCells gives a group's URL (raw: the caller escapes it), attempts,
// storm and backoff cells, for the conns table and the HTML report.
func groupCells(g *health.Group) (url, attempts, storm, backoff string) {
	url = g.Host + g.Path
	if url == "" {
		url = g.Server.String()
	}
	attempts = strconv.Itoa(len(g.Attempts) + g.Unlisted)
	if g.MaxParallel > 1 {
		attempts += " (" + strconv.Itoa(g.MaxParallel) + " parallel)"
	}
	storm = "no"
	if g.Storm {
		storm = "yes (" + strconv.Itoa(g.MaxInWindow) + ")"
	}
	backoff = g.Backoff
	switch {
	case backoff == "":
		backoff = "-"
	case g.BackoffInterval > 0:
		backoff += " " + Dur(g.BackoffInterval)
	}
	return url, attempts, storm, backoff
}

// outageCell is a group's longest outage, and how long it was down at the
// end of the capture.
func outageCell(g *health.Group) string {
	var parts []string
	if g.Outages > 0 {
		parts = append(parts, Dur(g.Outage))
	}
	if g.DownAtEnd > 0 {
		parts = append(parts, "down "+Dur(g.DownAtEnd)+" at end")
	}
	if g.InFlight > 0 {
		parts = append(parts, strconv.Itoa(g.InFlight)+" in flight at end")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// timelineCell lists a group's attempts: connection, outcome, the
// connections of the requests before it, the delay since the previous one.
// A run of attempts that started while others were open, with one outcome,
// is one entry.
func timelineCell(g *health.Group) string {
	var tl []string
	as := g.Attempts
	for i := 0; i < len(as); i++ {
		a := as[i]
		if a.Concurrent {
			j := i
			for j+1 < len(as) && as[j+1].Concurrent && as[j+1].Outcome == a.Outcome && len(as[j+1].Via) == 0 && as[j+1].Status == a.Status {
				j++
			}
			if j-i >= 2 && len(a.Via) == 0 {
				tl = append(tl, wsparse.ConnLabel(a.Conn)+"…"+wsparse.ConnLabel(as[j].Conn)+" "+attemptOutcome(a)+" ×"+strconv.Itoa(j-i+1)+" parallel")
				i = j
				continue
			}
		}
		s := wsparse.ConnLabel(a.Conn) + " " + attemptOutcome(a)
		if a.InFlight {
			s += " in flight"
		}
		for _, v := range a.Via {
			s += " via " + strconv.Itoa(v)
		}
		switch {
		case a.HasAfter:
			s += " +" + Dur(a.After)
		case a.Concurrent:
			s += " parallel"
		}
		tl = append(tl, s)
	}
	if g.Unlisted > 0 {
		tl = append(tl, "+"+strconv.Itoa(g.Unlisted)+" more connects")
	}
	return strings.Join(tl, ", ")
}

func attemptOutcome(a health.Attempt) string {
	switch a.Outcome {
	case health.OutcomeRefused, health.OutcomeHTTPError:
		if a.Status > 0 {
			return a.Outcome + " " + strconv.Itoa(a.Status)
		}
	}
	return a.Outcome
}

func connsDirCell(c *health.Conn, d int) string {
	st := &c.Stats[d]
	return strconv.Itoa(st.Frames) + "/" + strconv.Itoa(st.Messages) + "/" + strconv.FormatUint(st.PayloadBytes, 10)
}

// renderConnsTable writes rows under header as newConnsTable lays them
// out. Cells of one line are written here, padded to their column's
// width, as tablewriter writes them (TestConnsTableBlocks): tablewriter
// took 78 us a row, and kept every cell and what it worked out for each
// until the end: 100 000 connections cost 16 s of CPU in it, and the
// collector ran back to back (until 2026-12-05 it was given such a table
// in blocks of 1 024 rows, for its memory: issue 16). A table with a cell
// of several lines is still laid out by tablewriter.
func renderConnsTable(w io.Writer, header []string, rows [][]string) error {
	// A cell of several lines: the table is tablewriter's to lay out.
	multiLine := func(row []string) bool {
		return slices.ContainsFunc(row, func(c string) bool { return strings.ContainsAny(c, "\r\n") })
	}
	if multiLine(header) || slices.ContainsFunc(rows, multiLine) {
		return renderTable(w, header, rows)
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = twwidth.Width(h)
	}
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], twwidth.Width(c))
		}
	}
	pad := func(row []string) []string {
		for i, c := range row {
			if n := twwidth.Width(c); n < widths[i] {
				row[i] = c + strings.Repeat(" ", widths[i]-n)
			}
		}
		return row
	}
	// A line as tablewriter writes it without borders or separators: each
	// cell between two spaces (the writer, a trimWriter, drops the first
	// and the padding at the end).
	var line []byte
	write := func(row []string) error {
		line = line[:0]
		for _, c := range pad(row) {
			line = append(append(append(line, ' '), c...), ' ')
		}
		_, err := w.Write(append(line, '\n'))
		return err
	}
	if header != nil {
		if err := write(slices.Clone(header)); err != nil {
			return err
		}
	}
	for i, row := range rows {
		if err := write(row); err != nil {
			return err
		}
		rows[i] = nil // its cells are written
	}
	return nil
}

// renderTable lays rows out under header (none when nil) in one
// tablewriter table.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	t := newConnsTable(w)
	if header != nil {
		t.Header(header)
	}
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

func newConnsTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Settings: tw.Settings{Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off}, Lines: tw.Lines{ShowHeaderLine: tw.Off}},
		})),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

// WriteConnsCSV writes the conns table as CSV (RFC 4180): one row per
// connection, the traffic split into numbers, START in seconds since the
// origin (or RFC 3339 with AbsTime), DUR in seconds. Text from the
// traffic is escaped as in the CSV records (backslashes doubled) and made
// safe from spreadsheet formulas. The reconnect groups are in
// --format jsonl.
func WriteConnsCSV(w io.Writer, r *health.Report, o ConnsTableOptions) error {
	return writeConnsCSV(w, r, o, false)
}

// writeConnsCSV is WriteConnsCSV; with release, each connection is
// dropped from r once written (ConnsView.Release).
func writeConnsCSV(w io.Writer, r *health.Report, o ConnsTableOptions, release bool) error {
	cw := csv.NewWriter(w)
	header := []string{"conn", "start", "duration", "client", "server", "url", "subprotocol", "extensions",
		"c2s_frames", "c2s_messages", "c2s_bytes", "s2c_frames", "s2c_messages", "s2c_bytes", "close", "heartbeat"}
	// file, first as --per-file has it, only of several inputs read
	// merged: the file of one input stays as it was.
	files := r.SeveralFiles()
	if files {
		header = slices.Insert(header, 0, "file")
	}
	// encap, last, only when a connection came encapsulated: the file of
	// every other capture stays as it was. c2s_ and s2c_urgent_segments,
	// after heartbeat, only when a connection carried the TCP URG flag: as
	// for encap. Both always with AllColumns.
	encap, urgent := true, true
	if !o.AllColumns {
		encap, urgent = optionalColumns(r)
	}
	if urgent {
		header = append(header, "c2s_urgent_segments", "s2c_urgent_segments")
	}
	if encap {
		header = append(header, "encap")
	}
	cw.Write(header)
	origin := connsOrigin(r, o.Origin)
	for i := range r.Len() {
		c := r.Conn(i)
		if release {
			r.Release(i)
		}
		start := strconv.FormatFloat(c.Start.Sub(origin).Seconds(), 'f', 6, 64)
		if o.AbsTime {
			start = string(appendTS(nil, c.Start))
		}
		var row []string
		if files {
			row = append(row, csvFormulaSafe(escapeExact(r.File(c))))
		}
		row = append(row, wsparse.ConnLabel(c.ID), start, strconv.FormatFloat(c.Duration().Seconds(), 'f', 6, 64),
			c.Client.String(), c.Server.String(), csvFormulaSafe(escapeExact(c.Host+c.URI)),
			csvFormulaSafe(escapeExact(c.Subprotocol)), csvFormulaSafe(escapeExact(c.Extensions)))
		for d := range 2 {
			st := &c.Stats[d]
			row = append(row, strconv.Itoa(st.Frames), strconv.Itoa(st.Messages), strconv.FormatUint(st.PayloadBytes, 10))
		}
		row = append(row, csvFormulaSafe(CloseText(c)), csvFormulaSafe(Glance(c)))
		if urgent {
			row = append(row, strconv.Itoa(c.Stats[0].Urgent), strconv.Itoa(c.Stats[1].Urgent))
		}
		if encap {
			row = append(row, c.Encap)
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// connsOrigin is the time START counts from: origin, else the first
// connection's start.
func connsOrigin(r *health.Report, origin time.Time) time.Time {
	if origin.IsZero() && r.Len() > 0 {
		origin = r.Conn(0).Start
		for i := range r.Len() {
			if c := r.Conn(i); c.Start.Before(origin) {
				origin = c.Start
			}
		}
	}
	return origin
}

// connsEncapCol is the conns table's ENCAP column, after SERVER: there
// only when a connection came encapsulated (optionalColumns), so that the table
// of every other capture stays as it was.
const connsEncapCol = 5

// optionalColumns reports whether a connection of r came encapsulated
// (VLAN tags, tunnels: health.Conn.Encap), and whether one carried
// segments with the TCP URG flag (wsparse.DirStats.Urgent): the ENCAP and
// URG columns. One pass: a report's packed connections are unpacked to
// be read.
func optionalColumns(r *health.Report) (encap, urgent bool) {
	for i := range r.Len() {
		c := r.Conn(i)
		encap = encap || c.Encap != ""
		urgent = urgent || c.Stats[0].Urgent+c.Stats[1].Urgent > 0
		if encap && urgent {
			break
		}
	}
	return encap, urgent
}

// encapColumn returns the conns table with the ENCAP column ("-" for a
// connection that came plain), and its fitting steps: the columns after
// it moved, and it cut to 16 after PROTO goes (a tenant is what tells
// two rows of the same addresses apart: it stays).
func encapColumn(r *health.Report, header []string, rows [][]string, fit []fitStep) ([]string, [][]string, []fitStep) {
	header = slices.Insert(slices.Clone(header), connsEncapCol, "ENCAP")
	for i := range rows {
		rows[i] = slices.Insert(rows[i], connsEncapCol, cmp.Or(escapeAll(r.Conn(i).Encap), "-"))
	}
	return header, rows, insertFitStep(fit, connsEncapCol)
}

// fileColumn returns the conns table with the FILE column after SERVER
// (and ENCAP): the input each connection was first seen in, of several
// read merged (health.Report.File), named as -e file names it; on a
// terminal too narrow it is cut to its last 30 columns (a rotation's
// files differ at their end), after PROTO goes.
func fileColumn(r *health.Report, header []string, rows [][]string, fit []fitStep) ([]string, [][]string, []fitStep) {
	col := connsEncapCol
	if len(header) > len(connsHeader) {
		col++ // after ENCAP
	}
	header = slices.Insert(slices.Clone(header), col, "FILE")
	for i := range rows {
		rows[i] = slices.Insert(rows[i], col, escapeAll(r.File(r.Conn(i))))
	}
	fit = insertFitStep(fit, col)
	fit[1].cut = -30 // its own step: keep the end
	return header, rows, fit
}

// urgentColumn returns the conns table with the URG C2S/S2C column after
// S2C F/M/B: each side's segments with the TCP URG flag ("-" for a
// connection with none), there only when a connection has some, so that
// the table of every other capture stays as it was.
func urgentColumn(r *health.Report, header []string, rows [][]string, fit []fitStep) ([]string, [][]string, []fitStep) {
	col := slices.Index(header, "S2C F/M/B") + 1
	header = slices.Insert(slices.Clone(header), col, "URG C2S/S2C")
	for i := range rows {
		cell := "-"
		if c := r.Conn(i); c.Stats[0].Urgent+c.Stats[1].Urgent > 0 {
			cell = strconv.Itoa(c.Stats[0].Urgent) + "/" + strconv.Itoa(c.Stats[1].Urgent)
		}
		rows[i] = slices.Insert(rows[i], col, cell)
	}
	return header, rows, insertFitStep(fit, col)
}

// insertFitStep returns fit with the steps of the columns from col on
// moved one column right, for a column inserted at col, and that
// column's own step (cut to 16 cells) second, after the table's first.
func insertFitStep(fit []fitStep, col int) []fitStep {
	steps := make([]fitStep, 0, len(fit)+1)
	for i, s := range fit {
		if s.col >= col {
			s.col++
		}
		steps = append(steps, s)
		if i == 0 {
			steps = append(steps, fitStep{col, 16})
		}
	}
	return steps
}

// groupsEncapCol is where the groups table's ENCAP column goes: after
// CLIENT, the two that tell whose attempts these are.
const groupsEncapCol = 2

// groupEncapColumn returns the groups table with the ENCAP column (the
// tenant of the group's connections, "-" for plain ones), and its fitting
// steps, as encapColumn does for the conns table.
func groupEncapColumn(r *health.Report, shown func(*health.Group) bool, header []string, rows [][]string, fit []fitStep) ([]string, [][]string, []fitStep) {
	header = slices.Insert(slices.Clone(header), groupsEncapCol, "ENCAP")
	i := 0
	for _, g := range r.Groups {
		if shown(g) {
			rows[i] = slices.Insert(rows[i], groupsEncapCol, cmp.Or(escapeAll(g.Encap()), "-"))
			i++
		}
	}
	return header, rows, insertFitStep(fit, groupsEncapCol)
}
