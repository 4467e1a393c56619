package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsdump/wsdump/diff"
	"github.com/wsdump/wsdump/wsparse"
)

// DiffCloseText is how diff compares and shows a close frame's code and
// reason (diff.Options.CloseText).
func DiffCloseText(code uint16, reason string) string {
	return strconv.Itoa(int(code)) + " " + Escape([]byte(reason), 80, true)
}

// WriteDiff writes the result of wsdump diff: a line when the captures
// compare equal, else the first maxDiffs differences (nameA and nameB as
// shown), context characters (text) or bytes (binary) around each.
func WriteDiff(out io.Writer, nameA, nameB string, r *diff.Result, maxDiffs, context int) error {
	w := bufio.NewWriter(out)
	if len(r.Diffs) == 0 {
		fmt.Fprintf(w, "no differences: %d connection(s), %d messages and control frames compared\n", r.Conns, r.Compared)
	} else {
		fmt.Fprintf(w, "--- A %s\n+++ B %s\n", nameA, nameB)
		for i := range r.Diffs {
			if i == maxDiffs {
				fmt.Fprintf(w, "... and %d more\n", len(r.Diffs)-i)
				break
			}
			fmt.Fprintln(w, DiffText(&r.Diffs[i], context))
		}
	}
	return w.Flush()
}

// DiffText is one difference as wsdump diff prints it.
func DiffText(d *diff.Difference, context int) string {
	switch d.Kind {
	case diff.OnlyInB:
		return fmt.Sprintf("B has connection %d%s (%s) that A has not", d.ConnB, diffEncap(d.EncapB), d.Text[1])
	case diff.OnlyInA:
		return fmt.Sprintf("A has connection %d%s (%s) that B has not", d.ConnA, diffEncap(d.EncapA), d.Text[0])
	}
	name := "conn " + wsparse.ConnLabel(d.ConnA) + diffEncap(d.EncapA)
	if d.ConnA != d.ConnB || d.EncapA != d.EncapB {
		name += " (B conn " + wsparse.ConnLabel(d.ConnB) + diffEncap(d.EncapB) + ")"
	}
	switch d.Kind {
	case diff.Handshake:
		return fmt.Sprintf("%s handshake:\n  A: %s\n  B: %s", name, diffOrNone(d.Text[0]), diffOrNone(d.Text[1]))
	case diff.End:
		return fmt.Sprintf("%s end: A %s, B %s", name, diffOrNone(d.Text[0]), diffOrNone(d.Text[1]))
	}
	where := name + " " + d.Dir.String()
	x, y := &d.A, &d.B
	if d.Kind == diff.Count {
		who, first := "B", y
		if d.Count[0] > d.Count[1] {
			who, first = "A", x
		}
		return fmt.Sprintf("%s: A has %d messages and control frames, B %d; %s goes on with %s (%s %d B%s)",
			where, d.Count[0], d.Count[1], who, diffWhat(first), first.Op.String(), first.Size, diffPreview(first, context))
	}
	label := where + " " + diffWhat(x)
	if diffWhat(y) != diffWhat(x) {
		label += " (B " + diffWhat(y) + ")"
	}
	switch d.Kind {
	case diff.Opcode:
		return fmt.Sprintf("%s: A %s %d B, B %s %d B", label, x.Op.String(), x.Size, y.Op.String(), y.Size)
	case diff.Close:
		return fmt.Sprintf("%s: A close %s, B close %s", label, diffOrNone(x.Close), diffOrNone(y.Close))
	}
	return label + ": " + describeBytes(x, y, context)
}

// diffEncap is " in vlan:10" for a connection carried so, "" for a
// plain one.
func diffEncap(e string) string {
	if e == "" {
		return ""
	}
	return " in " + Escape([]byte(e), 200, true)
}

// diffWhat names the item: "message 3", "ping (frame 12)".
func diffWhat(it *diff.Item) string {
	if it.Op.IsControl() {
		return it.Op.String() + " (frame " + strconv.Itoa(it.Index) + ")"
	}
	return "message " + strconv.Itoa(it.Index)
}

func diffOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return Escape([]byte(s), 200, true)
}

func diffPreview(it *diff.Item, context int) string {
	if it.Op == wsparse.OpClose {
		return " " + diffOrNone(it.Close)
	}
	if len(it.Data) == 0 {
		return ""
	}
	if it.Op == wsparse.OpBinary || !MostlyText(it.Data) {
		return ": " + HexPreview(it.Data, 2*context)
	}
	return ": " + Escape(it.Data, 2*context, true)
}

// describeBytes says where two payloads of one kind part: the first
// differing byte, shown in context as text or hex.
func describeBytes(x, y *diff.Item, context int) string {
	i := 0
	for i < len(x.Data) && i < len(y.Data) && x.Data[i] == y.Data[i] {
		i++
	}
	if !x.Kept || !y.Kept {
		return fmt.Sprintf("%s, %d B vs %d B", x.Op.String(), x.Size, y.Size) // not shown (see diff.Run)
	}
	head := fmt.Sprintf("%s, %d B vs %d B, first difference at byte %d", x.Op.String(), x.Size, y.Size, i)
	if i == len(x.Data) && i == len(y.Data) {
		return head + " (past the bytes kept)"
	}
	text := x.Op != wsparse.OpBinary && MostlyText(x.Data) && MostlyText(y.Data)
	if text {
		// Back up to a rune boundary, then show context characters before.
		start := i
		for n := 0; start > 0 && n < context/2; n++ {
			start--
			for start > 0 && !utf8.RuneStart(x.Data[start]) {
				start--
			}
		}
		cut := func(p []byte) string {
			s := Escape(p[start:], context, true)
			if start > 0 {
				s = "…" + s
			}
			return s
		}
		return head + "\n  A: " + cut(x.Data) + "\n  B: " + cut(y.Data)
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
	return head + "\n  A: " + hex(x.Data) + "\n  B: " + hex(y.Data)
}
