package dataset

import (
	"errors"
	"io"
	"os"
	"sync"
)

// The pages of an open row group, compressed, wait in parquet-go's page
// buffers (one per column) until the row group ends and they are copied
// into the file. In memory (parquet-go's default) the frames' and
// messages' payload columns held several MiB each, per open file, and
// what the heap holds sets the collector's limit (internal/memtarget).
// pagePool keeps each buffer in memory up to pageMem bytes and moves it
// to a temporary file past that: the small columns stay in memory, the
// payloads go to disk and are read back once, when their row group is
// written. The files are made in $TMPDIR (os.TempDir) and unlinked at
// once, so they go with the process however it ends; a buffer returned
// to the pool keeps its file (emptied) for the next one.
const (
	pageMem   = 32 << 10
	freeFiles = 16 // files kept for reuse; past that a returned one is closed
)

// pagePool is a parquet.BufferPool. It is safe for concurrent use: the
// tables' goroutines share it.
type pagePool struct {
	mu    sync.Mutex
	free  []*os.File
	files int // open, in buffers or free
	made  int // files created (tests)
	max   int // most open at once (tests)
}

func (p *pagePool) GetBuffer() io.ReadWriteSeeker { return &pageBuf{pool: p} }

func (p *pagePool) PutBuffer(rw io.ReadWriteSeeker) {
	b, ok := rw.(*pageBuf)
	if !ok || b.f == nil {
		return
	}
	f := b.f
	b.f, b.mem = nil, nil
	// Emptied, so that a tmpfs gives the pages back.
	if f.Truncate(0) != nil {
		p.drop(f)
		return
	}
	p.mu.Lock()
	if len(p.free) < freeFiles {
		p.free = append(p.free, f)
		f = nil
	}
	p.mu.Unlock()
	if f != nil {
		p.drop(f)
	}
}

func (p *pagePool) drop(f *os.File) {
	f.Close()
	p.mu.Lock()
	p.files--
	p.mu.Unlock()
}

// file returns an empty, unlinked temporary file.
func (p *pagePool) file() (*os.File, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		f := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return f, nil
	}
	p.mu.Unlock()
	f, err := os.CreateTemp("", "wsdump-pages-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	p.mu.Lock()
	p.files++
	p.made++
	p.max = max(p.max, p.files)
	p.mu.Unlock()
	return f, nil
}

// close closes the files kept for reuse (the Writer's end).
func (p *pagePool) close() {
	p.mu.Lock()
	free := p.free
	p.free = nil
	p.files -= len(free)
	p.mu.Unlock()
	for _, f := range free {
		f.Close()
	}
}

// open is the number of files open (tests).
func (p *pagePool) open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.files
}

// pageBuf is one column's page buffer: bytes in mem until they pass
// pageMem, then all of them in f.
type pageBuf struct {
	pool *pagePool
	mem  []byte
	f    *os.File
	size int64 // bytes written
	off  int64 // the read/write offset
}

var errSeek = errors.New("page buffer: bad seek")

func (b *pageBuf) Write(p []byte) (int, error) {
	if b.f == nil && b.off+int64(len(p)) > pageMem {
		f, err := b.pool.file()
		if err != nil {
			return 0, err
		}
		if _, err := f.WriteAt(b.mem, 0); err != nil {
			b.f = f
			return 0, err
		}
		b.f, b.mem = f, nil
	}
	if b.f != nil {
		n, err := b.f.WriteAt(p, b.off)
		b.off += int64(n)
		b.size = max(b.size, b.off)
		return n, err
	}
	end := int(b.off) + len(p)
	if end > len(b.mem) {
		if end > cap(b.mem) {
			b.mem = append(b.mem[:cap(b.mem)], make([]byte, end-cap(b.mem))...)
		}
		b.mem = b.mem[:end]
	}
	copy(b.mem[b.off:], p)
	b.off = int64(end)
	b.size = max(b.size, b.off)
	return len(p), nil
}

func (b *pageBuf) Read(p []byte) (int, error) {
	if b.off >= b.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.size-b.off)]
	var n int
	var err error
	if b.f != nil {
		n, err = b.f.ReadAt(p, b.off)
		if err == io.EOF && n == len(p) {
			err = nil
		}
	} else {
		n = copy(p, b.mem[b.off:])
	}
	b.off += int64(n)
	return n, err
}

func (b *pageBuf) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += b.off
	case io.SeekEnd:
		off += b.size
	}
	if off < 0 {
		return b.off, errSeek
	}
	b.off = off
	return off, nil
}

// WriteTo copies the rest of the buffer to w (the row group's end;
// parquet-go's writer reads the file into its own write buffer).
func (b *pageBuf) WriteTo(w io.Writer) (int64, error) {
	if b.f == nil {
		if b.off >= b.size {
			return 0, nil
		}
		n, err := w.Write(b.mem[b.off:b.size])
		b.off += int64(n)
		return int64(n), err
	}
	n, err := io.Copy(w, io.NewSectionReader(b.f, b.off, b.size-b.off))
	b.off += n
	return n, err
}
