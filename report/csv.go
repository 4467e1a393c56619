package report

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// csvHeader is the one header row of --format csv: the table's rows with
// the payload in full. payload_encoding says how payload is written, for
// text that is valid UTF-8 and not compressed: text (as sent, when no
// character needs escaping) or escaped (escaped as the table escapes it:
// \\, \n, \r, \t, \xHH, \uHHHH, \UHHHHHHHH); else hex.
//
// Cells are safe to print and to open in a spreadsheet: what came from the
// traffic is escaped as in the table (no terminal escape, bidirectional
// override or line break reaches a terminal), and a text cell holding
// traffic (payload, info) that begins with = + - @ tab, carriage return or
// ' is prefixed with ' (the OWASP CSV injection rule; ' itself so that the
// prefix is always one character to drop). Columns wsdump fills itself
// (times, numbers, lengths, names) are written as they are.
var csvHeader = []string{"type", "conn", "time", "dir", "index", "opcode", "fin", "rsv", "mask", "len",
	"frames", "compressed", "anomalies", "payload_encoding", "payload", "info"}

// csvExporter writes one row per record, like the table (frames, or
// messages with Options.Messages, between each connection's handshake and
// summary), quoted per RFC 4180 by encoding/csv.
type csvExporter struct {
	opts   Options
	w      *csv.Writer
	st     *Stabilizer
	origin time.Time
	header bool
	row    []string
}

func newCSV(w io.Writer, opts Options, st *Stabilizer) *csvExporter {
	return &csvExporter{opts: opts, w: csv.NewWriter(w), st: st, row: make([]string, len(csvHeader))}
}

func (e *csvExporter) SetOrigin(t time.Time) {
	if e.origin.IsZero() {
		e.origin = t
	}
	e.st.SetOrigin(t)
}

func (e *csvExporter) when(ts time.Time) string {
	if e.opts.AbsTime {
		return string(appendTS(nil, ts))
	}
	if e.origin.IsZero() {
		e.origin = ts
	}
	return strconv.FormatFloat(ts.Sub(e.origin).Seconds(), 'f', 6, 64)
}

// start clears the row and fills its first columns.
func (e *csvExporter) start(typ string, c *wsparse.Conn, ts time.Time) []string {
	for i := range e.row {
		e.row[i] = ""
	}
	e.row[0], e.row[1], e.row[2] = typ, wsparse.ConnLabel(c.ID), e.when(ts)
	return e.row
}

func (e *csvExporter) write(r []string) {
	if !e.header {
		e.header = true
		e.w.Write(csvHeader)
	}
	e.w.Write(r) // errors are kept by the csv.Writer and returned by Flush
}

func (e *csvExporter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	r := e.start("handshake", c, h.TS)
	r[3] = ""
	info := h.Method + " " + escapeExact(h.Host+h.URI) + " -> "
	if h.Transport != "" {
		info += h.Transport
	} else if h.Status == 0 {
		info += "no response"
	} else {
		info += strconv.Itoa(h.Status)
	}
	if h.Subprotocol != "" {
		info += " proto=" + escapeExact(h.Subprotocol)
	}
	if h.Extensions != "" {
		info += " ext=" + escapeExact(h.Extensions)
	}
	r[12] = h.Anomalies.String()
	r[15] = csvFormulaSafe(info)
	e.write(r)
}

func (e *csvExporter) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if e.opts.Messages {
		return
	}
	r := e.start("frame", c, f.TS)
	r[3], r[4], r[5] = f.Dir.String(), strconv.Itoa(f.Index), f.Opcode.String()
	r[6], r[7] = yesNo(f.Fin), strconv.Itoa(int(f.RSV))
	switch {
	case f.Masked && e.st.On():
		r[8] = StableMask
	case f.Masked:
		r[8] = hex.EncodeToString(f.MaskKey[:])
	}
	r[9] = strconv.FormatUint(f.Length, 10)
	r[12] = f.Anomalies.String()
	text := f.RSV&4 == 0 && (f.Opcode == wsparse.OpText || f.MessageOpcode == wsparse.OpText ||
		f.Opcode == wsparse.OpPing || f.Opcode == wsparse.OpPong)
	r[13], r[14] = csvPayload(f.Payload, text)
	if f.Opcode == wsparse.OpClose && f.HasCloseCode {
		r[15] = strconv.Itoa(int(f.CloseCode))
		if name := wsparse.CloseCodeName(f.CloseCode); name != "" {
			r[15] += " (" + name + ")"
		}
		if f.CloseReason != "" {
			r[15] += " " + escapeExact(f.CloseReason)
		}
	}
	e.write(r)
}

func (e *csvExporter) Message(c *wsparse.Conn, m *wsparse.Message) { e.MessageApps(c, m, nil) }

// MessageApps puts the application messages' summaries in the info column.
func (e *csvExporter) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	if !e.opts.Messages {
		return
	}
	r := e.start("message", c, m.TS)
	r[3], r[4], r[5] = m.Dir.String(), strconv.Itoa(m.Index), m.Opcode.String()
	r[9], r[10] = strconv.FormatUint(m.Len, 10), strconv.Itoa(m.Frames)
	if m.LenUnknown {
		r[9] = "" // compressed, not inflated to its end: see the wire length
	}
	if m.Compressed {
		r[11] = strconv.FormatUint(m.WireLen, 10)
	}
	r[12] = m.Anomalies.String()
	r[13], r[14] = csvPayload(m.Data, m.Opcode == wsparse.OpText)
	var sums []string
	for i := range apps {
		sums = append(sums, escapeExact(apps[i].Summary))
	}
	r[15] = csvFormulaSafe(strings.Join(sums, "; "))
	e.write(r)
}

func (e *csvExporter) End(c *wsparse.Conn, s *wsparse.Summary) {
	r := e.start("conn", c, s.Last)
	r[12] = s.Anomalies.String()
	info := string(s.End)
	if s.Close[0].Sent || s.Close[1].Sent {
		info += ", close by " + s.Initiator.Side()
		if cl := s.Close[s.Initiator]; cl.HasCode {
			info += " " + strconv.Itoa(int(cl.Code))
		}
	}
	info += ", frames " + strconv.Itoa(s.Stats[0].Frames) + "/" + strconv.Itoa(s.Stats[1].Frames)
	r[15] = csvFormulaSafe(info)
	e.write(r)
}

func (e *csvExporter) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, i *wsparse.TLSInfo) {
	r := e.start("tls", c, ts)
	r[9] = strconv.FormatInt(i.Bytes[0]+i.Bytes[1], 10)
	info := i.Version + " " + e.st.Client(client).String() + " -> " + server.String()
	if i.SNI != "" {
		info += " sni=" + escapeExact(i.SNI)
	}
	if !i.Decrypted {
		info += " encrypted"
		if i.Error != "" {
			info += " (" + escapeExact(e.st.Text(i.Error)) + ")"
		}
	}
	r[15] = csvFormulaSafe(info)
	e.write(r)
}

// csvPayload returns the payload's encoding and its rendering.
func csvPayload(p []byte, text bool) (string, string) {
	if !text || !utf8.Valid(p) {
		return "hex", hex.EncodeToString(p)
	}
	esc := appendEscapedExact(nil, p, math.MaxInt)
	enc := "escaped"
	if bytes.Equal(esc, p) {
		enc = "text"
	}
	return enc, csvFormulaSafe(string(esc))
}

// csvFormulaSafe prefixes with ' a text cell that a spreadsheet would run
// as a formula (OWASP: cells beginning with = + - @ tab or carriage
// return), and one that begins with ' (so a reader always drops one).
// Only text cells that hold traffic go through it: a negative number
// there ("-1") is text like any other; wsdump's own numeric columns never
// do, and stay numbers.
func csvFormulaSafe(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r'", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

func (e *csvExporter) Flush() error {
	e.w.Flush()
	return e.w.Error()
}

func (e *csvExporter) Close() error { return e.Flush() }
