package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// captureInput is what the lint, diff, follow and export commands share:
// where the capture comes from and how to read it.
type captureInput struct {
	Ctx context.Context // reading stops when it ends (nil: never)
	In  io.Reader
	Err io.Writer
	inputFlags
}

// decodeInto decodes one capture into sink, behind a filter for spec, and
// returns the first packet's time, which it also gives setOrigin (unless
// nil). Errors carry their exit status. With apps, sink is given each
// message's application messages (see pipeline.Select).
func (ci *captureInput) decodeInto(names []string, spec filter.Spec, sink record.Sink, setOrigin func(time.Time), apps bool) (time.Time, error) {
	keys, err := ci.loadKeys(ci.Err)
	if err != nil {
		return time.Time{}, err
	}
	src, err := ci.openInputs(ci.Ctx, names, ci.In, ci.Err)
	if err != nil {
		return time.Time{}, inputErr(err)
	}
	defer src.Close()
	feed := feedOptions(inputsName(names), keys)
	feed.Origin = setOrigin
	origin, err := pipeline.Decode(src, sink, spec, apps, ci.options(wsparse.Config{}, keys), ci.Jobs, feed)
	return origin, readError(err)
}

// captureArgs joins -r files and positional arguments.
func captureArgs(reads, args []string) []string {
	return append(append([]string(nil), reads...), args...)
}

// addJobsFlag registers -j.
func addJobsFlag(f *pflag.FlagSet, jobs *int) {
	f.IntVarP(jobs, "jobs", "j", 0, "decode connections on `N` workers (0: one per core); the output is the same for every N")
}
