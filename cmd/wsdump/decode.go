package main

import (
	"errors"
	"io"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/dataset"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// runDecode reads the capture and writes every record: the main job.
func runDecode(o *decodeOptions) error {
	if len(o.Reads) == 0 && o.ReadFile != "" {
		o.Reads = []string{o.ReadFile} // a caller that set only the name
	}
	if o.PerFile {
		fixTable(&o.Table, o.Out)
		return runPerFile(o.Reads, o.Jobs, perFileLabel(o.Format, o.fields), o.Out, o.Err, func(f string, out, errw io.Writer) error {
			one := *o
			one.PerFile, one.Reads, one.ReadFile, one.Out, one.Err, one.Jobs = false, []string{f}, f, out, errw, 1
			return runDecode(&one)
		})
	}
	spec, err := o.Filter.spec(o.Messages)
	if err != nil {
		return err
	}
	src, err := o.openInputs(o.Ctx, o.Reads, o.In, o.Err)
	if err != nil {
		return inputErr(err)
	}
	if len(o.BPF) > 0 {
		if src, err = newBPFSource(src, o.BPF, o.Err); err != nil {
			return err
		}
	}
	defer src.Close()

	var exp report.Exporter
	var ds *dataset.Writer        // --format parquet
	var fe *report.FieldsExporter // -T fields
	if o.fields {
		fe = newFieldsExporter(o.Out, &o.Fields, o.Messages)
		exp = fe
	} else if o.Format == "parquet" {
		// conns' default heartbeat and reconnect-storm settings
		if ds, err = dataset.New(dataset.Options{Dir: o.OutDir, Health: health.Options{}}); err != nil {
			return outputErr(err)
		}
		exp = ds
	} else if exp, err = report.New(o.Out, report.Options{
		Format: o.Format, AbsTime: o.Time == "abs", Preview: o.Preview, Messages: o.Messages,
		Stable: o.Stable, Color: o.Table.color(o.Out), Width: o.Table.width(o.Out), PreviewFixed: o.previewSet,
	}); err != nil {
		return usageErr("%v", err)
	}
	if spec.Expr != nil && spec.Expr.UsesConn || o.fields && o.Fields.usesConn() {
		// conn.* is health known at a connection's end: a first pass.
		keys, err := o.loadKeys(io.Discard)
		if err != nil {
			return err
		}
		if spec.ConnHealth, err = connHealthPass(o, keys); err != nil {
			return err
		}
		if fe != nil {
			fe.SetConnHealth(spec.ConnHealth)
		}
	}
	keys, err := o.loadKeys(o.Err)
	if err != nil {
		return err
	}
	counted := &pipeline.CountingExporter{Exporter: exp}
	// The exporters show application messages; the dataset writer tracks
	// heartbeats too (the filter passes beats on unfiltered).
	v := pipeline.View{Spec: spec, Jobs: o.Jobs, Limits: o.Limits, Err: o.Err,
		App:     pipeline.AppOptions{Mode: o.Decode, Apps: true, Beats: ds != nil},
		Options: o.options(wsparse.Config{EndAll: ds != nil && spec.IsZero()}, keys),
		Feed:    feedOptions(o.ReadFile, keys)}
	readErr, writeErr := v.Run(src, counted)
	if writeErr != nil {
		return outputErr(writeErr)
	}
	if ds != nil {
		report.WriteDatasetNotice(o.Err, o.OutDir, ds.Rows(), len(ds.Files()), ds.ID())
	}
	if readErr == nil && counted.N == 0 {
		explainEmpty(o.Ctx, &o.inputFlags, o.Reads, o.In, o.Err, spec.Conns)
	}
	return readError(readErr)
}

// readError gives feed's error its exit status: an interruption (130) or
// unreadable input (2).
func readError(err error) error {
	if err == nil || errors.Is(err, errInterrupted) {
		return err
	}
	return inputErr(err)
}

// feed hands every packet to the assembler (pipeline.Feed), merging the
// secrets a pcapng file carries into keys (unless nil), and calls origin
// with the first packet's time.
func feed(src capture.Source, asm pipeline.Assembler, name string, keys *tlsdec.KeyLog, origin func(time.Time)) error {
	o := feedOptions(name, keys)
	o.Origin = origin
	return pipeline.Feed(src, asm, o)
}

// feedOptions: the input's name in messages, and the heap profile at its end.
func feedOptions(name string, keys *tlsdec.KeyLog) pipeline.FeedOptions {
	return pipeline.FeedOptions{Name: displayName(name), Keys: keys, AtEOF: heapProfile}
}

func displayName(name string) string { return pipeline.DisplayName(name) }
