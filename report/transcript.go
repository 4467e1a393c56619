package report

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TranscriptOptions are the follow view's settings.
type TranscriptOptions struct {
	Stable   bool // client ports numbered in order of appearance
	MaxBytes int  // bytes shown of each message (0: all)
	Pretty   bool // JSON text indented
	Color    bool // message lines coloured by direction
}

// NewTranscript returns the follow view's sink, writing to w (buffered:
// Flush at the end).
func NewTranscript(w io.Writer, o TranscriptOptions) *Transcript {
	t := &Transcript{w: bufio.NewWriter(w), st: NewStabilizer(o.Stable), maxBytes: o.MaxBytes,
		pretty: o.Pretty, color: o.Color}
	t.origin = &t.originTS
	return t
}

// Flush writes what is buffered.
func (t *Transcript) Flush() error { return t.w.Flush() }

// Wrote reports whether something was written (else the caller may say
// why the output is empty).
func (t *Transcript) Wrote() bool { return t.wrote }

// Put follows the conversation, nested application messages unwrapped.
func (t *Transcript) Put(r *record.Record) {
	if r.Kind == record.Message && r.Decoded {
		t.MessageApps(r.Conn, r.Message, r.Apps)
		return
	}
	record.ToWS(t, r)
}

// Transcript is a sink that writes the follow view.
type Transcript struct {
	w        *bufio.Writer
	st       *Stabilizer
	maxBytes int
	pretty   bool
	color    bool
	originTS time.Time
	origin   *time.Time
	wrote    bool   // something was written
	lines    lines  // a text message's, reused
	head     []byte // a message's or an End's line, reused
}

// SetOrigin makes times count from the first packet.
func (t *Transcript) SetOrigin(o time.Time) {
	if t.origin.IsZero() {
		*t.origin = o
	}
	t.st.SetOrigin(o)
}

// when is ts in seconds after the first packet (appendWhen).
func (t *Transcript) when(ts time.Time) string { return string(t.appendWhen(nil, ts)) }

// header writes the line s (headerBytes).
func (t *Transcript) header(dir wsparse.Dir, s string) { t.headerBytes(dir, []byte(s)) }

// headerBytes writes the line b, in its direction's colour with --color.
func (t *Transcript) headerBytes(dir wsparse.Dir, b []byte) {
	t.wrote = true
	if t.color {
		t.w.WriteString(DirColor(dir.String()))
	}
	t.w.Write(b)
	if t.color {
		t.w.WriteString(ColorReset)
	}
	t.w.WriteByte('\n')
}

// appendWhen appends ts in seconds after the first packet, which the
// first time asked for is when no origin was set.
func (t *Transcript) appendWhen(b []byte, ts time.Time) []byte {
	if t.origin.IsZero() {
		*t.origin = ts
	}
	return strconv.AppendFloat(b, ts.Sub(*t.origin).Seconds(), 'f', 6, 64)
}

// anomalySuffix is appendAnomalies's text alone.
func anomalySuffix(a wsparse.Anomalies) string { return string(appendAnomalies(nil, a)) }

func (t *Transcript) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	t.wrote = true
	// Built in t.head, as a message's lines are: a handshake's garbage
	// (~460 B) came with each of 100 000 connections opening (issue 16).
	b := wsparse.AppendConnLabel(append(t.head[:0], "=== conn "...), c.ID)
	b = appendAddrPort(append(b, "  "...), t.st.Client(c.Client()))
	b = appendAddrPort(append(b, " -> "...), c.Server())
	if c.EncapID() != 0 { // VLAN tags, tunnels: which tenant
		b = append(append(b, "  in "...), c.Encap()...)
	}
	b = append(t.appendWhen(append(b, "  at "...), h.RequestTS), '\n')
	b = appendEscaped(append(b, "    "...), []byte(h.Method), 20, true)
	b = appendEscaped(append(b, ' '), []byte(h.URI), 200, true)
	b = append(appendEscaped(append(b, ' '), []byte(h.HTTPVersion), 20, true), '\n')
	if h.Host != "" {
		b = append(appendEscaped(append(b, "    Host: "...), []byte(h.Host), 200, true), '\n')
	}
	b = append(b, "    -> "...)
	if h.Transport != "" {
		// A SockJS or Engine.IO session over HTTP, as the table says it:
		// its 101 is the joiner's mark of a session (fbjoin), no server's.
		b = append(append(b, "session over "...), h.Transport...)
	} else if h.Status != 0 {
		b = appendEscaped(append(strconv.AppendInt(b, int64(h.Status), 10), ' '), []byte(h.Reason), 60, true)
	} else {
		b = append(b, "no response"...)
	}
	b = append(appendAnomalies(b, h.Anomalies), '\n')
	if h.Subprotocol != "" {
		b = append(appendEscaped(append(b, "    subprotocol: "...), []byte(h.Subprotocol), 100, true), '\n')
	}
	if h.Extensions != "" {
		b = append(appendEscaped(append(b, "    extensions: "...), []byte(h.Extensions), 200, true), '\n')
	}
	t.head = append(b, '\n')
	t.w.Write(t.head)
}

// appendAddrPort appends a.String().
func appendAddrPort(b []byte, a netip.AddrPort) []byte {
	if !a.IsValid() {
		return append(b, "invalid AddrPort"...)
	}
	return a.AppendTo(b)
}

// Frame shows control frames on one line; data frames are shown as
// messages.
func (t *Transcript) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if !f.Opcode.IsControl() {
		if f.Opcode.IsReserved() {
			t.header(f.Dir, fmt.Sprintf("[%s] conn %s %s %s frame %d, %d B%s", t.when(f.TS), wsparse.ConnLabel(c.ID), f.Dir, f.Opcode, f.Index, f.Length, anomalySuffix(f.Anomalies)))
		}
		return
	}
	line := fmt.Sprintf("[%s] conn %s %s %s, %d B", t.when(f.TS), wsparse.ConnLabel(c.ID), f.Dir, f.Opcode, f.Length)
	switch {
	case f.Opcode == wsparse.OpClose && f.HasCloseCode:
		line += ": " + strconv.Itoa(int(f.CloseCode))
		if name := wsparse.CloseCodeName(f.CloseCode); name != "" {
			line += " (" + name + ")"
		}
		if f.CloseReason != "" {
			line += " " + strconv.Quote(Escape([]byte(f.CloseReason), 125, true))
		}
	case len(f.Payload) > 0:
		line += ": " + Escape(f.Payload, 125, true)
	}
	t.header(f.Dir, line+anomalySuffix(f.Anomalies))
}

func (t *Transcript) Message(c *wsparse.Conn, m *wsparse.Message) { t.MessageApps(c, m, nil) }

// MessageApps writes a message; apps (decoded application messages) tell
// how to unwrap its text (FollowText).
func (t *Transcript) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	b := append(t.head[:0], '[')
	b = t.appendWhen(b, m.TS)
	b = append(b, "] conn "...)
	b = wsparse.AppendConnLabel(b, c.ID)
	b = append(append(append(append(b, ' '), m.Dir.String()...), ' '), m.Opcode.String()...)
	b = strconv.AppendInt(append(b, " #"...), int64(m.Index), 10)
	b = append(strconv.AppendUint(append(b, ", "...), m.Len, 10), " B"...)
	if m.LenUnknown {
		b = append(b, " inflated of ? B"...)
	}
	if m.Compressed {
		b = append(strconv.AppendUint(append(b, ", compressed "...), m.WireLen, 10), " B"...)
	}
	if m.Frames > 1 {
		b = append(strconv.AppendInt(append(b, ", "...), int64(m.Frames), 10), " frames"...)
	}
	t.head = appendAnomalies(b, m.Anomalies)
	t.headerBytes(m.Dir, t.head)
	data := m.Data
	more := 0
	if t.maxBytes > 0 && len(data) > t.maxBytes {
		cut := t.maxBytes
		for cut > 0 && m.Opcode == wsparse.OpText && !utf8.RuneStart(data[cut]) {
			cut-- // whole characters only
		}
		more = len(data) - cut
		data = data[:cut]
	}
	if m.Opcode == wsparse.OpText && MostlyText(data) {
		t.lines.reset()
		t.lines.followText(data, apps, t.pretty, more == 0)
		t.w.Write(t.lines.b)
		if cap(t.lines.b) > maxKeptLines {
			t.lines = lines{} // a big message's: not kept
		}
	} else {
		hexDump(t.w, data)
	}
	if more > 0 {
		fmt.Fprintf(t.w, "… %d more bytes (--max-bytes 0 shows all)\n", more)
	}
	if uint64(len(m.Data)) < m.Len {
		fmt.Fprintf(t.w, "… %d bytes not kept\n", m.Len-uint64(len(m.Data)))
	}
	t.w.WriteByte('\n')
}

// maxKeptLines bounds the bytes of a message's lines the Transcript keeps
// for the next.
const maxKeptLines = 64 << 10

// hexDump writes p as xxd does: offset, 16 bytes in pairs, ASCII.
func hexDump(w *bufio.Writer, p []byte) {
	for off := 0; off < len(p); off += 16 {
		row := p[off:min(off+16, len(p))]
		fmt.Fprintf(w, "%08x: ", off)
		for i := 0; i < 16; i++ {
			if i < len(row) {
				fmt.Fprintf(w, "%02x", row[i])
			} else {
				w.WriteString("  ")
			}
			if i%2 == 1 {
				w.WriteByte(' ')
			}
		}
		w.WriteByte(' ')
		for _, b := range row {
			if b < 0x20 || b > 0x7e {
				b = '.'
			}
			w.WriteByte(b)
		}
		w.WriteByte('\n')
	}
}

func (t *Transcript) End(c *wsparse.Conn, s *wsparse.Summary) {
	t.wrote = true
	b := append(t.head[:0], "=== conn "...)
	b = wsparse.AppendConnLabel(b, c.ID)
	b = append(t.appendWhen(append(b, " end at "...), s.Last), ": "...)
	b = append(b, s.End...)
	if s.StreamEnd != "" {
		b = append(append(append(b, " ("...), s.StreamEnd...), ')')
	}
	switch s.End { // who left, as conns' CLOSE says it
	case wsparse.EndFINWithoutClose:
		b = append(append(b, ", FIN from "...), tcpOrder(s.TCPFin, s.TCPFirst())...)
	case wsparse.EndRSTWithoutClose:
		b = append(append(b, ", RST from "...), tcpOrder(s.TCPRst, s.TCPFirst())...)
	}
	if s.Handshake == nil {
		b = append(append(append(b, ", no handshake ("...), s.Confidence...), ')')
	}
	if s.Close[0].Sent || s.Close[1].Sent {
		b = append(append(b, ", close by "...), sideName(s.Initiator)...)
		if cl := s.Close[s.Initiator]; cl.HasCode {
			b = strconv.AppendInt(append(b, ' '), int64(cl.Code), 10)
		}
	}
	b = strconv.AppendInt(append(b, ", "...), int64(s.Stats[0].Messages), 10)
	b = strconv.AppendInt(append(b, '/'), int64(s.Stats[1].Messages), 10)
	t.head = append(appendAnomalies(append(b, " messages"...), s.Anomalies), '\n', '\n')
	t.w.Write(t.head)
}

func sideName(d wsparse.Dir) string {
	if d == wsparse.ClientToServer {
		return "client"
	}
	return "server"
}
