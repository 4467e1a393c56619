package main

import (
	"net/netip"
	"runtime"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/fbjoin"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
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
func newAssembler(sink wsparse.Sink, opts reassembly.Options, jobs int) packetAssembler {
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

// newAppAssembler is newAssembler with application decoding (appproto mode)
// in front of next: with -j, in the workers (each connection's decoding
// is its own), with what it finds passed on as notes; else in the chain,
// as newAppExporter and newAppDecoder put it.
func newAppAssembler(next wsparse.Sink, mode string, opts reassembly.Options, jobs int) packetAssembler {
	if mode == "" {
		mode = appproto.ModeAuto
	}
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	if mode == appproto.ModeNone {
		return newAssembler(next, opts, jobs)
	}
	if jobs == 1 {
		var j *fbjoin.Joiner
		if exp, ok := next.(report.Exporter); ok {
			j = fbjoin.New(newAppExporter(exp, mode))
		} else {
			j = fbjoin.New(newAppDecoder(next, mode))
		}
		return joined{reassembly.New(j, opts), j}
	}
	r := &noteReader{Sink: next}
	r.apps, _ = next.(report.AppWriter)
	r.beats, _ = next.(health.BeatSink)
	if exp, ok := next.(report.Exporter); ok {
		r.tls = exp // an appExporter passes TLS connections on; an appDecoder does not
	}
	var text func(*wsparse.Message, []string) bool
	if t, ok := next.(*health.Tracker); ok && r.apps == nil {
		// The tracker reads no data once its text heartbeats are
		// matched in the workers: the data need not leave them.
		text = t.TextMatcher()
		opts.DataUnused = t.Forwards() == nil
	}
	stage := func(n reassembly.Noter) wsparse.Sink {
		w := &noteWriter{Noter: n}
		d := newAppDecoder(w, mode)
		d.apps, d.beats = nil, nil
		if r.apps != nil {
			d.apps = w
		}
		if r.beats != nil {
			d.beats = w
		}
		d.text = text
		return d
	}
	var sess wsparse.Sink = newAppDecoder(next, mode)
	if exp, ok := next.(report.Exporter); ok {
		sess = newAppExporter(exp, mode)
	}
	j := fbjoin.NewSplit(r, sess)
	return joined{reassembly.NewParallelStage(j, opts, jobs, stage), j}
}

// noteWriter takes, in a worker, what the application decoder hands on
// besides records, as notes on the records.
type noteWriter struct{ reassembly.Noter }

// appsNote is the application messages of the message it is noted on.
type appsNote []appproto.App

func (w *noteWriter) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	w.Note(appsNote(apps))
	w.Noter.Message(c, m)
}

func (w *noteWriter) Beat(b health.Beat)             { w.Note(b) }
func (w *noteWriter) Negotiated(n health.Negotiated) { w.Note(n) }

// noteReader hands the notes of a noteWriter to the sink, as the
// application decoder would have: beats before their record, application
// messages with theirs. Connection numbers in beats are the worker's: the
// record's connection gives the real one.
type noteReader struct {
	wsparse.Sink
	apps  report.AppWriter
	beats health.BeatSink
	tls   reassembly.TLSSink

	pending appsNote
	hasApps bool
}

func (r *noteReader) Notes(c *wsparse.Conn, notes []any) {
	for _, n := range notes {
		switch v := n.(type) {
		case appsNote:
			r.pending, r.hasApps = v, true
		case health.Beat:
			v.Conn = c.ID
			r.beats.Beat(v)
		case health.Negotiated:
			v.Conn = c.ID
			r.beats.Negotiated(v)
		}
	}
}

func (r *noteReader) Message(c *wsparse.Conn, m *wsparse.Message) {
	if r.hasApps {
		apps := r.pending
		r.pending, r.hasApps = nil, false
		r.apps.MessageApps(c, m, apps)
		return
	}
	r.Sink.Message(c, m)
}

func (r *noteReader) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo) {
	if r.tls != nil {
		r.tls.TLSConn(c, ts, client, server, info)
	}
}
