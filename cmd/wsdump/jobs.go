package main

import (
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/fbjoin"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
)

// packetAssembler is what feed drives: a reassembly.Assembler (one
// goroutine) or a reassembly.Parallel (-j workers), which give the same
// records in the same order.
type packetAssembler interface {
	Packet(link uint32, data []byte, ts time.Time, wireLen int)
	MergeKeys(k *tlsdec.KeyLog)
	Finish()
	Stats() reassembly.Stats
}

// newAssembler returns the assembler for -j jobs (0: every core).
func newAssembler(sink record.Sink, opts reassembly.Options, jobs int) packetAssembler {
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	j := fbjoin.New(sink)
	if jobs == 1 {
		return joined{reassembly.New(j, opts), j}
	}
	return joined{reassembly.NewParallel(j, opts, jobs), j}
}

// joined finishes the fallback sessions after the reassembly.
type joined struct {
	packetAssembler
	j *fbjoin.Joiner
}

func (a joined) Finish() {
	a.packetAssembler.Finish()
	a.j.Finish()
}

// addJobsFlag registers -j.
func addJobsFlag(f *pflag.FlagSet, jobs *int) {
	f.IntVarP(jobs, "jobs", "j", 0, "decode connections on `N` workers (0: one per core); the output is the same for every N")
}

// newAppAssembler is newAssembler with application decoding (app) in
// front of next: with -j, in the workers (each connection's decoding is
// its own), its records merged with the others; the fallback sessions,
// joined after the merge, are decoded there.
func newAppAssembler(next record.Sink, app appOptions, opts reassembly.Options, jobs int) packetAssembler {
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if app.Mode == appproto.ModeNone {
		return newAssembler(next, opts, jobs)
	}
	if jobs == 1 {
		j := fbjoin.New(newAppDecoder(next, app))
		return joined{reassembly.New(j, opts), j}
	}
	opts.DataUnused = app.DataUnused
	stage := func(w record.Sink) record.Sink { return newAppDecoder(w, app) }
	j := fbjoin.NewSplit(next, newAppDecoder(next, app))
	return joined{reassembly.NewParallelStage(j, opts, jobs, stage), j}
}
