package report

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// FieldValue renders one value of -T fields: absent (nil) is empty,
// booleans true/false, lists comma-joined, text escaped as CSV's escaped
// payloads are (\t, \n, control bytes, terminal escapes, bidirectional
// overrides, bytes that are not UTF-8, and a backslash doubled so that the
// escaping can be undone: unlike a table cell, a field is read by
// scripts), so that a value never splits a line or a column and payload
// bytes never reach a terminal or a spreadsheet raw.
func FieldValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case EscapedField:
		return string(x)
	case string:
		return escapeExact(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = strings.ReplaceAll(escapeExact(s), ",", `\x2c`)
		}
		return strings.Join(parts, ",")
	default:
		return escapeExact(fmt.Sprint(x))
	}
}

// EscapedField is a value already rendered by FieldValue.
type EscapedField string

// FieldsWriter writes tab-separated lines of field values (-T fields).
type FieldsWriter struct {
	w *bufio.Writer
}

// NewFieldsWriter writes to w, with a header line of the names when header.
func NewFieldsWriter(w *bufio.Writer, names []string, header bool) *FieldsWriter {
	fw := &FieldsWriter{w: w}
	if header {
		fw.w.WriteString(strings.Join(names, "\t"))
		fw.w.WriteByte('\n')
	}
	return fw
}

// Row writes one line.
func (fw *FieldsWriter) Row(values []any) {
	for i, v := range values {
		if i > 0 {
			fw.w.WriteByte('\t')
		}
		fw.w.WriteString(FieldValue(v))
	}
	fw.w.WriteByte('\n')
}
