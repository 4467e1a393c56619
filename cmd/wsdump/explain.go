package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/wsparse"
)

// explainEmpty says on stderr why a view printed nothing, when it asked
// for connections by number (--conn): see pipeline.Census. It costs a
// second reading of the capture, so it is done only when the output is
// empty, and not for standard input (read once).
func explainEmpty(ctx context.Context, in *inputFlags, names []string, stdin io.Reader, stderr io.Writer, conns []int) {
	if len(conns) == 0 || len(names) == 1 && names[0] == "-" {
		return
	}
	name := inputsName(names)
	cs := pipeline.NewCensus()
	src, err := in.openInputs(ctx, names, stdin, io.Discard)
	if err != nil {
		return
	}
	defer src.Close()
	keys, err := in.loadKeys(io.Discard)
	if err != nil {
		return
	}
	asm := pipeline.New(cs, in.options(wsparse.Config{EndAll: true}, keys), 1)
	feed(src, asm, name, keys, func(time.Time) {})
	asm.Finish()
	for _, line := range cs.Explain(conns) {
		fmt.Fprintln(stderr, "wsdump: "+line)
	}
}
