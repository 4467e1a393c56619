package report

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IsTerminal reports whether w (or the writer it wraps: Unwrap) is a
// terminal.
func IsTerminal(w io.Writer) bool {
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// UseColor: colour on a terminal, never with NO_COLOR set (no-color.org).
func UseColor(out io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && IsTerminal(out)
}

// TerminalWidth is out's width when it is a terminal, else 0.
func TerminalWidth(out io.Writer) int {
	if !IsTerminal(out) {
		return 0
	}
	if u, ok := out.(interface{ Unwrap() io.Writer }); ok {
		out = u.Unwrap()
	}
	f, ok := out.(*os.File)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}
