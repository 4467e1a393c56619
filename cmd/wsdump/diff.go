package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

const diffExamples = `  # Same scripted session recorded twice: exit 0, or 4 and the first differences
  wsdump diff golden.pcap new.pcap

  # Only what the server sent, data messages only
  wsdump diff golden.pcap new.pcap --dir s2c --ignore-control

  # Show up to 50 differences
  wsdump diff a.pcap b.pcap --max-diffs 50`

const diffExitHelp = `
Exit status:
  0  no difference
  1  usage error
  2  unreadable input
  4  the captures differ`

type diffOptions struct {
	captureInput
	Out io.Writer

	IgnoreControl bool
	MaxDiffs      int
	Context       int
	Filter        filterFlags
}

func newDiffCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &diffOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "diff A B [flags]",
		Short: "Compare two captures message by message",
		Long: `diff decodes two captures and compares them connection by connection (the
n-th WebSocket connection of A with the n-th of B) and, in each direction,
message by message: the handshake (method, URI, status, subprotocol,
accepted extensions), each data message (opcode and bytes, after
reassembly and inflation), each control frame (ping and pong payloads,
close code and reason), and how the connection ended.

What changes from one recording of a session to the next is not compared:
addresses and ports, the Host header, times, masking keys,
Sec-WebSocket-Key/Accept, TCP segmentation, how frames are split into
fragments, whether a message was compressed. Two recordings of the same
scripted session compare equal; --stable is implied.

The first differences are printed: which connection, direction and
message, and what differs (text as escaped text around the first
differing byte, binary as a hex excerpt).` + "\n" + filterHelp,
		Example:       diffExamples,
		Args:          cobra.ExactArgs(2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(o, args[0], args[1])
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	cmd.SetUsageTemplate(cmd.UsageTemplate() + diffExitHelp + "\n")
	f := cmd.Flags()
	addJobsFlag(f, &o.Jobs)
	f.BoolVar(&o.IgnoreControl, "ignore-control", false, "compare data messages only, not pings, pongs and closes")
	f.IntVar(&o.MaxDiffs, "max-diffs", 10, "print at most this many differences")
	f.IntVar(&o.Context, "context", 32, "characters (text) or bytes (binary) shown around a difference")
	f.StringArrayVar(&o.KeyLogs, "keylog", nil, "decrypt TLS (wss) with this NSS key log `FILE` (repeatable; used for both captures)")
	addFilterFlags(f, &o.Filter, true)
	addCompletions(cmd)
	return cmd
}

// diffItem is one thing compared in a direction: a data message or a
// control frame.
type diffItem struct {
	what  string // "message 3", "ping (frame 12)"
	kind  string // text, binary, ping, pong, close
	data  []byte
	size  uint64 // bytes on the record (message length, payload length)
	close string // close frames: code and reason
}

type diffConn struct {
	id   int
	hs   string
	dirs [2][]diffItem
	end  string
}

// diffCollector is a sink that keeps what diff compares.
type diffCollector struct {
	ignoreControl bool
	conns         []*diffConn
	byConn        map[*wsparse.Conn]*diffConn
}

func newDiffCollector(ignoreControl bool) *diffCollector {
	return &diffCollector{ignoreControl: ignoreControl, byConn: map[*wsparse.Conn]*diffConn{}}
}

func (d *diffCollector) conn(c *wsparse.Conn) *diffConn {
	dc := d.byConn[c]
	if dc == nil {
		dc = &diffConn{id: c.ID}
		d.byConn[c] = dc
		d.conns = append(d.conns, dc)
	}
	return dc
}

func (d *diffCollector) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	s := h.Method + " " + h.URI + " -> " + strconv.Itoa(h.Status)
	if h.Subprotocol != "" {
		s += " subprotocol " + h.Subprotocol
	}
	if h.Extensions != "" {
		s += " extensions " + h.Extensions
	}
	if h.Anomalies != 0 {
		s += " !" + h.Anomalies.String()
	}
	d.conn(c).hs = s
}

func (d *diffCollector) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	dc := d.conn(c)
	if d.ignoreControl || !f.Opcode.IsControl() {
		return
	}
	it := diffItem{what: f.Opcode.String() + " (frame " + strconv.Itoa(f.Index) + ")", kind: f.Opcode.String(),
		data: append([]byte(nil), f.Payload...), size: f.Length}
	if f.Opcode == wsparse.OpClose {
		it.data = nil
		if f.HasCloseCode {
			it.close = strconv.Itoa(int(f.CloseCode)) + " " + report.Escape([]byte(f.CloseReason), 80, true)
		}
	}
	dc.dirs[f.Dir] = append(dc.dirs[f.Dir], it)
}

func (d *diffCollector) Message(c *wsparse.Conn, m *wsparse.Message) {
	dc := d.conn(c)
	dc.dirs[m.Dir] = append(dc.dirs[m.Dir], diffItem{what: "message " + strconv.Itoa(m.Index), kind: m.Opcode.String(),
		data: append([]byte(nil), m.Data...), size: m.Len})
}

func (d *diffCollector) End(c *wsparse.Conn, s *wsparse.Summary) {
	d.conn(c).end = string(s.End)
	delete(d.byConn, c)
}

func (d *diffCollector) count() (n int) {
	for _, c := range d.conns {
		n += len(c.dirs[0]) + len(c.dirs[1])
	}
	return n
}

func runDiff(o *diffOptions, a, b string) error {
	if o.MaxDiffs < 1 || o.Context < 4 {
		return usageErr("--max-diffs must be at least 1 and --context at least 4")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	ca, cb := newDiffCollector(o.IgnoreControl), newDiffCollector(o.IgnoreControl)
	if _, err := o.decodeInto(a, spec, ca); err != nil {
		return err
	}
	if _, err := o.decodeInto(b, spec, cb); err != nil {
		return err
	}
	diffs := compareCaptures(ca, cb, o.Context)
	w := o.Out
	if len(diffs) == 0 {
		fmt.Fprintf(w, "no differences: %d connection(s), %d messages and control frames compared\n", len(ca.conns), ca.count())
		return nil
	}
	fmt.Fprintf(w, "--- A %s\n+++ B %s\n", displayName(a), displayName(b))
	for i, d := range diffs {
		if i == o.MaxDiffs {
			fmt.Fprintf(w, "... and %d more\n", len(diffs)-i)
			break
		}
		fmt.Fprintln(w, d)
	}
	return &exitError{exitDiffer, fmt.Errorf("diff: %d differences", len(diffs))}
}

// compareCaptures returns the differences, in order of connection,
// direction and message.
func compareCaptures(a, b *diffCollector, context int) []string {
	var out []string
	n := max(len(a.conns), len(b.conns))
	for i := 0; i < n; i++ {
		if i >= len(a.conns) {
			out = append(out, fmt.Sprintf("B has connection %d (%s) that A has not", b.conns[i].id, b.conns[i].hs))
			continue
		}
		if i >= len(b.conns) {
			out = append(out, fmt.Sprintf("A has connection %d (%s) that B has not", a.conns[i].id, a.conns[i].hs))
			continue
		}
		ac, bc := a.conns[i], b.conns[i]
		name := "conn " + strconv.Itoa(ac.id)
		if ac.id != bc.id {
			name += " (B conn " + strconv.Itoa(bc.id) + ")"
		}
		if ac.hs != bc.hs {
			out = append(out, fmt.Sprintf("%s handshake:\n  A: %s\n  B: %s", name, orNone(ac.hs), orNone(bc.hs)))
		}
		for d := range ac.dirs {
			out = append(out, compareDir(name+" "+wsparse.Dir(d).String(), ac.dirs[d], bc.dirs[d], context)...)
		}
		if ac.end != bc.end {
			out = append(out, fmt.Sprintf("%s end: A %s, B %s", name, orNone(ac.end), orNone(bc.end)))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return report.Escape([]byte(s), 200, true)
}

func compareDir(where string, a, b []diffItem, context int) []string {
	var out []string
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := &a[i], &b[i]
		label := where + " " + x.what
		if y.what != x.what {
			label += " (B " + y.what + ")"
		}
		switch {
		case x.kind != y.kind:
			out = append(out, fmt.Sprintf("%s: A %s %d B, B %s %d B", label, x.kind, x.size, y.kind, y.size))
		case x.close != y.close:
			out = append(out, fmt.Sprintf("%s: A close %s, B close %s", label, orNone(x.close), orNone(y.close)))
		case x.size != y.size || !bytes.Equal(x.data, y.data):
			out = append(out, label+": "+describeBytes(x, y, context))
		}
	}
	if len(a) != len(b) {
		who, list := "B", b
		if len(a) > len(b) {
			who, list = "A", a
		}
		first := &list[min(len(a), len(b))]
		out = append(out, fmt.Sprintf("%s: A has %d messages and control frames, B %d; %s goes on with %s (%s %d B%s)",
			where, len(a), len(b), who, first.what, first.kind, first.size, preview(first, context)))
	}
	return out
}

func preview(it *diffItem, context int) string {
	if it.kind == "close" {
		return " " + orNone(it.close)
	}
	if len(it.data) == 0 {
		return ""
	}
	if it.kind == "binary" || !report.MostlyText(it.data) {
		return ": " + report.HexPreview(it.data, 2*context)
	}
	return ": " + report.Escape(it.data, 2*context, true)
}

// describeBytes says where two payloads of one kind part: the first
// differing byte, shown in context as text or hex.
func describeBytes(x, y *diffItem, context int) string {
	i := 0
	for i < len(x.data) && i < len(y.data) && x.data[i] == y.data[i] {
		i++
	}
	head := fmt.Sprintf("%s, %d B vs %d B, first difference at byte %d", x.kind, x.size, y.size, i)
	if i == len(x.data) && i == len(y.data) {
		return head + " (past the bytes kept)"
	}
	text := x.kind != "binary" && report.MostlyText(x.data) && report.MostlyText(y.data)
	if text {
		// Back up to a rune boundary, then show context characters before.
		start := i
		for n := 0; start > 0 && n < context/2; n++ {
			start--
			for start > 0 && !utf8.RuneStart(x.data[start]) {
				start--
			}
		}
		cut := func(p []byte) string {
			s := report.Escape(p[start:], context, true)
			if start > 0 {
				s = "…" + s
			}
			return s
		}
		return head + "\n  A: " + cut(x.data) + "\n  B: " + cut(y.data)
	}
	start := i &^ 15
	hex := func(p []byte) string {
		if start >= len(p) {
			return fmt.Sprintf("@0x%04x (ends at %d)", start, len(p))
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "@0x%04x ", start)
		end := min(len(p), start+context)
		for j := start; j < end; j++ {
			fmt.Fprintf(&sb, "%02x", p[j])
			if j%2 == 1 {
				sb.WriteByte(' ')
			}
		}
		if end < len(p) {
			sb.WriteString("…")
		}
		return sb.String()
	}
	return head + "\n  A: " + hex(x.data) + "\n  B: " + hex(y.data)
}
