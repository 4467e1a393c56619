package report

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTableLayoutColorWidth is TestTableLayout with colour on and the
// table fitted to a width (columns dropped, the preview resized), for
// rows whose last cell is empty, all spaces or ends in spaces: the fast
// rows, written without the last column's padding, are tablewriter's.
func TestTableLayoutColorWidth(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	alphabet := []string{"a", "Z", "0", " ", "~", "!", "\\", "\"", "…", "é", "\t"}
	cell := func(max int) string {
		var sb strings.Builder
		n := rng.IntN(max)
		if rng.IntN(20) == 0 {
			n = rng.IntN(max + 3)
		}
		for ; n > 0; n-- {
			if rng.IntN(200) == 0 {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			} else {
				sb.WriteString(alphabet[rng.IntN(5)])
			}
		}
		switch rng.IntN(6) {
		case 0:
			return ""
		case 1:
			return strings.Repeat(" ", rng.IntN(max))
		case 2:
			sb.WriteString("   ")
		}
		return sb.String()
	}
	for _, opts := range []Options{{Preview: 64, Color: true}, {Preview: 64, Width: 80}, {Preview: 64, Width: 80, Color: true, AbsTime: true},
		{Preview: 64, Width: 40, Color: true}, {Preview: 8, Width: 200, Messages: true}} {
		var fast, slow bytes.Buffer
		tf, ts := newTable(&fast, opts), newTable(&slow, opts)
		ts.slow = true
		for i := 0; i < 3000; i++ {
			row := make([]string, colPayload+1)
			for c := range row {
				row[c] = cell(12)
			}
			for i, c := range tf.cols {
				row[c] = cell(tf.widths[i])
			}
			tf.row(row...)
			ts.row(row...)
		}
		if tf.laidOut < 300 {
			t.Fatalf("%+v: only %d rows laid out here", opts, tf.laidOut)
		}
		sameTables(t, opts, tf, ts, &fast, &slow)
	}
}

// FuzzRenderFast holds the rendering shortcuts to what they replace: the
// relative time from integer nanoseconds to AppendFloat of Seconds, the
// jsonl time with its second's text reused (across a sequence of times,
// going back and forth, before 1970 and past 9999) to appendQuotedTS, and
// a table cell's display width to the byte-by-byte count.
func FuzzRenderFast(f *testing.F) {
	f.Add(int64(1500), int64(1700000000), int64(999999999), int64(-1), []byte("abc…def\x1b"))
	f.Add(int64(1<<20*time.Second-500), int64(maxFastTS-1), int64(0), int64(1e9), []byte("01234567\\…"))
	f.Fuzz(func(t *testing.T, d, sec, nsec, step int64, cell []byte) {
		dur := time.Duration(d)
		got := string(appendSeconds(nil, dur))
		if want := strconv.FormatFloat(dur.Seconds(), 'f', 6, 64); got != want {
			t.Fatalf("%d ns: %s, want %s", d, got, want)
		}
		var p tsText
		tm := time.Unix(sec, nsec)
		for i := 0; i < 4; i++ {
			g := string(p.appendQuotedTS([]byte("x"), tm))
			if w := string(appendQuotedTS([]byte("x"), tm)); g != w {
				t.Fatalf("%v (step %d): %s, want %s", tm, i, g, w)
			}
			tm = tm.Add(time.Duration(step))
			if i == 1 {
				tm = tm.Add(-time.Duration(step) / 3)
			}
		}
		for _, ellW := range []int{1, 2} {
			dw, ok := displayWidth(cell, ellW)
			rw, rok := 0, true
			for j := 0; j < len(cell); j++ {
				switch {
				case cell[j] >= 0x20 && cell[j] <= 0x7e:
					rw++
				case cell[j] == ellipsis[0] && bytes.HasPrefix(cell[j:], []byte(ellipsis)):
					rw += ellW
					j += len(ellipsis) - 1
				default:
					rok = false
				}
				if !rok {
					break
				}
			}
			if ok != rok || ok && dw != rw {
				t.Fatalf("%q ellW %d: %d %v, want %d %v", cell, ellW, dw, ok, rw, rok)
			}
		}
	})
}
