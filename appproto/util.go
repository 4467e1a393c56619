package appproto

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

func itoa(n int) string { return strconv.Itoa(n) }

// keyOf builds an App.Key from key/value pairs, skipping empty values.
func keyOf(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(kv[i+1])
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// clone copies b so an App owns its body.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// previewLen bounds the previews in summaries.
const previewLen = 60

// preview returns s cut to previewLen runes with an ellipsis, with control
// characters escaped so a summary stays on one line.
func preview(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == previewLen {
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

// quote is preview in double quotes.
func quote(s string) string { return `"` + preview(s) + `"` }

// compactJSON returns the compact form of raw JSON (raw itself when it is
// not valid JSON).
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func validJSON(b []byte) bool { return json.Valid(b) }

// jsonObject decodes a JSON object's top-level members in order, with raw
// values. ok is false when b is not a JSON object.
func jsonObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
	if json.Valid(b) {
		return scanObject(b)
	}
	return decodeObject(b)
}

// scanObject is jsonObject for valid JSON: a plain scan where a
// json.Decoder would cost a dozen allocations per member, with the same
// results (keys unquoted, values as raw copies of their bytes).
func scanObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
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

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// plainASCII reports whether a string's bytes need no unquoting.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

// decodeObject is jsonObject by a json.Decoder, for any input.
func decodeObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	raw = map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		if _, dup := raw[k]; !dup {
			raw[k] = v
		}
		members = append(members, Field{k, string(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, false
	}
	if dec.More() || trailingData(dec) {
		return nil, nil, false
	}
	return members, raw, true
}

// trailingData reports whether anything but whitespace follows the value.
func trailingData(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err == nil
}

// jsonString returns the Go string of a raw JSON string, or the raw text
// of any other value ("" for absent).
func jsonString(raw json.RawMessage) string {
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

// jsonHasKey reports whether b is a JSON object with member key.
func jsonHasKey(b []byte, key string) bool {
	_, raw, ok := jsonObject(b)
	if !ok {
		return false
	}
	_, has := raw[key]
	return has
}

// jsonStringField returns the string member key of the JSON object b.
func jsonStringField(b []byte, key string) string {
	_, raw, ok := jsonObject(b)
	if !ok {
		return ""
	}
	v := raw[key]
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	return jsonString(v)
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// keepTail stores data, the unconsumed rest of a stream, in buf for the next
// message. data may be a tail of buf itself (copy handles the overlap).
func keepTail(buf, data []byte) []byte {
	if cap(buf) >= len(data) && cap(buf) <= 2*MaxBuffered {
		buf = buf[:len(data)]
		copy(buf, data)
		return buf
	}
	return append([]byte(nil), data...)
}
