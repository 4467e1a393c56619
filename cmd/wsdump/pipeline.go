package main

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/reassembly"
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
// returns the first packet's time. Errors carry their exit status.
// Application protocols are decoded in front of the filter when sink wants
// them (apps: follow unwraps STOMP in SockJS) or the filter's expression
// reads app.*: the filter then sees each message's application messages,
// as in the main view.
func (ci *captureInput) decodeInto(names []string, spec filter.Spec, sink wsparse.Sink, apps bool) (time.Time, error) {
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
	a := &sinkAdapter{Sink: sink}
	a.tls, _ = sink.(reassembly.TLSSink)
	if !spec.IsZero() {
		a.f = filter.New(sink, spec)
		a.Sink = a.f
	}
	if apps || spec.Expr != nil && spec.Expr.Uses("app") {
		a.Sink = newAppDecoder(a.Sink, appproto.ModeAuto)
	}
	var origin time.Time
	setOrigin := func(t time.Time) {
		origin = t
		if a.f != nil {
			a.f.SetOrigin(t)
		}
		if o, ok := sink.(interface{ SetOrigin(time.Time) }); ok {
			o.SetOrigin(t)
		}
	}
	jobs := ci.Jobs
	if spec.Count > 0 {
		jobs = 1 // -c stops reading as soon as enough records are out
	}
	asm := newAssembler(a, ci.options(wsparse.Config{}, keys), jobs)
	readErr := feed(stopWhen(src, a.f), asm, name, keys, setOrigin)
	asm.Finish()
	return origin, readError(readErr)
}

// sinkAdapter gives a sink the TLSConn the assembler calls, passing TLS
// connections on to sinks that want them and the filter selects.
type sinkAdapter struct {
	wsparse.Sink
	f   *filter.Filter
	tls reassembly.TLSSink
}

func (a *sinkAdapter) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo) {
	if a.tls != nil && (a.f == nil || a.f.KeepTLS(c, ts, client, server)) {
		a.tls.TLSConn(c, ts, client, server, info)
	}
}

// captureArgs joins -r files and positional arguments.
func captureArgs(reads, args []string) []string {
	return append(append([]string(nil), reads...), args...)
}
