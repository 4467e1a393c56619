package pipeline

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// ConnsOptions are the conns command's (and, within ReportOptions, the
// report command's).
type ConnsOptions struct {
	Input
	Out io.Writer

	HealthFlags // --heartbeat-text, --heartbeat-interval, --tolerance, --storm-*

	Format string
	Time   string
	Decode string
	Filter filter.Flags
	Fields Fields
	Table  Table    // --width, -o wide, --color
	BPF    []string // conns -r F tcp port 80

	fields bool
	// oneOfPerFile: a file of --per-file, its CSV rows under the first
	// file's header: every optional column (ConnsTableOptions.AllColumns).
	oneOfPerFile bool
}

// Validate checks the flags.
func (o *ConnsOptions) Validate() error {
	if len(o.Reads) == 0 {
		return Usagef("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	var err error
	if o.fields, err = o.Fields.validate(); err != nil {
		return err
	}
	if o.Format != "table" && o.Format != "jsonl" && o.Format != "csv" {
		return Usagef("--format must be one of table, jsonl, csv, not %q%s", o.Format, formatHint(o.Format))
	}
	if err := o.Table.Validate(); err != nil {
		return err
	}
	if o.Time != "rel" && o.Time != "abs" {
		return Usagef("--time must be rel or abs, not %q", o.Time)
	}
	if err := o.validateHealth(); err != nil {
		return err
	}
	if len(o.BPF) > 0 {
		if _, err := capture.ParseFilter(o.BPF...); err != nil {
			return Usagef("%q is not a capture filter: %v (a trailing filter selects packets, as in: wsdump conns -r F tcp port 80)", strings.Join(o.BPF, " "), err)
		}
	}
	return nil
}

// validateHealth checks --decode and the heartbeat and storm flags.
func (o *ConnsOptions) validateHealth() error {
	if err := CheckDecode(&o.Decode); err != nil {
		return err
	}
	return o.HealthFlags.validate()
}

// RunConns checks the options, reads the capture through the tracker and
// writes the report.
func RunConns(o *ConnsOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return o.run()
}

func (o *ConnsOptions) run() error {
	if o.PerFile {
		o.Table.fix(o.Out)
		return o.perFile(perFileLabel(o.Format, o.fields), o.Out, func(f string, out, errw io.Writer) error {
			one := *o
			one.Input, one.Out = o.one(f, errw), out
			one.oneOfPerFile = true
			return one.run()
		})
	}
	rd, err := o.read(nil, true)
	if err != nil {
		return err
	}
	// The report is written once: what only the tracker holds is let go
	// first, and each connection once written (Release).
	rd.Tracker = nil
	v := report.ConnsView{Format: o.Format, Health: o.health(), Release: true, Clock: rd.Clock,
		Table: report.ConnsTableOptions{Origin: rd.Origin, AbsTime: o.Time == "abs", Width: o.Table.width(o.Out), AllColumns: o.oneOfPerFile}}
	if o.fields {
		v.Fields, v.Header = o.Fields.Fields, o.Fields.header
	}
	if err := report.WriteConns(o.Out, rd.Report, v); err != nil {
		return &WriteError{err}
	}
	return rd.ReadErr
}

// read reads the capture as conns does (Conns; next, when not nil,
// receives every record behind the tracker; reportOnly: ConnsConfig's).
// err is an error before reading.
func (o *ConnsOptions) read(next wsparse.Sink, reportOnly bool) (ConnsRead, error) {
	src, files, err := o.openFiles(o.Reads, o.Err)
	if err != nil {
		return ConnsRead{}, err
	}
	if src, err = bpf(src, o.BPF, o.Err); err != nil {
		return ConnsRead{}, err
	}
	defer src.Close()
	// -Y is not in the spec: it selects connections by their health,
	// known at their end (selectConns).
	spec, err := spec(&o.Filter, false, true)
	if err != nil {
		return ConnsRead{}, err
	}
	x := spec.Expr
	spec.Expr = nil
	keys, err := o.Keys(o.Err)
	if err != nil {
		return ConnsRead{}, err
	}
	return Conns(ConnsConfig{Health: o.health(), Decode: o.Decode, Spec: spec, Select: x,
		Reassembly: o.Options(wsparse.Config{}, keys), Jobs: o.Jobs, Next: next, Err: o.Err, ReportOnly: reportOnly,
		Limits: &o.Limits, Files: files},
		func(asm Assembler, origin func(time.Time)) error {
			feed := feedOptions(InputsName(o.Reads), keys)
			feed.Origin = origin
			return Feed(src, asm, feed)
		}), nil
}

// ReportOptions are the report command's: the conns command's, and the
// file written.
type ReportOptions struct {
	ConnsOptions
	Output  string
	Version string // wsdump's, in the file
}

// Validate checks the flags.
func (o *ReportOptions) Validate() error {
	if len(o.Reads) == 0 {
		return Usagef("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Output == "" {
		return Usagef("no output: give the HTML file to write with -o FILE (or -o - for standard output)")
	}
	return o.ConnsOptions.Validate()
}

// RunReport checks the options, reads the capture through the health
// tracker and the activity collector, then writes the HTML file.
func RunReport(o *ReportOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	act := report.NewActivity()
	rd, err := o.read(act, false) // as conns reads it; the heartbeat charts need BeatTimes
	if err != nil {
		return err
	}
	title := InputsName(o.Reads)
	if title != "-" && len(o.Reads) == 1 {
		title = filepath.Base(title)
	}
	in := report.HTMLInput{Title: title, Report: rd.Report, Beats: rd.Tracker.BeatTimes, Activity: act, Origin: rd.Origin, Version: o.Version}
	n, err := report.WriteHTMLFile(o.Output, o.Out, in)
	if err != nil {
		return &WriteError{err}
	}
	if o.Output != "-" {
		fmt.Fprintf(o.Err, "wsdump: wrote %s (%d bytes)\n", o.Output, n)
	}
	return rd.ReadErr
}
