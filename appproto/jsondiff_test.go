package appproto

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Differential tests: the hand-written scanner, compaction, previews and
// JSON strings against encoding/json and the code they replaced
// (legacy_test.go), on tricky tables, random documents and fuzzing.

// jsonTricky are inputs where a scanner is easy to get wrong.
var jsonTricky = []string{
	``, ` `, `{`, `}`, `[`, `]`, `{}`, `[]`, ` { } `, "\t[\r\n]\n", `{,}`, `[,]`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`,
	`{"a" 1}`, `{a:1}`, `{'a':1}`, `{"a":1 "b":2}`, `{"a":1}}`, `[1]]`, `{"a":1}{}`, `[][]`, `1 2`, `"a" "b"`,
	`0`, `-0`, `-0.1e+5`, `1E-7`, `1e5`, `-`, `+1`, `01`, `-01`, `1.`, `.5`, `1.e5`, `1e`, `1e+`, `0x10`, `1_000`,
	`12345678901234567890123456789`, `-0.0`, `0e0`, `NaN`, `Infinity`, `-Infinity`, `1.5.5`, `--1`,
	`true`, `false`, `null`, `tru`, `nul`, `True`, `nulll`, `truefalse`, `[true,false,null]`, `[truex]`, `[nul]`,
	`""`, `"`, `"\"`, `"\\"`, `"\\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\a"`, `"\x41"`, `"\'"`, `"\u0041"`, `"\u00e9"`,
	`"\u004"`, `"\u004g"`, `"\u"`, `"\uD834\uDD1E"`, `"\uD834"`, `"\uDD1E"`, `"\uDD1E\uD834"`, `"\uD834x"`,
	`"\uD834\u0041"`, `"\uFFFF"`, `"\u0000"`, `"\u2028\u2029"`, "\"\u2028\u2029\"", "\"a\x00b\"", "\"a\nb\"",
	"\"\x1f\"", "\"\x7f\"", "\"\xff\xfe\"", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", `"é漢🎉"`,
	`"<a href='x'>&amp;</a>"`, `{"a":"b","a":"c"}`, `{"jsonrpc":"2.0","jsonrpc":"1.0"}`, `{"json\u0072pc":"2.0","id":1}`,
	`{"\u0069d":2,"id":1,"method":"m"}`, "{\"\xff\":1}", `{"a b":1," ":2,"":3}`, `{"a":{"b":{"c":[1,{"d":null}]}}}`,
	" {\n  \"a\" : [ 1 , 2 ,\t3 ] ,\r\n  \"b\" : { \"c\" : \"d e\" } \n} ", `[ "a" , { "b" : [ ] } , [ [ ] ] ]`,
	`{"a":"}","b":"]","c":"{[","d":"\"}"}`, `["\\",1]`, `{"\\":"\\\\"}`, "\u00a0{}\u00a0", "\v[1]\f", "\ufeff{}",
	`{"a":1}` + "\x00", `[1,2` + strings.Repeat(" ", 10), `{"a":[1,2,{"b":"c"}` + `]`, `{"a":[1,2,{"b":"c"}}`,
	`{"type":"chat","seq":1,"from":"heidi","to":"dave","text":"` + strings.Repeat("é", 70) + `"}`,
	`"` + strings.Repeat("a", 59) + "\n" + `"`, `"` + strings.Repeat("漢", 61) + `"`, `"` + strings.Repeat("\\n", 100) + `"`,
	`[` + strings.Repeat(`"a b", `, 100) + `"x"]`, `[` + strings.Repeat(` 1 ,`, 100) + `1]`,
	`{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2,3]}`, `{"jsonrpc":"2.0","id":1,"result":6}`,
	`{"jsonrpc":"2.0","id":{"a" : 1},"method":"m"}`, `{"jsonrpc":"2.0","id":{"a":1},"result":null}`,
	`[{"jsonrpc":"2.0","id":1,"method":"a"}, 5, "x", [], {"jsonrpc":"2.0","id":1,"result":2}]`,
	`[{"jsonrpc":"2.0","method":"n","params": { "x" : [ 1 , 2 ] } }]`, `[5, {"jsonrpc":"2.0"}]`, `[{}]`, `[{"a":1}]`,
	`{"jsonrpc":2,"id":null,"method":7}`, `{"jsonrpc":"2.0","id":"` + strings.Repeat("i", 80) + `","method":"` + strings.Repeat("m", 80) + `"}`,
	`{"jsonrpc":"2.0","id":"a\u0000b","error":{"code":-32600,"message":"<bad> & \"worse\""}}`,
	`{"jsonrpc":"2.0","id":"x","method":"m\n\t","params":"` + strings.Repeat("p", 300) + `"}`,
}

// nested returns n arrays or objects around a value.
func nested(n int, obj bool) string {
	if obj {
		return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	}
	return strings.Repeat("[", n) + "1" + strings.Repeat("]", n)
}

func jsonInputs() []string {
	in := append([]string(nil), jsonTricky...)
	for _, n := range []int{1, 100, maxJSONDepth - 1, maxJSONDepth, maxJSONDepth + 1} {
		in = append(in, nested(n, false), nested(n, true), strings.Repeat(`[{"a":`, n/2)+"1"+strings.Repeat("}]", n/2))
	}
	return append(in, strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 20000))
}

// checkScan holds the scanner and its users to encoding/json and the
// legacy code on one input.
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	valid := json.Valid(data)
	if got := jsonValid(data); got != valid {
		t.Fatalf("jsonValid(%q) = %v, json.Valid %v", data, got, valid)
	}
	if got, want := compactJSON(data), legacyCompactJSON(data); got != want {
		t.Fatalf("compactJSON(%q) = %q, want %q", data, got, want)
	}
	if got, want := previewJSON(data), legacyPreview(legacyCompactJSON(data)); got != want {
		t.Fatalf("previewJSON(%q) = %q, want %q", data, got, want)
	}
	s := string(data)
	if got, want := preview(s), legacyPreview(s); got != want {
		t.Fatalf("preview(%q) = %q, want %q", s, got, want)
	}
	if got, want := quote(data), legacyQuote(s); got != want {
		t.Fatalf("quote(%q) = %q, want %q", s, got, want)
	}
	if got, want := jsonString(data), legacyJSONString(data); got != want {
		t.Fatalf("jsonString(%q) = %q, want %q", s, got, want)
	}
	m1, r1, ok1 := jsonObject(data)
	m2, r2, ok2 := legacyJSONObject(data)
	if ok1 != ok2 || !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(r1, r2) {
		t.Fatalf("jsonObject(%q):\nnew:    %v %q %q\nlegacy: %v %q %q", data, ok1, m1, r1, ok2, m2, r2)
	}
	for _, k := range []string{"type", "a", "sid", "é"} {
		v, has, ok := objectMember(data, k)
		if w, whas := r2[k]; ok != ok2 || has != whas || !bytes.Equal(v, w) {
			t.Fatalf("objectMember(%q, %q) = %q %v %v, legacy %q %v %v", data, k, v, has, ok, w, whas, ok2)
		}
	}
	var mb memberBuf
	if members, ok := parseJSON(data, &mb); ok && valid {
		b := bytes.TrimSpace(data)
		for _, m := range members { // the scan's compact is isCompact's
			if v := m.value.of(data); m.compact != isCompact(v) {
				t.Fatalf("%q: member value %q: compact %v, isCompact %v", data, v, m.compact, isCompact(v))
			}
		}
		if b[0] == '{' {
			var fields []Field
			for _, f := range objectFields(data, members) {
				fields = append(fields, Field{f.Key, f.Value})
			}
			var want []Field
			for _, f := range m2 {
				want = append(want, Field{f.Key, legacyCompactJSON([]byte(f.Value))})
			}
			if !reflect.DeepEqual(fields, want) {
				t.Fatalf("objectFields(%q) = %q, want %q", data, fields, want)
			}
		}
	}
}

func TestJSONScanTricky(t *testing.T) {
	for _, s := range jsonInputs() {
		checkScan(t, []byte(s))
	}
}

// jsonRunners are decoders of one message sequence, new and legacy.
type jsonRunners struct {
	cur    *jsonDecoder
	legacy *legacyJSONDecoder
}

// checkDecode feeds msgs to the new and the legacy JSON decoder and
// compares every App they make (their JSON rendering is report's, tested
// there against the legacy one: TestAppJSONLegacy).
func checkDecode(t *testing.T, quiet bool, msgs []wsparse.Message) {
	t.Helper()
	r := jsonRunners{newJSON(), newLegacyJSON()}
	r.cur.quiet, r.legacy.quiet = quiet, quiet
	for i := range msgs {
		m := &msgs[i]
		got := r.cur.decode(nil, m, nil)
		want := r.legacy.decode(m, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d %q (quiet %v):\nnew:    %#v\nlegacy: %#v", i, m.Data, quiet, got, want)
		}
	}
	if !reflect.DeepEqual(r.cur.pending, r.legacy.pending) || !reflect.DeepEqual(r.cur.order, r.legacy.order) {
		t.Fatalf("pending requests differ:\nnew:    %v %q\nlegacy: %v %q", r.cur.pending, r.cur.order, r.legacy.pending, r.legacy.order)
	}
}

// conversation makes messages of data, alternating direction.
func conversation(op wsparse.Opcode, data ...[]byte) []wsparse.Message {
	out := make([]wsparse.Message, len(data))
	for i, d := range data {
		out[i] = wsparse.Message{Dir: wsparse.Dir(i & 1), Opcode: op, Data: d, Len: uint64(len(d)), Frames: 1,
			Index: i + 1, TS: t0.Add(time.Duration(i) * 1234567 * time.Nanosecond)}
	}
	return out
}

func TestJSONDecodeLegacy(t *testing.T) {
	var all [][]byte
	for _, s := range jsonInputs() {
		all = append(all, []byte(s))
		for _, op := range []wsparse.Opcode{wsparse.OpText, wsparse.OpBinary} {
			checkDecode(t, false, conversation(op, []byte(s)))
			checkDecode(t, true, conversation(op, []byte(s)))
		}
	}
	checkDecode(t, false, conversation(wsparse.OpText, all...))
	// requests and their responses
	checkDecode(t, false, conversation(wsparse.OpText,
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"a"}`), []byte(`{"jsonrpc":"2.0","id":1,"result":{ "x" : 1 }}`),
		[]byte(`[{"jsonrpc":"2.0","id":{"k" : [1, 2]},"method":"b"},{"jsonrpc":"2.0","id":"s","method":"c","params":[1]}]`),
		[]byte(`[{"jsonrpc":"2.0","id":"s","error":{"code":1}}, {"jsonrpc":"2.0","id":{"k":[1,2]},"result":[]}]`),
		[]byte(`{"jsonrpc":"2.0","id":"\u0041","method":"d"}`), []byte(`{"jsonrpc":"2.0","id":"A","result":1}`),
		[]byte(`{"jsonrpc":"2.0","id":"\u0041","result":1}`), []byte(`{"jsonrpc":"2.0","id":null,"method":"e"}`),
		[]byte(`{"jsonrpc":"2.0","id":null,"result":1}`)))
}

// randomJSON makes JSON documents with all the features the scanner
// handles, valid or, with broken, often not.
type randomJSON struct {
	rng    *rand.Rand
	broken bool
}

func (g randomJSON) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

func (g randomJSON) ws() string { return g.pick("", "", "", " ", "\n\t", "\r\n  ") }

func (g randomJSON) str() string {
	var sb strings.Builder
	sb.WriteByte('"')
	for n := g.rng.IntN(4); n >= 0; n-- {
		sb.WriteString(g.pick("a", "id", "jsonrpc", "method", "result", "error", "params", `\"`, `\\`, `\u00e9`,
			`\uD834\uDD1E`, `\uDD1E`, `\n`, "é", "\xff", "漢", `\/`, " ", "x y", "<&>", "\u2028", "\x7f"))
	}
	if g.broken && g.rng.IntN(50) == 0 {
		sb.WriteString(g.pick("\n", `\x`, `\u12`, "\x00"))
	}
	sb.WriteByte('"')
	return sb.String()
}

func (g randomJSON) value(depth int) string {
	switch k := g.rng.IntN(9); {
	case k < 2 && depth < 5:
		var sb strings.Builder
		sb.WriteString("{" + g.ws())
		for n := g.rng.IntN(5); n > 0; n-- {
			key := g.str()
			if g.rng.IntN(3) == 0 {
				key = g.pick(`"jsonrpc"`, `"id"`, `"method"`, `"params"`, `"result"`, `"error"`)
			}
			sb.WriteString(key + g.ws() + ":" + g.ws() + g.value(depth+1) + g.ws())
			if n > 1 {
				sb.WriteString("," + g.ws())
			}
		}
		return sb.String() + "}"
	case k < 3 && depth < 5:
		var sb strings.Builder
		sb.WriteString("[" + g.ws())
		for n := g.rng.IntN(4); n > 0; n-- {
			sb.WriteString(g.value(depth+1) + g.ws())
			if n > 1 {
				sb.WriteString("," + g.ws())
			}
		}
		return sb.String() + "]"
	case k < 5:
		return g.str()
	case k < 6:
		if g.broken && g.rng.IntN(20) == 0 {
			return g.pick("01", "1.", "-", ".5", "1e", "+1")
		}
		return g.pick("0", "-0.1e+5", "-1.5E3", "12345678901234567890", "0.0", "2", `"2.0"`)
	default:
		return g.pick("true", "false", "null", `"2.0"`)
	}
}

func (g randomJSON) doc() []byte {
	d := g.ws() + g.value(0) + g.ws()
	if g.broken && g.rng.IntN(10) == 0 && len(d) > 0 {
		d = d[:g.rng.IntN(len(d))] // truncated
	}
	return []byte(d)
}

func TestJSONRandomLegacy(t *testing.T) {
	for _, broken := range []bool{false, true} {
		g := randomJSON{rand.New(rand.NewPCG(5, 6)), broken}
		for i := 0; i < 3000; i++ {
			var docs [][]byte
			for n := g.rng.IntN(6) + 1; n > 0; n-- {
				d := g.doc()
				checkScan(t, d)
				docs = append(docs, d)
			}
			checkDecode(t, broken, conversation(wsparse.OpText, docs...))
		}
	}
}

// The summaries and compact fields need no allocation beyond their own.
func TestJSONDecodeAllocs(t *testing.T) {
	m := conversation(wsparse.OpText, []byte(benchChat))[0]
	d := newJSON()
	// Body, the fields' text, the fields, the summary, the App slice
	if n := testing.AllocsPerRun(100, func() { d.decode(nil, &m, nil) }); n > 5 {
		t.Errorf("decoding a small object: %v allocations", n)
	}
	for _, s := range []string{"plain ascii", strings.Repeat("é\n", 100)} {
		if n := testing.AllocsPerRun(100, func() { preview(s) }); n > 1 {
			t.Errorf("preview: %v allocations", n)
		}
	}
	for _, s := range []string{benchChat, strings.Repeat("[ ", 500) + strings.Repeat("]", 500)} {
		if n := testing.AllocsPerRun(100, func() { previewJSON([]byte(s)) }); n > 2 {
			t.Errorf("previewJSON: %v allocations", n)
		}
	}
}

// FuzzJSONScan holds the scanner to encoding/json and the legacy code.
func FuzzJSONScan(f *testing.F) {
	for _, s := range jsonTricky {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

// FuzzJSONLegacy holds the JSON decoder to the legacy one on a message
// and a reply cut from data.
func FuzzJSONLegacy(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"a"}{"jsonrpc":"2.0","id":1,"result":2}`), uint16(38), false, false)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":"x","method":"a"}][{"jsonrpc":"2.0","id":"x","error":{ "c" : 1 }}]`), uint16(40), false, true)
	f.Add([]byte(" {\"type\" : \"chat\", \"text\":\"a\\u0000\xff\"}"), uint16(0), true, false)
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, quiet, binary bool) {
		c := min(int(cut), len(data))
		op := wsparse.OpText
		if binary {
			op = wsparse.OpBinary
		}
		checkDecode(t, quiet, conversation(op, data[:c], data[c:]))
		checkDecode(t, quiet, conversation(op, data))
	})
}
