package report

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/wsdump/wsdump/appproto"
)

// AppJSON renders an App as the "app" object of a jsonl message record:
//
//	{"protocol":"stomp","type":"SEND","key":"destination=/a","summary":"STOMP SEND /a 2 B",
//	 "fields":{"command":"SEND","destination":"/a",...},"body_len":2,
//	 "heartbeat":true,"latency_ms":1.5,"anomalies":["..."]}
//
// fields keep their order; a key that repeats (STOMP repeated headers, MQTT
// SUBSCRIBE topics) becomes an array of its values. heartbeat, latency_ms
// and anomalies appear only when set. The body itself is left to the
// message record's data.
func AppJSON(a appproto.App) []byte { return AppendAppJSON(nil, a) }

// appJSONSize is about the bytes AppendAppJSON appends for a, with room
// for some escapes: enough that the buffer grows once.
func appJSONSize(a appproto.App) int {
	size := 96 + len(a.Protocol) + len(a.Type) + len(a.Key) + len(a.Summary) + 8*len(a.Anomalies)
	for _, f := range a.Fields {
		size += len(f.Key) + len(f.Value) + 6
	}
	if len(a.Fields) == 0 && a.NumFields() > 0 {
		size += len(a.Body) + 4*a.NumFields() // members left in the Body: their text and quotes
	}
	for _, s := range a.Anomalies {
		size += len(s)
	}
	return size + size/8
}

// AppendAppJSON appends what AppJSON returns to b. Its strings are written
// as json.Marshal writes them (jsonMarshal), unlike the rest of a jsonl
// record (jsonTerminal): the golden files hold both.
func AppendAppJSON(b []byte, a appproto.App) []byte {
	b = slices.Grow(b, appJSONSize(a))
	b = append(b, `{"protocol":`...)
	b = appendJSONString(b, a.Protocol)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"key":`...)
	b = appendJSONString(b, a.Key)
	b = append(b, `,"summary":`...)
	b = appendJSONString(b, a.Summary)
	b = append(b, `,"fields":{`...)
	b = appendFields(b, &a)
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
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendFields appends the members of the "fields" object: each key once,
// where it first appears, with its value, or the array of its values in
// order when it repeats. Up to smallFields fields are compared pairwise;
// past that a hash table (fieldTable) links each field to the next with
// the same key, so the work is linear in the fields however many keys
// repeat, and nothing is allocated once the table has grown to the
// largest object seen.
//
// A JSON object's members left in its Body (appproto's LazyFields) are
// read, as the Fields they stand for, into a buffer of the table reused
// from object to object (up to smallFields of them, on the stack): no
// []Field is made for them.
func appendFields(b []byte, a *appproto.App) []byte {
	fields := a.Fields
	// members left in the Body: their values are compact JSON
	body := len(fields) == 0 && a.NumFields() > 0
	if n := a.NumFields(); n <= smallFields {
		if len(fields) != n {
			var buf [smallFields]appproto.Field
			fields = a.AppendFields(buf[:0])
		}
		return appendFewFields(b, fields, body)
	}
	t := fieldTables.Get().(*fieldTable)
	defer fieldTables.Put(t)
	if len(fields) == 0 {
		// left in the Body: read into the table's buffer, let go after
		t.fields = a.AppendFields(t.fields[:0])
		fields = t.fields
		defer clear(t.fields)
	}
	t.link(fields)
	next, head := t.next[:len(fields)], t.head[:len(fields)]
	for i := range fields {
		countFieldOp()
		if !head[i] {
			continue // written with its key's first field
		}
		if i > 0 { // the first field is its key's first: written first
			b = append(b, ',')
		}
		f := &fields[i]
		b = appendFieldKey(b, f.Key)
		if next[i] == 0 {
			b = appendFieldValue(b, f.Value, body)
			continue
		}
		b = append(b, '[')
		b = appendFieldValue(b, f.Value, body)
		for j := next[i]; j != 0; j = next[j] {
			countFieldOp()
			b = append(b, ',')
			b = appendFieldValue(b, fields[j].Value, body)
		}
		b = append(b, ']')
	}
	return b
}

// fieldTable is appendFields' scratch: an open-addressing hash table of
// the keys (linear probing, at most a quarter full) and the links between
// fields with the same key. Reused through fieldTables, it grows to the
// largest object seen instead of a map being made for every object.
type fieldTable struct {
	fields []appproto.Field // the fields of an App that has them only in its Body
	slots  []int32          // 1 + the index of a key's first field; 0: empty
	last   []int32          // per key's first field: its key's last field so far
	next   []int32          // per field: the next field with its key; 0: none
	head   []bool           // per field: whether it is its key's first
}

var fieldTables = sync.Pool{New: func() any { return new(fieldTable) }}

// fieldSeed makes the slots of keys unpredictable to whoever sends them:
// no set of keys collides on purpose.
var fieldSeed = maphash.MakeSeed()

// fieldTab is simple tabulation hashing of keys of up to 16 bytes: a
// random word per byte value at each position, and per length, chosen at
// start as fieldSeed; a key's hash is the XOR of its bytes' words and
// its length's. Whatever the keys, linear probing with it takes a
// constant number of probes in expectation (Pătraşcu and Thorup, "The
// power of simple tabulation hashing", 2012), as a multiply-shift hash
// does not on keys in sequence (k1000, k1001, ...); and a few loads cost
// less than maphash's calls. A longer key is hashed by maphash.
var fieldTab = func() *[17][256]uint64 {
	t := new([17][256]uint64)
	for i := range t {
		for j := range t[i] {
			t[i][j] = rand.Uint64()
		}
	}
	return t
}()

// link fills t.next and t.head for fields.
func (t *fieldTable) link(fields []appproto.Field) {
	size, shift := 64, uint(64-6)
	for size < 4*len(fields) {
		size *= 2
		shift--
	}
	if cap(t.slots) < size {
		t.slots = make([]int32, size)
	}
	t.slots = t.slots[:size]
	clear(t.slots)
	n := len(fields)
	t.last = slices.Grow(t.last[:0], n)[:n]
	t.next = slices.Grow(t.next[:0], n)[:n]
	t.head = slices.Grow(t.head[:0], n)[:n]
	mask := uint64(size - 1)
	tab := fieldTab
	for i, f := range fields {
		t.next[i] = 0
		var h uint64 // the key's hash (fieldTab), its top bits a slot
		if k := f.Key; len(k) <= 16 {
			h = tab[16][len(k)]
			for j := 0; j < len(k); j++ {
				h ^= tab[j&15][k[j]]
			}
		} else {
			h = maphash.String(fieldSeed, k)
		}
		for h >>= shift; ; h = (h + 1) & mask {
			countFieldOp()
			s := t.slots[h]
			if s == 0 {
				t.slots[h] = int32(i) + 1
				t.last[i] = int32(i)
				t.head[i] = true
				break
			}
			if k := s - 1; fields[k].Key == f.Key {
				t.next[t.last[k]] = int32(i)
				t.last[k] = int32(i)
				t.head[i] = false
				break
			}
		}
	}
}

// smallFields is the most fields appendFields compares pairwise
// (smallFields² comparisons at most).
const smallFields = 16

// appendFewFields is appendFields for at most smallFields fields; body
// says they are members of a JSON object left in its Body.
func appendFewFields(b []byte, fields []appproto.Field, body bool) []byte {
	first := true
	for i, f := range fields {
		if repeated(fields, i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendFieldKey(b, f.Key)
		more := false
		for _, g := range fields[i+1:] {
			countFieldOp()
			if g.Key == f.Key {
				more = true
				break
			}
		}
		if !more {
			b = appendFieldValue(b, f.Value, body)
			continue
		}
		b = append(b, '[')
		b = appendFieldValue(b, f.Value, body)
		for _, g := range fields[i+1:] {
			countFieldOp()
			if g.Key == f.Key {
				b = append(b, ',')
				b = appendFieldValue(b, g.Value, body)
			}
		}
		b = append(b, ']')
	}
	return b
}

// appendFieldKey appends the field key k as appendJSONString does, and
// the colon after it. A key of plain bytes (jsonPlain: every key of a
// JSON object left in its Body whose text is printable ASCII, but for
// <, > and &) is copied at once, without appendJSON's call and growth.
func appendFieldKey(b []byte, k string) []byte {
	plain := &jsonPlain[jsonMarshal]
	for i := 0; i < len(k); i++ {
		if !plain[k[i]] {
			return append(appendJSONString(b, k), ':')
		}
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// appendFieldValue appends the field value v as appendJSONString does.
// With body, v is the compact text of a valid JSON value (a member of an
// object left in its Body): one that starts as a number or a literal
// does (digits, - + . e E, true, false, null) holds nothing
// appendJSONString escapes, and is copied at once, quotes around it.
func appendFieldValue(b []byte, v string, body bool) []byte {
	if body && v != "" {
		if c := v[0]; c-'0' <= 9 || c == '-' || c == 't' || c == 'f' || c == 'n' {
			b = append(b, '"')
			b = append(b, v...)
			return append(b, '"')
		}
		// a short JSON string of plain bytes: its two quotes are all
		// there is to escape
		if v[0] == '"' && len(v) <= shortValue {
			plain := &jsonPlain[jsonMarshal]
			in := v[1 : len(v)-1]
			i := 0
			for i < len(in) && plain[in[i]] {
				i++
			}
			if i == len(in) {
				b = append(b, `"\"`...)
				b = append(b, in...)
				return append(b, `\""`...)
			}
		}
	}
	return appendJSONString(b, v)
}

// shortValue is the longest string value appendFieldValue looks at
// before appendJSON does: longer ones are left to its escapeBlock bytes
// at a time.
const shortValue = 64

// repeated reports whether fields[i]'s key came before it.
func repeated(fields []appproto.Field, i int) bool {
	k := fields[i].Key
	for _, f := range fields[:i] {
		countFieldOp()
		if f.Key == k {
			return true
		}
	}
	return false
}

// fieldOps, when set (by tests), counts the steps appendFields takes: a
// key compared, looked up or followed.
var fieldOps *int

func countFieldOp() {
	if fieldOps != nil {
		*fieldOps++
	}
}

// formatMS is appproto's rendering of a latency (milliseconds, three
// decimals), the one its summaries and fields use.
func formatMS(d time.Duration) string { return appproto.FormatMS(d) }
