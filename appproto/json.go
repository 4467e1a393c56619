package appproto

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
	"unsafe"

	"github.com/wsdump/wsdump/wsparse"
)

// Plain JSON messages get a compact one-line preview; JSON-RPC 2.0
// (https://www.jsonrpc.org/specification) requests, notifications,
// responses and errors, alone or in batches, are decoded and responses are
// matched to their request by id, in either direction.

// maxPending bounds the JSON-RPC requests waiting for a response; past it
// the oldest is forgotten.
const maxPending = 4096

type rpcRequest struct {
	method string
	ts     time.Time
}

type jsonDecoder struct {
	pending map[string]rpcRequest // by direction + raw id
	order   []string              // insertion order, for eviction
	quiet   bool                  // chosen by sniffing: other messages pass undecoded
	scratch *Scratch              // where a borrowing session's objects' members go (Session.MessageIn)
}

func newJSON() *jsonDecoder { return &jsonDecoder{pending: map[string]rpcRequest{}} }

func (d *jsonDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	b := bytes.TrimSpace(m.Data)
	var mb memberBuf
	var members []jsonMember
	valid := false
	if m.Opcode == wsparse.OpText {
		members, valid = parseJSON(b, &mb)
		defer mb.release()
	}
	if !valid {
		if d.quiet {
			return out
		}
		a := App{Protocol: JSON, Type: "invalid", Key: "-", Summary: "JSON invalid " + quote(b),
			Anomalies: []string{"json_invalid"}}
		if m.Opcode != wsparse.OpText {
			a.Summary = "binary message"
			a.Anomalies = []string{"json_binary_frame"}
		}
		return append(out, a)
	}
	switch {
	case b[0] == '{' && hasMember(b, members, "jsonrpc"):
		return append(out, d.rpc(m, b, members, false))
	case b[0] == '[' && isRPCBatch(b):
		for i := skipSpace(b, 1); b[i] != ']'; {
			end := skipValue(b, i)
			e := b[i:end]
			em, _ := parseJSON(e, &mb)
			out = keep(out, d.rpc(m, e, em, true))
			if i = skipSpace(b, end); b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		return out
	}
	a := App{Protocol: JSON, Key: "-"}
	lazy := s != nil && s.lazy && len(b) <= maxBodyMember
	var scratch *Scratch
	if s != nil && s.borrow && (lazy || b[0] != '{') {
		// b is m.Data trimmed: a slice of it, so it starts where their
		// capacities differ.
		a.Body, a.borrowed, scratch = b, cap(m.Data)-cap(b)+1, d.scratch
	} else {
		a.Body = clone(b) // its Fields' strings are of it
	}
	switch b[0] {
	case '{':
		a.Type = "object"
		if lazy {
			a.members = bodyMembers(members, scratch)
		} else {
			a.Fields = objectFields(a.Body, members)
		}
	case '[':
		a.Type = "array"
	case '"':
		a.Type = "string"
	default:
		a.Type = "scalar"
	}
	var buf [len("JSON ") + previewBytes + 8]byte
	a.Summary = string(appendPreviewValid(append(buf[:0], "JSON "...), b))
	return append(out, a)
}

// objectFields returns the members of the valid object b as fields: keys
// unquoted, values compact. Where they can, they are strings of b itself,
// the App's Body, which nothing changes once decoded: the object's text is
// copied once, not once more for its fields.
func objectFields(b []byte, members []jsonMember) []Field {
	if len(members) == 0 {
		return nil
	}
	text := unsafe.String(unsafe.SliceData(b), len(b))
	fields := make([]Field, len(members))
	for i, f := range members {
		if k := f.key; f.plain {
			fields[i].Key = text[k.start+1 : k.end-1]
		} else {
			fields[i].Key = unquote(k.of(b))
		}
		if f.compact {
			fields[i].Value = text[f.value.start:f.value.end]
		} else {
			fields[i].Value = compactValid(f.value.of(b))
		}
	}
	return fields
}

// bodyMember is where one member of a JSON object lies in its App's Body
// (LazyFields): where its key and its value start, 8 bytes. The rest is
// found from them: the key ends at the last quote before its value (only
// space and the colon lie between), the value at the last byte before
// the next key or the object's brace that is neither space nor a comma.
// The top bit of key says the key is plain, of value that it is compact
// (as in jsonMember).
type bodyMember struct{ key, value uint32 }

const (
	memberFlag    = 1 << 31
	maxBodyMember = memberFlag - 1 // the longest Body whose members are kept so; a longer one gets its Fields
)

// bodyMembers keeps members (found in the Body's text) as bodyMembers, in
// sc (Session.BorrowBodies) or new memory when sc is nil.
func bodyMembers(members []jsonMember, sc *Scratch) []bodyMember {
	if len(members) == 0 {
		return nil
	}
	out := sc.bodyMembers(len(members))
	for i, f := range members {
		m := bodyMember{uint32(f.key.start), uint32(f.value.start)}
		if f.plain {
			m.key |= memberFlag
		}
		if f.compact {
			m.value |= memberFlag
		}
		out[i] = m
	}
	return out
}

// memberSpans returns where member i's key (quotes included) and value
// lie in a.Body.
func (a *App) memberSpans(i int) (key, value jsonSpan) {
	var next int // where the member after it starts, or the closing brace
	if i+1 < len(a.members) {
		next = int(a.members[i+1].key &^ memberFlag)
	} else {
		next = closingBrace(a.Body)
	}
	return spansOf(a.Body, a.members[i], next)
}

// closingBrace returns where the JSON object b ends.
func closingBrace(b []byte) int {
	end := len(b) - 1
	for end > 0 && b[end] != '}' {
		end--
	}
	return end
}

// spansOf returns where member m's key (quotes included) and value lie in
// b, the Body of its object, given where the member after it (or the
// object's closing brace) starts.
func spansOf(b []byte, m bodyMember, next int) (key, value jsonSpan) {
	key.start, value.start = int(m.key&^memberFlag), int(m.value&^memberFlag)
	key.end = value.start - 1
	for b[key.end] != '"' {
		key.end--
	}
	key.end++
	// back over the comma and space: no value ends in either, nor in any
	// other byte up to the space
	value.end = next - 1
	for b[value.end] <= ' ' || b[value.end] == ',' {
		value.end--
	}
	value.end++
	return key, value
}

// fieldOf returns the Field of member m of the object b (text: b as a
// string), whose key and value lie at key and value (spansOf).
func fieldOf(b []byte, text string, m bodyMember, key, value jsonSpan) Field {
	var f Field
	if m.key&memberFlag != 0 {
		f.Key = text[key.start+1 : key.end-1]
	} else {
		f.Key = unquote(key.of(b))
	}
	if m.value&memberFlag != 0 {
		f.Value = text[value.start:value.end]
	} else {
		f.Value = compactValid(value.of(b))
	}
	return f
}

// NumFields is the number of a's fields: len(a.Fields), or the members
// of a JSON object left in its Body (Session.LazyFields).
func (a *App) NumFields() int {
	if a.members != nil {
		return len(a.members)
	}
	return len(a.Fields)
}

// FieldAt returns a's field i (0 <= i < NumFields), as Fields would hold
// it. A JSON object's field is two strings of its Body, unless its key
// has escapes or its value space (then they are made anew at each call).
func (a *App) FieldAt(i int) Field {
	if a.members == nil {
		return a.Fields[i]
	}
	key, value := a.memberSpans(i)
	return fieldOf(a.Body, unsafe.String(unsafe.SliceData(a.Body), len(a.Body)), a.members[i], key, value)
}

// AppendFields appends a's fields to dst, as AllFields returns them: a
// JSON object's members left in its Body are read into dst, a buffer the
// caller reuses, instead of a []Field made for them. It reads them in one
// pass, as FieldAt would one by one: each value ends before the next
// member's key, found once.
func (a *App) AppendFields(dst []Field) []Field {
	if a.members == nil {
		return append(dst, a.Fields...)
	}
	b, members := a.Body, a.members
	text := unsafe.String(unsafe.SliceData(b), len(b))
	n := len(dst)
	dst = slices.Grow(dst, len(members))[:n+len(members)]
	out := dst[n:]
	// from the last member back: each value ends before the key after it
	next := closingBrace(b)
	for i := len(members) - 1; i >= 0; i-- {
		key, value := spansOf(b, members[i], next)
		out[i] = fieldOf(b, text, members[i], key, value)
		next = key.start
	}
	return dst
}

// AllFields returns a's fields: Fields, or a JSON object's members left
// in its Body (Session.LazyFields) made into Fields.
func (a *App) AllFields() []Field {
	if a.members == nil {
		return a.Fields
	}
	return a.AppendFields(make([]Field, 0, len(a.members)))
}

// unquote returns the Go string of a valid JSON string.
func unquote(raw []byte) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// member returns the raw value of the first member key of the valid
// object b, whose members parseJSON found.
func member(b []byte, members []jsonMember, key string) ([]byte, bool) {
	for i := range members {
		k := members[i].key
		if members[i].plain {
			// a plain key is as long as its text: look at it only then
			if k.end-k.start-2 == len(key) && string(b[k.start+1:k.end-1]) == key {
				return members[i].value.of(b), true
			}
		} else if unquote(k.of(b)) == key {
			return members[i].value.of(b), true
		}
	}
	return nil, false
}

func hasMember(b []byte, members []jsonMember, key string) bool {
	_, ok := member(b, members, key)
	return ok
}

// isRPCBatch reports whether the valid JSON array b is JSON-RPC: its
// first element is an object with a "jsonrpc" member (rpc checks that it
// is "2.0").
func isRPCBatch(b []byte) bool {
	i := skipSpace(b, 1)
	if b[i] != '{' {
		return false
	}
	first := b[i:skipValue(b, i)]
	var mb memberBuf
	members, _ := parseJSON(first, &mb)
	ok := hasMember(first, members, "jsonrpc")
	mb.release()
	return ok
}

// rpc decodes the JSON-RPC message b, valid JSON with no space around it;
// members are its members when it is an object.
func (d *jsonDecoder) rpc(m *wsparse.Message, b []byte, members []jsonMember, batch bool) App {
	a := App{Protocol: JSONRPC, Key: "-"}
	if b[0] != '{' {
		a.Type = "invalid"
		a.Summary = "JSON-RPC invalid " + quote(compactValid(b))
		a.Anomalies = []string{"jsonrpc_invalid"}
		return a
	}
	get := func(key string) ([]byte, bool) { return member(b, members, key) }
	if v, _ := get("jsonrpc"); jsonString(v) != "2.0" {
		a.Anomalies = append(a.Anomalies, "jsonrpc_bad_version")
	}
	id, hasID := get("id")
	idKey := ""
	if hasID && string(id) != "null" {
		idKey = jsonString(id)
	}
	method, hasMethod := get("method")
	dir := byte('0' + m.Dir&1)
	var buf [64 + 3*previewBytes]byte
	sum := append(buf[:0], "RPC "...)
	switch {
	case hasMethod:
		name := jsonString(method)
		if idKey != "" || hasID {
			a.Type = "request"
			if idKey != "" {
				d.remember(string(pendingKey(dir, id)), rpcRequest{name, m.TS})
			}
		} else {
			a.Type = "notification"
		}
		a.Key = keyOf("id", idKey, "method", name)
		params, _ := get("params")
		a.Body = clone(params)
		a.Fields = []Field{{"method", name}}
		if idKey != "" {
			a.Fields = append(a.Fields, Field{"id", idKey})
		}
		sum = append(sum, a.Type...)
		sum = append(sum, ' ')
		sum = appendPreview(sum, name)
		if idKey != "" {
			sum = append(sum, " id="...)
			sum = appendPreview(sum, idKey)
		}
	default:
		res, isResult := get("result")
		errv, isErr := get("error")
		if isErr {
			a.Type = "error"
			a.Body = clone(errv)
		} else {
			a.Type = "response"
			a.Body = clone(res)
			if !isResult {
				a.Anomalies = append(a.Anomalies, "jsonrpc_no_result")
			}
		}
		other := byte('0' + (m.Dir & 1) ^ 1)
		req, matched := d.take(pendingKey(other, id))
		a.Key = keyOf("id", idKey, "method", req.method)
		a.Fields = []Field{{"id", idKey}}
		sum = append(sum, a.Type...)
		if idKey != "" {
			sum = append(sum, " id="...)
			sum = appendPreview(sum, idKey)
		}
		if matched {
			a.Latency = m.TS.Sub(req.ts)
			ms := FormatMS(a.Latency)
			a.Fields = append(a.Fields, Field{"method", req.method}, Field{"latency_ms", ms})
			sum = append(sum, ' ')
			sum = appendPreview(sum, req.method)
			sum = append(sum, ' ')
			sum = append(sum, ms...)
			sum = append(sum, " ms"...)
		} else if idKey != "" {
			a.Anomalies = append(a.Anomalies, "jsonrpc_unmatched_response")
		}
	}
	if len(a.Body) > 0 {
		sum = append(sum, ' ')
		sum = appendPreviewValid(sum, a.Body)
	}
	a.Summary = string(sum)
	if batch {
		a.Fields = append(a.Fields, Field{"batch", "true"})
	}
	return a
}

// pendingKey is the key of a request in d.pending: the direction it was
// sent in and its id, compact.
func pendingKey(dir byte, id []byte) []byte {
	return appendCompact([]byte{dir}, id, -1)
}

func (d *jsonDecoder) remember(k string, r rpcRequest) {
	if _, dup := d.pending[k]; !dup {
		d.order = append(d.order, k)
	}
	d.pending[k] = r
	for len(d.pending) > maxPending && len(d.order) > 0 {
		delete(d.pending, d.order[0])
		d.order = d.order[1:]
	}
}

func (d *jsonDecoder) take(k []byte) (rpcRequest, bool) {
	r, ok := d.pending[string(k)]
	if ok {
		delete(d.pending, string(k))
		if len(d.order) > 2*maxPending {
			d.compact()
		}
	}
	return r, ok
}

// compact drops answered ids from the eviction order.
func (d *jsonDecoder) compact() {
	keep := d.order[:0]
	for _, k := range d.order {
		if _, ok := d.pending[k]; ok {
			keep = append(keep, k)
		}
	}
	d.order = keep
}

// FormatMS renders a duration in milliseconds with three decimals.
func FormatMS(t time.Duration) string {
	return trimFloat(float64(t.Microseconds()) / 1000)
}
