package report

import (
	"io"
	"os"
)

// WriteHTMLFile writes the HTML report to the file name, or to stdout for
// "-", and returns its size (wsdump report -o).
func WriteHTMLFile(name string, stdout io.Writer, in HTMLInput) (int64, error) {
	if name == "-" {
		cw := &countWriter{w: stdout}
		err := WriteHTML(cw, in)
		return cw.n, err
	}
	f, err := os.Create(name)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: f}
	err = WriteHTML(cw, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
