package report

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestTableLayout holds the rows laid out by table.layout to the bytes
// tablewriter writes for them, around the column limits.
func TestTableLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "0", " ", "~", "!", "\\", "\"", "…", "é", "漢", "\t", "\x1b[31m"}
	cell := func(max int) string {
		var sb strings.Builder
		n := rng.IntN(max - 2)
		if rng.IntN(20) == 0 {
			n = rng.IntN(max + 2) // around and past the column's limit
		}
		for ; n > 0; n-- {
			if rng.IntN(300) == 0 {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			} else {
				sb.WriteString(alphabet[rng.IntN(8)])
			}
		}
		if rng.IntN(4) == 0 {
			sb.WriteString("…") // a preview cut short
		}
		return sb.String()
	}
	for _, opts := range []Options{{Preview: 10}, {Preview: 64}, {Preview: 64, AbsTime: true}} {
		var fast, slow bytes.Buffer
		tf, ts := newTable(&fast, opts), newTable(&slow, opts)
		ts.slow = true
		for i := 0; i < 3000; i++ {
			row := make([]string, len(tf.widths))
			for c, w := range tf.widths {
				row[c] = cell(w)
			}
			tf.row(row...)
			ts.row(row...)
		}
		if tf.laidOut < 1000 {
			t.Fatalf("%+v: only %d rows laid out here", opts, tf.laidOut)
		}
		sameTables(t, opts, tf, ts, &fast, &slow)
	}
}

// sameTables closes the table laid out here (tf, writing to fast) and
// the one tablewriter wrote (ts, to slow), and fails at their first
// differing line.
func sameTables(t *testing.T, opts Options, tf, ts *table, fast, slow *bytes.Buffer) {
	t.Helper()
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if fast.String() != slow.String() {
		fl, sl := strings.Split(fast.String(), "\n"), strings.Split(slow.String(), "\n")
		for i := range min(len(fl), len(sl)) {
			if fl[i] != sl[i] {
				t.Fatalf("%+v: line %d:\nlayout:      %q\ntablewriter: %q", opts, i, fl[i], sl[i])
			}
		}
		t.Fatalf("%+v: outputs differ in length", opts)
	}
}
