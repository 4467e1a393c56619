package health

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// TableOptions tunes WriteTable.
type TableOptions struct {
	Origin  time.Time // START is counted from here (the first packet); zero: the first connection
	AbsTime bool      // START as RFC 3339 instead
}

// WriteTable writes one row per connection, then the reconnect groups that
// had more than one attempt or a failed one.
func WriteTable(w io.Writer, r *Report, o TableOptions) error {
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
	t := newTable(out)
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
		if err := t.Append(strconv.Itoa(c.ID), when(c.Start), Dur(c.Duration()), c.Client.String(), c.Server.String(),
			termSafe(c.Host+c.URI), termSafe(proto), dirCell(c, 0), dirCell(c, 1), c.CloseText(), c.Glance()); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	var shown []*Group
	for _, g := range r.Groups {
		if len(g.Attempts) > 1 || g.Refused > 0 {
			shown = append(shown, g)
		}
	}
	if len(shown) > 0 {
		out.Write([]byte("\nReconnect groups (client IP, Host, path):\n"))
		t = newTable(out)
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
				if a.Outcome == OutcomeRefused {
					s += " " + strconv.Itoa(a.Status)
				}
				if a.HasAfter {
					s += " +" + Dur(a.After)
				}
				tl = append(tl, s)
			}
			if err := t.Append(strconv.Itoa(i+1), g.ClientIP.String(), termSafe(g.Host+g.Path), strconv.Itoa(len(g.Attempts)),
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

func dirCell(c *Conn, d int) string {
	st := &c.Stats[d]
	return strconv.Itoa(st.Frames) + "/" + strconv.Itoa(st.Messages) + "/" + strconv.FormatUint(st.PayloadBytes, 10)
}

func newTable(w io.Writer) *tablewriter.Table {
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

// trimWriter drops the padding tablewriter leaves at line ends and the
// space before the first column (as the report package's table does).
type trimWriter struct {
	w    *bufio.Writer
	line []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			break
		}
		t.line = append(t.line, p[:i]...)
		line := bytes.TrimPrefix(bytes.TrimRight(t.line, " "), []byte(" "))
		t.w.Write(line)
		if err := t.w.WriteByte('\n'); err != nil {
			return 0, err
		}
		t.line = t.line[:0]
		p = p[i+1:]
	}
	return n, nil
}
