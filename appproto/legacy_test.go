package appproto

// The JSON decoding as it was before the
// hand-written scanner (encoding/json throughout), kept as the reference
// the differential tests hold the fast code to: its output must not change.

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsdump/wsdump/wsparse"
)

type legacyJSONDecoder struct {
	pending map[string]rpcRequest // by direction + raw id
	order   []string              // insertion order, for eviction
	quiet   bool                  // chosen by sniffing: other messages pass undecoded
}

func newLegacyJSON() *legacyJSONDecoder { return &legacyJSONDecoder{pending: map[string]rpcRequest{}} }

func (d *legacyJSONDecoder) decode(m *wsparse.Message, out []App) []App {
	b := bytes.TrimSpace(m.Data)
	if m.Opcode != wsparse.OpText || !json.Valid(b) {
		if d.quiet {
			return out
		}
		a := App{Protocol: JSON, Type: "invalid", Key: "-", Summary: "JSON invalid " + legacyQuote(string(b)),
			Anomalies: []string{"json_invalid"}}
		if m.Opcode != wsparse.OpText {
			a.Summary = "binary message"
			a.Anomalies = []string{"json_binary_frame"}
		}
		return append(out, a)
	}
	var members []Field
	var rpc bool
	if b[0] == '{' {
		// One scan for both the JSON-RPC check and the fields.
		var raw map[string]json.RawMessage
		var obj bool
		members, raw, obj = legacyJSONObject(b)
		_, rpc = raw["jsonrpc"]
		rpc = rpc && obj
	} else {
		rpc = legacyIsRPC(b)
	}
	if rpc {
		if b[0] == '[' {
			var batch []json.RawMessage
			_ = json.Unmarshal(b, &batch)
			for _, e := range batch {
				out = append(out, d.rpc(m, e, true))
			}
			return out
		}
		return append(out, d.rpc(m, b, false))
	}
	a := App{Protocol: JSON, Key: "-", Body: clone(b)}
	switch b[0] {
	case '{':
		a.Type = "object"
		for _, f := range members {
			a.Fields = append(a.Fields, Field{f.Key, legacyCompactJSON([]byte(f.Value))})
		}
	case '[':
		a.Type = "array"
	case '"':
		a.Type = "string"
	default:
		a.Type = "scalar"
	}
	a.Summary = "JSON " + legacyPreview(legacyCompactJSON(b))
	return append(out, a)
}

// legacyIsRPC reports whether a JSON message is JSON-RPC: an object with a
// "jsonrpc" member (rpc checks that it is "2.0"), or an array whose first
// element is one.
func legacyIsRPC(b []byte) bool {
	if b[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(b, &batch) != nil || len(batch) == 0 {
			return false
		}
		b = batch[0]
	}
	return legacyJSONHasKey(b, "jsonrpc")
}

func (d *legacyJSONDecoder) rpc(m *wsparse.Message, b []byte, batch bool) App {
	a := App{Protocol: JSONRPC, Key: "-"}
	_, raw, ok := legacyJSONObject(b)
	if !ok {
		a.Type = "invalid"
		a.Summary = "JSON-RPC invalid " + legacyQuote(legacyCompactJSON(b))
		a.Anomalies = []string{"jsonrpc_invalid"}
		return a
	}
	if legacyJSONString(raw["jsonrpc"]) != "2.0" {
		a.Anomalies = append(a.Anomalies, "jsonrpc_bad_version")
	}
	id, hasID := raw["id"]
	idKey := ""
	if hasID && string(id) != "null" {
		idKey = legacyJSONString(id)
	}
	method, hasMethod := raw["method"]
	dir := byte('0' + m.Dir&1)
	switch {
	case hasMethod:
		name := legacyJSONString(method)
		if idKey != "" || hasID {
			a.Type = "request"
			if idKey != "" {
				d.remember(string(dir)+legacyCompactJSON(id), rpcRequest{name, m.TS})
			}
		} else {
			a.Type = "notification"
		}
		a.Key = keyOf("id", idKey, "method", name)
		a.Body = clone(raw["params"])
		a.Fields = []Field{{"method", name}}
		if idKey != "" {
			a.Fields = append(a.Fields, Field{"id", idKey})
		}
		a.Summary = "RPC " + a.Type + " " + legacyPreview(name)
		if idKey != "" {
			a.Summary += " id=" + legacyPreview(idKey)
		}
		if len(a.Body) > 0 {
			a.Summary += " " + legacyPreview(legacyCompactJSON(a.Body))
		}
	default:
		res, isResult := raw["result"]
		errv, isErr := raw["error"]
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
		req, matched := d.take(string(other) + legacyCompactJSON(id))
		a.Key = keyOf("id", idKey, "method", req.method)
		a.Fields = []Field{{"id", idKey}}
		a.Summary = "RPC " + a.Type
		if idKey != "" {
			a.Summary += " id=" + legacyPreview(idKey)
		}
		if matched {
			a.Latency = m.TS.Sub(req.ts)
			a.Fields = append(a.Fields, Field{"method", req.method}, Field{"latency_ms", FormatMS(a.Latency)})
			a.Summary += " " + legacyPreview(req.method) + " " + FormatMS(a.Latency) + " ms"
		} else if idKey != "" {
			a.Anomalies = append(a.Anomalies, "jsonrpc_unmatched_response")
		}
		if len(a.Body) > 0 {
			a.Summary += " " + legacyPreview(legacyCompactJSON(a.Body))
		}
	}
	if batch {
		a.Fields = append(a.Fields, Field{"batch", "true"})
	}
	return a
}

func (d *legacyJSONDecoder) remember(k string, r rpcRequest) {
	if _, dup := d.pending[k]; !dup {
		d.order = append(d.order, k)
	}
	d.pending[k] = r
	for len(d.pending) > maxPending && len(d.order) > 0 {
		delete(d.pending, d.order[0])
		d.order = d.order[1:]
	}
}

func (d *legacyJSONDecoder) take(k string) (rpcRequest, bool) {
	r, ok := d.pending[k]
	if ok {
		delete(d.pending, k)
		if len(d.order) > 2*maxPending {
			d.compact()
		}
	}
	return r, ok
}

// compact drops answered ids from the eviction order.
func (d *legacyJSONDecoder) compact() {
	keep := d.order[:0]
	for _, k := range d.order {
		if _, ok := d.pending[k]; ok {
			keep = append(keep, k)
		}
	}
	d.order = keep
}

// legacyPreviewLen bounds the previews in summaries.
const legacyPreviewLen = 60

// legacyPreview returns s cut to legacyPreviewLen runes with an ellipsis, with control
// characters escaped so a summary stays on one line.
func legacyPreview(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == legacyPreviewLen {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatInt(int64(r&0xff), 16))
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// legacyQuote is legacyPreview in double quotes.
func legacyQuote(s string) string { return `"` + legacyPreview(s) + `"` }

// legacyCompactJSON returns the compact form of raw JSON (raw itself when it is
// not valid JSON).
func legacyCompactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// legacyJSONObject decodes a JSON object's top-level members in order, with raw
// values. ok is false when b is not a JSON object.
func legacyJSONObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
	if json.Valid(b) {
		return legacyScanObject(b)
	}
	return decodeObject(b)
}

// legacyScanObject is legacyJSONObject for valid JSON: a plain scan where a
// json.Decoder would cost a dozen allocations per member, with the same
// results (keys unquoted, values as raw copies of their bytes).
func legacyScanObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, nil, false
	}
	raw = map[string]json.RawMessage{}
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		end := skipString(b, i)
		var k string
		if key := b[i+1 : end-1]; plainASCII(key) {
			k = string(key)
		} else if json.Unmarshal(b[i:end], &k) != nil {
			return decodeObject(b)
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		vEnd := skipValue(b, i)
		v := json.RawMessage(bytes.Clone(b[i:vEnd]))
		if _, dup := raw[k]; !dup {
			raw[k] = v
		}
		members = append(members, Field{k, string(v)})
		i = skipSpace(b, vEnd)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return members, raw, true
}

// legacyJSONString returns the Go string of a raw JSON string, or the raw text
// of any other value ("" for absent).
func legacyJSONString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// legacyJSONHasKey reports whether b is a JSON object with member key.
func legacyJSONHasKey(b []byte, key string) bool {
	_, raw, ok := legacyJSONObject(b)
	if !ok {
		return false
	}
	_, has := raw[key]
	return has
}

// legacyJSONStringField returns the string member key of the JSON object b.
func legacyJSONStringField(b []byte, key string) string {
	_, raw, ok := legacyJSONObject(b)
	if !ok {
		return ""
	}
	v := raw[key]
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	return legacyJSONString(v)
}
