package main

import (
	"fmt"
	"io"

	"github.com/wsdump/wsdump/dataset"
	"github.com/wsdump/wsdump/health"
)

// parquetFlags checks the flags of --format parquet: -o is then the
// directory of the datasets (it is "wide" for a table otherwise).
func (o *decodeOptions) parquetFlags() error {
	if o.Format != "parquet" {
		return nil
	}
	o.OutDir, o.Table.Output = o.Table.Output, ""
	switch {
	case o.OutDir == "" || o.OutDir == "-":
		return usageErr("--format parquet writes a directory of files: give it with -o DIR")
	case o.Fields.T != "":
		return usageErr("-T fields writes text to standard output: drop --format parquet")
	case o.Stable:
		return usageErr("--stable is for text output (golden files): drop it with --format parquet")
	}
	return nil
}

// newDatasetWriter opens the Parquet datasets of --format parquet, with
// conns' default heartbeat and reconnect-storm settings.
func newDatasetWriter(o *decodeOptions) (*dataset.Writer, error) {
	return dataset.New(dataset.Options{Dir: o.OutDir, Health: health.Options{}})
}

// reportDataset says what a run added to the datasets: its files are
// told apart from earlier runs' by the part id.
func reportDataset(w io.Writer, dir string, ds *dataset.Writer) {
	if len(ds.Files()) == 0 {
		fmt.Fprintf(w, "wsdump: no record: nothing written to %s\n", dir)
		return
	}
	fmt.Fprintf(w, "wsdump: wrote %d rows in %d files to %s\n", ds.Rows(), len(ds.Files()), dir)
	fmt.Fprintf(w, "wsdump: part id %s: the files are named part-%s.parquet\n", ds.ID(), ds.ID())
}
