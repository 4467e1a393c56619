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
	l := expandInputs(args, errw)
	if len(l.files) == 0 {
		return inputErr(fmt.Errorf("no input could be read (%d, see above)", len(l.errs)))
	}
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	type result struct {
		out  *os.File
		errw bytes.Buffer
		err  error
		done chan struct{}
	}
	res := make([]*result, len(l.files))
	for i := range res {
		res[i] = &result{done: make(chan struct{})}
	}
	// A worker takes the next file once the writer is less than jobs files
	// behind: at most jobs outputs wait on disk.
	slots := make(chan struct{}, jobs)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		for i, f := range l.files {
			select {
			case slots <- struct{}{}:
			case <-stop:
				for _, r := range res[i:] {
					close(r.done)
				}
				return
			}
			wg.Add(1)
			go func(r *result, f string) {
				defer wg.Done()
				defer close(r.done)
				tmp, err := os.CreateTemp("", "wsdump-per-file-*")
				if err != nil {
					r.err = outputErr(err)
					return
				}
				os.Remove(tmp.Name()) // gone when closed
				r.out = tmp
				bw := bufio.NewWriterSize(tmp, 64<<10)
				r.err = run(f, bw, &r.errw)
				if err := bw.Flush(); err != nil && r.err == nil {
					r.err = outputErr(err)
				}
			}(res[i], f)
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		for _, r := range res {
			if r.out != nil {
				r.out.Close()
			}
		}
	}()
	var readErrs []error
	readErrs = append(readErrs, l.errs...)
	for i, f := range l.files {
		r := res[i]
		<-r.done
		if _, err := errw.Write(r.errw.Bytes()); err != nil {
			return outputErr(err)
		}
		if r.out != nil {
			if _, err := r.out.Seek(0, io.SeekStart); err != nil {
				return outputErr(err)
			}
			if err := writeLabelled(out, r.out, f, label, i == 0); err != nil {
				return outputErr(err)
			}
			r.out.Close()
			r.out = nil
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
		return inputErr(fmt.Errorf("%d of %d inputs could not be read to the end (see above)", len(readErrs), len(l.files)+len(l.errs)))
	}
	return nil
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

// writeLabelled copies one file's output to out, marked as label says.
func writeLabelled(out io.Writer, in io.Reader, file string, label fileLabel, first bool) error {
	switch label {
	case labelJSON:
		name, _ := json.Marshal(file)
		prefix := append(append([]byte(`{"file":`), name...), ',')
		br := bufio.NewReaderSize(in, 64<<10)
		bw := bufio.NewWriterSize(out, 64<<10)
		for {
			line, err := br.ReadSlice('\n')
			for err == bufio.ErrBufferFull {
				// A long line: copy it through in pieces.
				if err := writeJSONPiece(bw, line, prefix); err != nil {
					return err
				}
				prefix = prefix[:0:0]
				line, err = br.ReadSlice('\n')
			}
			if len(line) > 0 {
				if err := writeJSONPiece(bw, line, prefix); err != nil {
					return err
				}
			}
			prefix = append(append([]byte(`{"file":`), name...), ',')
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		return bw.Flush()
	case labelCSV:
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
			if n == 0 && !first {
				continue // the header, written with the first file
			}
			v := file
			if n == 0 {
				v = "file"
			}
			if err := w.Write(append([]string{v}, rec...)); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	}
	sep := "\n"
	if first {
		sep = ""
	}
	if _, err := fmt.Fprintf(out, "%s==> %s <==\n", sep, report.Escape([]byte(file), 4*len(file)+4, true)); err != nil {
		return err
	}
	_, err := io.Copy(out, in)
	return err
}

// writeJSONPiece writes a piece of a jsonl line, putting prefix in place of
// the line's opening brace (when prefix is not empty).
func writeJSONPiece(w *bufio.Writer, piece, prefix []byte) error {
	if len(prefix) > 0 && len(piece) > 0 && piece[0] == '{' {
		if len(piece) > 1 && piece[1] == '}' {
			prefix = prefix[:len(prefix)-1] // {} -> {"file":"f"}
		}
		w.Write(prefix)
		piece = piece[1:]
	}
	_, err := w.Write(piece)
	return err
}
