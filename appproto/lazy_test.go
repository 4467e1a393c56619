package appproto

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// LazyFields (issue 17): a JSON object's members left in its Body must
// read, through NumFields, FieldAt and AllFields, exactly as the Fields a
// session without it builds, and the Apps must be the same otherwise.

// checkLazy decodes msgs with and without LazyFields and compares; it
// returns how many Apps had their members left in their Body.
func checkLazy(t *testing.T, mode string, msgs []wsparse.Message) (left int) {
	t.Helper()
	eager, lazy := New(nil, mode), New(nil, mode)
	lazy.LazyFields()
	for i := range msgs {
		want, got := eager.Message(&msgs[i]), lazy.Message(&msgs[i])
		if len(got) != len(want) {
			t.Fatalf("%q: %d apps lazy, %d not", msgs[i].Data, len(got), len(want))
		}
		for j := range got {
			g, w := got[j], want[j]
			if g.NumFields() != len(w.Fields) || w.NumFields() != len(w.Fields) {
				t.Fatalf("%q: %d fields lazy, %d not", msgs[i].Data, g.NumFields(), len(w.Fields))
			}
			for k := range w.Fields {
				if f := g.FieldAt(k); f != w.Fields[k] || w.FieldAt(k) != w.Fields[k] {
					t.Fatalf("%q: field %d lazy %q, not %q", msgs[i].Data, k, f, w.Fields[k])
				}
			}
			if all := g.AllFields(); len(w.Fields) > 0 && !reflect.DeepEqual(all, w.Fields) {
				t.Fatalf("%q: AllFields %q, not %q", msgs[i].Data, all, w.Fields)
			}
			// AppendFields reads the members in one pass, back to front:
			// after what dst holds, each as FieldAt reads it alone
			prefix := []Field{{"x", "1"}, {"y", "2"}}
			got := g.AppendFields(slices.Clip(prefix))
			want := slices.Clone(prefix)
			for k := range g.NumFields() {
				want = append(want, g.FieldAt(k))
			}
			if !slices.Equal(got, want) || !slices.Equal(got[len(prefix):], w.AppendFields(nil)) {
				t.Fatalf("%q: AppendFields %q, not %q", msgs[i].Data, got, want)
			}
			if g.members != nil {
				left++
			}
			if g.members != nil && g.Fields != nil {
				t.Fatalf("%q: lazy App with both members and Fields", msgs[i].Data)
			}
			g.Fields, g.members = w.Fields, nil
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("%q: lazy App\n%+v\nnot\n%+v", msgs[i].Data, g, w)
			}
		}
	}
	return left
}

// TestLazyFields: the scanner's tricky inputs, random documents (space,
// escaped and repeated keys, invalid UTF-8) and big objects, in JSON mode
// and auto mode.
func TestLazyFields(t *testing.T) {
	var docs [][]byte
	for _, s := range jsonInputs() {
		docs = append(docs, []byte(s))
	}
	g := randomJSON{rand.New(rand.NewPCG(7, 8)), false}
	for range 2000 {
		docs = append(docs, g.doc())
	}
	docs = append(docs, []byte(jsonMembers(3000, func(i int) int { return i % 1000 })),
		[]byte("{\"a\" : [ 1 , 2 ] , \"\\u0062\":\"x\",\"a\":{ \"c\" :\n1}}"))
	for _, mode := range []string{JSON, ModeAuto} {
		left := checkLazy(t, mode, conversation(wsparse.OpText, docs...))
		t.Logf("mode %s: %d objects left in their Body", mode, left)
		if left < 100 {
			t.Errorf("mode %s: only %d objects left in their Body", mode, left)
		}
	}
}

// FuzzLazyFields holds LazyFields to the Fields on any message.
func FuzzLazyFields(f *testing.F) {
	for _, s := range jsonTricky {
		f.Add([]byte(s))
	}
	f.Add([]byte("{\"\\u00e9\" : { \"x\" : [1, 2] }, \"\xff\":\"\\n\", \"\xff\":3}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkLazy(t, JSON, conversation(wsparse.OpText, data))
	})
}
