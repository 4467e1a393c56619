package main

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/report"
)

// tableFlags are how a table meets the terminal: --width, -o wide and
// --color.
type tableFlags struct {
	Width  int    // --width: fit tables to N columns (0: the terminal's, on a terminal)
	Output string // -o: "wide" for every column at its full width
	Color  string // --color: auto, always or never
}

func addTableFlags(f *pflag.FlagSet, t *tableFlags) {
	f.IntVar(&t.Width, "width", 0, "fit tables to this many columns (default: the terminal's width on a terminal; fixed widths otherwise)")
	f.StringVarP(&t.Output, "output", "o", "", "wide: every column at its full width, whatever the terminal's width")
	f.StringVar(&t.Color, "color", "auto", "colour directions and anomalies: auto (on a terminal, unless NO_COLOR is set), always or never")
}

func (t *tableFlags) validate() error {
	if t.Width < 0 {
		return usageErr("--width must not be negative")
	}
	if t.Output != "" && t.Output != "wide" {
		return usageErr("-o takes wide, not %q (for the format: --format)", t.Output)
	}
	switch t.Color {
	case "", "auto", "always", "never": // "": auto
	default:
		return usageErr("--color must be auto, always or never, not %q", t.Color)
	}
	return nil
}

// width is the width tables fit: --width, else the terminal's when out is
// one, else 0 (fixed widths: what scripts read stays byte for byte the
// same). -o wide: 0.
func (t *tableFlags) width(out io.Writer) int {
	if t.Output == "wide" {
		return 0
	}
	if t.Width > 0 {
		return t.Width
	}
	return report.TerminalWidth(out)
}

// color tells whether to colour: always, never, or auto (a terminal,
// without NO_COLOR).
func (t *tableFlags) color(out io.Writer) bool {
	switch t.Color {
	case "always":
		return true
	case "never":
		return false
	}
	return useColor(out)
}
