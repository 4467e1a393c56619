package report

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestFileExporterEndedConnBytes: export keeps nothing for a connection
// that ended (its directory made, once per connection, was remembered to
// the end: 100 000 connections, issue 16), and writes the same files.
func TestFileExporterEndedConnBytes(t *testing.T) {
	const n = 1000
	dir := t.TempDir()
	e, err := NewFileExporter(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	cs := synth.Views(n)
	ts := time.Unix(1, 0)
	m := &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Index: 1, Len: 2, Data: []byte("hi"), TS: ts}
	s := &wsparse.Summary{End: wsparse.EndOpen}
	per := prof.HeapLeftPer(n, func() {
		for _, c := range cs {
			e.Message(c, m)
			e.End(c, s)
		}
	})
	if per > 40 {
		t.Errorf("%.1f bytes kept per ended connection, want ~0", per)
	}
	// A connection that goes on after its End (ended early) writes on.
	m2 := *m
	m2.Index = 2
	e.Message(cs[0], &m2)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"conn-0001/000001-s2c.txt", "conn-0001/000002-s2c.txt", "conn-1000/000001-s2c.txt"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != "hi" {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	if e.Count() != n+1 {
		t.Errorf("%d messages written, want %d", e.Count(), n+1)
	}
	runtime.KeepAlive(cs)
}
