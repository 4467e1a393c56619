package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Reading a file stops cleanly when a context ends (wsdump cancels it on
// SIGINT and SIGTERM; a failed write of the output cancels it too): the
// source's Next returns ErrInterrupted between two packets, and the
// reading finishes as at the end of the file.

// ErrInterrupted ends a reading stopped because its context ended: what
// was read has been handed on.
var ErrInterrupted = errors.New("interrupted: stopped reading; the output covers what was read, summaries included")

// interruptSource ends the input with ErrInterrupted once done is closed.
type interruptSource struct {
	Source
	done <-chan struct{}
	pump *pumpReader // nil for a regular file
}

// Interruptible returns src stopping when ctx ends.
func Interruptible(ctx context.Context, src Source) Source { return interruptible(ctx, src, nil) }

// interruptible returns src stopping when ctx ends; pump, if not nil,
// is the reader under src, closed with it.
func interruptible(ctx context.Context, src Source, pump *pumpReader) Source {
	done := ctx.Done()
	if done == nil {
		return src
	}
	return &interruptSource{Source: src, done: done, pump: pump}
}

func (s *interruptSource) Next() (Packet, error) {
	select {
	case <-s.done:
		return Packet{}, ErrInterrupted
	default:
	}
	p, err := s.Source.Next()
	if err != nil && err != io.EOF {
		select {
		case <-s.done: // the read was cut short by the pump
			return p, ErrInterrupted
		default:
		}
	}
	return p, err
}

func (s *interruptSource) Close() error {
	err := s.Source.Close()
	if s.pump != nil {
		s.pump.Close()
	}
	return err
}

// MayBlock reports whether reading r can wait for input indefinitely: a
// pipe, a terminal, a socket; not a regular file.
func MayBlock(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return true
	}
	st, err := f.Stat()
	return err != nil || !st.Mode().IsRegular()
}

// pumpReader reads r in a goroutine, so that a read waiting on a pipe
// gives way when ctx ends: Read then returns ErrInterrupted at once, and
// the goroutine, still in r.Read, ends when that read returns. Two
// buffers go back and forth between them.
type pumpReader struct {
	ctx   context.Context
	ch    chan pumpChunk
	free  chan []byte
	quit  chan struct{}
	close sync.Once
	buf   []byte // the chunk being read, to give back
	cur   []byte // its unread bytes
	err   error
}

type pumpChunk struct {
	b   []byte
	err error
}

const pumpBuffer = 256 << 10

func newPumpReader(ctx context.Context, r io.Reader) *pumpReader {
	p := &pumpReader{ctx: ctx, ch: make(chan pumpChunk), free: make(chan []byte, 2), quit: make(chan struct{})}
	p.free <- make([]byte, pumpBuffer)
	p.free <- make([]byte, pumpBuffer)
	go p.run(r)
	return p
}

func (p *pumpReader) run(r io.Reader) {
	for {
		var b []byte
		select {
		case b = <-p.free:
		case <-p.quit:
			return
		}
		n, err := r.Read(b)
		select {
		case p.ch <- pumpChunk{b[:n], err}:
		case <-p.quit:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *pumpReader) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if p.buf != nil {
			p.free <- p.buf[:cap(p.buf)]
			p.buf = nil
		}
		select {
		case c := <-p.ch:
			p.buf, p.cur, p.err = c.b, c.b, c.err
		case <-p.ctx.Done():
			p.err = ErrInterrupted
			return 0, p.err
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the goroutine (once its read in progress returns).
func (p *pumpReader) Close() error {
	p.close.Do(func() { close(p.quit) })
	return nil
}

// OpenInterruptible opens a capture that may block (standard input or a
// named pipe) through a reader that gives way when ctx ends; f, if not
// nil, is closed with it; ratio is Options.MaxInflateRatio.
func OpenInterruptible(ctx context.Context, r io.Reader, name string, f *os.File, ratio int) (Source, error) {
	pump := newPumpReader(ctx, r)
	src, err := NewReaderWith(pump, Options{MaxInflateRatio: ratio})
	if err != nil {
		pump.Close()
		if f != nil {
			f.Close()
		}
		if ctx.Err() != nil {
			return nil, ErrInterrupted
		}
		if name == "-" {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f != nil {
		src = &fileSource{Source: src, f: f}
	}
	return interruptible(ctx, src, pump), nil
}

// fileSource closes the file under a source.
type fileSource struct {
	Source
	f *os.File
}

func (s *fileSource) Close() error {
	err := s.Source.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
