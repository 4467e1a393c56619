package report

import (
	"bytes"
	"encoding/hex"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
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
// summary), quoted per RFC 4180 as encoding/csv quotes (appendCSVField),
// into one reused buffer written out when it holds flushAt bytes, as
// jsonl does. encoding/csv looked for the next special character afresh
// after every quote it doubled: a JSON payload's many quotes made CSV three
// to four times jsonl's CPU.
type csvExporter struct {
	opts    Options
	w       io.Writer
	buf     []byte // the rows not yet written
	err     error  // the first write error, returned by Flush
	st      *Stabilizer
	origin  time.Time
	header  bool
	row     []string
	payload []byte // the payload column of the row (csvPayload), which row[csvPayloadCol] leaves empty
}

// csvPayloadCol is the payload's column.
const csvPayloadCol = 14

func newCSV(w io.Writer, opts Options, st *Stabilizer) *csvExporter {
	return &csvExporter{opts: opts, w: w, st: st, row: make([]string, len(csvHeader)), buf: make([]byte, 0, flushAt+flushAt/4)}
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
	e.payload = e.payload[:0]
	e.row[0], e.row[1], e.row[2] = typ, wsparse.ConnLabel(c.ID), e.when(ts)
	return e.row
}

// write appends the row r, its payload column from e.payload, and writes
// the rows out once they fill flushAt. A write error is kept for Flush.
func (e *csvExporter) write(r []string) {
	if !e.header {
		e.header = true
		e.buf = appendCSVRow(e.buf, csvHeader, -1, nil, false)
	}
	e.buf = appendCSVRow(e.buf, r, csvPayloadCol, e.payload, r[13] == "hex")
	if len(e.buf) >= flushAt {
		e.writeOut()
	}
}

func (e *csvExporter) writeOut() {
	if len(e.buf) > 0 && e.err == nil {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

// appendCSVRow appends the fields of r, column col taken from colBytes
// instead, and a newline: what encoding/csv's Writer.Write writes (comma
// ",", UseCRLF false). colHex says colBytes is hex digits, which never
// need quotes.
func appendCSVRow(b []byte, r []string, col int, colBytes []byte, colHex bool) []byte {
	for i, f := range r {
		if i > 0 {
			b = append(b, ',')
		}
		if i == col && colHex {
			b = append(b, colBytes...)
		} else if i == col {
			b = appendCSVField(b, colBytes)
		} else {
			b = appendCSVField(b, f)
		}
	}
	return append(b, '\n')
}

// appendCSVField appends f as encoding/csv writes a field: in quotes, each
// quote doubled, when it holds a comma, a quote, a carriage return or a
// line feed, is exactly \. or begins with a space character; else as it
// is. Carriage returns and line feeds inside the quotes stay as they are.
func appendCSVField[S string | []byte](b []byte, f S) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	for {
		i := indexByte(f, '"')
		if i < 0 {
			break
		}
		b = append(append(b, f[:i+1]...), '"')
		f = f[i+1:]
	}
	return append(append(b, f...), '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for the comma ",".
// A long field (a payload) is searched for each special byte in turn
// (bytes.IndexByte, many bytes a step), a short one a byte at a time.
func csvNeedsQuotes[S string | []byte](f S) bool {
	if len(f) == 0 {
		return false
	}
	if string(f) == `\.` {
		return true
	}
	if len(f) >= 64 {
		for _, c := range []byte{'"', ',', '\n', '\r'} {
			if indexByte(f, c) >= 0 {
				return true
			}
		}
	} else {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c == '\n' || c == '\r' || c == '"' || c == ',' {
				return true
			}
		}
	}
	r1 := rune(f[0])
	if r1 >= utf8.RuneSelf {
		switch f := any(f).(type) {
		case string:
			r1, _ = utf8.DecodeRuneInString(f)
		case []byte:
			r1, _ = utf8.DecodeRune(f)
		}
	}
	return unicode.IsSpace(r1)
}

// indexByte is the index of c's first instance in f, or -1.
func indexByte[S string | []byte](f S, c byte) int {
	switch f := any(f).(type) {
	case string:
		return strings.IndexByte(f, c)
	case []byte:
		return bytes.IndexByte(f, c)
	}
	return -1
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
	r[15] = csvFormulaSafe(withEncap(info, "", c))
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
	r[13], e.payload = csvPayload(e.payload, f.Payload, text)
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
	r[13], e.payload = csvPayload(e.payload, m.Data, m.Opcode == wsparse.OpText)
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
	r[15] = csvFormulaSafe(withEncap(info, ",", c))
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
	r[15] = csvFormulaSafe(withEncap(info, "", c))
	e.write(r)
}

// csvPayload returns the payload's encoding and its rendering, in buf.
func csvPayload(buf, p []byte, text bool) (string, []byte) {
	if !text || !utf8.Valid(p) {
		return "hex", hex.AppendEncode(buf[:0], p)
	}
	esc := appendEscapedExact(buf[:0], p, math.MaxInt)
	enc := "escaped"
	if bytes.Equal(esc, p) {
		enc = "text"
	}
	if len(esc) > 0 && csvFormulaStart(esc[0]) {
		esc = append(esc, 0)
		copy(esc[1:], esc)
		esc[0] = '\''
	}
	return enc, esc
}

// csvFormulaSafe prefixes with ' a text cell that a spreadsheet would run
// as a formula (OWASP: cells beginning with = + - @ tab or carriage
// return), and one that begins with ' (so a reader always drops one).
// Only text cells that hold traffic go through it: a negative number
// there ("-1") is text like any other; wsdump's own numeric columns never
// do, and stay numbers.
func csvFormulaSafe(s string) string {
	if s != "" && csvFormulaStart(s[0]) {
		return "'" + s
	}
	return s
}

// csvFormulaStart reports whether a text cell that begins with c gets the
// ' prefix (csvFormulaSafe).
func csvFormulaStart(c byte) bool { return strings.IndexByte("=+-@\t\r'", c) >= 0 }

func (e *csvExporter) Flush() error {
	e.writeOut()
	return e.err
}

func (e *csvExporter) Close() error { return e.Flush() }

// withEncap appends to a handshake's, a connection's or a TLS row's info
// the connection's encapsulation after sep, sep+" encap=vlan:10", when it
// came encapsulated (Conn.Encap): the columns stay those of every
// capture.
func withEncap(info, sep string, c *wsparse.Conn) string {
	if c.EncapID() == 0 {
		return info
	}
	return info + sep + " encap=" + c.Encap()
}
