package appproto

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameScan fails t unless the scanner and the reference one
// (jsonscan_ref_test.go) agree on b: jsonValid, parseJSON's verdict and,
// for a valid object, its members with their plain and compact flags.
func sameScan(t testing.TB, b []byte) {
	t.Helper()
	if got, want := jsonValid(b), refJsonValid(b); got != want {
		t.Fatalf("jsonValid(%q) = %v, reference %v", b, got, want)
	}
	var mb, rb memberBuf
	m1, ok1 := parseJSON(b, &mb)
	m2, ok2 := refParseJSON(b, &rb)
	if ok1 != ok2 {
		t.Fatalf("parseJSON(%q) = %v, reference %v", b, ok1, ok2)
	}
	if ok1 && len(b) > 0 && bytes.TrimLeft(b, " \t\r\n")[0] == '{' {
		if len(m1) != len(m2) {
			t.Fatalf("parseJSON(%q): %d members, reference %d", b, len(m1), len(m2))
		}
		for i := range m1 {
			if m1[i] != m2[i] {
				t.Fatalf("parseJSON(%q) member %d: %+v, reference %+v", b, i, m1[i], m2[i])
			}
		}
	}
	mb.release()
	rb.release()
	if ok1 != json.Valid(b) {
		t.Fatalf("parseJSON(%q) = %v, json.Valid %v", b, ok1, !ok1)
	}
}

// scanCorpus is the JSON the tests have at hand: the seeds of the fuzz
// corpora, the application messages of testdata, and hand-made edges of
// the eight-byte reads (a stop byte at each place of a word).
func scanCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, dir := range []string{"testdata/fuzz", "testdata"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil || len(data) > 1<<20 {
				return nil
			}
			out = append(out, data)
			for _, line := range bytes.Split(data, []byte("\n")) {
				out = append(out, line)
				if i := bytes.IndexAny(line, "{["); i > 0 {
					out = append(out, line[i:])
				}
				// the fuzz corpus holds Go-quoted []byte("...") lines
				if s, ok := strings.CutPrefix(string(line), "[]byte("); ok {
					if q, err := unquoteGo(strings.TrimSuffix(s, ")")); err == nil {
						out = append(out, []byte(q))
					}
				}
			}
			return nil
		})
	}
	stops := []string{`"`, `\\`, `\"`, `\u00e9`, `\u12G4`, "\x00", "\x1f", "\x7f", "\x80", "\x9f", "\xa0", "\xff", "é", " ", "<", "&", `\x`, `\`}
	for pre := 0; pre < 18; pre++ {
		for _, s := range stops {
			for post := 0; post < 10; post++ {
				str := `"` + strings.Repeat("a", pre) + s + strings.Repeat("b", post) + `"`
				out = append(out, []byte(str),
					[]byte(`{`+str+`:1}`),
					[]byte(`{"k":`+str+`}`),
					[]byte(`[`+str+`,`+str+`]`),
					[]byte(str[:len(str)-1]))
			}
		}
	}
	return out
}

func unquoteGo(s string) (string, error) {
	var v string
	// a Go-quoted string is JSON but for \x escapes: rewrite those
	s = strings.ReplaceAll(s, `\x`, `\u00`)
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

// randJSON writes random JSON, valid or nearly: nested values, every
// kind of escape, control bytes, bytes past ASCII, space anywhere,
// numbers of every form.
func randJSON(rng *rand.Rand, sb *strings.Builder, depth int) {
	ws := func() {
		sb.WriteString([]string{"", "", "", "", " ", "\n\t", "\r\n  ", "        "}[rng.IntN(8)])
	}
	str := func() {
		parts := []string{"a", "id", "jsonrpc", "k", `\"`, `\\`, `\u00e9`, `\uD83D\uDE00`, `\n`, `\b`, `\f`, `\/`,
			"é", "\xff", "\xc3", "漢", " ", "x y", "abcdefghijkl", "<a&b>", "\u2028", "\x7f", "\x01"[:rng.IntN(2)]}
		sb.WriteByte('"')
		for n := rng.IntN(6); n >= 0; n-- {
			sb.WriteString(parts[rng.IntN(len(parts))])
		}
		sb.WriteByte('"')
	}
	// list writes open, up to most items with their commas, close.
	list := func(open, close byte, most int, item func()) {
		sb.WriteByte(open)
		ws()
		for n := rng.IntN(most + 1); n > 0; n-- {
			item()
			ws()
			if n > 1 {
				sb.WriteByte(',')
				ws()
			}
		}
		sb.WriteByte(close)
	}
	switch k := rng.IntN(10); {
	case k < 2 && depth < 5:
		list('{', '}', 5, func() {
			str()
			ws()
			sb.WriteByte(':')
			ws()
			randJSON(rng, sb, depth+1)
		})
	case k < 3 && depth < 5:
		list('[', ']', 4, func() { randJSON(rng, sb, depth+1) })
	case k < 6:
		str()
	case k < 8:
		sb.WriteString([]string{"0", "-0", "-1.5e3", "12345678901234567890", "0.0", "1E+2", "3e-07", "-12.75", "7", "1.", "01", "-", ".5", "1e", "2E+"}[rng.IntN(15)])
	default:
		sb.WriteString([]string{"true", "false", "null", "tru", "nul", "falsey"}[rng.IntN(6)])
	}
}

// mutate changes a few bytes of b: set to a byte that matters to the
// scanner, deleted, duplicated or cut.
func mutate(rng *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	special := []byte("\"\\{}[]:,0-.eE+tfnu \t\r\n\x00\x1f\x7f\x80\xff")
	for n := 1 + rng.IntN(3); n > 0 && len(b) > 0; n-- {
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b[i] = special[rng.IntN(len(special))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i+1], b[i:]...)
		default:
			b = b[:i]
		}
	}
	return b
}

// TestScanMatchesRef holds the scanner that reads eight bytes at a time to
// the one it replaced (refParseJSON, refJsonValid) and to json.Valid: the
// corpus at hand, random JSON, and random mutations of both.
func TestScanMatchesRef(t *testing.T) {
	corpus := scanCorpus(t)
	rng := rand.New(rand.NewPCG(23, 17))
	valid, invalid := 0, 0
	check := func(b []byte) {
		sameScan(t, b)
		if json.Valid(b) {
			valid++
		} else {
			invalid++
		}
	}
	for _, b := range corpus {
		check(b)
		for k := 0; k < 20; k++ {
			check(mutate(rng, b))
		}
	}
	var sb strings.Builder
	for i := 0; i < 30000; i++ {
		sb.Reset()
		randJSON(rng, &sb, 0)
		b := []byte(sb.String())
		check(b)
		check(mutate(rng, b))
	}
	if valid < 5000 || invalid < 5000 {
		t.Fatalf("%d valid, %d invalid inputs: too few of one", valid, invalid)
	}
}

// FuzzScanMatchesRef is TestScanMatchesRef's comparison on the fuzzer's
// input.
func FuzzScanMatchesRef(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null],"c":{"d":"e\u00e9\n"}}`, `"abcdefgh\"ijklmnop"`,
		`{"k0":0,"k1":1,"k2":-2.5e3}`, "[\"\x80\xff\", 1.0, \"\\/\"]", `{"<&>":"  spaced  " , "x" : [ 1 , 2 ] }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameScan(t, b) })
}

// BenchmarkScan compares parseJSON with the reference scanner on the
// shapes of bench/jsongen: an object of 2000 members, a chat message, an
// object holding an array of 8000 chat messages (1 MB).
func BenchmarkScan(b *testing.B) {
	const chat = `{"type":"chat","seq":1042,"from":"heidi","to":"dave","text":"see you at the standup tomorrow, bring the notes","ts":1732600000123}`
	var members strings.Builder
	members.WriteByte('{')
	for i := 0; i < 2000; i++ {
		if i > 0 {
			members.WriteByte(',')
		}
		members.WriteString(`"k` + strings.Repeat("7", 1+i%4) + `":` + strings.Repeat("3", 1+i%5))
	}
	members.WriteByte('}')
	items := `{"n":8000,"items":[` + strings.Repeat(chat+",", 7999) + chat + `]}`
	for _, c := range []struct{ name, doc string }{{"members", members.String()}, {"chat", chat}, {"items", items}} {
		doc := []byte(c.doc)
		for _, s := range []struct {
			name  string
			parse func([]byte, *memberBuf) ([]jsonMember, bool)
		}{{"new", parseJSON}, {"ref", refParseJSON}} {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				b.SetBytes(int64(len(doc)))
				var mb memberBuf
				for b.Loop() {
					if _, ok := s.parse(doc, &mb); !ok {
						b.Fatal("invalid")
					}
				}
				mb.release()
			})
		}
	}
}

// TestScanEdges states json.Valid's verdict on the edges of the grammar
// and holds the scanner and the reference to it (sameScan): numbers,
// escapes and lone surrogates, bytes past ASCII that are not UTF-8 (which
// json.Valid takes), control bytes, the nesting limit, space that is not
// JSON's, and inputs of megabytes.
func TestScanEdges(t *testing.T) {
	deep := func(n int, open, close, inner string) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	big := strings.Repeat("abcdefg\u00e9", 1<<19) // 4.5 MB
	for _, c := range []struct {
		in    string
		valid bool
	}{
		{`0`, true}, {`-0`, true}, {`-0.0e-0`, true}, {`1E+9`, true}, {`12345678901234567890123`, true},
		{`-`, false}, {`01`, false}, {`-01`, false}, {`1e`, false}, {`1e+`, false}, {`1.`, false},
		{`.5`, false}, {`+1`, false}, {`1ee2`, false}, {`1.e2`, false}, {`0x1`, false}, {`1 2`, false},
		{`"\uD800"`, true}, {`"\uDC00"`, true}, {`"\uDBFF\uDBFF"`, true}, {`"\u00e9\/\b\f\n\r\t\"\\"`, true},
		{`"\u00G0"`, false}, {`"\uD800\u"`, false}, {`"\a"`, false}, {`"\'"`, false}, {`"\`, false}, {`"abc`, false},
		{"\"\xff\xfe\"", true}, {"\"\xc3\"", true}, {"\"\xed\xa0\x80\"", true}, {"{\"\xff\":\"\x80\"}", true},
		{"\"\x7f\"", true}, {"\"\x1f\"", false}, {"\"\t\"", false}, {"\"a\nb\"", false}, {"{\"\x00\":1}", false},
		{deep(10000, "[", "]", ""), true}, {deep(10001, "[", "]", ""), false},
		{deep(9999, `{"a":`, "}", "[]"), true}, {deep(10000, `{"a":`, "}", "[]"), false},
		{deep(5000, `[{"k":`, "}]", "1"), true}, {deep(5000, `[{"k":`, "}]", "[[1]]"), false},
		{``, false}, {` `, false}, {" \t\r\n{}\n", true}, {"\v{}", false}, {"\f{}", false}, {"\xef\xbb\xbf{}", false},
		{`{"a":1,}`, false}, {`[1,]`, false}, {`{,}`, false}, {`{"a"}`, false}, {`{"a":}`, false}, {`{1:2}`, false},
		{`nul`, false}, {`true1`, false}, {`[true,fals]`, false}, {`{"a":1}{}`, false}, {`{"a" : [ 1 , { } ] }`, true},
		{`"` + big + `"`, true}, {`{"k":"` + big + `","k":[` + strings.Repeat(`1,`, 1<<18) + `2]}`, true},
		{`"` + big, false}, {`["` + big + "\x01\"]", false},
	} {
		if got := json.Valid([]byte(c.in)); got != c.valid {
			t.Fatalf("json.Valid(%.40q...) = %v, the table says %v", c.in, got, c.valid)
		}
		sameScan(t, []byte(c.in))
	}
}
