package report

import (
	"io"

	"github.com/wsdump/wsdump/health"
)

// ConnsView is how the conns view writes a health report.
type ConnsView struct {
	Format string   // table, jsonl or csv
	Fields []string // -T fields: one line of these fields per connection instead
	Header bool     // with Fields: their names first
	Table  ConnsTableOptions
	Health health.Options // the settings the jsonl records state
}

// WriteConns writes rep as v says: -T fields, jsonl, csv or the table.
func WriteConns(w io.Writer, rep *health.Report, v ConnsView) error {
	switch {
	case len(v.Fields) > 0:
		return WriteConnFields(w, rep, v.Fields, v.Header, v.Table.Origin)
	case v.Format == "jsonl":
		return WriteHealthJSONL(w, rep, v.Health)
	case v.Format == "csv":
		return WriteConnsCSV(w, rep, ConnsTableOptions{Origin: v.Table.Origin, AbsTime: v.Table.AbsTime})
	default:
		return WriteConnsTable(w, rep, v.Table)
	}
}
