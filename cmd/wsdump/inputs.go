package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
)

// Many inputs: -r is repeatable and takes files, globs and directories.
// They are read as one capture, merged in timestamp order
// (capture.Merge), or each on its own with --per-file (perfile.go).

// readHelp is the -r help of the commands that read one capture.
const readHelp = "capture to read: a file (pcap or pcapng, gzip allowed; - for standard input), a quoted glob ('caps/*.pcap') or a directory (its files, one level deep); repeatable: all are read as one capture, merged by time (see --per-file)"

// addReadFlag registers -r for the commands that read one capture.
func addReadFlag(f *pflag.FlagSet, reads *[]string) {
	f.StringArrayVarP(reads, "read", "r", nil, readHelp)
}

// addPerFileFlag registers --per-file.
func addPerFileFlag(f *pflag.FlagSet, perFile *bool) {
	f.BoolVar(perFile, "per-file", false, "read each input file as a capture of its own (connections do not join across files), files decoded in parallel (one per -j worker), the output in file order with the file named on each record")
}

// takeFiles moves the files at the head of args (before a capture
// filter) to reads when reads is not empty: -r caps/*.pcap unquoted gives
// the shell's other files as arguments.
func takeFiles(reads *[]string, args []string) []string {
	for len(*reads) > 0 && len(args) > 0 && isCaptureFile(args[0]) {
		*reads, args = append(*reads, args[0]), args[1:]
	}
	return args
}

// readArgs is cobra.NoArgs for the commands that read one capture and
// take no other argument, after takeFiles.
func readArgs(reads *[]string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return cobra.NoArgs(cmd, takeFiles(reads, args))
	}
}

// inputsName names the inputs in messages: the one name, or the count.
func inputsName(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strconv.Itoa(len(names)) + " inputs"
}

// hasGlob reports whether name has glob metacharacters.
func hasGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// inputList is the expansion of the -r arguments: the files to read, in
// order, and what could not be used (reported on stderr as found; any
// makes the exit status 2 once the rest is read).
type inputList struct {
	files []string
	errs  []error
}

// expandInputs expands globs (filepath.Glob: sorted by name) and
// directories (their entries, one level deep, sorted by name; a
// subdirectory is noted and not read) and drops a file named twice.
// Missing files and globs matching nothing are errors for the list; which
// files are captures is decided when they are opened (openInputs).
func expandInputs(args []string, stderr io.Writer) inputList {
	var l inputList
	seen := map[string]bool{}
	add := func(name string) {
		key := filepath.Clean(name)
		if name != "-" && seen[key] {
			return
		}
		seen[key] = true
		l.files = append(l.files, name)
	}
	fail := func(err error) {
		fmt.Fprintf(stderr, "wsdump: %v\n", err)
		l.errs = append(l.errs, err)
	}
	for _, arg := range args {
		if arg == "-" {
			add(arg)
			continue
		}
		st, err := os.Stat(arg)
		switch {
		case err == nil && st.IsDir():
			entries, err := os.ReadDir(arg)
			if err != nil {
				fail(fmt.Errorf("capture: %w", err))
				continue
			}
			n := 0
			for _, e := range entries { // ReadDir sorts by name
				p := filepath.Join(arg, e.Name())
				if e.IsDir() {
					fmt.Fprintf(stderr, "wsdump: %s: a directory, not read (directories are read one level deep)\n", p)
					continue
				}
				add(p)
				n++
			}
			if n == 0 {
				fail(fmt.Errorf("capture: %s: no file in the directory", arg))
			}
		case err == nil:
			add(arg)
		case hasGlob(arg):
			matches, gerr := filepath.Glob(arg)
			if gerr != nil {
				fail(fmt.Errorf("capture: %s: %w", arg, gerr))
				continue
			}
			sort.Strings(matches)
			n := 0
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.IsDir() {
					fmt.Fprintf(stderr, "wsdump: %s: a directory, not read (a glob names files)\n", m)
					continue
				}
				add(m)
				n++
			}
			if n == 0 {
				fail(fmt.Errorf("capture: %s: no file matches", arg))
			}
		default:
			fail(fmt.Errorf("capture: %w", err))
		}
	}
	return l
}

// single reports whether args name one plain file (or standard input),
// which is read as before there were many inputs, with a progress line.
func single(args []string) bool {
	if len(args) != 1 {
		return false
	}
	if args[0] == "-" {
		return true
	}
	st, err := os.Stat(args[0])
	return err == nil && !st.IsDir() || err != nil && !hasGlob(args[0])
}

// openInputs opens the inputs -r names (files, globs, directories) as one
// capture. One file opens as before; several are merged in timestamp
// order (capture.MergeInputs). A file that cannot be read (missing, not a
// capture, an unsupported link type, truncated) is reported on stderr with
// its name and the others are read; the source then ends with an error
// naming them all (exit status 2) after the last packet of the others.
func (in *inputFlags) openInputs(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) (capture.Source, error) {
	if single(args) {
		return in.open(ctx, args[0], stdin, stderr)
	}
	if len(args) == 0 {
		return nil, usageErr("no input: give a capture file with -r FILE")
	}
	l := expandInputs(args, stderr)
	for _, f := range l.files {
		if f == "-" {
			return nil, usageErr("standard input (-r -) cannot be read with other inputs")
		}
	}
	if len(l.files) == 0 {
		return nil, fmt.Errorf("no input could be read (%d, see above)", len(l.errs))
	}
	if len(l.files) == 1 && len(l.errs) == 0 {
		return in.open(ctx, l.files[0], stdin, stderr)
	}
	var inputs []capture.Input
	for _, f := range l.files {
		ratio := in.Limits.InflateRatio
		inputs = append(inputs, capture.Input{Name: f, Open: func(peek bool) (capture.Source, error) {
			o := capture.Options{MaxInflateRatio: ratio}
			if peek {
				o.BufferSize = 64 << 10 // the first packet only
			}
			src, err := capture.OpenWith(f, o)
			if err != nil {
				return nil, err
			}
			return &linkCheck{Source: src, name: f}, nil
		}})
	}
	m := capture.MergeInputs(inputs, func(name string, err error) {
		fmt.Fprintf(stderr, "wsdump: %v (going on with the other inputs)\n", err)
	})
	return capture.Interruptible(ctxOr(ctx), &inputsSource{Source: m, errs: l.errs}), nil
}

// linkCheck fails a file whose first packet has a link type wsdump cannot
// decode, as feed fails a single file.
type linkCheck struct {
	capture.Source
	name    string
	checked bool
}

func (s *linkCheck) Next() (capture.Packet, error) {
	p, err := s.Source.Next()
	if err == nil && !s.checked {
		s.checked = true
		if !reassembly.SupportedLink(uint32(p.Link)) {
			return capture.Packet{}, fmt.Errorf("%s: unsupported link type %s", s.name, p.Link)
		}
	}
	if err != nil && err != io.EOF && !strings.Contains(err.Error(), s.name) {
		err = fmt.Errorf("%s: %w", s.name, err)
	}
	return p, err
}

func (s *linkCheck) Secrets() []capture.Secrets { return secretsOf(s.Source) }

// inputsSource ends a merged read with the errors of the inputs that
// could not be opened, after the packets of the others.
type inputsSource struct {
	capture.Source
	errs []error
}

func (s *inputsSource) Next() (capture.Packet, error) {
	p, err := s.Source.Next()
	if err == nil || err == io.EOF && len(s.errs) == 0 {
		return p, err
	}
	if err == io.EOF {
		err = nil
	}
	return p, &inputsError{append(append([]error(nil), s.errs...), err)}
}

// inputsError is the end of a merged read when some inputs could not be
// read: each was said on stderr as it happened, so the message is short.
type inputsError struct{ errs []error }

func (e *inputsError) Error() string {
	if n := countErrs(e.errs); n != 1 {
		return strconv.Itoa(n) + " inputs could not be read (see above)"
	}
	return "1 input could not be read (see above)"
}

func (e *inputsError) Unwrap() []error { return e.errs }

func countErrs(errs []error) int {
	n := 0
	for _, e := range errs {
		var me *capture.MergeError
		switch {
		case e == nil:
		case errors.As(e, &me):
			n += len(me.Errs)
		default:
			n++
		}
	}
	return n
}

func (s *inputsSource) Secrets() []capture.Secrets { return secretsOf(s.Source) }

// ctxOr is ctx, or the background context for options built without one
// (tests).
func ctxOr(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
