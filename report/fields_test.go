package report

import (
	"bufio"
	"bytes"
	"testing"
)

// TestFieldValue: a value never splits a line or a column, and payload
// bytes reach neither a terminal nor a spreadsheet raw.
func TestFieldValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"plain", "plain"},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{`back\slash`, `back\\slash`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"\u202eevil", `\u202eevil`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"nul\x00", `nul\x00`},
		{true, "true"},
		{1000, "1000"},
		{0.25, "0.25"},
		{[]string{"a", "b,c", "d\te"}, `a,b\x2cc,d\te`},
		{[]string{}, ""},
		{EscapedField(`a\tb`), `a\tb`},
	} {
		if got := FieldValue(c.in); got != c.want {
			t.Errorf("FieldValue(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFieldsWriter(t *testing.T) {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	fw := NewFieldsWriter(bw, []string{"conn", "text"}, true)
	fw.Row([]any{1, "x\ty"})
	fw.Row([]any{nil, nil})
	bw.Flush()
	if want := "conn\ttext\n1\tx\\ty\n\t\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
