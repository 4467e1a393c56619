package capture

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
)

// Many inputs: wsdump's -r is repeatable and takes files, globs and
// directories (ExpandInputs), read as one capture merged in timestamp
// order (OpenMerged).

// hasGlob reports whether name has glob metacharacters.
func hasGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// InputList is the expansion of wsdump's -r arguments: the files to
// read, in order, and what could not be used (reported on stderr as
// found; any makes the exit status 2 once the rest is read).
type InputList struct {
	Files []string
	Errs  []error
}

// ExpandInputs expands globs (filepath.Glob: sorted by name) and
// directories (their entries, one level deep, sorted by name; a
// subdirectory is noted and not read) and drops a file named twice.
// Missing files and globs matching nothing are errors for the list; which
// files are captures is decided when they are opened (OpenMerged).
func ExpandInputs(args []string, stderr io.Writer) InputList {
	var l InputList
	seen := map[string]bool{}
	add := func(name string) {
		key := filepath.Clean(name)
		if name != "-" && seen[key] {
			return
		}
		seen[key] = true
		l.Files = append(l.Files, name)
	}
	fail := func(err error) {
		fmt.Fprintf(stderr, "wsdump: %v\n", err)
		l.Errs = append(l.Errs, err)
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

// Single reports whether args name one plain file (or standard input),
// which is read as before there were many inputs, with a progress line.
func Single(args []string) bool {
	if len(args) != 1 {
		return false
	}
	if args[0] == "-" {
		return true
	}
	st, err := os.Stat(args[0])
	return err == nil && !st.IsDir() || err != nil && !hasGlob(args[0])
}

// OpenMerged reads the files of l as one capture, merged in timestamp
// order (MergeInputs), with ratio as Options.MaxInflateRatio. A file that
// cannot be read (missing, not a capture, a link type supported rejects,
// truncated) is reported on stderr with its name and the others are read;
// the source then ends with an error naming them all, with those of l,
// after the last packet of the others. Reading stops when ctx ends.
func OpenMerged(ctx context.Context, l InputList, ratio int, supported func(LinkType) bool, stderr io.Writer) Source {
	var inputs []Input
	for _, f := range l.Files {
		inputs = append(inputs, Input{Name: f, Open: func(peek bool) (Source, error) {
			o := Options{MaxInflateRatio: ratio}
			if peek {
				o.BufferSize = 64 << 10 // the first packet only
			}
			src, err := OpenWith(f, o)
			if err != nil {
				return nil, err
			}
			return &linkCheck{Source: src, name: f, supported: supported}, nil
		}})
	}
	m := MergeInputs(inputs, func(name string, err error) {
		fmt.Fprintf(stderr, "wsdump: %v (going on with the other inputs)\n", err)
	})
	return Interruptible(ctx, &inputsSource{Source: m, errs: l.Errs})
}

// linkCheck fails a file whose first packet has a link type wsdump cannot
// decode, as feed fails a single file.
type linkCheck struct {
	Source
	name      string
	supported func(LinkType) bool
	checked   bool
}

func (s *linkCheck) Next() (Packet, error) {
	p, err := s.Source.Next()
	if err == nil && !s.checked {
		s.checked = true
		if !s.supported(p.Link) {
			return Packet{}, fmt.Errorf("%s: unsupported link type %s", s.name, p.Link)
		}
	}
	if err != nil && err != io.EOF && !strings.Contains(err.Error(), s.name) {
		err = fmt.Errorf("%s: %w", s.name, err)
	}
	return p, err
}

// inputsSource ends a merged read with the errors of the inputs that
// could not be opened, after the packets of the others.
type inputsSource struct {
	Source
	errs []error
}

func (s *inputsSource) Next() (Packet, error) {
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
		var me *MergeError
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
