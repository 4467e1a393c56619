package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
)

// UsageError is an input that no reading can fix: the command line is
// wrong (exit status 1).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Open opens the inputs names (files, globs, directories) as one capture.
// One file opens with capture.OpenInput; several are merged in timestamp
// order (capture.OpenMerged). A file that cannot be read (missing, not a
// capture, an unsupported link type, truncated) is reported on stderr with
// its name and the others are read; the source then ends with an error
// naming them all after the last packet of the others.
func Open(ctx context.Context, names []string, stdin io.Reader, stderr io.Writer, o capture.OpenOptions) (capture.Source, error) {
	src, _, err := OpenFiles(ctx, names, stdin, stderr, o)
	return src, err
}

// OpenFiles is Open, with the files read by their number
// (capture.Packet.Input): none for standard input.
func OpenFiles(ctx context.Context, names []string, stdin io.Reader, stderr io.Writer, o capture.OpenOptions) (capture.Source, []string, error) {
	if capture.Single(names) {
		src, err := capture.OpenInput(ctx, names[0], stdin, o)
		if names[0] == "-" {
			return src, nil, err
		}
		return src, names[:1:1], err
	}
	if len(names) == 0 {
		return nil, nil, &UsageError{"no input: give a capture file with -r FILE"}
	}
	l := capture.ExpandInputs(names, stderr)
	for _, f := range l.Files {
		if f == "-" {
			return nil, nil, &UsageError{"standard input (-r -) cannot be read with other inputs"}
		}
	}
	if len(l.Files) == 0 {
		return nil, nil, fmt.Errorf("no input could be read (%d, see above)", len(l.Errs))
	}
	if len(l.Files) == 1 && len(l.Errs) == 0 {
		src, err := capture.OpenInput(ctx, l.Files[0], stdin, o)
		return src, l.Files, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	supported := func(link capture.LinkType) bool { return reassembly.SupportedLink(uint32(link)) }
	return capture.OpenMerged(ctx, l, o.MaxInflateRatio, supported, stderr), l.Files, nil
}

// LoadKeys reads the key log files names. Lines that are not secrets are
// counted and reported on stderr, not fatal: key logs are often
// concatenated from several programs.
func LoadKeys(names []string, stderr io.Writer) (*tlsdec.KeyLog, error) {
	keys := tlsdec.NewKeyLog()
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--keylog: %w", err)
		}
		k, err := tlsdec.ParseKeyLog(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--keylog %s: %w", name, err)
		}
		if k.Malformed > 0 {
			if k.Malformed == 1 {
				fmt.Fprintf(stderr, "wsdump: --keylog %s: 1 line is not a key log entry, skipped\n", name)
			} else {
				fmt.Fprintf(stderr, "wsdump: --keylog %s: %d lines are not key log entries, skipped\n", name, k.Malformed)
			}
		}
		if keys.Len() == 0 && keys.Malformed == 0 {
			keys = k // not a copy: a key log may take a hundred megabytes
		} else {
			keys.Merge(k)
		}
	}
	return keys, nil
}

// DisplayName names an input in messages: "-" is standard input.
func DisplayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// FeedOptions are how Feed reads.
type FeedOptions struct {
	Name   string          // the input, as messages name it (DisplayName)
	Keys   *tlsdec.KeyLog  // given a pcapng file's secrets as they appear (nil: not)
	Origin func(time.Time) // called with the first packet's time (nil: not)
	AtEOF  func()          // called at the end of the input, before the flush (the heap profile)
	// AtEnd, when not nil, is given the reading's counts once every
	// connection is flushed (Decode): the limits' notices.
	AtEnd func(reassembly.Stats)
}

// Feed hands every packet of src to the assembler, merging the secrets a
// pcapng file carries into the keys, and calls Origin with the first
// packet's time. It stops at the first read error, after the packets
// before it have been decoded.
func Feed(src capture.Source, asm Assembler, o FeedOptions) error {
	asm.Reading(src) // the clock's jumps name their file
	first := true
	input := 0 // the packets' input (Packet.Input), told the assembler when it changes
	secrets := src
	nSecrets := 0
	for {
		p, err := src.Next()
		if err == io.EOF {
			if o.AtEOF != nil {
				o.AtEOF()
			}
			return nil
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			if !reassembly.SupportedLink(uint32(p.Link)) {
				return fmt.Errorf("%s: unsupported link type %s", o.Name, p.Link)
			}
			if o.Origin != nil {
				o.Origin(p.Timestamp)
			}
		}
		if o.Keys != nil && len(secrets.Secrets()) > nSecrets {
			// pcapng Decryption Secrets Blocks come before the packets they
			// decrypt: merge them as they appear.
			for _, s := range secrets.Secrets()[nSecrets:] {
				if s.Type == tlsdec.SecretsTypeTLS {
					if k, err := tlsdec.ParseKeyLog(bytes.NewReader(s.Data)); err == nil {
						asm.MergeKeys(k)
					}
				}
			}
			nSecrets = len(secrets.Secrets())
		}
		if p.Input != input {
			input = p.Input
			asm.SetInput(input)
		}
		asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
	}
}

// Decode decodes src into sink, behind a filter for spec (see Select; apps:
// sink is given each message's application messages), on jobs workers
// (one when spec counts: -c stops reading as soon as enough records are
// out), and returns the first packet's time, which it also gives
// feed.Origin.
func Decode(src capture.Source, sink record.Sink, spec filter.Spec, apps bool, opts reassembly.Options, jobs int, feed FeedOptions) (time.Time, error) {
	sink, f := Select(sink, spec, apps)
	var origin time.Time
	setOrigin := feed.Origin
	feed.Origin = func(t time.Time) {
		origin = t
		if f != nil {
			f.SetOrigin(t)
		}
		if setOrigin != nil {
			setOrigin(t)
		}
	}
	if spec.Count > 0 {
		jobs = 1
	}
	asm := New(sink, opts, jobs)
	err := Feed(stopWhen(src, f), asm, feed)
	asm.Finish()
	if feed.AtEnd != nil {
		feed.AtEnd(asm.Stats())
	}
	return origin, err
}

// stopWhen ends src once f has let through what -c asks for.
func stopWhen(src capture.Source, f *filter.Filter) capture.Source {
	if f == nil {
		return src
	}
	return capture.StopWhen(src, f.Done)
}
