package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

const followExamples = `  # The conversation of connection 1 as a transcript
  wsdump follow -r session.pcap --conn 1

  # Only what the client sent, whole messages however long
  wsdump follow -r session.pcap --conn 1 --dir c2s --max-bytes 0

  # Messages mentioning an order id, from every connection
  wsdump follow -r session.pcap --grep 'order-4711'`

type followOptions struct {
	captureInput
	Out io.Writer

	Reads    []string
	Stable   bool
	MaxBytes int
	NoPretty bool
	Color    string // --color: auto, always or never
	Filter   filterFlags
}

func newFollowCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &followOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "follow -r FILE [--conn N] [flags]",
		Short: "Print a conversation as a transcript, message by message",
		Long: `follow prints WebSocket conversations the way tshark's "follow" prints a TCP
stream, but per message: a header line for each message (seconds after the
first packet, connection, direction, opcode and number, size, compressed
size, fragments, anomalies), then its content: text as text (JSON indented
when it parses), binary as a hex dump with an ASCII column (xxd style).
Control frames take one line. Everything from the traffic is escaped, so
a payload cannot move the cursor or change colours.

Without --conn every connection is followed, in capture order.` + "\n" + filterHelp,
		Example:       followExamples,
		Args:          readArgs(&o.Reads),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			return runFollow(o)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
	addReadFlag(f, &o.Reads)
	addPerFileFlag(f, &o.PerFile)
	f.BoolVar(&o.Stable, "stable", false, "normalise client ports (numbered in order of appearance)")
	f.IntVar(&o.MaxBytes, "max-bytes", 4096, "show at most this many bytes of each message (0: all)")
	f.BoolVar(&o.NoPretty, "no-pretty", false, "show JSON text as sent, not indented")
	f.StringVar(&o.Color, "color", "auto", "colour the message lines by direction: auto (on a terminal, unless NO_COLOR is set), always or never")
	addFilterFlags(f, &o.Filter, true)
	addCompletions(cmd)
	return cmd
}

func runFollow(o *followOptions) error {
	if len(o.Reads) == 0 {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.MaxBytes < 0 {
		return usageErr("--max-bytes must not be negative")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	colors := tableFlags{Color: o.Color}
	if err := colors.validate(); err != nil {
		return err
	}
	if o.PerFile {
		fixTable(&colors, o.Out)
		return runPerFile(o.Reads, o.Jobs, labelHeader, o.Out, o.Err, func(f string, out, errw io.Writer) error {
			one := *o
			one.PerFile, one.Reads, one.Out, one.Err, one.Jobs, one.Color = false, []string{f}, out, errw, 1, colors.Color
			return runFollow(&one)
		})
	}
	t := &transcript{w: bufio.NewWriter(o.Out), st: report.NewStabilizer(o.Stable), maxBytes: o.MaxBytes,
		pretty: !o.NoPretty, color: colors.color(o.Out)}
	t.origin = &t.originTS
	// Application protocols are decoded (apps: true) so that nested ones
	// (a STOMP frame in a SockJS array) are shown unwrapped.
	_, derr := o.decodeInto(o.Reads, spec, t, t.SetOrigin, true)
	if err := t.w.Flush(); err != nil {
		return outputErr(err)
	}
	if derr == nil && !t.wrote {
		explainEmpty(o.Ctx, &o.inputFlags, o.Reads, o.In, o.Err, spec.Conns)
	}
	return derr
}

// transcript is a sink that writes the follow view.
type transcript struct {
	w        *bufio.Writer
	st       *report.Stabilizer
	maxBytes int
	pretty   bool
	color    bool
	originTS time.Time
	origin   *time.Time
	wrote    bool // something was written (else explainEmpty says why)
}

// SetOrigin makes times count from the first packet.
func (t *transcript) SetOrigin(o time.Time) {
	if t.origin.IsZero() {
		*t.origin = o
	}
	t.st.SetOrigin(o)
}

func (t *transcript) when(ts time.Time) string {
	if t.origin.IsZero() {
		*t.origin = ts
	}
	return strconv.FormatFloat(ts.Sub(*t.origin).Seconds(), 'f', 6, 64)
}

func (t *transcript) header(dir wsparse.Dir, s string) {
	t.wrote = true
	if t.color {
		s = report.DirColor(dir.String()) + s + report.ColorReset
	}
	t.w.WriteString(s)
	t.w.WriteByte('\n')
}

func anomalySuffix(a wsparse.Anomalies) string {
	if a == 0 {
		return ""
	}
	return " !" + a.String()
}

func (t *transcript) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	t.wrote = true
	fmt.Fprintf(t.w, "=== conn %s  %s -> %s  at %s\n", wsparse.ConnLabel(c.ID), t.st.Client(c.Client()), c.Server(), t.when(h.RequestTS))
	fmt.Fprintf(t.w, "    %s %s %s\n", report.Escape([]byte(h.Method), 20, true), report.Escape([]byte(h.URI), 200, true), report.Escape([]byte(h.HTTPVersion), 20, true))
	if h.Host != "" {
		fmt.Fprintf(t.w, "    Host: %s\n", report.Escape([]byte(h.Host), 200, true))
	}
	resp := "no response"
	if h.Status != 0 {
		resp = strconv.Itoa(h.Status) + " " + report.Escape([]byte(h.Reason), 60, true)
	}
	fmt.Fprintf(t.w, "    -> %s%s\n", resp, anomalySuffix(h.Anomalies))
	if h.Subprotocol != "" {
		fmt.Fprintf(t.w, "    subprotocol: %s\n", report.Escape([]byte(h.Subprotocol), 100, true))
	}
	if h.Extensions != "" {
		fmt.Fprintf(t.w, "    extensions: %s\n", report.Escape([]byte(h.Extensions), 200, true))
	}
	t.w.WriteByte('\n')
}

// Frame shows control frames on one line; data frames are shown as
// messages.
func (t *transcript) Frame(c *wsparse.Conn, f *wsparse.Frame) {
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
			line += " " + strconv.Quote(report.Escape([]byte(f.CloseReason), 125, true))
		}
	case len(f.Payload) > 0:
		line += ": " + report.Escape(f.Payload, 125, true)
	}
	t.header(f.Dir, line+anomalySuffix(f.Anomalies))
}

func (t *transcript) Message(c *wsparse.Conn, m *wsparse.Message) { t.MessageApps(c, m, nil) }

// MessageApps writes a message; apps (decoded application messages) tell
// how to unwrap its text (report.FollowText).
func (t *transcript) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	head := fmt.Sprintf("[%s] conn %s %s %s #%d, %d B", t.when(m.TS), wsparse.ConnLabel(c.ID), m.Dir, m.Opcode, m.Index, m.Len)
	if m.LenUnknown {
		head = fmt.Sprintf("[%s] conn %s %s %s #%d, %d B inflated of ? B", t.when(m.TS), wsparse.ConnLabel(c.ID), m.Dir, m.Opcode, m.Index, m.Len)
	}
	if m.Compressed {
		head += fmt.Sprintf(", compressed %d B", m.WireLen)
	}
	if m.Frames > 1 {
		head += fmt.Sprintf(", %d frames", m.Frames)
	}
	t.header(m.Dir, head+anomalySuffix(m.Anomalies))
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
	if m.Opcode == wsparse.OpText && report.MostlyText(data) {
		for _, line := range report.FollowText(data, apps, t.pretty, more == 0) {
			t.w.WriteString(line)
			t.w.WriteByte('\n')
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

func (t *transcript) End(c *wsparse.Conn, s *wsparse.Summary) {
	t.wrote = true
	line := fmt.Sprintf("=== conn %s end at %s: %s", wsparse.ConnLabel(c.ID), t.when(s.Last), s.End)
	if s.StreamEnd != "" {
		line += " (" + s.StreamEnd + ")"
	}
	if s.Handshake == nil {
		line += ", no handshake (" + string(s.Confidence) + ")"
	}
	if s.Close[0].Sent || s.Close[1].Sent {
		line += ", close by " + sideName(s.Initiator)
		if cl := s.Close[s.Initiator]; cl.HasCode {
			line += " " + strconv.Itoa(int(cl.Code))
		}
	}
	line += fmt.Sprintf(", %d/%d messages", s.Stats[0].Messages, s.Stats[1].Messages)
	fmt.Fprintf(t.w, "%s%s\n\n", line, anomalySuffix(s.Anomalies))
}

func sideName(d wsparse.Dir) string {
	if d == wsparse.ClientToServer {
		return "client"
	}
	return "server"
}
