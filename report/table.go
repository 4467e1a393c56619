package report

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// table prints one row per record as it arrives: tablewriter in streaming
// mode with fixed column widths, so nothing is held back until the end.
//
// tablewriter costs about a hundred allocations a row, so rows whose cells
// are printable ASCII (and the preview's "…") and fit their columns
// (nearly all) are laid out here,
// exactly as tablewriter lays them out: each column is its width wide, one
// space, the cell, padding. Any other row (a cell to truncate with an
// ellipsis, or characters whose display width needs measuring) goes
// through tablewriter. The golden files hold both to the same bytes.
type table struct {
	opts    Options
	out     *trimWriter
	tbl     *tablewriter.Table
	widths  []int // column widths, padding included
	ellW    int   // display width tablewriter gives "…" (2 in East Asian mode)
	line    []byte
	slow    bool // tests: every row through tablewriter
	laidOut int  // rows laid out by layout
	origin  time.Time
	buf     []byte
	err     error
	st      *Stabilizer // --stable; nil: values as captured
	cols    []int       // the columns shown, as indexes into a full row (tableHeader)
	header  []any
	cells   rowCells // the row being written
}

// tableHeader names the columns of a full row, as the callers of row give
// it. The messages view shows FRAMES where a frame shows FIN, and no RSV
// or MASK.
var tableHeader = []any{"TIME", "CONN", "DIR", "OPCODE", "FIN", "RSV", "MASK", "LEN", "PAYLOAD"}

const (
	colFin     = 4
	colRSV     = 5
	colMask    = 6
	colLen     = 7
	colPayload = 8
	// minPayloadWidth is the narrowest payload column a fitted table
	// keeps before it drops columns (padding included).
	minPayloadWidth = 24
)

func newTable(w io.Writer, opts Options) *table {
	t := &table{opts: opts, out: &trimWriter{w: bufio.NewWriterSize(w, 64<<10)}}
	if opts.Color {
		t.out.color = newColorizer(opts)
	}
	// Widths include one space of padding on each side.
	timeWidth := 14
	if opts.AbsTime {
		timeWidth = 32
	}
	full := []int{timeWidth, 7, 5, 9, 5, 5, 10, 12, opts.Preview + 40}
	t.header = append([]any(nil), tableHeader...)
	drop := map[int]bool{}
	if opts.Messages {
		t.header[colFin], full[colFin] = "FRAMES", 8
		drop[colRSV], drop[colMask] = true, true
	}
	if opts.Width > 0 {
		// A line is the widths less the leading space; the payload
		// column takes what is left, down to minPayloadWidth, MASK, RSV,
		// FIN and LEN going first.
		others := func() int {
			n := -1
			for i, w := range full[:colPayload] {
				if !drop[i] {
					n += w
				}
			}
			return n
		}
		for _, c := range []int{colMask, colRSV, colFin, colLen} {
			if others()+minPayloadWidth <= opts.Width {
				break
			}
			drop[c] = true
		}
		full[colPayload] = max(opts.Width-others(), minPayloadWidth)
		if !opts.PreviewFixed {
			// Room for the cut preview's "…".
			t.opts.Preview = max(full[colPayload]-3, 1)
		}
	}
	for i, w := range full {
		if !drop[i] {
			t.cols = append(t.cols, i)
			t.widths = append(t.widths, w)
		}
	}
	t.ellW = twwidth.Width(ellipsis)
	widths := tw.NewMapper[int, int]()
	for i, w := range t.widths {
		widths.Set(i, w)
	}
	t.tbl = tablewriter.NewTable(t.out,
		tablewriter.WithStreaming(tw.StreamConfig{Enable: true}),
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Settings: tw.Settings{Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off}, Lines: tw.Lines{ShowHeaderLine: tw.Off}},
		})),
		tablewriter.WithColumnWidths(widths),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapTruncate),
		tablewriter.WithTrimSpace(tw.Off),
	)
	return t
}

func (t *table) SetOrigin(o time.Time) {
	if t.origin.IsZero() {
		t.origin = o
	}
	t.st.SetOrigin(o)
}

// row writes a row of strings (the rarer records: a row of frames or
// messages is built in t.cells directly).
func (t *table) row(cells ...string) {
	t.cells.reset()
	for _, c := range cells {
		t.cells.add(c)
	}
	t.putRow()
}

// putRow writes the row in t.cells.
func (t *table) putRow() {
	if t.err != nil {
		return
	}
	if !t.out.started {
		t.out.started = true
		if err := t.tbl.Start(); err != nil {
			t.err = err
			return
		}
		h := make([]any, len(t.cols))
		for i, c := range t.cols {
			h[i] = t.header[c]
		}
		t.tbl.Header(h...)
	}
	if line, ok := t.layout(); ok && !t.slow {
		t.laidOut++
		var err error
		if len(t.out.line) == 0 {
			err = t.out.writeLine(line) // a whole line: no newline to look for
		} else {
			_, err = t.out.Write(append(line, '\n'))
		}
		if err != nil {
			t.err = err
		}
		return
	}
	args := make([]any, len(t.cols))
	for i, c := range t.cols {
		args[i] = string(t.cells.cell(c))
	}
	if err := t.tbl.Append(args...); err != nil {
		t.err = err
	}
}

// rowCells holds the cells of a full row (tableHeader's columns) one
// after the other in one buffer, reused from row to row: a row makes no
// string unless tablewriter lays it out.
type rowCells struct {
	b   []byte
	end [colPayload + 1]int // where each cell ends in b
	n   int                 // cells ended
}

func (r *rowCells) reset() { r.b, r.n = r.b[:0], 0 }

// next ends the cell being appended to b.
func (r *rowCells) next() {
	r.end[r.n] = len(r.b)
	r.n++
}

func (r *rowCells) add(s string) {
	r.b = append(r.b, s...)
	r.next()
}

func (r *rowCells) cell(i int) []byte {
	start := 0
	if i > 0 {
		start = r.end[i-1]
	}
	return r.b[start:r.end[i]]
}

const ellipsis = "…"

// layout lays the row in t.cells out as tablewriter would, when every
// cell shown is printable ASCII (or "…") and fits its column (width less
// the two spaces of padding). The line has no newline, and no padding
// after the last column: trimWriter would drop it.
func (t *table) layout() ([]byte, bool) {
	if len(t.cols) != len(t.widths) {
		return nil, false
	}
	b := t.line[:0]
	for i, col := range t.cols {
		c := t.cells.cell(col)
		w := t.widths[i]
		dw, ok := displayWidth(c, t.ellW)
		if !ok || dw > w-2 {
			return nil, false
		}
		b = append(b, ' ')
		b = append(b, c...)
		if i < len(t.cols)-1 {
			b = appendSpaces(b, w-1-dw)
		}
	}
	t.line = b
	return b, true
}

// displayWidth is the display width of a cell of printable ASCII and
// "…" (ellW wide); ok is false for any other byte.
func displayWidth(c []byte, ellW int) (dw int, ok bool) {
	j := text.PrintableRun(c, false)
	dw = j
	for ; j < len(c); j++ {
		switch {
		case c[j] >= 0x20 && c[j] <= 0x7e:
			dw++
		case c[j] == ellipsis[0] && bytes.HasPrefix(c[j:], []byte(ellipsis)):
			dw += ellW
			j += len(ellipsis) - 1
		default:
			return 0, false
		}
	}
	return dw, true
}

const spaces = "                                                                "

// appendSpaces appends n spaces (none when n <= 0).
func appendSpaces(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	if n > 0 {
		b = append(b, spaces[:n]...)
	}
	return b
}

func (t *table) Flush() error {
	if err := t.out.w.Flush(); t.err == nil {
		t.err = err
	}
	return t.err
}

func (t *table) Close() error {
	if t.out.started && t.err == nil {
		t.err = t.tbl.Close()
	}
	if err := t.out.w.Flush(); t.err == nil {
		t.err = err
	}
	return t.err
}

func (t *table) when(ts time.Time) string { return string(t.appendWhen(nil, ts)) }

func (t *table) appendWhen(b []byte, ts time.Time) []byte {
	if t.opts.AbsTime {
		return appendTS(b, ts)
	}
	if t.origin.IsZero() {
		t.origin = ts
	}
	return appendSeconds(b, ts.Sub(t.origin))
}

// appendSeconds appends d in seconds with six decimals, as
// strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) does. Below 2^20 s,
// Seconds is within 0.1 ns of d, so both round d to the same microsecond
// unless d is half a microsecond past one (within 0.1 ns of the tie):
// those, the negative and the long are left to AppendFloat
// (TestAppendSecondsMatchesFloat).
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 || d >= 1<<20*time.Second || d%1000 == 500 {
		return strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
	}
	us := (d + 500) / 1000
	b = strconv.AppendInt(b, int64(us/1e6), 10)
	frac := int(us % 1e6)
	return append(b, '.', byte('0'+frac/100000), byte('0'+frac/10000%10), byte('0'+frac/1000%10),
		byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
}

// startRow begins a row of t.cells with its time and connection.
func (t *table) startRow(ts time.Time, c *wsparse.Conn) *rowCells {
	r := &t.cells
	r.reset()
	r.b = t.appendWhen(r.b, ts)
	r.next()
	r.b = wsparse.AppendConnLabel(r.b, c.ID)
	r.next()
	return r
}

func (t *table) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	b := append(t.buf[:0], h.Method...)
	b = append(b, ' ')
	if h.Protocol != "" {
		b = append(b, h.HTTPVersion...) // an HTTP/2 extended CONNECT (RFC 8441)
		b = append(b, " :protocol="...)
		b = appendEscaped(b, []byte(h.Protocol), 20, true)
		b = append(b, ' ')
	}
	b = appendEscaped(b, []byte(h.Host+h.URI), t.opts.Preview/2, true)
	switch {
	case h.Transport != "":
		b = append(b, " -> "...) // a SockJS or Engine.IO session over HTTP: its carrier
		b = append(b, h.Transport...)
	case h.Status == 0:
		b = append(b, " -> no response"...)
	default:
		b = append(b, " -> "...)
		b = strconv.AppendInt(b, int64(h.Status), 10)
	}
	if h.Subprotocol != "" {
		b = append(b, " proto="...)
		b = appendEscaped(b, []byte(h.Subprotocol), 20, true)
	}
	if h.Extensions != "" {
		b = append(b, " ext="...)
		b = appendEscaped(b, []byte(h.Extensions), 30, true)
	}
	if h.TLS != nil {
		b = append(b, " over "...)
		b = append(b, h.TLS.Version...)
		b = append(b, ' ')
		b = append(b, h.TLS.Cipher...)
	}
	b = appendAnomalies(b, h.Anomalies)
	t.buf = b
	kind := "upgrade"
	if h.Transport != "" {
		kind = "session"
	}
	t.row(t.when(h.TS), wsparse.ConnLabel(c.ID), "", kind, "", "", "", "", string(b))
}

func (t *table) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if t.opts.Messages {
		return
	}
	r := t.startRow(f.TS, c)
	r.add(f.Dir.String())
	r.add(f.Opcode.String())
	r.add(yesNo(f.Fin))
	r.b = strconv.AppendInt(r.b, int64(f.RSV), 10)
	r.next()
	switch {
	case f.Masked && t.st.On():
		r.add(StableMask)
	case f.Masked:
		r.b = hexAppend(r.b, f.MaskKey[:])
		r.next()
	default:
		r.add("-")
	}
	r.b = strconv.AppendUint(r.b, f.Length, 10)
	r.next()
	r.b = t.preview(r.b, f)
	r.b = appendAnomalies(r.b, f.Anomalies)
	r.next()
	t.putRow()
}

func (t *table) preview(b []byte, f *wsparse.Frame) []byte {
	switch f.Opcode {
	case wsparse.OpClose:
		if !f.HasCloseCode {
			return b
		}
		b = strconv.AppendInt(b, int64(f.CloseCode), 10)
		if name := wsparse.CloseCodeName(f.CloseCode); name != "" {
			b = append(b, " ("...)
			b = append(b, name...)
			b = append(b, ')')
		}
		if f.CloseReason != "" {
			b = append(b, ' ')
			b = appendEscaped(b, []byte(f.CloseReason), t.opts.Preview, true)
		}
		return b
	case wsparse.OpBinary, wsparse.OpContinuation:
		if f.MessageOpcode != wsparse.OpText {
			return appendHexPreview(b, f.Payload, t.opts.Preview)
		}
	}
	// Text, continuations, ping/pong payloads: text when they read as text.
	text := f.RSV&4 == 0
	return appendEscaped(b, f.Payload, t.opts.Preview, text)
}

func (t *table) Message(c *wsparse.Conn, m *wsparse.Message) { t.MessageApps(c, m, nil) }

// MessageApps shows, in the messages view, the application messages'
// summaries (STOMP SEND /topic/a 42 B; SIO event "chat") in place of the
// payload preview.
func (t *table) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	if !t.opts.Messages {
		return
	}
	r := t.startRow(m.TS, c)
	r.add(m.Dir.String())
	r.add(m.Opcode.String())
	r.b = strconv.AppendInt(r.b, int64(m.Frames), 10)
	r.next()
	r.add("")
	r.add("")
	if m.LenUnknown {
		r.b = append(r.b, '?') // compressed, not inflated to its end
	} else {
		r.b = strconv.AppendUint(r.b, m.Len, 10)
	}
	r.next()
	b := r.b
	if len(apps) == 0 {
		b = appendEscaped(b, m.Data, t.opts.Preview, m.Opcode == wsparse.OpText)
	}
	for i := range apps {
		if i > 0 {
			b = append(b, "; "...)
		}
		t.buf = append(t.buf[:0], apps[i].Summary...) // no []byte made per summary
		b = appendEscaped(b, t.buf, t.opts.Preview, true)
		for _, an := range apps[i].Anomalies {
			b = append(b, " !"...)
			b = append(b, an...)
		}
	}
	r.b = appendAnomalies(b, m.Anomalies)
	r.next()
	t.putRow()
}

func (t *table) End(c *wsparse.Conn, s *wsparse.Summary) {
	b := append(t.buf[:0], s.End...)
	if s.StreamEnd != "" {
		b = append(b, " ("...)
		b = append(b, s.StreamEnd...)
		b = append(b, ')')
	}
	if s.TLS != nil && s.TLS.Stopped {
		b = append(b, ", tls decryption stopped: "...)
		b = appendEscaped(b, []byte(t.st.Text(s.TLS.StopText())), 80, true)
	}
	if h := s.HTTP2; h != nil {
		// An HTTP/2 connection (reported in this view when it did not
		// follow some of its streams, or its framing).
		b = append(b, ", HTTP/2 streams "...)
		b = strconv.AppendInt(b, int64(h.Streams), 10)
		if h.NotFollowed > 0 {
			b = append(b, ", "...)
			b = strconv.AppendInt(b, int64(h.NotFollowed), 10)
			b = append(b, " not followed (h2_streams_over_limit)"...)
		}
		if s.Anomalies&wsparse.AnomH2Malformed != 0 {
			b = append(b, ", framing not followed (h2_malformed)"...)
		}
	} else if s.Handshake == nil {
		b = append(b, ", no handshake ("...)
		b = append(b, s.Confidence...)
		b = append(b, ')')
	}
	for d, name := range [2]string{"c2s", "s2c"} {
		st := &s.Stats[d]
		if st.LostBytes > 0 || st.SkippedBytes > 0 {
			b = append(b, ", "...)
			b = append(b, name...)
			b = append(b, " lost "...)
			b = strconv.AppendUint(b, st.LostBytes, 10)
			b = append(b, "B skipped "...)
			b = strconv.AppendUint(b, st.SkippedBytes, 10)
			b = append(b, 'B')
		}
	}
	if s.Close[0].Sent || s.Close[1].Sent {
		b = append(b, ", close by "...)
		b = append(b, s.Initiator.Side()...)
		if cl := s.Close[s.Initiator]; cl.HasCode {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(cl.Code), 10)
		}
	}
	for d, name := range [2]string{"c2s", "s2c"} {
		if st := &s.Stats[d]; st.CompressedBytes > 0 {
			b = append(b, ", "...)
			b = append(b, name...)
			b = append(b, " deflate x"...)
			b = strconv.AppendFloat(b, float64(st.InflatedBytes)/float64(st.CompressedBytes), 'f', 2, 64)
		}
	}
	b = append(b, ", frames "...)
	b = strconv.AppendInt(b, int64(s.Stats[0].Frames), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(s.Stats[1].Frames), 10)
	t.buf = b
	t.row(t.when(s.Last), wsparse.ConnLabel(c.ID), "", "end", "", "", "", "", string(b))
}

// TLSConn shows a TLS connection that could not be looked into.
// Why it could not be decrypted comes first, whole ("no key for client
// random ..."; "encrypted" without a reason): the preview's width cuts
// what follows it.
func (t *table) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, i *wsparse.TLSInfo) {
	b := t.buf[:0]
	switch {
	case !i.Decrypted && i.Error != "":
		b = appendEscaped(b, []byte(t.st.Text(i.Error)), math.MaxInt, true)
		b = append(b, ": "...)
	case !i.Decrypted:
		b = append(b, "encrypted: "...)
	}
	b = append(b, i.Version...)
	if i.SNI != "" {
		b = append(b, " sni="...)
		b = appendEscaped(b, []byte(i.SNI), 60, true)
	}
	if i.ALPN != "" {
		b = append(b, " alpn="...)
		b = appendEscaped(b, []byte(i.ALPN), 20, true)
	} else if len(i.Offered) > 0 {
		b = append(b, " alpn?="...)
		b = appendEscaped(b, []byte(strings.Join(i.Offered, ",")), 30, true)
	}
	b = append(b, ' ')
	b = append(b, t.st.Client(client).String()...)
	b = append(b, " -> "...)
	b = append(b, server.String()...)
	t.buf = b
	t.row(t.when(ts), wsparse.ConnLabel(c.ID), "", "tls", "", "", "", strconv.FormatInt(i.Bytes[0]+i.Bytes[1], 10), string(b))
}

func appendAnomalies(b []byte, a wsparse.Anomalies) []byte {
	if a == 0 {
		return b
	}
	b = append(b, " !"...)
	first := true
	a.Each(func(name string) {
		if first {
			first = false
		} else {
			b = append(b, ',')
		}
		b = append(b, name...)
	})
	return b
}

func hexAppend(b, p []byte) []byte {
	for _, c := range p {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

func yesNo(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// trimWriter drops the padding tablewriter leaves at line ends and the
// space it puts before the first column.
type trimWriter struct {
	w       *bufio.Writer
	started bool
	line    []byte
	color   *colorizer // nil: no colour
}

func (t *trimWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.line = append(t.line, p...)
			break
		}
		line := p[:i] // whole in p (a row laid out here): trimmed in place
		if len(t.line) > 0 {
			t.line = append(t.line, line...)
			line = t.line
		}
		if err := t.writeLine(line); err != nil {
			return 0, err
		}
		t.line = t.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// writeLine writes a line without its padding and leading space.
func (t *trimWriter) writeLine(line []byte) error {
	line = bytes.TrimRight(line, " ")
	line = bytes.TrimPrefix(line, []byte(" "))
	if t.color != nil {
		line = t.color.line(line)
	}
	if _, err := t.w.Write(line); err != nil {
		return err
	}
	return t.w.WriteByte('\n')
}
