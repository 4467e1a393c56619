package pipeline

// The options every command that reads a capture shares (Input), the
// table's and -T fields' options, and the errors a command's run returns:
// cmd/wsdump binds its flags to these fields, calls the command's run
// function (RunView, RunConns, RunLint, ...) and maps the error to an exit
// status (UsageError 1, WriteError 5, FindingsError 3, DiffError 4,
// capture.ErrInterrupted 130, any other 2).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// Usagef is a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }

// FindingsError ends a lint run with findings at or above --fail-on.
type FindingsError struct{ Msg string }

func (e *FindingsError) Error() string { return e.Msg }

// DiffError ends a diff of captures that differ.
type DiffError struct{ Msg string }

func (e *DiffError) Error() string { return e.Msg }

// unread tells an error that leaves the other inputs of a run to be read:
// an unreadable input (exit status 2), not a usage error, a failed write,
// an interruption.
func unread(err error) bool {
	var ue *UsageError
	var we *WriteError
	return err != nil && err != capture.ErrInterrupted && !errors.As(err, &ue) && !errors.As(err, &we)
}

// Input is what every command that reads a capture takes (the main view,
// conns, lint, follow, diff, export): where the capture comes from and how
// it is read and decoded, not what is shown of it. A new input flag is
// added here, once: Options, Keys and open apply them.
type Input struct {
	Ctx   context.Context // reading stops when it ends (nil: never)
	In    io.Reader       // standard input (-r -)
	Err   io.Writer       // notices
	Reads []string        // -r

	KeyLogs    []string
	WSPorts    []uint16
	Jobs       int // -j
	Limits     Limits
	MaxPayload int // bytes kept of each frame payload
	MaxMessage int // bytes kept (and inflated) of each message
	NoSniff    bool
	PerFile    bool // --per-file, where the command has it
	NoFallback bool
}

// Options turns the input flags into reassembly options around the
// decoder configuration dec and the secrets keys.
func (in *Input) Options(dec wsparse.Config, keys *tlsdec.KeyLog) reassembly.Options {
	dec.MaxPayload, dec.MaxMessage, dec.NoSniff = in.MaxPayload, in.MaxMessage, in.NoSniff
	dec.Fallback = !in.NoFallback // SockJS and Engine.IO HTTP fallback sessions (httpfb, fbjoin)
	opts := reassembly.Options{Decoder: dec, WSPorts: in.WSPorts, Keys: keys}
	in.Limits.Apply(&opts)
	return opts
}

// Keys reads the --keylog files (LoadKeys), the notices on stderr.
func (in *Input) Keys(stderr io.Writer) (*tlsdec.KeyLog, error) { return LoadKeys(in.KeyLogs, stderr) }

// open opens the inputs names (files, globs, directories) as one capture
// (Open), with a progress line for a file when stderr is a terminal.
func (in *Input) open(names []string, stderr io.Writer) (capture.Source, error) {
	src, _, err := in.openFiles(names, stderr)
	return src, err
}

// openFiles is open, with the files read by their number (OpenFiles).
func (in *Input) openFiles(names []string, stderr io.Writer) (capture.Source, []string, error) {
	o := capture.OpenOptions{MaxInflateRatio: in.Limits.InflateRatio}
	if report.IsTerminal(stderr) {
		o.Progress = stderr
	}
	return OpenFiles(in.Ctx, names, in.In, stderr, o)
}

// feedOptions: the input's name in messages, and the heap profile at its
// end (WSDUMP_MEMPROFILE: before the connections still open are flushed,
// where their memory peaks).
func feedOptions(name string, keys *tlsdec.KeyLog) FeedOptions {
	return FeedOptions{Name: DisplayName(name), Keys: keys, AtEOF: func() { prof.Heap(os.Getenv("WSDUMP_MEMPROFILE"), os.Stderr) }}
}

// openKeyed opens the captures names with the key logs (Keys), and the
// options to feed them with; the caller closes src.
func (in *Input) openKeyed(names []string) (src capture.Source, keys *tlsdec.KeyLog, feed FeedOptions, err error) {
	if keys, err = in.Keys(in.Err); err != nil {
		return nil, nil, feed, err
	}
	if src, err = in.open(names, in.Err); err != nil {
		return nil, nil, feed, err
	}
	return src, keys, feedOptions(InputsName(names), keys), nil
}

// decodeInto decodes the capture names into sink, behind a filter for
// spec, and returns the first packet's time, which it also gives setOrigin
// (unless nil). With apps, sink is given each message's application
// messages (see Select). With a tlsVerb, a notice counts the TLS
// connections not decrypted ("... so its WebSockets, if any, VERB"): for
// a command that shows only WebSockets (lint lists them as WS309), and
// another the wss connections whose decryption stopped partway (WS314). When
// the capture held no WebSocket (and no filter asked for less), a notice
// says what it held.
func (in *Input) decodeInto(names []string, spec filter.Spec, sink record.Sink, setOrigin func(time.Time), apps bool, tlsVerb string) (time.Time, error) {
	src, keys, feed, err := in.openKeyed(names)
	if err != nil {
		return time.Time{}, err
	}
	defer src.Close()
	feed.Origin = setOrigin
	// The notices of the limits the capture ran into, as the main view
	// writes them, naming the capture: lint and diff read several.
	var stats reassembly.Stats
	feed.AtEnd = func(st reassembly.Stats) {
		stats = st
		in.Limits.ReportNamed(in.Err, st, feed.Name)
	}
	u := &undecrypted{next: sink}
	origin, err := Decode(src, u, spec, apps, in.Options(wsparse.Config{}, keys), in.Jobs, feed)
	if tlsVerb != "" {
		u.notice(in.Err, feed.Name, tlsVerb)
		u.stoppedNotice(in.Err, feed.Name)
	}
	if err == nil && u.none() && spec.IsZero() {
		report.WriteNoWebSocket(report.NameNotices(in.Err, feed.Name), stats)
	}
	return origin, err
}

// explainEmpty says on stderr why a view printed nothing, when it asked
// for connections by number (--conn): see Census. It costs a second
// reading of the capture, so it is done only when the output is empty,
// and not for standard input (read once).
func (in *Input) explainEmpty(names []string, conns []int) {
	if len(conns) == 0 || len(names) == 1 && names[0] == "-" {
		return
	}
	cs := NewCensus()
	src, err := in.open(names, io.Discard)
	if err != nil {
		return
	}
	defer src.Close()
	keys, err := in.Keys(io.Discard)
	if err != nil {
		return
	}
	asm := New(cs, in.Options(wsparse.Config{EndAll: true}, keys), 1)
	feed := feedOptions(InputsName(names), keys)
	feed.Origin = func(time.Time) {}
	Feed(src, asm, feed)
	asm.Finish()
	for _, line := range cs.Explain(conns) {
		fmt.Fprintln(in.Err, "wsdump: "+line)
	}
}

// perFile runs run for each file named by in.Reads (expanded as -r does),
// on in.Jobs workers (RunPerFile), the outputs to out in file order. A
// file that fails to read does not stop the others.
func (in *Input) perFile(label report.FileLabel, out io.Writer, run PerFileRun) error {
	for _, a := range in.Reads {
		if a == "-" {
			return Usagef("--per-file reads files, not standard input")
		}
	}
	l := capture.ExpandInputs(in.Reads, in.Err)
	if len(l.Files) == 0 {
		return fmt.Errorf("no input could be read (%d, see above)", len(l.Errs))
	}
	return RunPerFile(l, PerFile{Jobs: in.Jobs, Label: label, Out: out, Err: in.Err, Run: run, Unread: unread})
}

// one is in for one file of a --per-file run.
func (in Input) one(f string, errw io.Writer) Input {
	// Its notices name it: each file's connections are numbered on
	// their own, and its notices would be told apart by order only.
	in.PerFile, in.Reads, in.Err, in.Jobs = false, []string{f}, report.NameNotices(errw, f), 1
	return in
}

// InputsName names the inputs in messages: the one name, or the count.
func InputsName(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strconv.Itoa(len(names)) + " inputs"
}

// CheckDecode checks --decode, the empty value meaning auto.
func CheckDecode(mode *string) error {
	if *mode == "" {
		*mode = appproto.ModeAuto
	}
	if !appproto.ValidMode(*mode) {
		return Usagef("--decode must be one of %s, not %q", strings.Join(appproto.Modes, ", "), *mode)
	}
	return nil
}

// spec checks the filters and turns them into a filter.Spec (usage errors).
func spec(fl *filter.Flags, messages, connHealth bool) (filter.Spec, error) {
	s, err := fl.Spec(messages, connHealth)
	if err != nil {
		return s, Usagef("%v", err)
	}
	return s, nil
}

// Table is how a table meets the terminal: --width, -o wide and --color.
type Table struct {
	Width  int    // --width: fit tables to N columns (0: the terminal's, on a terminal)
	Output string // -o: "wide" for every column at its full width
	Color  string // --color: auto, always or never
}

// Validate checks the table flags.
func (t *Table) Validate() error {
	if t.Width < 0 {
		return Usagef("--width must not be negative")
	}
	if t.Output != "" && t.Output != "wide" {
		return Usagef("-o takes wide, not %q (for the format: --format)", t.Output)
	}
	switch t.Color {
	case "", "auto", "always", "never": // "": auto
	default:
		return Usagef("--color must be auto, always or never, not %q", t.Color)
	}
	return nil
}

// width is the width tables fit: --width, else the terminal's when out is
// one, else 0 (fixed widths: what scripts read stays byte for byte the
// same). -o wide: 0.
func (t *Table) width(out io.Writer) int {
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
func (t *Table) color(out io.Writer) bool {
	switch t.Color {
	case "always":
		return true
	case "never":
		return false
	}
	return report.UseColor(out)
}

// fix resolves the table width and colour for out, the real output,
// before each file's part of a --per-file run is written to a temporary
// file.
func (t *Table) fix(out io.Writer) {
	if t.Output != "wide" && t.Width == 0 {
		t.Width = report.TerminalWidth(out)
	}
	if t.color(out) {
		t.Color = "always"
	} else {
		t.Color = "never"
	}
}

// Fields are -T, -e and -E (tshark's names).
type Fields struct {
	T      string
	Fields []string
	E      []string
	header bool
}

// validate checks -T, -e and -E; it reports whether -T fields was given.
func (fl *Fields) validate() (bool, error) {
	switch fl.T {
	case "":
		if len(fl.Fields) > 0 || len(fl.E) > 0 {
			return false, Usagef("-e and -E go with -T fields")
		}
		return false, nil
	case "fields":
	case "json", "ek", "jsonraw":
		return false, Usagef("-T %s: wsdump writes JSON with --format jsonl", fl.T)
	case "text", "tabs":
		return false, Usagef("-T %s: the table is the default output (drop -T)", fl.T)
	default:
		return false, Usagef("-T takes fields (with -e NAME), not %q", fl.T)
	}
	names := filter.Fields()
	sort.Strings(names)
	if len(fl.Fields) == 0 {
		return false, Usagef("-T fields needs at least one -e NAME (%s)", strings.Join(names, ", "))
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for _, n := range fl.Fields {
		top, _, _ := strings.Cut(n, ".")
		if !known[top] {
			return false, Usagef("-e %s: no such field (%s)", n, strings.Join(names, ", "))
		}
	}
	for _, e := range fl.E {
		switch strings.ToLower(e) {
		case "header=y":
			fl.header = true
		case "header=n":
			fl.header = false
		default:
			return false, Usagef("-E %s: only header=y and header=n are supported", e)
		}
	}
	return true, nil
}

// usesConn reports whether a field is conn.* (health: a first pass).
func (fl *Fields) usesConn() bool {
	for _, n := range fl.Fields {
		if strings.HasPrefix(n, "conn.") {
			return true
		}
	}
	return false
}

// usesApps reports whether a field is app or app.* (a message's
// application messages: -T fields looks for them only then).
func (fl *Fields) usesApps() bool {
	for _, n := range fl.Fields {
		if n == "app" || strings.HasPrefix(n, "app.") {
			return true
		}
	}
	return false
}

// perFileLabel is the label of a view's output format.
func perFileLabel(format string, fields bool) report.FileLabel {
	switch {
	case fields:
		return report.LabelHeader
	case format == "jsonl":
		return report.LabelJSON
	case format == "csv":
		return report.LabelCSV
	case format == "parquet":
		return report.LabelNone
	}
	return report.LabelHeader
}

// bpf returns src behind the trailing capture filter args (-r F tcp port
// 80), if any: NewBPFSource, a filter that does not parse a usage error.
func bpf(src capture.Source, args []string, stderr io.Writer) (capture.Source, error) {
	if len(args) == 0 {
		return src, nil
	}
	s, err := NewBPFSource(src, args, stderr)
	if err != nil {
		return nil, Usagef("%v", err)
	}
	return s, nil
}
