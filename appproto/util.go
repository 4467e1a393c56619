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
	n := min(len(s), previewLen)
	if printableASCII(s[:n]) {
		if n == len(s) {
			return s
		}
		return s[:n] + "…"
	}
	var buf [previewBytes + 8]byte
	return string(appendPreview(buf[:0], s))
}

// printableASCII reports whether s is all printable ASCII, which preview
// leaves as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// appendPreview appends preview(s).
func appendPreview[S string | []byte](dst []byte, s S) []byte {
	n := 0
	for i := 0; i < len(s); n++ {
		if n == previewLen {
			return append(dst, "…"...)
		}
		if c := s[i]; c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
			i++
			continue
		}
		// a small conversion, so that it needs no allocation
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			dst = append(dst, `\x`...)
			dst = strconv.AppendInt(dst, int64(r&0xff), 16)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// quote is preview in double quotes.
func quote[S string | []byte](s S) string {
	var buf [previewBytes + 8]byte
	b := append(buf[:0], '"')
	b = appendPreview(b, s)
	return string(append(b, '"'))
}

// compactJSON returns the compact form of raw JSON (raw itself when it is
// not valid JSON), as json.Compact makes it.
func compactJSON(raw []byte) string {
	if !jsonValid(raw) {
		return string(raw)
	}
	return compactValid(raw)
}

func validJSON(b []byte) bool { return jsonValid(b) }

// jsonObject decodes a JSON object's top-level members in order, with raw
// values (which may share b's bytes). ok is false when b is not a JSON
// object.
func jsonObject(b []byte) (members []Field, raw map[string]json.RawMessage, ok bool) {
	if jsonValid(b) {
		return scanObject(b)
	}
	return decodeObject(b)
}

// scanObject is jsonObject for valid JSON: a plain scan where a
// json.Decoder would cost a dozen allocations per member, with the same
// results (keys unquoted, values as raw bytes of b).
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
		v := json.RawMessage(b[i:vEnd])
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
func jsonString(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		if n := len(raw); n >= 2 && raw[n-1] == '"' {
			if inner := raw[1 : n-1]; plainASCII(inner) && bytes.IndexByte(inner, '"') < 0 {
				return string(inner) // nothing to unquote
			}
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// jsonHasKey reports whether b is a JSON object with member key.
func jsonHasKey(b []byte, key string) bool {
	_, has, _ := objectMember(b, key)
	return has
}

// jsonStringField returns the string member key of the JSON object b.
func jsonStringField(b []byte, key string) string {
	v, _, _ := objectMember(b, key)
	if len(v) == 0 || v[0] != '"' {
		return ""
	}
	return jsonString(v)
}

// objectMember returns the raw value of the first member key of the JSON
// object b, as jsonObject's raw[key] does, but valid JSON is scanned once,
// with no map nor copy of every member (the first message of each
// connection is sniffed with it, however large).
func objectMember(b []byte, key string) (v []byte, has, ok bool) {
	var mb memberBuf
	defer mb.release()
	if members, valid := parseJSON(b, &mb); valid {
		if i := skipSpace(b, 0); b[i] != '{' {
			return nil, false, false
		}
		v, has = member(b, members, key)
		return v, has, true
	}
	_, raw, ok := decodeObject(b)
	v, has = raw[key]
	return v, has, ok
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
