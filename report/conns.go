package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/wsdump/wsdump/health"
)

// ConnsTableOptions tunes WriteConnsTable.
type ConnsTableOptions struct {
	Origin  time.Time // START is counted from here (the first packet); zero: the first connection
	AbsTime bool      // START as RFC 3339 instead
}

// WriteConnsTable writes the health report (wsdump conns) for people: one
// row per connection, then the reconnect groups that had more than one
// attempt or a failed one.
func WriteConnsTable(w io.Writer, r *health.Report, o ConnsTableOptions) error {
	origin := o.Origin
	if origin.IsZero() && len(r.Conns) > 0 {
		origin = r.Conns[0].Start
		for _, c := range r.Conns {
			if c.Start.Before(origin) {
				origin = c.Start
			}
		}
	}
	when := func(t time.Time) string {
		if o.AbsTime {
			return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		}
		return strconv.FormatFloat(t.Sub(origin).Seconds(), 'f', 3, 64)
	}
	out := &trimWriter{w: bufio.NewWriter(w)}
	t := newConnsTable(out)
	t.Header("CONN", "START", "DUR", "CLIENT", "SERVER", "URL", "PROTO", "C2S F/M/B", "S2C F/M/B", "CLOSE", "HEARTBEAT")
	for _, c := range r.Conns {
		proto := c.Subprotocol
		if c.Extensions != "" {
			if proto != "" {
				proto += " "
			}
			ext, _, _ := strings.Cut(c.Extensions, ";")
			proto += "+" + strings.TrimSpace(ext)
		}
		if proto == "" {
			proto = "-"
		}
		if err := t.Append(strconv.Itoa(c.ID), when(c.Start), health.Dur(c.Duration()), c.Client.String(), c.Server.String(),
			escapeAll(c.Host+c.URI), escapeAll(proto), connsDirCell(c, 0), connsDirCell(c, 1), c.CloseText(), c.Glance()); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	var shown []*health.Group
	for _, g := range r.Groups {
		if len(g.Attempts) > 1 || g.Refused > 0 {
			shown = append(shown, g)
		}
	}
	if len(shown) > 0 {
		out.Write([]byte("\nReconnect groups (client IP, Host, path):\n"))
		t = newConnsTable(out)
		t.Header("GROUP", "CLIENT", "URL", "ATTEMPTS", "REFUSED", "ERRORS", "STORM", "BACKOFF", "CONNS (OUTCOME, DELAY BEFORE)")
		for i, g := range r.Groups {
			if len(g.Attempts) <= 1 && g.Refused == 0 {
				continue
			}
			storm := "no"
			if g.Storm {
				storm = "yes (" + strconv.Itoa(g.MaxInWindow) + ")"
			}
			backoff := g.Backoff
			if backoff == "" {
				backoff = "-"
			}
			var tl []string
			for _, a := range g.Attempts {
				s := strconv.Itoa(a.Conn) + " " + a.Outcome
				if a.Outcome == health.OutcomeRefused {
					s += " " + strconv.Itoa(a.Status)
				}
				if a.HasAfter {
					s += " +" + health.Dur(a.After)
				}
				tl = append(tl, s)
			}
			if err := t.Append(strconv.Itoa(i+1), g.ClientIP.String(), escapeAll(g.Host+g.Path), strconv.Itoa(len(g.Attempts)),
				strconv.Itoa(g.Refused), strconv.Itoa(g.Errors), storm, backoff, strings.Join(tl, ", ")); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return out.w.Flush()
}

func connsDirCell(c *health.Conn, d int) string {
	st := &c.Stats[d]
	return strconv.Itoa(st.Frames) + "/" + strconv.Itoa(st.Messages) + "/" + strconv.FormatUint(st.PayloadBytes, 10)
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
