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
	// Files name the inputs by number (wsparse.Conn.Input): with more
	// than one (several read merged), jsonl's records have their
	// connection's "file".
	Files []string
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
		if len(opts.Files) > 1 {
			j.files = opts.Files
		}
		return j, nil
	case "csv":
		return newCSV(w, opts, st), nil
	}
	return nil, fmt.Errorf("unknown format %q (want table, jsonl or csv)", opts.Format)
}

// tsLayout is the layout appendTS writes.
const tsLayout = "2006-01-02T15:04:05.000000000Z07:00"

// maxFastTS is 10000-01-01T00:00:00Z in Unix seconds: appendTS writes the
// times from 1970 to it itself.
const maxFastTS = 253402300800

// appendTS appends t as RFC 3339 with nanoseconds, in UTC: every record
// has a time, so the usual ones (1970 to 9999) are written here, digit by
// digit, as AppendFormat writes them (TestAppendTS); the others by it.
func appendTS(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 || sec >= maxFastTS {
		return t.UTC().AppendFormat(b, tsLayout)
	}
	y, m, d := civilDate(sec / 86400)
	s := int(sec % 86400)
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	b = append2(b, s/3600, ':')
	b = append2(b, s/60%60, ':')
	b = append2(b, s%60, '.')
	ns := t.Nanosecond()
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	b = append(b, digits[:]...)
	return append(b, 'Z')
}

// append2 appends v in two digits and sep.
func append2(b []byte, v int, sep byte) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10), sep)
}

// civilDate is the proleptic Gregorian date of a day counted from
// 1970-01-01 (0 or later): Howard Hinnant's days_from_civil inverse.
func civilDate(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if mp >= 10 {
		m = int(mp - 9)
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}
