package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
)

// TestAppJSON: the app object of two MQTT messages (a SUBSCRIBE with a
// repeated key, a PINGREQ heartbeat) and of a JSON-RPC response with its
// latency and an anomaly (moved from appproto's TestMarshalJSON with the
// writer; the Apps are written out as appproto decodes them).
func TestAppJSON(t *testing.T) {
	apps := []appproto.App{
		{Protocol: appproto.MQTT, Type: "SUBSCRIBE", Key: "id=1,topics=a/#|b", Summary: "MQTT SUBSCRIBE a/# b id=1",
			Fields: []appproto.Field{{Key: "id", Value: "1"}, {Key: "topic", Value: "a/#"}, {Key: "qos", Value: "1"}, {Key: "topic", Value: "b"}, {Key: "qos", Value: "0"}}},
		{Protocol: appproto.MQTT, Type: "PINGREQ", Key: "-", Summary: "MQTT PINGREQ", Heartbeat: true},
		{Protocol: appproto.JSONRPC, Type: "response", Key: "id=1", Summary: "x", Latency: 1500 * time.Microsecond, Anomalies: []string{"a"}},
	}
	var got []string
	for _, a := range apps {
		b := AppJSON(a)
		if !json.Valid(b) {
			t.Fatalf("invalid: %s", b)
		}
		got = append(got, string(b))
	}
	want := []string{
		`{"protocol":"mqtt","type":"SUBSCRIBE","key":"id=1,topics=a/#|b","summary":"MQTT SUBSCRIBE a/# b id=1","fields":{"id":"1","topic":["a/#","b"],"qos":["1","0"]},"body_len":0}`,
		`{"protocol":"mqtt","type":"PINGREQ","key":"-","summary":"MQTT PINGREQ","fields":{},"body_len":0,"heartbeat":true}`,
		`{"protocol":"jsonrpc","type":"response","key":"id=1","summary":"x","fields":{},"body_len":0,"latency_ms":1.5,"anomalies":["a"]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAppJSONRepeatedFields: repeated keys below and above the count where
// AppendAppJSON stops looking back (moved from appproto's
// TestMarshalJSONRepeatedFields).
func TestAppJSONRepeatedFields(t *testing.T) {
	itoa := strconv.Itoa
	var fields []appproto.Field
	for i := 0; i < 40; i++ {
		fields = append(fields, appproto.Field{Key: "k" + itoa(i%7), Value: itoa(i)}, appproto.Field{Key: "u" + itoa(i), Value: "<\u2028\xff"})
	}
	for _, n := range []int{0, 1, 5, 16, 17, len(fields)} {
		a := appproto.App{Protocol: appproto.STOMP, Type: "SEND", Key: "k", Summary: "s…\n", Fields: fields[:n], Body: []byte("x"),
			Heartbeat: n%2 == 0, Latency: time.Duration(n) * time.Millisecond, Anomalies: []string{"a", "b"}}
		j1 := AppJSON(a)
		j2, _ := legacyMarshalJSON(a)
		if !bytes.Equal(j1, j2) {
			t.Fatalf("%d fields:\nnew:    %s\nlegacy: %s", n, j1, j2)
		}
	}
}

// jsonTricky are strings where the two escape modes of appendJSON differ
// or could go wrong.
var jsonTricky = []string{"", "plain", `"\`, "<a href='x'>&amp;</a>", "\x00\x01\b\f\n\r\t\x1b[31m\x7f",
	"\u0085\u009b2J", "\u2028\u2029", "\u202eevil\u202c", "\u200b\ufeff", "\U000e0041", "\U0001f600", "\xff\xfe", "a\xc3",
	"\xed\xa0\x80", "\uffff\ufffe", "é€𝄞"}

// TestAppJSONString holds appendJSONString (jsonMarshal) to json.Marshal,
// on tricky and random strings: the app objects' strings must not change.
func TestAppJSONString(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	in := append([]string{}, jsonTricky...)
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		in = append(in, string(b), string([]rune{rune(rng.IntN(0x110000)), rune(rng.IntN(0x3000))}))
	}
	for _, s := range in {
		if got, want := appendJSONString(nil, s), legacyAppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if got, want := appendFieldKey([]byte("x"), s), append(legacyAppendJSONString([]byte("x"), s), ':'); !bytes.Equal(got, want) {
			t.Fatalf("appendFieldKey(%q) = %s, want %s", s, got, want)
		}
		// The other mode: valid JSON, the same string back (invalid
		// UTF-8 as U+FFFD), nothing a terminal acts on.
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != perByteFFFD(s) {
			t.Fatalf("appendString(%q) = %s: %q %v", s, b, back, err)
		}
		for _, r := range string(b) {
			if r < 0x20 || r == 0x7f || unsafeRune(r) {
				t.Fatalf("appendString(%q) = %q: %U raw", s, b, r)
			}
		}
	}
}

// perByteFFFD is s with each byte that is not UTF-8 replaced by U+FFFD.
func perByteFFFD(s string) string {
	var out []rune
	for _, r := range s {
		out = append(out, r)
	}
	return string(out)
}

func FuzzAppJSONString(f *testing.F) {
	for _, s := range jsonTricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := appendJSONString(nil, s), legacyAppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if got, want := appendFieldKey([]byte("x"), s), append(legacyAppendJSONString([]byte("x"), s), ':'); !bytes.Equal(got, want) {
			t.Fatalf("appendFieldKey(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkAppJSON(b *testing.B) {
	a := appproto.App{Protocol: appproto.JSONRPC, Type: "request", Key: "id=1,method=chat.send", Summary: `JSON-RPC request chat.send id=1 {"room":"<lobby>"}`,
		Fields: []appproto.Field{{Key: "id", Value: "1"}, {Key: "method", Value: "chat.send"}, {Key: "params", Value: `{"room":"<lobby>","text":"héllo \u2028"}`}},
		Body:   make([]byte, 64)}
	out := AppJSON(a)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		AppJSON(a)
	}
}

// legacyMarshalJSON is AppJSON as it was before the hand-written
// writer (encoding/json for the strings), moved here from appproto's
// legacy_test.go with it: it renders an App as the "app" object of a jsonl message record:
//
//	{"protocol":"stomp","type":"SEND","key":"destination=/a","summary":"STOMP SEND /a 2 B",
//	 "fields":{"command":"SEND","destination":"/a",...},"body_len":2,
//	 "heartbeat":true,"latency_ms":1.5,"anomalies":["..."]}
//
// fields keep their order; a key that repeats (STOMP repeated headers, MQTT
// SUBSCRIBE topics) becomes an array of its values. heartbeat, latency_ms
// and anomalies appear only when set. The body itself is left to the
// message record's data.
func legacyMarshalJSON(a appproto.App) ([]byte, error) {
	b := []byte(`{"protocol":`)
	b = legacyAppendJSONString(b, a.Protocol)
	b = append(b, `,"type":`...)
	b = legacyAppendJSONString(b, a.Type)
	b = append(b, `,"key":`...)
	b = legacyAppendJSONString(b, a.Key)
	b = append(b, `,"summary":`...)
	b = legacyAppendJSONString(b, a.Summary)
	b = append(b, `,"fields":{`...)
	done := map[string]bool{}
	first := true
	for i, f := range a.Fields {
		if done[f.Key] {
			continue
		}
		done[f.Key] = true
		var vals []string
		for _, g := range a.Fields[i:] {
			if g.Key == f.Key {
				vals = append(vals, g.Value)
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = legacyAppendJSONString(b, f.Key)
		b = append(b, ':')
		if len(vals) == 1 {
			b = legacyAppendJSONString(b, vals[0])
			continue
		}
		b = append(b, '[')
		for j, v := range vals {
			if j > 0 {
				b = append(b, ',')
			}
			b = legacyAppendJSONString(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, `},"body_len":`...)
	b = strconv.AppendInt(b, int64(len(a.Body)), 10)
	if a.Heartbeat {
		b = append(b, `,"heartbeat":true`...)
	}
	if a.Latency > 0 {
		b = append(b, `,"latency_ms":`...)
		b = append(b, formatMS(a.Latency)...)
	}
	if len(a.Anomalies) > 0 {
		b = append(b, `,"anomalies":[`...)
		for i, s := range a.Anomalies {
			if i > 0 {
				b = append(b, ',')
			}
			b = legacyAppendJSONString(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func legacyAppendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // never fails for a string; invalid UTF-8 becomes U+FFFD
	return append(b, q...)
}

// TestAppendFieldValue: the straight copy of a JSON member's number or
// literal writes what appendJSONString writes, and only members of an
// object left in its Body take it (a STOMP header "-<a>" is escaped).
func TestAppendFieldValue(t *testing.T) {
	values := []string{"0", "-0", "7", "-12.75", "1E+2", "3e-07", "12345678901234567890", "true", "false", "null",
		`"a<b"`, `"\u2028"`, `{"a":[1,"&"]}`, `[1,2]`, `"x"`}
	for _, v := range values {
		if got, want := string(appendFieldValue([]byte("x"), v, true)), string(appendJSONString([]byte("x"), v)); got != want {
			t.Errorf("appendFieldValue(%q, body) = %s, appendJSONString %s", v, got, want)
		}
	}
	for _, v := range []string{"-<a>", "1&2", "t\x01", "n\"", "f\\", "9\u2028", ""} {
		if got, want := string(appendFieldValue(nil, v, false)), string(appendJSONString(nil, v)); got != want {
			t.Errorf("appendFieldValue(%q) = %s, appendJSONString %s", v, got, want)
		}
	}
}

// TestAppJSONFieldsEscaped: an App's own Fields (STOMP headers and the
// like, not members of a JSON Body) whose values start as a number or a
// literal does are still escaped, through both ways of writing fields (up
// to smallFields and past).
func TestAppJSONFieldsEscaped(t *testing.T) {
	values := []string{"-<a>", "1&2", "t\u2028x", "n\"x", "f\\", "9\xff", "0\x01", "-5>4"}
	for _, n := range []int{len(values), 3 * smallFields} {
		a := appproto.App{Protocol: appproto.STOMP, Type: "MESSAGE", Key: "-"}
		for i := 0; i < n; i++ {
			a.Fields = append(a.Fields, appproto.Field{Key: "h" + strconv.Itoa(i%11), Value: values[i%len(values)]})
		}
		j1 := AppJSON(a)
		j2, _ := legacyMarshalJSON(a)
		if !bytes.Equal(j1, j2) {
			t.Fatalf("%d fields:\nnew:    %s\nlegacy: %s", n, j1, j2)
		}
	}
}

// TestAppendFieldValueStrings: appendFieldValue's copy of a short JSON
// string value of plain bytes writes what appendJSONString writes, on
// random string values around shortValue, plain or not.
func TestAppendFieldValueStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 17))
	chars := []string{"a", "Z", "0", " ", "/", ":", `\"`, `\\`, `\n`, `\u0041`, "<", ">", "&", "é", "\u2028", "\x7f"}
	for range 5000 {
		var sb strings.Builder
		sb.WriteByte('"')
		n := rng.IntN(shortValue + 8)
		plain := rng.IntN(2) == 0
		for sb.Len() < n {
			c := chars[rng.IntN(len(chars))]
			if plain && rng.IntN(40) > 0 {
				c = chars[rng.IntN(5)]
			}
			sb.WriteString(c)
		}
		sb.WriteByte('"')
		v := sb.String()
		if got, want := string(appendFieldValue([]byte("x"), v, true)), string(legacyAppendJSONString([]byte("x"), v)); got != want {
			t.Fatalf("appendFieldValue(%q, body) = %s, want %s", v, got, want)
		}
	}
}
