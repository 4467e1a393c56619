// Package report turns wsparse records into output for people (tables) and
// programs (JSON lines).
package report

import (
	"fmt"
	"io"
	"time"

	"github.com/wsdump/wsdump/record"
)

// Exporter receives records and writes them out (see put.go): the four
// wsparse kinds, a Message's Apps when it carries them (Decoded), TLS
// connections that showed no WebSocket. Close flushes.
type Exporter interface {
	record.Sink
	// SetOrigin sets the time relative times count from (the first packet).
	SetOrigin(t time.Time)
	// Flush writes out what is buffered (live capture prints as it goes).
	Flush() error
	Close() error
}

// Options selects and tunes an output format.
type Options struct {
	Format   string // "table" (default) or "jsonl"
	AbsTime  bool   // table: wall-clock times instead of seconds since the first packet
	Preview  int    // table: payload preview width in characters (default 64)
	Messages bool   // table: one row per message instead of per frame
	Stable   bool   // rewrite volatile values (see Stabilizer)
	Color    bool   // table: colour directions and anomalies (a terminal without NO_COLOR)
	// Width fits the table to a terminal this many columns wide: the
	// preview column grows or shrinks (unless PreviewFixed), and MASK,
	// RSV, FIN and LEN go when even a short preview would not fit. 0: the
	// fixed widths scripts read.
	Width        int
	PreviewFixed bool // --preview given: Width does not change it
}

// Formats lists the accepted values of Options.Format.
var Formats = []string{"table", "jsonl", "csv"}

// New returns the exporter for opts.Format writing to w.
func New(w io.Writer, opts Options) (Exporter, error) {
	if opts.Preview <= 0 {
		opts.Preview = 64
	}
	st := NewStabilizer(opts.Stable)
	switch opts.Format {
	case "", "table":
		t := newTable(w, opts)
		t.st = st
		return t, nil
	case "jsonl":
		j := newJSONL(w)
		j.st = st
		return j, nil
	case "csv":
		return newCSV(w, opts, st), nil
	}
	return nil, fmt.Errorf("unknown format %q (want table, jsonl or csv)", opts.Format)
}

// appendTS appends t as RFC 3339 with nanoseconds, in UTC.
func appendTS(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z07:00")
}
