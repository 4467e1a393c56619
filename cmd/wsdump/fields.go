package main

// -Y (display filter), -T fields -e NAME (field extraction) and the BPF
// filter of -r F tcp port 80: the flags and their glue to filter, report
// and capture.

import (
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// fieldsFlags are -T, -e and -E (tshark's names).
type fieldsFlags struct {
	T      string
	Fields []string
	E      []string
	header bool
}

func addFieldsFlags(f *pflag.FlagSet, fl *fieldsFlags) {
	f.StringVarP(&fl.T, "T", "T", "", "output `fields`: tab-separated values of the -e fields, one line per record (tshark's -T fields)")
	f.StringArrayVarP(&fl.Fields, "field", "e", nil, "with -T fields: a field to print, by its jsonl `NAME` (app.type, close_code; repeatable)")
	f.StringArrayVarP(&fl.E, "E", "E", nil, "with -T fields: header=y prints the field names first")
}

// validate checks -T, -e and -E; it reports whether -T fields was given.
func (fl *fieldsFlags) validate() (bool, error) {
	switch fl.T {
	case "":
		if len(fl.Fields) > 0 || len(fl.E) > 0 {
			return false, usageErr("-e and -E go with -T fields")
		}
		return false, nil
	case "fields":
	case "json", "ek", "jsonraw":
		return false, usageErr("-T %s: wsdump writes JSON with --format jsonl", fl.T)
	case "text", "tabs":
		return false, usageErr("-T %s: the table is the default output (drop -T)", fl.T)
	default:
		return false, usageErr("-T takes fields (with -e NAME), not %q", fl.T)
	}
	if len(fl.Fields) == 0 {
		return false, usageErr("-T fields needs at least one -e NAME (%s)", strings.Join(fieldNames(), ", "))
	}
	known := map[string]bool{}
	for _, n := range filter.Fields() {
		known[n] = true
	}
	for _, n := range fl.Fields {
		top, _, _ := strings.Cut(n, ".")
		if !known[top] {
			return false, usageErr("-e %s: no such field (%s)", n, strings.Join(fieldNames(), ", "))
		}
	}
	for _, e := range fl.E {
		switch strings.ToLower(e) {
		case "header=y":
			fl.header = true
		case "header=n":
			fl.header = false
		default:
			return false, usageErr("-E %s: only header=y and header=n are supported", e)
		}
	}
	return true, nil
}

// usesConn reports whether a field is conn.* (health: a first pass).
func (fl *fieldsFlags) usesConn() bool {
	for _, n := range fl.Fields {
		if strings.HasPrefix(n, "conn.") {
			return true
		}
	}
	return false
}

func fieldNames() []string {
	n := filter.Fields()
	sort.Strings(n)
	return n
}

// newBPFSource is pipeline.NewBPFSource, a filter that does not parse a
// usage error.
func newBPFSource(src capture.Source, args []string, stderr io.Writer) (capture.Source, error) {
	src, err := pipeline.NewBPFSource(src, args, stderr)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return src, nil
}

// newFieldsExporter is the -T fields exporter of fl.
func newFieldsExporter(w io.Writer, fl *fieldsFlags, messages bool) *report.FieldsExporter {
	return report.NewFieldsExporter(w, fl.Fields, fl.header, messages)
}

// connHealthPass reads the capture once for the conn.* fields of a -Y or
// -e (pipeline.ConnHealth).
func connHealthPass(o *decodeOptions, keys *tlsdec.KeyLog) (func(int) map[string]any, error) {
	if len(o.Reads) == 1 && o.Reads[0] == "-" {
		return nil, usageErr("conn.* (the connection's health, known at its end) needs a file, read twice, not standard input")
	}
	src, err := o.openInputs(o.Ctx, o.Reads, o.In, io.Discard)
	if err != nil {
		return nil, inputErr(err)
	}
	if len(o.BPF) > 0 {
		if src, err = newBPFSource(src, o.BPF, io.Discard); err != nil {
			return nil, err
		}
	}
	defer src.Close()
	h, err := pipeline.ConnHealth(o.options(wsparse.Config{}, keys), o.Decode, o.Jobs, func(asm pipeline.Assembler, origin func(time.Time)) error {
		return feed(src, asm, o.ReadFile, keys, origin)
	})
	if err != nil {
		return nil, readError(err)
	}
	return h, nil
}
