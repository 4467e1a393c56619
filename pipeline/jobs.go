package pipeline

import (
	"runtime"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/fbjoin"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/tlsdec"
)

// Assembler is what a capture's packets are fed to: a reassembly.Assembler (one
// goroutine) or a reassembly.Parallel (-j workers), which give the same
// records in the same order.
type Assembler interface {
	reassembler
	// Reading tells the assembler the source of its packets (Feed): its
	// Input names the file of a jump of the capture's clock.
	Reading(src capture.Source)
}

// reassembler is a reassembly.Assembler or reassembly.Parallel.
type reassembler interface {
	Packet(link uint32, data []byte, ts time.Time, wireLen int)
	SetInput(i int) // the input of the packets that follow (capture.Packet.Input)
	MergeKeys(k *tlsdec.KeyLog)
	Finish()
	Stats() reassembly.Stats
}

// New returns the assembler for -j jobs (0: every core) in front of sink,
// with the fallback sessions (SockJS, Engine.IO over HTTP) joined.
func New(sink record.Sink, opts reassembly.Options, jobs int) Assembler {
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	j := newJoiner(sink, sink)
	if jobs == 1 {
		return joined{reassembly.New(j, opts), j, &clockWatch{}}
	}
	return joined{reassembly.NewParallel(j, opts, jobs), j, &clockWatch{}}
}

// fallbackSessions bounds the SockJS and Engine.IO sessions a joiner
// holds (fbjoin.MaxSessions): the joiner takes it and the limit notice
// names it. A variable so that a test reaches the bound with a few
// sessions rather than 65 536.
var fallbackSessions = fbjoin.MaxSessions

// newJoiner is fbjoin.NewSplit with the bound fallbackSessions.
func newJoiner(next, sess record.Sink) *fbjoin.Joiner {
	j := fbjoin.NewSplit(next, sess)
	j.SetMaxSessions(fallbackSessions)
	return j
}

// joined finishes the fallback sessions after the reassembly, and
// watches the capture's clock on the way in.
type joined struct {
	reassembler
	j     *fbjoin.Joiner
	clock *clockWatch
}

func (a joined) Packet(link uint32, data []byte, ts time.Time, wireLen int) {
	a.clock.packet(ts)
	a.reassembler.Packet(link, data, ts, wireLen)
}

// Reading names src's files in the clock's jumps.
func (a joined) Reading(src capture.Source) { a.clock.src = src }

func (a joined) Finish() {
	a.reassembler.Finish()
	a.j.Finish()
}

// Stats are the reassembly's counts with the joiner's.
func (a joined) Stats() reassembly.Stats {
	st := withJoiner(a.reassembler.Stats(), a.j)
	c := a.clock.clock()
	st.Clock = &c
	return st
}

func withJoiner(st reassembly.Stats, j *fbjoin.Joiner) reassembly.Stats {
	d := j.Dropped()
	st.FallbackDropped, st.FallbackDroppedBytes, st.FallbackDroppedRequests = d.Messages, d.Bytes, d.Requests
	st.FallbackEndedEarly, st.FallbackBytesAfterEnd = d.EndedEarly, d.AfterEnd
	return st
}

// NewApps is New with application decoding (app) in
// front of next: with -j, in the workers (each connection's decoding is
// its own), its records merged with the others; the fallback sessions,
// joined after the merge, are decoded there.
func NewApps(next record.Sink, app AppOptions, opts reassembly.Options, jobs int) Assembler {
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if app.Mode == appproto.ModeNone {
		return New(next, opts, jobs)
	}
	if jobs == 1 {
		dec := newAppDecoder(next, app)
		j := newJoiner(dec, dec)
		return joined{reassembly.New(j, opts), j, &clockWatch{}}
	}
	opts.DataUnused = app.DataUnused
	stage := func(w record.Sink) record.Sink { return newAppDecoder(w, app) }
	j := newJoiner(next, newAppDecoder(next, app))
	return joined{reassembly.NewParallelStage(j, opts, jobs, stage), j, &clockWatch{}}
}
