package report

import (
	"io"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/reassembly"
)

// ConnsView is how the conns view writes a health report.
type ConnsView struct {
	Format string   // table, jsonl or csv
	Fields []string // -T fields: one line of these fields per connection instead
	Header bool     // with Fields: their names first
	Table  ConnsTableOptions
	Health health.Options // the settings the jsonl records state
	// Release: a jsonl or csv writer drops each connection from the
	// report once its record is written (rep.Release), for a
	// caller that writes the report once: the written ones can be
	// collected while the others are (100 000 connections are 77 MB of
	// results, over the collector's target for all the writing).
	Release bool
	// Clock: the capture's clock, when it jumped: jsonl ends with its
	// clock_jump and clock_run records (nil: none).
	Clock *reassembly.Clock
}

// WriteConns writes rep as v says: -T fields, jsonl, csv or the table.
func WriteConns(w io.Writer, rep *health.Report, v ConnsView) error {
	switch {
	case len(v.Fields) > 0:
		return WriteConnFields(w, rep, v.Fields, v.Header, v.Table.Origin)
	case v.Format == "jsonl":
		return writeHealthJSONL(w, rep, v.Health, v.Release, v.Clock)
	case v.Format == "csv":
		return writeConnsCSV(w, rep, ConnsTableOptions{Origin: v.Table.Origin, AbsTime: v.Table.AbsTime, AllColumns: v.Table.AllColumns}, v.Release)
	default:
		return WriteConnsTable(w, rep, v.Table)
	}
}
