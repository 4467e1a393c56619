package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
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

// fileLabel says how a file's output is marked.
type fileLabel int

const (
	labelHeader fileLabel = iota // "==> FILE <==" before the part
	labelJSON                    // "file" field on each line
	labelCSV                     // "file" column
	labelNone                    // nothing: parquet names each file's part on stderr
)

// perFileRun runs one file's command, writing to out and errw.
type perFileRun func(file string, out, errw io.Writer) error

// runPerFile runs run for each file named by args (expanded as -r does),
// on jobs workers (0: one per core), and writes the outputs to out and the
// notices to errw in file order. A file that fails to read does not stop
// the others: the error is 2 (unreadable input) once all are written,
// unless a write failed (5, which stops) or the run was interrupted (130).
func runPerFile(args []string, jobs int, label fileLabel, out, errw io.Writer, run perFileRun) error {
	for _, a := range args {
		if a == "-" {
			return usageErr("--per-file reads files, not standard input")
		}
	}
	l := capture.ExpandInputs(args, errw)
	if len(l.Files) == 0 {
		return inputErr(fmt.Errorf("no input could be read (%d, see above)", len(l.Errs)))
	}
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
							r.err = outputErr(err)
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
		lw, finish := newLabeller(out, f, label, i == 0, &csvHeader)
		if err := r.out.goDirect(lw); err != nil {
			return outputErr(err)
		}
		<-r.done
		if err := finish(); err != nil {
			return outputErr(err)
		}
		if _, err := errw.Write(r.errw.Bytes()); err != nil {
			return outputErr(err)
		}
		<-slots
		var ee *exitError
		switch {
		case r.err == nil:
		case errors.Is(r.err, errInterrupted):
			return r.err
		case errors.As(r.err, &ee) && ee.code == exitInput:
			// Said on stderr by the file's run, with its name: go on.
			fmt.Fprintf(errw, "wsdump: %v\n", r.err)
			readErrs = append(readErrs, r.err)
		default:
			return r.err
		}
	}
	if len(readErrs) > 0 {
		return inputErr(fmt.Errorf("%d of %d inputs could not be read to the end (see above)", len(readErrs), len(l.Files)+len(l.Errs)))
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

// perFileLabel is the label of a view's output format.
func perFileLabel(format string, fields bool) fileLabel {
	switch {
	case fields:
		return labelHeader
	case format == "jsonl":
		return labelJSON
	case format == "csv":
		return labelCSV
	case format == "parquet":
		return labelNone
	}
	return labelHeader
}

// fixTable resolves the table width and colour for out, the real output,
// before each file's part is written to a temporary file.
func fixTable(t *tableFlags, out io.Writer) {
	if t.Output != "wide" && t.Width == 0 {
		t.Width = terminalWidth(out)
	}
	if t.color(out) {
		t.Color = "always"
	} else {
		t.Color = "never"
	}
}

// newLabeller returns the writer that marks one file's output as label
// says on its way to out, and the function that ends it. csvHeader says
// whether a csv header was written already; the csv labeller sets it.
func newLabeller(out io.Writer, file string, label fileLabel, first bool, csvHeader *bool) (io.Writer, func() error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	switch label {
	case labelNone:
		return bw, bw.Flush
	case labelJSON:
		name, _ := json.Marshal(file)
		return &jsonLabeller{w: bw, prefix: append(append([]byte(`{"file":`), name...), ','), atStart: true}, bw.Flush
	case labelCSV:
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := relabelCSV(bw, pr, file, csvHeader)
			pr.CloseWithError(err) // a failed write stops the file's writes
			done <- err
		}()
		return pw, func() error {
			pw.Close()
			if err := <-done; err != nil {
				return err
			}
			return bw.Flush()
		}
	}
	sep := "\n"
	if first {
		sep = ""
	}
	fmt.Fprintf(bw, "%s==> %s <==\n", sep, report.Escape([]byte(file), 4*len(file)+4, true))
	return bw, bw.Flush
}

// jsonLabeller puts a "file" field first in each line of jsonl.
type jsonLabeller struct {
	w       *bufio.Writer
	prefix  []byte // {"file":"NAME",
	atStart bool   // at the start of a line
	brace   bool   // a line's '{' held: is the object empty?
}

func (j *jsonLabeller) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		switch {
		case j.brace:
			j.brace = false
			if p[0] == '}' {
				j.w.Write(j.prefix[:len(j.prefix)-1]) // {} -> {"file":"NAME"}
			} else {
				j.w.Write(j.prefix)
			}
		case j.atStart && p[0] == '{':
			j.atStart, j.brace = false, true
			p = p[1:]
			continue
		}
		j.atStart = false
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := j.w.Write(p); err != nil {
				return 0, err
			}
			break
		}
		if _, err := j.w.Write(p[:i+1]); err != nil {
			return 0, err
		}
		p = p[i+1:]
		j.atStart = true
	}
	return n, nil
}

// relabelCSV copies csv with a "file" column first; the header is written
// once, by the first file that has one (*header then true).
func relabelCSV(out io.Writer, in io.Reader, file string, header *bool) error {
	r := csv.NewReader(bufio.NewReaderSize(in, 64<<10))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	w := csv.NewWriter(out)
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n == 0 && *header {
			continue
		}
		v := file
		if n == 0 {
			v = "file"
		}
		if err := w.Write(append([]string{v}, rec...)); err != nil {
			return err
		}
		if n == 0 {
			*header = true
		}
	}
	w.Flush()
	return w.Error()
}
