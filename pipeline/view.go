package pipeline

import (
	"io"
	"strings"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/dataset"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/memtarget"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// View is the main view's reading of a capture: every record, application
// messages decoded, through the filter for Spec, into an exporter.
type View struct {
	Spec    filter.Spec
	App     AppOptions
	Options reassembly.Options
	Jobs    int // -j (0: one per core); one when Spec counts (-c)
	Feed    FeedOptions
	Limits  Limits
	Err     io.Writer // the limits' notices
	// Ends, when set, is told the input's end once every record is out
	// (feedToEnd).
	Ends endTaker
	// Attempts: the Ends of the connections that never showed WebSocket
	// (Options' decoder ends them: EndAll) that the filter selects go
	// past it to exp, as lint selects them (attemptGate), the others
	// nowhere: the Parquet reconnect groups under a filter.
	Attempts bool

	Stats reassembly.Stats // the reading's counts, once Run returned
}

// Run reads src into exp and closes exp. It returns the error that ended
// the reading (Feed's), and exp's Close error, as a *WriteError.
func (v *View) Run(src capture.Source, exp report.Exporter) (readErr, writeErr error) {
	all := exp
	exp, flt := FilteredExporter(exp, v.Spec)
	if v.Attempts && flt != nil {
		exp = &attemptExporter{Exporter: exp, g: attemptGate{f: flt, next: exp, attempts: all}}
	}
	src = stopWhen(src, flt)
	jobs := v.Jobs
	if v.Spec.Count > 0 {
		jobs = 1 // -c stops reading as soon as enough records are out
	}
	asm := NewApps(exp, v.App, v.Options, jobs)
	feed := v.Feed
	feed.Origin = exp.SetOrigin
	readErr = feedToEnd(asm, v.Ends, func(a Assembler) error { return Feed(src, a, feed) })
	v.Stats = asm.Stats()
	v.Limits.Report(v.Err, v.Stats)
	if v.Ends != nil {
		report.WriteClockEnd(v.Err, v.Stats.Clock)
	}
	if err := exp.Close(); err != nil {
		return readErr, &WriteError{err}
	}
	return readErr, nil
}

// ViewOptions are the main command's: wsdump -r FILE.
type ViewOptions struct {
	Input
	Out io.Writer

	Format     string
	Time       string
	Preview    int
	PreviewSet bool // --preview given: a fitted table keeps it
	Messages   bool
	Decode     string
	Filter     filter.Flags
	Fields     Fields
	BPF        []string // -r F tcp port 80
	Stable     bool
	Table      Table  // --width, -o wide, --color
	OutDir     string // --format parquet: -o DIR

	fields bool // -T fields
}

// Validate checks the flags; name names the input (-r's, or -i's).
func (o *ViewOptions) Validate(name string) error {
	if name == "" {
		return Usagef("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Time != "rel" && o.Time != "abs" {
		return Usagef("--time must be rel or abs, not %q", o.Time)
	}
	if o.Preview < 1 {
		return Usagef("--preview must be at least 1")
	}
	if err := o.parquetFlags(); err != nil {
		return err
	}
	if err := o.Table.Validate(); err != nil {
		return err
	}
	if err := CheckDecode(&o.Decode); err != nil {
		return err
	}
	if o.MaxPayload < 0 || o.MaxMessage < 0 {
		return Usagef("limits must not be negative")
	}
	var err error
	if o.fields, err = o.Fields.validate(); err != nil {
		return err
	}
	if o.Stable && o.Time == "abs" {
		return Usagef("--stable writes times relative to the first packet: drop --time abs")
	}
	for _, f := range append(report.Formats, "parquet") {
		if o.Format == f {
			return nil
		}
	}
	return Usagef("--format must be one of %s, not %q%s", strings.Join(report.Formats, ", "), o.Format, formatHint(o.Format))
}

// parquetFlags checks the flags of --format parquet: -o is then the
// directory of the datasets (it is "wide" for a table otherwise).
func (o *ViewOptions) parquetFlags() error {
	if o.Format != "parquet" {
		return nil
	}
	o.OutDir, o.Table.Output = o.Table.Output, ""
	switch {
	case o.OutDir == "" || o.OutDir == "-":
		return Usagef("--format parquet writes a directory of files: give it with -o DIR")
	case o.Fields.T != "":
		return Usagef("-T fields writes text to standard output: drop --format parquet")
	case o.Stable:
		return Usagef("--stable is for text output (golden files): drop it with --format parquet")
	}
	return nil
}

// formatHint points a near miss of --format to the right value.
func formatHint(format string) string {
	switch strings.ToLower(format) {
	case "json", "ndjson", "jsonlines", "json-lines":
		return " (for JSON, one object per line: --format jsonl)"
	case "tsv", "text", "txt":
		return " (--format table for people, csv for spreadsheets)"
	}
	return ""
}

// The memory limit's floor and headroom for the Parquet writer
// (internal/memtarget.Tighten): its open row groups keep 35-50 MB alive,
// and the usual policy (a floor of 80 MiB, a quarter over the live heap)
// took its peak RSS to 102-105 MiB on a 2.9 GB capture (issue 17: 100 MB).
const (
	parquetMemFloor    = 64 << 20
	parquetMemHeadroom = 0.1
)

// RunView reads the capture and writes every record: the main job. The
// options are validated (Validate).
func RunView(o *ViewOptions) error {
	if o.PerFile {
		o.Table.fix(o.Out)
		label := perFileLabel(o.Format, o.fields)
		if s, err := spec(&o.Filter, o.Messages, true); err != nil {
			return err
		} else if o.fields && !s.IsZero() {
			label = report.LabelMatched // as grep: the files with a line
		}
		return o.perFile(label, o.Out, func(f string, out, errw io.Writer) error {
			one := *o
			one.Input, one.Out = o.one(f, errw), out
			return RunView(&one)
		})
	}
	spec, err := spec(&o.Filter, o.Messages, true)
	if err != nil {
		return err
	}
	src, files, err := o.openFiles(o.Reads, o.Err)
	if err != nil {
		return err
	}
	if src, err = bpf(src, o.BPF, o.Err); err != nil {
		return err
	}
	defer src.Close()
	spec.Files = files

	var exp report.Exporter
	var ds *dataset.Writer        // --format parquet
	var fe *report.FieldsExporter // -T fields
	if o.fields {
		fe = report.NewFieldsExporter(o.Out, o.Fields.Fields, o.Fields.header, o.Messages)
		fe.SetFiles(files)
		exp = fe
	} else if o.Format == "parquet" {
		// conns' default heartbeat and reconnect-storm settings
		// Every connection ends (EndAll below); under a filter the
		// attempts it selects are given to the reconnect groups, as
		// conns and lint select them (View.Attempts).
		if ds, err = dataset.New(dataset.Options{Dir: o.OutDir, Health: health.Options{}, EndsAll: spec.IsZero(), Files: files}); err != nil {
			return &WriteError{err}
		}
		memtarget.Tighten(parquetMemFloor, parquetMemHeadroom)
		exp = ds
	} else if exp, err = report.New(o.Out, report.Options{
		Format: o.Format, AbsTime: o.Time == "abs", Preview: o.Preview, Messages: o.Messages,
		Stable: o.Stable, Color: o.Table.color(o.Out), Width: o.Table.width(o.Out), PreviewFixed: o.PreviewSet,
		Files: files,
	}); err != nil {
		return Usagef("%v", err)
	}
	if spec.Expr != nil && spec.Expr.UsesConn || o.fields && o.Fields.usesConn() {
		// conn.* is health known at a connection's end: a first pass.
		keys, err := o.Keys(io.Discard)
		if err != nil {
			return err
		}
		if spec.ConnHealth, err = o.connHealthPass(keys); err != nil {
			return err
		}
		if fe != nil {
			fe.SetConnHealth(spec.ConnHealth)
		}
	}
	keys, err := o.Keys(o.Err)
	if err != nil {
		return err
	}
	counted := &CountingExporter{Exporter: exp}
	var run report.Exporter = counted
	// -T fields and the datasets have no place for a TLS connection
	// that was not decrypted: a notice says it was there.
	// Every view says which wss connections' decryption stopped partway.
	tls := &undecrypted{next: counted}
	run = undecryptedExporter{counted, tls}
	v := View{Spec: spec, Jobs: o.Jobs, Limits: o.Limits, Err: o.Err,
		App:      o.appOptions(&spec, ds != nil),
		Options:  o.Options(wsparse.Config{EndAll: ds != nil}, keys),
		Feed:     feedOptions(InputsName(o.Reads), keys),
		Attempts: ds != nil}
	if ds != nil {
		v.Ends = ds
	}
	readErr, writeErr := v.Run(src, run)
	if writeErr != nil {
		return writeErr
	}
	tls.stoppedNotice(o.Err, "")
	if o.fields || ds != nil {
		verb := "are not shown"
		if ds != nil {
			verb = "are not in the datasets"
		}
		tls.notice(o.Err, "", verb)
	}
	if ds != nil {
		report.WriteDatasetNotice(o.Err, o.OutDir, ds.Rows(), len(ds.Files()), ds.ID())
	}
	if readErr == nil && counted.N == 0 {
		o.explainEmpty(o.Reads, spec.Conns)
		if spec.IsZero() && ds == nil {
			report.WriteNoWebSocket(o.Err, v.Stats)
		}
	}
	return readErr
}

// appOptions is the application decoding of the view: the exporters show
// application messages; the dataset writer tracks heartbeats too (the
// filter passes beats on unfiltered). The table of frames, CSV's rows of
// frames, and -T fields without an app field on messages show no
// application message: unless a -Y expression reads them (app, $env),
// none is decoded. The other selectors read the frames and messages only.
func (o *ViewOptions) appOptions(spec *filter.Spec, dataset bool) AppOptions {
	app := AppOptions{Mode: o.Decode, Apps: true, Beats: dataset}
	var shown bool
	if o.fields {
		shown = o.Messages && o.Fields.usesApps()
	} else {
		shown = o.Messages || o.Format != "table" && o.Format != "" && o.Format != "csv"
	}
	if !shown && !dataset && (spec.Expr == nil || !spec.Expr.Uses("app")) {
		app.Mode = appproto.ModeNone
	}
	return app
}

// connHealthPass reads the capture once for the conn.* fields of a -Y or
// -e (ConnHealth).
func (o *ViewOptions) connHealthPass(keys *tlsdec.KeyLog) (func(int) *filter.Health, error) {
	if len(o.Reads) == 1 && o.Reads[0] == "-" {
		return nil, Usagef("conn.* (the connection's health, known at its end) needs a file, read twice, not standard input")
	}
	src, err := o.open(o.Reads, io.Discard)
	if err != nil {
		return nil, err
	}
	if src, err = bpf(src, o.BPF, io.Discard); err != nil {
		return nil, err
	}
	defer src.Close()
	return ConnHealth(o.Options(wsparse.Config{}, keys), o.Decode, o.Jobs, func(asm Assembler, origin func(time.Time)) error {
		feed := feedOptions(InputsName(o.Reads), keys)
		feed.Origin = origin
		return Feed(src, asm, feed)
	})
}
