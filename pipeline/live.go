package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/fbjoin"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"

	"github.com/wsdump/wsdump/internal/text"
)

// Live is a live capture's run: what to open, where the records go.
type Live struct {
	Open     func(capture.LiveOptions) (capture.LiveSource, error) // nil: capture.OpenLive
	Capture  capture.LiveOptions
	Exporter report.Exporter
	Count    int  // -c: stop after this many frames (messages with Messages); 0: no limit
	Messages bool // -c counts messages
	Duration time.Duration
	Write    string   // -w: also write the packets to this pcapng file
	KeyLogs  []string // --keylog files, loaded once the capture runs
	Options  reassembly.Options
	Limits   Limits
	Ready    func() // called once packets are being read and signals are caught (tests)
	Err      io.Writer
}

// LiveLateWait is how long a live capture waits for a segment the
// network lost: five retransmissions backing off from 200 ms come within
// about 6 s.
const LiveLateWait = 10 * time.Second

// LiveAssembler is the assembler of a live capture: one goroutine, flushed
// by Tick when the capture is idle, with the fallback sessions joined.
type LiveAssembler struct {
	*reassembly.Assembler
	j *fbjoin.Joiner
}

// NewLive returns the live assembler in front of sink. A hole the
// receiver waits on holds the connection's later records back: live, for
// at most LiveLateWait (unless opts says), not a file's 120 s.
func NewLive(sink record.Sink, opts reassembly.Options) LiveAssembler {
	j := newJoiner(sink, sink) // SockJS and Engine.IO sessions over HTTP, as with -r
	if opts.LateWait <= 0 {
		opts.LateWait = LiveLateWait
	}
	return LiveAssembler{reassembly.New(j, opts), j}
}

// Finish ends every connection, then the fallback sessions.
func (a LiveAssembler) Finish() {
	a.Assembler.Finish()
	a.j.Finish()
}

// Stats are the reassembly's counts with the joiner's.
func (a LiveAssembler) Stats() reassembly.Stats { return withJoiner(a.Assembler.Stats(), a.j) }

// RunLive captures and writes records as they are decoded, until ctx
// ends, Ctrl-C, SIGTERM, Count or Duration; then it ends every connection
// (writing their summaries) and reports the kernel's counters on Err. A
// stop by signal is a success. The open error is returned as it is
// (capture.UnknownInterfaceError among them); a failed write of the output
// or of the -w file is a *WriteError.
func RunLive(ctx context.Context, l *Live) error {
	exp := l.Exporter
	open := l.Open
	if open == nil {
		open = capture.OpenLive
	}
	src, err := open(l.Capture)
	if err != nil {
		return err
	}
	defer src.Close()

	var pw *capture.PcapngWriter
	if l.Write != "" {
		wf, err := os.Create(l.Write)
		if err != nil {
			return fmt.Errorf("-w: %w", err)
		}
		defer wf.Close()
		pw, err = capture.NewPcapngWriter(wf, capture.PcapngWriterOptions{Interface: l.Capture.Interface, Filter: l.Capture.Filter.String()})
		if err != nil {
			return fmt.Errorf("-w: %w", err)
		}
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if l.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Duration)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		src.Close() // wakes Next, which returns io.EOF
	}()

	desc := ""
	if !l.Capture.Filter.IsZero() {
		desc = ", filter " + l.Capture.Filter.String()
	}
	fmt.Fprintf(l.Err, "wsdump: listening on %s, link-type %s%s (Ctrl-C to stop)\n", l.Capture.Interface, src.LinkType(), desc)

	keys, err := LoadKeys(l.KeyLogs, l.Err)
	if err != nil {
		return err
	}
	opts := l.Options
	opts.Keys = keys
	sink := &liveSink{Exporter: exp, limit: l.Count, messages: l.Messages}
	asm := NewLive(sink, opts)
	if l.Ready != nil {
		l.Ready()
	}
	start := time.Now()
	var packets uint64
	var readErr, writeErr error
	for !sink.full() {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if p.Idle() {
			asm.Tick(p.Timestamp)
			if pw != nil {
				writeErr = pw.Flush()
			}
		} else {
			if pw != nil {
				writeErr = pw.WritePacket(p)
			}
			if packets == 0 {
				exp.SetOrigin(p.Timestamp)
			}
			packets++
			asm.Packet(uint32(p.Link), p.Data, p.Timestamp, p.Length)
		}
		if sink.dirty {
			sink.dirty = false
			if exp.Flush() != nil {
				break // Close below returns the error
			}
		}
		if writeErr != nil {
			break
		}
	}
	src.Close()
	received, dropped := src.Stats()
	asm.Finish()
	l.Limits.Report(l.Err, asm.Stats())
	outErr := exp.Close()
	if pw != nil && writeErr == nil {
		pw.WriteStats(start, time.Now(), received, dropped)
		writeErr = pw.Close()
	}
	fmt.Fprintf(l.Err, "wsdump: %s captured, %d received by filter, %d dropped by kernel\n", text.Plural(int(packets), "packet"), received, dropped)

	switch {
	case outErr != nil:
		return &WriteError{outErr}
	case writeErr != nil:
		return &WriteError{fmt.Errorf("-w %s: %w", l.Write, writeErr)}
	}
	return readErr
}

// liveSink passes records on, counting frames (or messages) for -c: past
// the limit only connection summaries pass.
type liveSink struct {
	report.Exporter
	limit       int // 0: no limit
	messages    bool
	n           int
	lastDropped bool // the last frame was past the limit: so is its message
	dirty       bool // something was written since the last flush
}

func (s *liveSink) full() bool { return s.limit > 0 && s.n >= s.limit }

// Put passes records on, counting frames (or messages) for -c.
func (s *liveSink) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		if s.full() {
			return
		}
	case record.Frame:
		s.lastDropped = s.full()
		if s.lastDropped {
			return
		}
		if !s.messages {
			defer func() { s.n++ }()
		}
	case record.Message:
		if s.messages && s.full() || !s.messages && s.lastDropped {
			return
		}
		if s.messages {
			defer func() { s.n++ }()
		}
	case record.End:
	default:
		s.Exporter.Put(r)
		return
	}
	s.dirty = true
	s.Exporter.Put(r)
}
