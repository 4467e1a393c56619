package main

import (
	"context"
	"io"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
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
// nil). Errors carry their exit status. Application protocols are decoded
// in front of the filter when sink wants them (apps: follow unwraps STOMP
// in SockJS) or the filter's expression reads app.*: the filter then sees
// each message's application messages, as in the main view.
func (ci *captureInput) decodeInto(names []string, spec filter.Spec, sink record.Sink, setOrigin func(time.Time), apps bool) (time.Time, error) {
	keys, err := ci.loadKeys(ci.Err)
	if err != nil {
		return time.Time{}, err
	}
	name := inputsName(names)
	src, err := ci.openInputs(ci.Ctx, names, ci.In, ci.Err)
	if err != nil {
		return time.Time{}, inputErr(err)
	}
	defer src.Close()
	var f *filter.Filter
	if !spec.IsZero() {
		f = filter.New(sink, spec)
		sink = f
	}
	if apps || spec.Expr != nil && spec.Expr.Uses("app") {
		sink = newAppDecoder(sink, appOptions{Mode: appproto.ModeAuto, Apps: true})
	}
	var origin time.Time
	onOrigin := func(t time.Time) {
		origin = t
		if f != nil {
			f.SetOrigin(t)
		}
		if setOrigin != nil {
			setOrigin(t)
		}
	}
	jobs := ci.Jobs
	if spec.Count > 0 {
		jobs = 1 // -c stops reading as soon as enough records are out
	}
	asm := newAssembler(sink, ci.options(wsparse.Config{}, keys), jobs)
	readErr := feed(stopWhen(src, f), asm, name, keys, onOrigin)
	asm.Finish()
	return origin, readError(readErr)
}

// captureArgs joins -r files and positional arguments.
func captureArgs(reads, args []string) []string {
	return append(append([]string(nil), reads...), args...)
}
