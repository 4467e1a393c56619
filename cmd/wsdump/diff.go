package main

import (
	"bufio"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/record"
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
  4  the captures differ
  5  the output could not be written
  130  interrupted (SIGINT, SIGTERM): the output covers what was read`

type diffOptions struct {
	captureInput
	Out io.Writer

	Reads         []string // -r A -r B
	IgnoreControl bool
	MaxDiffs      int
	Context       int
	Filter        filterFlags
}

func newDiffCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &diffOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "diff A B [flags] | diff -r A -r B [flags]",
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
		Args:          cobra.MaximumNArgs(2),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// diff A B, diff -r A -r B and diff -r A B name the same two captures.
			files := captureArgs(o.Reads, args)
			if len(files) != 2 {
				return usageErr("diff compares two captures: wsdump diff A B (or -r A -r B), not %d", len(files))
			}
			o.Ctx = cmd.Context()
			return runDiff(o, files[0], files[1])
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	cmd.SetUsageTemplate(cmd.UsageTemplate() + diffExitHelp + "\n")
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
	f.StringArrayVarP(&o.Reads, "read", "r", nil, "capture to compare (twice: -r A -r B, as the positional A B)")
	f.BoolVar(&o.IgnoreControl, "ignore-control", false, "compare data messages only, not pings, pongs and closes")
	f.IntVar(&o.MaxDiffs, "max-diffs", 10, "print at most this many differences")
	f.IntVar(&o.Context, "context", 32, "characters (text) or bytes (binary) shown around a difference")
	addFilterFlags(f, &o.Filter, true)
	addCompletions(cmd)
	return cmd
}

// diffItem is one thing compared in a direction: a data message or a
// control frame. Its bytes are compared by a 128-bit hash; they are kept
// only where a difference is to be shown (see runDiff).
type diffItem struct {
	op    wsparse.Opcode // the message's, or the control frame's
	index int32          // message index, or frame index for a control frame
	close int32          // close frames with a code: 1 + index in the collector's closes
	size  uint64         // bytes on the record (message length, payload length)
	sum   [2]uint64      // of the bytes (diffSum)
	// No pointers: a capture's items are scanned by no garbage collection.
}

// what names the item: "message 3", "ping (frame 12)".
func (it *diffItem) what() string {
	if it.op.IsControl() {
		return it.op.String() + " (frame " + strconv.Itoa(int(it.index)) + ")"
	}
	return "message " + strconv.Itoa(int(it.index))
}

func (it *diffItem) kind() string { return it.op.String() }

var diffSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func diffSum(b []byte) [2]uint64 {
	return [2]uint64{maphash.Bytes(diffSeeds[0], b), maphash.Bytes(diffSeeds[1], b)}
}

type diffConn struct {
	ord  int // the connection's place in its capture, from 0
	id   int
	hs   string
	dirs [2][]diffItem
	end  string
}

// diffKey is an item's place: connection (ord), direction, position.
type diffKey struct{ conn, dir, pos int }

// diffCollector is a sink that keeps what diff compares.
type diffCollector struct {
	ignoreControl bool
	keep          map[diffKey]bool // items whose bytes to keep; nil: all
	bytesOnly     bool             // only the bytes kept are wanted, not the hashes
	conns         []*diffConn
	byConn        map[*wsparse.Conn]*diffConn
	data          map[diffKey][]byte // the bytes kept
	closes        []string           // close frames' code and reason
}

func newDiffCollector(ignoreControl bool, keep map[diffKey]bool) *diffCollector {
	return &diffCollector{ignoreControl: ignoreControl, keep: keep, byConn: map[*wsparse.Conn]*diffConn{}, data: map[diffKey][]byte{}}
}

func (d *diffCollector) conn(c *wsparse.Conn) *diffConn {
	dc := d.byConn[c]
	if dc == nil {
		dc = &diffConn{ord: len(d.conns), id: c.ID}
		d.byConn[c] = dc
		d.conns = append(d.conns, dc)
	}
	return dc
}

func (d *diffCollector) add(dc *diffConn, dir wsparse.Dir, it diffItem, data []byte) {
	if !d.bytesOnly {
		it.sum = diffSum(data)
	}
	k := diffKey{dc.ord, int(dir), len(dc.dirs[dir])}
	if d.keep == nil || d.keep[k] {
		d.data[k] = append([]byte(nil), data...)
	}
	dc.dirs[dir] = append(dc.dirs[dir], it)
}

// view is what an item of connection ord, direction dir, at pos is
// compared and shown as.
func (d *diffCollector) view(ord, dir, pos int) diffView {
	dc := d.conns[ord]
	it := &dc.dirs[dir][pos]
	v := diffView{diffItem: it}
	v.data, v.kept = d.data[diffKey{ord, dir, pos}]
	if it.close > 0 {
		v.closeText = d.closes[it.close-1]
	}
	return v
}

// diffView is an item with its close text and kept bytes.
type diffView struct {
	*diffItem
	closeText string
	data      []byte
	kept      bool // data holds the bytes
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
	it := diffItem{op: f.Opcode, index: int32(f.Index), size: f.Length}
	data := f.Payload
	if f.Opcode == wsparse.OpClose {
		data = nil
		if f.HasCloseCode {
			d.closes = append(d.closes, strconv.Itoa(int(f.CloseCode))+" "+report.Escape([]byte(f.CloseReason), 80, true))
			it.close = int32(len(d.closes))
		}
	}
	d.add(dc, f.Dir, it, data)
}

func (d *diffCollector) Message(c *wsparse.Conn, m *wsparse.Message) {
	d.add(d.conn(c), m.Dir, diffItem{op: m.Opcode, index: int32(m.Index), size: m.Len}, m.Data)
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

// runDiff decodes both captures keeping a hash of each message, compares
// them, and decodes them again keeping only the bytes of the differences
// it prints: memory goes with the number of messages (about 80 bytes
// each), not with their size. Standard input cannot be read twice: with
// "-", every message's bytes are kept.
func runDiff(o *diffOptions, a, b string) error {
	if o.MaxDiffs < 1 || o.Context < 4 {
		return usageErr("--max-diffs must be at least 1 and --context at least 4")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	twice := a != "-" && b != "-"
	var none map[diffKey]bool
	if twice {
		none = map[diffKey]bool{}
	}
	decode := func(keep [2]map[diffKey]bool, bytesOnly bool) (*diffCollector, *diffCollector, error) {
		ca, cb := newDiffCollector(o.IgnoreControl, keep[0]), newDiffCollector(o.IgnoreControl, keep[1])
		ca.bytesOnly, cb.bytesOnly = bytesOnly, bytesOnly
		if _, err := o.decodeInto([]string{a}, spec, record.Adapt(ca), nil, false); err != nil {
			return nil, nil, err
		}
		if _, err := o.decodeInto([]string{b}, spec, record.Adapt(cb), nil, false); err != nil {
			return nil, nil, err
		}
		return ca, cb, nil
	}
	ca, cb, err := decode([2]map[diffKey]bool{none, none}, false)
	if err != nil {
		return err
	}
	need := [2]map[diffKey]bool{{}, {}}
	diffs := compareCaptures(ca, cb, o.Context, o.MaxDiffs, need)
	if twice && len(need[0])+len(need[1]) > 0 {
		// The second reading fetches the bytes to show; the comparison
		// stays the first one's, now with them.
		ba, bb, err := decode(need, true)
		if err != nil {
			return err
		}
		ca.data, cb.data = ba.data, bb.data
		diffs = compareCaptures(ca, cb, o.Context, o.MaxDiffs, need)
	}
	w := bufio.NewWriter(o.Out)
	if len(diffs) == 0 {
		fmt.Fprintf(w, "no differences: %d connection(s), %d messages and control frames compared\n", len(ca.conns), ca.count())
	} else {
		fmt.Fprintf(w, "--- A %s\n+++ B %s\n", displayName(a), displayName(b))
		for i, d := range diffs {
			if i == o.MaxDiffs {
				fmt.Fprintf(w, "... and %d more\n", len(diffs)-i)
				break
			}
			fmt.Fprintln(w, d)
		}
	}
	if err := w.Flush(); err != nil {
		return outputErr(err) // not 0 or 4: the result was not written
	}
	if len(diffs) == 0 {
		return nil
	}
	return &exitError{exitDiffer, fmt.Errorf("diff: %d %s", len(diffs), plural(len(diffs), "difference", "differences"))}
}

// compareCaptures returns the differences, in order of connection,
// direction and message. The items whose bytes the first shown ones
// describe are added to need (by capture).
func compareCaptures(a, b *diffCollector, context, shown int, need [2]map[diffKey]bool) []string {
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
		name := "conn " + wsparse.ConnLabel(ac.id)
		if ac.id != bc.id {
			name += " (B conn " + wsparse.ConnLabel(bc.id) + ")"
		}
		if ac.hs != bc.hs {
			out = append(out, fmt.Sprintf("%s handshake:\n  A: %s\n  B: %s", name, orNone(ac.hs), orNone(bc.hs)))
		}
		for d := range ac.dirs {
			c := &dirCompare{where: name + " " + wsparse.Dir(d).String(), context: context, conn: i, dir: d, need: need, a: a, b: b}
			if len(out) < shown {
				c.budget = shown - len(out)
			}
			out = append(out, c.compare(len(ac.dirs[d]), len(bc.dirs[d]))...)
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

// dirCompare compares one direction of a connection.
type dirCompare struct {
	where     string
	context   int
	conn, dir int
	need      [2]map[diffKey]bool
	budget    int // differences still to be shown: their bytes are needed
	a, b      *diffCollector
}

// use notes that side's item at pos is described in a difference shown.
func (c *dirCompare) use(side, pos int) {
	if c.budget > 0 {
		c.need[side][diffKey{c.conn, c.dir, pos}] = true
	}
}

func (c *dirCompare) compare(na, nb int) []string {
	var out []string
	add := func(s string) {
		out = append(out, s)
		c.budget = max(c.budget-1, 0)
	}
	for i := 0; i < na && i < nb; i++ {
		x, y := c.a.view(c.conn, c.dir, i), c.b.view(c.conn, c.dir, i)
		label := c.where + " " + x.what()
		if y.what() != x.what() {
			label += " (B " + y.what() + ")"
		}
		switch {
		case x.op != y.op:
			add(fmt.Sprintf("%s: A %s %d B, B %s %d B", label, x.kind(), x.size, y.kind(), y.size))
		case x.closeText != y.closeText:
			add(fmt.Sprintf("%s: A close %s, B close %s", label, orNone(x.closeText), orNone(y.closeText)))
		case x.size != y.size || x.sum != y.sum:
			c.use(0, i)
			c.use(1, i)
			add(label + ": " + describeBytes(&x, &y, c.context))
		}
	}
	if na != nb {
		who, col, side := "B", c.b, 1
		if na > nb {
			who, col, side = "A", c.a, 0
		}
		at := min(na, nb)
		first := col.view(c.conn, c.dir, at)
		c.use(side, at)
		add(fmt.Sprintf("%s: A has %d messages and control frames, B %d; %s goes on with %s (%s %d B%s)",
			c.where, na, nb, who, first.what(), first.kind(), first.size, preview(&first, c.context)))
	}
	return out
}

func preview(it *diffView, context int) string {
	if it.op == wsparse.OpClose {
		return " " + orNone(it.closeText)
	}
	if len(it.data) == 0 {
		return ""
	}
	if it.op == wsparse.OpBinary || !report.MostlyText(it.data) {
		return ": " + report.HexPreview(it.data, 2*context)
	}
	return ": " + report.Escape(it.data, 2*context, true)
}

// describeBytes says where two payloads of one kind part: the first
// differing byte, shown in context as text or hex.
func describeBytes(x, y *diffView, context int) string {
	i := 0
	for i < len(x.data) && i < len(y.data) && x.data[i] == y.data[i] {
		i++
	}
	if !x.kept || !y.kept {
		return fmt.Sprintf("%s, %d B vs %d B", x.kind(), x.size, y.size) // not shown (see runDiff)
	}
	head := fmt.Sprintf("%s, %d B vs %d B, first difference at byte %d", x.kind(), x.size, y.size, i)
	if i == len(x.data) && i == len(y.data) {
		return head + " (past the bytes kept)"
	}
	text := x.op != wsparse.OpBinary && report.MostlyText(x.data) && report.MostlyText(y.data)
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
