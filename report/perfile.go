package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// FileLabel says how a file's output is marked when each input file is
// read on its own (wsdump --per-file).
type FileLabel int

const (
	LabelHeader FileLabel = iota // "==> FILE <==" before the part
	LabelJSON                    // "file" field on each line
	LabelCSV                     // "file" column
	LabelNone                    // nothing: parquet names each file's part on stderr
	// LabelMatched is LabelHeader for a file whose part has a line: a
	// file of no line has no header (-T fields with a filter, as grep
	// names the files that matched).
	LabelMatched
)

// NewFileLabeller returns the writer that marks one file's output as
// label says on its way to out, and the function that ends it. first: the
// file's part is the first written. csvHeader says whether a csv header
// was written already; the csv labeller sets it. With LabelMatched it says
// whether a part was written (first is not read).
func NewFileLabeller(out io.Writer, file string, label FileLabel, first bool, csvHeader *bool) (io.Writer, func() error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	switch label {
	case LabelNone:
		return bw, bw.Flush
	case LabelJSON:
		name, _ := json.Marshal(file)
		return &jsonLabeller{w: bw, prefix: append(append([]byte(`{"file":`), name...), ','), atStart: true}, bw.Flush
	case LabelCSV:
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
	if label == LabelMatched {
		return &matchedLabeller{w: bw, file: file, written: csvHeader}, bw.Flush
	}
	fmt.Fprintf(bw, "%s==> %s <==\n", sep, Escape([]byte(file), 4*len(file)+4, true))
	return bw, bw.Flush
}

// matchedLabeller writes a file's header before its first byte, if any.
type matchedLabeller struct {
	w       *bufio.Writer
	file    string
	written *bool // a part was written (this file's or one before it)
	started bool
}

func (m *matchedLabeller) Write(p []byte) (int, error) {
	if !m.started && len(p) > 0 {
		m.started = true
		if *m.written {
			m.w.WriteByte('\n')
		}
		*m.written = true
		fmt.Fprintf(m.w, "==> %s <==\n", Escape([]byte(m.file), 4*len(m.file)+4, true))
	}
	return m.w.Write(p)
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
// once, by the first file that has one (*header then true). The name is
// escaped as the conns csv of several files read merged has it: a name's
// bytes reach a spreadsheet as a payload's do.
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
		v := csvFormulaSafe(escapeExact(file))
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
