package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/dataset"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// openInput opens a capture file, or standard input for "-", to be read
// until ctx ends (see interrupt.go); ratio is --max-inflate-ratio for a
// gzip-compressed file (0: the default).
func openInput(ctx context.Context, name string, stdin io.Reader, ratio int) (capture.Source, error) {
	ctx = ctxOr(ctx)
	if ctx.Done() != nil {
		// Standard input or a named pipe may wait for input: read through a pump.
		if name == "-" && capture.MayBlock(stdin) {
			return capture.OpenInterruptible(ctx, stdin, name, nil, ratio)
		}
		if st, err := os.Stat(name); name != "-" && err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			f, err := os.Open(name)
			if err != nil {
				return nil, fmt.Errorf("capture: %w", err)
			}
			return capture.OpenInterruptible(ctx, f, name, f, ratio)
		}
	}
	opts := capture.Options{MaxInflateRatio: ratio}
	var src capture.Source
	var err error
	if name == "-" {
		src, err = capture.NewReaderWith(stdin, opts)
	} else {
		src, err = capture.OpenWith(name, opts)
	}
	if err != nil {
		return nil, err
	}
	return capture.Interruptible(ctx, src), nil
}

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
		if ds, err = newDatasetWriter(o); err != nil {
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
	counted := &pipeline.CountingExporter{Exporter: exp}
	exp, flt := pipeline.FilteredExporter(counted, spec)
	src = stopWhen(src, flt)
	keys, err := o.loadKeys(o.Err)
	if err != nil {
		return err
	}
	jobs := o.Jobs
	if spec.Count > 0 {
		jobs = 1 // -c stops reading as soon as enough records are out
	}
	cfg := wsparse.Config{}
	if ds != nil {
		cfg.EndAll = spec.IsZero()
	}
	// The exporters show application messages; the dataset writer tracks
	// heartbeats too (the filter passes beats on unfiltered).
	app := pipeline.AppOptions{Mode: o.Decode, Apps: true, Beats: ds != nil}
	asm := pipeline.NewApps(exp, app, o.options(cfg, keys), jobs)
	readErr := feed(src, asm, o.ReadFile, keys, exp.SetOrigin)
	asm.Finish()
	o.Limits.report(o.Err, asm.Stats())
	if err := exp.Close(); err != nil {
		return outputErr(err)
	}
	if ds != nil {
		reportDataset(o.Err, o.OutDir, ds)
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

// feed hands every packet to the assembler, merging the secrets a pcapng
// file carries into keys (unless nil), and calls origin with the first packet's time.
// It stops at the first read error, after the packets before it have been
// decoded.
func feed(src capture.Source, asm pipeline.Assembler, name string, keys *tlsdec.KeyLog, origin func(time.Time)) error {
	first := true
	secrets, _ := src.(capture.SecretsSource)
	nSecrets := 0
	for {
		p, err := src.Next()
		if err == io.EOF {
			heapProfile()
			return nil
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			if !reassembly.SupportedLink(uint32(p.Link)) {
				return fmt.Errorf("%s: unsupported link type %s", displayName(name), p.Link)
			}
			origin(p.Timestamp)
		}
		if secrets != nil && keys != nil && len(secrets.Secrets()) > nSecrets {
			// pcapng Decryption Secrets Blocks come before the packets they
			// decrypt: merge them as they appear.
			for _, s := range secrets.Secrets()[nSecrets:] {
				if s.Type == tlsdec.SecretsTypeTLS {
					if k, err := tlsdec.ParseKeyLog(bytes.NewReader(s.Data)); err == nil {
						asm.MergeKeys(k)
					}
				}
			}
			nSecrets = len(secrets.Secrets())
		}
		asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
	}
}

// assemblerOptions turns the flags into reassembly options.
func (o *decodeOptions) assemblerOptions(keys *tlsdec.KeyLog) reassembly.Options {
	return o.options(wsparse.Config{}, keys)
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}
