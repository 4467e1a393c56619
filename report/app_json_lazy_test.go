package report

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// Issue 17: the pipeline's sessions leave a JSON object's members in its
// Body (appproto's LazyFields); its app object must be written byte for
// byte as from the Fields a session without it builds.

// sameAppJSON fails t when data, decoded with and without LazyFields,
// gives different app objects; it returns how many were written.
func sameAppJSON(t *testing.T, data []byte) int {
	t.Helper()
	eager, lazy := appproto.New(nil, appproto.JSON), appproto.New(nil, appproto.JSON)
	lazy.LazyFields()
	m := wsparse.Message{Opcode: wsparse.OpText, Data: data, Len: uint64(len(data))}
	want, got := eager.Message(&m), lazy.Message(&m)
	if len(got) != len(want) {
		t.Fatalf("%q: %d apps lazy, %d not", data, len(got), len(want))
	}
	for i := range got {
		if g, w := AppendAppJSON([]byte("x"), got[i]), AppendAppJSON([]byte("x"), want[i]); !bytes.Equal(g, w) {
			t.Fatalf("%q:\nlazy %s\nnot  %s", data, g, w)
		}
		// and as the reference writes the Fields, with encoding/json's
		// escaping and a map of the keys
		if w, err := legacyMarshalJSON(want[i]); err != nil || !bytes.Equal(AppendAppJSON(nil, got[i]), w) {
			t.Fatalf("%q:\nlazy      %s\nreference %s %v", data, AppendAppJSON(nil, got[i]), w, err)
		}
	}
	return len(got)
}

// randomObject is a JSON object of n members whose keys and values hold
// what the writer escapes or copies: HTML characters, quotes and
// backslashes, escapes, U+2028, non-ASCII, invalid UTF-8, space, nested
// values; keys repeat.
func randomObject(rng *rand.Rand, n int) []byte {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	str := func() string {
		var sb strings.Builder
		sb.WriteByte('"')
		for k := rng.IntN(4); k >= 0; k-- {
			sb.WriteString(pick("a", "k", "id", "<", ">", "&", `\"`, `\\`, `\u00e9`, `\u003c`, `\uD834\uDD1E`, `\n`, "é",
				"\xff", "\u2028", "\u202e", "\x7f", " ", "漢"))
		}
		return sb.String() + `"`
	}
	ws := func() string { return pick("", "", "", " ", "\n\t ") }
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(7); {
		case k == 0 && depth < 3:
			return "{" + ws() + str() + ws() + ":" + ws() + value(depth+1) + ws() + "}"
		case k == 1 && depth < 3:
			return "[" + ws() + value(depth+1) + ws() + "," + ws() + value(depth+1) + ws() + "]"
		case k < 4:
			return str()
		default:
			return pick("0", "-1.5e+3", "12345678901234567890", "true", "false", "null")
		}
	}
	keys := []string{str(), str(), str()}
	var sb strings.Builder
	sb.WriteString("{" + ws())
	for i := range n {
		if i > 0 {
			sb.WriteString("," + ws())
		}
		key := str()
		if rng.IntN(3) == 0 {
			key = keys[rng.IntN(len(keys))]
		}
		sb.WriteString(key + ws() + ":" + ws() + value(0) + ws())
	}
	return []byte(sb.String() + "}")
}

// TestAppJSONLazy: random objects of 0 to 60 members (both sides of
// smallFields), bench/jsongen's shapes, and a 1 MB object.
func TestAppJSONLazy(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 3))
	for range 1500 {
		sameAppJSON(t, randomObject(rng, rng.IntN(60)))
	}
	for _, m := range shapeMessages() {
		sameAppJSON(t, m.Data)
	}
}

// FuzzAppJSONLazy holds the app object written from members left in the
// Body to the one written from Fields, on any message.
func FuzzAppJSONLazy(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 3, 16, 17, 40} {
		f.Add(randomObject(rng, n))
	}
	f.Add([]byte(`{"a":1,"a":2,"<":"\u2028","\u0061":[ 1 ]}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAppJSON(t, data) })
}
