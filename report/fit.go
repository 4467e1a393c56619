package report

import (
	"bufio"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// fitColumn is a column of a table laid out to a terminal's width
// (writeFitted).
type fitColumn struct {
	name  string
	cells []string
	fold  string // the cell may be folded onto more lines at this separator ("" never)
}

// foldRoom is the width the steps make for the folding column, when its
// cell is that wide: a few pieces on a line.
const foldRoom = 40

// fitStep is one step of making a table narrower: drop a column (cut 0)
// or cut its cells (with "…") to cut display columns; a negative cut
// cuts them to -cut keeping their end ("…" first).
type fitStep struct{ col, cut int }

// writeFitted writes the columns as the conns tables are written (two
// spaces between columns, left aligned, no trailing spaces), made to fit
// width columns: the steps are taken in order while the table is too
// wide, the folding column counted at its widest piece or foldRoom; then the folding
// column (the last, so that what is before it stays on the row's first
// line) is folded at its separator, its pieces packed onto lines as wide
// as what is left of the width. A piece wider than that stays whole:
// folding never hides text. width <= 0: no fitting.
func writeFitted(w *bufio.Writer, cols []fitColumn, steps []fitStep, width int) {
	widths := make([]int, len(cols))
	keep := make([]bool, len(cols))
	keepEnd := make([]bool, len(cols)) // cut keeping the end (a negative cut)
	foldAt := -1
	for i := range cols {
		c := &cols[i]
		widths[i] = twwidth.Width(c.name)
		for _, s := range c.cells {
			widths[i] = max(widths[i], twwidth.Width(s))
		}
		keep[i] = true
		if c.fold != "" && width > 0 {
			foldAt = i
		}
	}
	total := func() int {
		t, n := 0, 0
		for i := range cols {
			if !keep[i] {
				continue
			}
			n++
			if i == foldAt {
				// Room for a few pieces on a line, when the cell has them.
				t += max(foldMin(&cols[i], widths[i]), min(widths[i], foldRoom))
			} else {
				t += widths[i]
			}
		}
		return t + 2*max(n-1, 0)
	}
	if width > 0 {
		for _, st := range steps {
			if total() <= width {
				break
			}
			cut := st.cut
			if cut < 0 {
				cut, keepEnd[st.col] = -cut, true
			}
			if cut == 0 {
				keep[st.col] = false
			} else if widths[st.col] > cut {
				widths[st.col] = max(cut, widths[st.col]-(total()-width))
			}
		}
		if foldAt >= 0 {
			// What is left of the width, at least the widest piece.
			rest := width - (total() - max(foldMin(&cols[foldAt], widths[foldAt]), min(widths[foldAt], foldRoom)))
			widths[foldAt] = min(widths[foldAt], max(rest, foldMin(&cols[foldAt], widths[foldAt])))
		}
	}
	rows := 0
	for i := range cols {
		rows = max(rows, len(cols[i].cells))
	}
	var line strings.Builder
	emit := func(cells []string, header bool) {
		// cells[i] for the kept columns; folded pieces go on more lines.
		var rest []string
		line.Reset()
		pad := 0
		for i := range cols {
			if !keep[i] {
				continue
			}
			if line.Len() > 0 {
				line.WriteString(strings.Repeat(" ", pad+2))
			}
			c := cells[i]
			switch {
			case i == foldAt && !header:
				lines := foldCell(c, cols[i].fold, widths[i])
				c, rest = lines[0], lines[1:]
			case twwidth.Width(c) > widths[i] && keepEnd[i] && !header:
				c = cutCellHead(c, widths[i])
			case twwidth.Width(c) > widths[i]:
				c = cutCell(c, widths[i])
			}
			line.WriteString(c)
			pad = widths[i] - twwidth.Width(c)
		}
		w.WriteString(strings.TrimRight(line.String(), " "))
		w.WriteByte('\n')
		if len(rest) > 0 {
			indent := 0
			for i := 0; i < foldAt; i++ {
				if keep[i] {
					indent += widths[i] + 2
				}
			}
			for _, r := range rest {
				w.WriteString(strings.Repeat(" ", indent))
				w.WriteString(r)
				w.WriteByte('\n')
			}
		}
	}
	head := make([]string, len(cols))
	for i := range cols {
		head[i] = cols[i].name
	}
	emit(head, true)
	for r := 0; r < rows; r++ {
		cells := make([]string, len(cols))
		for i := range cols {
			if r < len(cols[i].cells) {
				cells[i] = cols[i].cells[r]
			}
		}
		emit(cells, false)
	}
}

// foldMin is the narrowest the folding column c (natural width w) can
// be: its widest piece (a wider header is cut).
func foldMin(c *fitColumn, w int) int {
	n := 1
	for _, s := range c.cells {
		for _, p := range strings.SplitAfter(s, c.fold) {
			n = max(n, twwidth.Width(strings.TrimRight(p, " ")))
		}
	}
	return min(n, w)
}

// foldCell packs the pieces of s (split after sep) onto lines at most
// width wide; a piece wider than width has a line of its own.
func foldCell(s, sep string, width int) []string {
	pieces := strings.SplitAfter(s, sep)
	var lines []string
	cur := ""
	for _, p := range pieces {
		if cur != "" && twwidth.Width(strings.TrimRight(cur+p, " ")) > width {
			lines = append(lines, strings.TrimRight(cur, " "))
			cur = ""
		}
		cur += p
	}
	return append(lines, strings.TrimRight(cur, " "))
}

// cutCell cuts s to width display columns, the last one "…".
func cutCell(s string, width int) string {
	if width <= 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	ell := twwidth.Width(ellipsis)
	for _, r := range s {
		rw := twwidth.Width(string(r))
		if n+rw > width-ell {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	b.WriteString(ellipsis)
	return b.String()
}

// cutCellHead cuts s to width display columns keeping its end, the first
// one "…".
func cutCellHead(s string, width int) string {
	if width <= 0 {
		return ""
	}
	rs := []rune(s)
	n, from := twwidth.Width(ellipsis), len(rs)
	for from > 0 {
		rw := twwidth.Width(string(rs[from-1]))
		if n+rw > width {
			break
		}
		n += rw
		from--
	}
	return ellipsis + string(rs[from:])
}
