package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// runDecode reads the capture and writes every record: the main job.
func runDecode(o *decodeOptions) error {
	var src capture.Source
	var err error
	if o.ReadFile == "-" {
		src, err = capture.NewReader(o.In)
	} else {
		src, err = capture.Open(o.ReadFile)
	}
	if err != nil {
		return inputErr(err)
	}
	defer src.Close()

	exp, err := report.New(o.Out, report.Options{
		Format: o.Format, AbsTime: o.Time == "abs", Preview: o.Preview, Messages: o.Messages,
	})
	if err != nil {
		return usageErr("%v", err)
	}
	asm := reassembly.New(exp, reassembly.Options{
		Decoder: wsparse.Config{MaxPayload: o.MaxPayload, MaxMessage: o.MaxMessage, NoSniff: o.NoSniff},
		WSPorts: o.WSPorts,
	})
	readErr := feed(src, asm, exp, o.ReadFile)
	asm.Finish()
	if err := exp.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("writing output: %w", err)
	}
	if readErr != nil {
		return inputErr(readErr)
	}
	return nil
}

// feed hands every packet to the assembler. It stops at the first read
// error, after the packets before it have been decoded.
func feed(src capture.Source, asm *reassembly.Assembler, exp report.Exporter, name string) error {
	first := true
	for {
		p, err := src.Next()
		if err == io.EOF {
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
			exp.SetOrigin(p.Timestamp)
		}
		asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
	}
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}
