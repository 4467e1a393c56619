package dataset

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/wsdump/wsdump/wsparse"
)

// TestPayloadPagesNotHeld: the compressed pages of an open row group wait
// for its end in temporary files, not on the heap. parquet-go's default
// page buffers kept them in memory: a frames row group holds up to 16 MiB
// of payload (RowGroupBytes) and whatever zstd leaves of it, all of a 4
// KiB frame here, as the payloads are random. What an open row group
// keeps is measured per frame over 6 000 frames past the first 2 000
// (the writer's fixed buffers full by then; its batches' arenas, up to 4
// MiB, come and go with the goroutine's timing: 700 bytes a frame here),
// in one row group; the files are made in $TMPDIR and unlinked at once,
// and the rows read back whole.
func TestPayloadPagesNotHeld(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	const n, size = 2000, 4 << 10
	w, dir, c, t0 := pagesWriter(t, Options{RowGroupBytes: 1 << 30})
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, size)
	var sum [2]int64
	frames := func(from, to int) {
		for i := from; i <= to; i++ {
			for k := range payload {
				payload[k] = byte(rng.Uint32())
			}
			sum[0] += int64(payload[0])
			f := &wsparse.Frame{Dir: wsparse.ServerToClient, TS: t0.Add(time.Duration(i) * time.Millisecond), Index: i, Payload: payload,
				Header: wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: size, Size: 4}}
			w.Frame(c, f)
		}
	}
	frames(1, n)
	w.sync()
	kept := bytesPer(n, func() {
		frames(n+1, 4*n)
		w.sync()
		runtime.GC() // what parquet-go's pools hold is not kept
	}) / 3 // bytesPer divides by n: 3n frames
	t.Logf("bytes kept per %d B random frame in an open row group: %.0f; files made %d, open at most %d", size, kept, w.pages.made, w.pages.max)
	if kept > size/4 {
		t.Errorf("an open row group keeps %.0f bytes of a %d B frame, want at most %d (its pages on disk)", kept, size, size/4)
	}
	if w.pages.made == 0 {
		t.Error("no page went to a file")
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d files left in $TMPDIR while writing (%s), want them unlinked", len(left), left[0].Name())
	}
	runtime.KeepAlive(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if open := w.pages.open(); open != 0 {
		t.Errorf("%d page files open after Close, want 0", open)
	}
	type row struct {
		Index   int64  `parquet:"index"`
		Payload []byte `parquet:"payload"`
	}
	rows, err := parquet.ReadFile[row](filepath.Join(dir, "frames", "date=2026-12-06", "part-test.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.Index != int64(i+1) || len(r.Payload) != size {
			t.Fatalf("row %d: index %d, %d B payload, want %d and %d", i, r.Index, len(r.Payload), i+1, size)
		}
		sum[1] += int64(r.Payload[0])
	}
	if len(rows) != 4*n || sum[0] != sum[1] {
		t.Errorf("%d rows read back (payload check %d), want %d (%d)", len(rows), sum[1], 4*n, sum[0])
	}
}

// TestPageBuf: a page buffer reads back what was written, in memory and
// once moved to its file, through Read and WriteTo, after seeks as
// parquet-go makes them (writes from 0, a seek to 0, reads to the end),
// and a buffer returned to the pool leaves its file empty for the next.
func TestPageBuf(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var p pagePool
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sizes := range [][]int{{0}, {1, 2, 3}, {pageMem}, {pageMem, 1}, {pageMem - 1, 2, 5000}, {100, 70000, 3, 200000}} {
		var want []byte
		b := p.GetBuffer()
		for _, n := range sizes {
			chunk := make([]byte, n)
			for k := range chunk {
				chunk[k] = byte(rng.Uint32())
			}
			if m, err := b.Write(chunk); m != n || err != nil {
				t.Fatalf("%v: Write(%d) = %d, %v", sizes, n, m, err)
			}
			want = append(want, chunk...)
		}
		if inFile := b.(*pageBuf).f != nil; inFile != (len(want) > pageMem) {
			t.Errorf("%v: %d bytes in a file: %v, want %v", sizes, len(want), inFile, !inFile)
		}
		for _, how := range []string{"Read", "WriteTo"} {
			if off, err := b.Seek(0, io.SeekStart); off != 0 || err != nil {
				t.Fatalf("%v: Seek = %d, %v", sizes, off, err)
			}
			var got bytes.Buffer
			var err error
			if how == "Read" {
				_, err = io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{b}, make([]byte, 1000))
			} else {
				_, err = b.(io.WriterTo).WriteTo(&got)
			}
			if err != nil || !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%v: %s gave %d bytes (%v), want the %d written", sizes, how, got.Len(), err, len(want))
			}
		}
		p.PutBuffer(b)
	}
	if p.made != 1 {
		t.Errorf("%d files made, want 1 (reused once returned)", p.made)
	}
	if len(p.free) == 1 {
		if st, err := p.free[0].Stat(); err != nil || st.Size() != 0 {
			t.Errorf("a returned file is %d bytes (%v), want 0", st.Size(), err)
		}
	}
	p.close()
	if p.open() != 0 {
		t.Errorf("%d files open after close", p.open())
	}
}

// TestPayloadPagesBounded: a page of the frames' payloads is cut at
// pageBuffer after a chunk of at most 64 rows, and a chunk never spans
// two batches: pages stay under pageBuffer and a batch (batchBytes) with
// its last payload, and so do the buffers parquet-go keeps for the
// biggest page (values, encoded, compressed). With batches of 1 MiB, 64
// frames of 20 KiB made pages of 1.25 MiB. The payloads are random, so a
// page's compressed size (the offset index) is its size.
func TestPayloadPagesBounded(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const n, size = 400, 20 << 10
	w, dir, c, t0 := pagesWriter(t, Options{})
	rng := rand.New(rand.NewPCG(5, 6))
	payload := make([]byte, size)
	for i := 1; i <= n; i++ {
		for k := range payload {
			payload[k] = byte(rng.Uint32())
		}
		w.Frame(c, &wsparse.Frame{Dir: wsparse.ServerToClient, TS: t0.Add(time.Duration(i) * time.Millisecond), Index: i, Payload: payload,
			Header: wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: size, Size: 4}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f := openFile(t, filepath.Join(dir, "frames", "date=2026-12-06", "part-test.parquet"))
	col, _ := f.Schema().Lookup("payload")
	var biggest, pages int64
	for _, rg := range f.RowGroups() {
		oi, err := rg.ColumnChunks()[col.ColumnIndex].OffsetIndex()
		if err != nil {
			t.Fatal(err)
		}
		for k := range oi.NumPages() {
			biggest = max(biggest, oi.CompressedPageSize(k))
			pages++
		}
	}
	t.Logf("%d pages of %d frames of %d B, the biggest %d B", pages, n, size, biggest)
	// pageBuffer, a batch and a payload: 660 KiB.
	if limit := int64(704 << 10); biggest > limit {
		t.Errorf("a page of payloads is %d B, want at most %d (pageBuffer, a batch and a payload)", biggest, limit)
	}
}

// pagesWriter opens a Writer with opts in a new directory (its Dir and ID
// set here), its origin at t0, and the connection its frames go on.
func pagesWriter(t *testing.T, opts Options) (*Writer, string, *wsparse.Conn, time.Time) {
	t.Helper()
	opts.Dir, opts.ID = t.TempDir(), "test"
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	w.SetOrigin(t0)
	c, _, _ := openView(t0, 1)
	return w, opts.Dir, c, t0
}
