package main

import (
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/pipeline"
)

// addTableFlags registers how a table meets the terminal (pipeline.Table):
// --width, -o wide and --color.
func addTableFlags(f *pflag.FlagSet, t *pipeline.Table) {
	f.IntVar(&t.Width, "width", 0, "fit tables to this many columns (default: the terminal's width on a terminal; fixed widths otherwise)")
	f.StringVarP(&t.Output, "output", "o", "", "wide: every column at its full width, whatever the terminal's width")
	f.StringVar(&t.Color, "color", "auto", "colour directions and anomalies: auto (on a terminal, unless NO_COLOR is set), always or never")
}
