package report

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestConnsTableBlocks: a table of cells of one line, written by
// renderConnsTable with every cell padded to its column's width, comes
// out as tablewriter lays it out in one table: random cells of ASCII,
// wide (CJK) and zero-width characters, escapes and colour sequences,
// one column far wider in one row only; tables of 0 to 2 000 rows.
func TestConnsTableBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 12))
	pieces := []string{"a", "conn", "10.0.0.1:443", "漢字", "é", "\\x1b[31m", "\x1b[32mgreen\x1b[0m", " ", "-", "ws://h/p?q=1", "\u200b", "😀"}
	cell := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for _, n := range []int{0, 1, 2, 3, 17, 600, 1025, 2065} {
		rows := make([][]string, n)
		for i := range rows {
			rows[i] = make([]string, len(connsHeader))
			for j := range rows[i] {
				rows[i][j] = cell(6)
			}
		}
		if n >= 3 {
			rows[n-3][5] = strings.Repeat("wide ", 30) // the widest URL, near the end
		}
		if n > 0 {
			rows[0][0] = "" // an empty first cell
		}
		var want, got bytes.Buffer
		one := &trimWriter{w: bufio.NewWriter(&want)}
		if err := renderTable(one, connsHeader, cloneRows(rows)); err != nil {
			t.Fatal(err)
		}
		one.w.Flush()
		blocks := &trimWriter{w: bufio.NewWriter(&got)}
		if err := renderConnsTable(blocks, connsHeader, cloneRows(rows)); err != nil {
			t.Fatal(err)
		}
		blocks.w.Flush()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Fatalf("%d rows: line %d differs (%d and %d lines):\n got %q\nwant %q", n, i, len(g), len(w), g[i], w[i])
				}
			}
			t.Fatalf("%d rows: %d lines, want %d", n, len(g), len(w))
		}
		if lines := strings.Count(got.String(), "\n"); lines != n+1 {
			t.Errorf("%d rows: %d lines, want %d", n, lines, n+1)
		}
	}
}

func cloneRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}
