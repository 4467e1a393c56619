package capture

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenInputProgress: with a Progress writer, a regular file's reading
// is shown from one second in (the start is moved back here), the line
// cleared at Close; a read error names the file.
func TestOpenInputProgress(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a.pcap")
	file := classicFile(be, true, 1, 65535, rec{sec: 1, data: payload(1, 50)}, rec{sec: 2, data: payload(2, 51)})
	if err := os.WriteFile(name, file[:len(file)-10], 0o644); err != nil { // the last record truncated
		t.Fatal(err)
	}
	var progress bytes.Buffer
	src, err := OpenInput(context.Background(), name, nil, OpenOptions{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := src.(*progressSource)
	if !ok {
		t.Fatalf("source %T, want a progress source", src)
	}
	ps.pr.start = time.Now().Add(-2 * time.Second)
	pkts, err := readAll(t, src)
	if len(pkts) != 1 || err == nil || !strings.HasPrefix(err.Error(), name+": ") {
		t.Errorf("%d packets, error %v: want 1 and an error naming %s", len(pkts), err, name)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
	got := progress.String()
	if !strings.HasPrefix(got, "\rwsdump: reading: 0 / 0 MB (") || !strings.HasSuffix(got, "\x1b[K\r\x1b[K") {
		t.Errorf("progress %q", got)
	}

	// Standard input has no size: no progress, whatever the writer.
	progress.Reset()
	src, err = OpenInput(context.Background(), "-", bytes.NewReader(file), OpenOptions{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*progressSource); ok {
		t.Error("standard input read with a progress line")
	}
	src.Close()
}

// TestStopWhen: the source ends (io.EOF) once done says so.
func TestStopWhen(t *testing.T) {
	file := classicFile(be, true, 1, 65535, rec{sec: 1, data: payload(1, 50)}, rec{sec: 2, data: payload(2, 51)})
	src, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	src = StopWhen(src, func() bool { return n == 1 })
	for {
		_, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d packets read, want 1", n)
	}
	if StopWhen(src, nil) != src {
		t.Error("a nil done wraps the source")
	}
}
