package capture

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// OpenOptions are how OpenInput reads a capture.
type OpenOptions struct {
	// MaxInflateRatio is --max-inflate-ratio for a gzip-compressed file
	// (0: the default).
	MaxInflateRatio int
	// Progress, when set (stderr on a terminal), shows a regular file's
	// reading progress from one second in; the line is cleared at Close.
	Progress io.Writer
}

// OpenInput opens a capture file, or standard input for "-", to be read
// until ctx ends (nil: never): standard input or a named pipe, which may
// wait for input, is read through a pump.
func OpenInput(ctx context.Context, name string, stdin io.Reader, o OpenOptions) (Source, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Progress != nil && name != "-" {
		if st, err := os.Stat(name); err != nil || st.Mode().IsRegular() {
			return openProgress(ctx, name, o)
		}
		// a pipe: no size to show progress against
	}
	ratio := o.MaxInflateRatio
	if ctx.Done() != nil {
		if name == "-" && MayBlock(stdin) {
			return OpenInterruptible(ctx, stdin, name, nil, ratio)
		}
		if st, err := os.Stat(name); name != "-" && err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			f, err := os.Open(name)
			if err != nil {
				return nil, fmt.Errorf("capture: %w", err)
			}
			return OpenInterruptible(ctx, f, name, f, ratio)
		}
	}
	opts := Options{MaxInflateRatio: ratio}
	var src Source
	var err error
	if name == "-" {
		src, err = NewReaderWith(stdin, opts)
	} else {
		src, err = OpenWith(name, opts)
	}
	if err != nil {
		return nil, err
	}
	return Interruptible(ctx, src), nil
}

// openProgress opens the file name with a progress line on o.Progress.
func openProgress(ctx context.Context, name string, o OpenOptions) (Source, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	pr := &progressReader{r: f, total: size, w: o.Progress, start: time.Now()}
	src, err := NewReaderWith(pr, Options{MaxInflateRatio: o.MaxInflateRatio})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Interruptible(ctx, &progressSource{Source: src, name: name, f: f, pr: pr}), nil
}

// progressReader counts the bytes read and, from one second in, shows them
// against the file size, at most four times a second.
type progressReader struct {
	r           io.Reader
	n, total    int64
	w           io.Writer
	start, last time.Time
	shown       bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.start) > time.Second && now.Sub(p.last) > 250*time.Millisecond {
		p.last = now
		p.shown = true
		if p.total > 0 {
			fmt.Fprintf(p.w, "\rwsdump: %s: %d / %d MB (%d%%)\x1b[K", "reading", p.n>>20, p.total>>20, p.n*100/p.total)
		} else {
			fmt.Fprintf(p.w, "\rwsdump: reading: %d MB\x1b[K", p.n>>20)
		}
	}
	return n, err
}

// progressSource closes the file and clears the progress line.
type progressSource struct {
	Source
	name string
	f    *os.File
	pr   *progressReader
}

func (s *progressSource) Next() (Packet, error) {
	p, err := s.Source.Next()
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", s.name, err)
	}
	return p, err
}

func (s *progressSource) Close() error {
	if s.pr.shown {
		fmt.Fprint(s.pr.w, "\r\x1b[K")
	}
	err := s.Source.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// StopWhen ends src (io.EOF) once done says so (-c reached); a nil done
// leaves src as it is.
func StopWhen(src Source, done func() bool) Source {
	if done == nil {
		return src
	}
	return &stopSource{Source: src, done: done}
}

type stopSource struct {
	Source
	done func() bool
}

func (s *stopSource) Next() (Packet, error) {
	if s.done() {
		return Packet{}, io.EOF
	}
	return s.Source.Next()
}
