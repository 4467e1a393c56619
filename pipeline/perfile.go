package pipeline

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/report"
)

// --per-file: each input file is a capture of its own, decoded on its own
// worker (one file per -j worker, each file decoded on one goroutine), and
// the outputs are written in file order, each file's records together and
// named by their file:
//   - jsonl: a "file" field first on every line;
//   - csv: a "file" column first;
//   - table, -T fields, follow: a line "==> FILE <==" before each file's
//     part (as tail prints several files), a blank line between parts.
//
// Connection numbers, times relative to the first packet and everything
// else are each file's own, as if the file were read alone.

// PerFileRun runs one file's command, writing to out and errw.
type PerFileRun func(file string, out, errw io.Writer) error

// PerFile is how RunPerFile runs the files.
type PerFile struct {
	Jobs     int              // workers (0: one per core)
	Label    report.FileLabel // how each file's part of Out is marked
	Out, Err io.Writer
	Run      PerFileRun
	// Unread tells an error of Run that leaves the other files to be read
	// (an unreadable input): it is written on Err and counted in the
	// UnreadError at the end. Any other error stops the run.
	Unread func(error) bool
}

// WriteError is a failed write of the output.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// UnreadError ends a run in which some inputs could not be read to the
// end (each said on Err).
type UnreadError struct{ Unread, Inputs int }

func (e *UnreadError) Error() string {
	return fmt.Sprintf("%d of %d inputs could not be read to the end (see above)", e.Unread, e.Inputs)
}

// RunPerFile runs o.Run for each file of l (at least one) on o.Jobs
// workers, and writes the outputs to o.Out and the notices to o.Err in
// file order. A file that fails to read (o.Unread) does not stop the
// others: the error is an UnreadError once all are written (counting l's
// errors too), unless a write failed (a WriteError, which stops) or
// another error stopped the run (an interruption: that error).
func RunPerFile(l capture.InputList, o PerFile) error {
	jobs, out, errw, label, run := o.Jobs, o.Out, o.Err, o.Label, o.Run
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	type result struct {
		out  *spillWriter
		errw bytes.Buffer
		err  error
		done chan struct{}
	}
	res := make([]*result, len(l.Files))
	for i := range res {
		res[i] = &result{out: &spillWriter{}, done: make(chan struct{})}
	}
	// A worker takes the next file once the writer is less than jobs files
	// behind. The file the writer is at writes to the output as it goes;
	// the ones ahead of it to temporary files (spillWriter), so memory
	// does not grow with the output.
	slots := make(chan struct{}, jobs)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, f := range l.Files {
			select {
			case <-stop:
			case slots <- struct{}{}:
				select {
				case <-stop:
				default:
					wg.Add(1)
					go func(r *result, f string) {
						defer wg.Done()
						defer close(r.done)
						bw := bufio.NewWriterSize(r.out, 64<<10)
						r.err = run(f, bw, &r.errw)
						if err := bw.Flush(); err != nil && r.err == nil {
							r.err = &WriteError{err}
						}
					}(res[i], f)
					continue
				}
			}
			for _, r := range res[i:] {
				close(r.done)
			}
			return
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		for _, r := range res {
			r.out.close()
		}
	}()
	readErrs := append([]error(nil), l.Errs...)
	csvHeader := false // written: a file that writes nothing (unreadable) leaves it to the next
	for i, f := range l.Files {
		r := res[i]
		lw, finish := report.NewFileLabeller(out, f, label, i == 0, &csvHeader)
		if err := r.out.goDirect(lw); err != nil {
			return &WriteError{err}
		}
		<-r.done
		if err := finish(); err != nil {
			return &WriteError{err}
		}
		if _, err := errw.Write(r.errw.Bytes()); err != nil {
			return &WriteError{err}
		}
		<-slots
		switch {
		case r.err == nil:
		case o.Unread(r.err):
			// Said on stderr by the file's run, with its name: go on.
			fmt.Fprintf(errw, "wsdump: %v\n", r.err)
			readErrs = append(readErrs, r.err)
		default:
			return r.err
		}
	}
	if len(readErrs) > 0 {
		return &UnreadError{len(readErrs), len(l.Files) + len(l.Errs)}
	}
	return nil
}

// spillWriter holds a file's output in a temporary file until the writer
// reaches the file (goDirect), then passes it on.
type spillWriter struct {
	mu     sync.Mutex
	tmp    *os.File
	tw     *bufio.Writer
	direct io.Writer
}

func (s *spillWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.direct != nil {
		return s.direct.Write(p)
	}
	if s.tmp == nil {
		tmp, err := os.CreateTemp("", "wsdump-per-file-*")
		if err != nil {
			return 0, err
		}
		os.Remove(tmp.Name()) // gone when closed
		s.tmp, s.tw = tmp, bufio.NewWriterSize(tmp, 64<<10)
	}
	return s.tw.Write(p)
}

// goDirect writes what was held to w, and what comes next.
func (s *spillWriter) goDirect(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.direct = w
	if s.tmp == nil {
		return nil
	}
	defer s.close()
	if err := s.tw.Flush(); err != nil {
		return err
	}
	if _, err := s.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.tmp)
	return err
}

func (s *spillWriter) close() {
	if s.tmp != nil {
		s.tmp.Close()
		s.tmp = nil
	}
}

// EachFile calls do for each file, on jobs workers (0: one per core), with
// a writer for the file's notices, and writes the notices to errw in file
// order once all are done.
func EachFile(files []string, jobs int, errw io.Writer, do func(i int, file string, errw io.Writer)) {
	notes := make([]bytes.Buffer, len(files))
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			do(i, f, &notes[i])
		}()
	}
	wg.Wait()
	for i := range notes {
		errw.Write(notes[i].Bytes())
	}
}
