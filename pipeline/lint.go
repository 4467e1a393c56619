package pipeline

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/lint"
)

// LintInput is the captures lint checks and how each is decoded.
type LintInput struct {
	Files   []string
	PerFile bool // each file (globs and directories expanded) a capture of its own, decoded on Jobs workers
	Jobs    int
	Err     io.Writer
	// Decode decodes one capture into l, its notices on errw, on jobs
	// workers, and returns its first packet's time.
	Decode func(file string, l *lint.Linter, errw io.Writer, jobs int) (time.Time, error)
	// Name names a capture in the results (not with PerFile: the file).
	Name func(file string) string
	// Unread tells an error of Decode that, with PerFile, leaves the
	// other files to be read (said on Err); Interrupted an error after
	// which the results of what was read are still written.
	Unread, Interrupted func(error) bool
}

// LintRun is lint's results.
type LintRun struct {
	Results     []lint.Result
	Unread      error // an input not read to the end, after the others were (exit 2 wins over findings)
	Interrupted error // reading stopped: Results cover what was read
}

// InputsError is files of a PerFile run that could not be opened (each
// said on Err).
type InputsError struct {
	N    int
	None bool // no input at all could be read
}

func (e *InputsError) Error() string {
	if e.None {
		return fmt.Sprintf("no input could be read (%d, see above)", e.N)
	}
	return fmt.Sprintf("%d inputs could not be read (see above)", e.N)
}

// Lint checks each capture of in.Files. err is an error that leaves no
// results to write.
func Lint(in LintInput) (run LintRun, err error) {
	files := in.Files
	decode := func(name string) (lint.Result, error) {
		l := lint.New()
		origin, err := in.Decode(name, l, in.Err, in.Jobs)
		return lint.Result{Capture: in.Name(name), Origin: origin, Findings: l.Findings(), Counts: l.Counts()}, err
	}
	if in.PerFile {
		// Each file a capture of its own, decoded on the -j workers.
		l := capture.ExpandInputs(files, in.Err)
		if len(l.Files) == 0 {
			return run, &InputsError{N: len(l.Errs), None: true}
		}
		if len(l.Errs) > 0 {
			run.Unread = &InputsError{N: len(l.Errs)}
		}
		files = l.Files
		rs, errs := lintPerFile(in, files)
		decode = func(name string) (lint.Result, error) {
			i := slices.Index(files, name)
			return rs[i], errs[i]
		}
	}
	for _, name := range files {
		r, err := decode(name)
		if in.PerFile && err != nil && in.Unread(err) {
			// The file's findings up to the error are kept; the others are read.
			fmt.Fprintf(in.Err, "wsdump: %v\n", err)
			run.Unread, err = err, nil
		}
		if err != nil && in.Interrupted(err) {
			// The findings in what was read are written.
			run.Interrupted = err
		} else if err != nil {
			return run, err
		}
		run.Results = append(run.Results, r)
		if run.Interrupted != nil {
			break
		}
	}
	return run, nil
}

// Failing names the captures with a finding at or above failOn.
func (r *LintRun) Failing(failOn lint.Severity) []string {
	var failing []string
	for _, res := range r.Results {
		if lint.Worst(res.Counts) >= failOn {
			failing = append(failing, res.Capture)
		}
	}
	return failing
}

// lintPerFile decodes the files on the -j workers, one file each, their
// notices to stderr in file order (EachFile).
func lintPerFile(in LintInput, files []string) ([]lint.Result, []error) {
	rs, errs := make([]lint.Result, len(files)), make([]error, len(files))
	EachFile(files, in.Jobs, in.Err, func(i int, f string, errw io.Writer) {
		l := lint.New()
		origin, err := in.Decode(f, l, errw, 1)
		rs[i], errs[i] = lint.Result{Capture: f, Origin: origin, Findings: l.Findings(), Counts: l.Counts()}, err
	})
	return rs, errs
}
