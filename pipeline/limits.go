package pipeline

import (
	"io"

	"github.com/wsdump/wsdump/h2"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// Limits are the resource limits beyond --max-payload and --max-message:
// what one hostile capture may make wsdump hold. Every limit hit is an
// anomaly on the records it touches or a notice on stderr, never silent.
// Zero is the default.
type Limits struct {
	Connections  int // TCP connections held at once
	HTTPHeader   int // bytes of one HTTP head
	HeaderTotal  int // bytes of unfinished HTTP heads held by all connections together (each -j worker's)
	Pending      int // client bytes held while an upgrade is unanswered
	PendingTotal int // those bytes held by all connections together (each -j worker's)
	Sniff        int // bytes of one side searched for frames without a handshake
	SniffTotal   int // bytes kept by all those searches together (each -j worker's)
	Reorder      int // out-of-order bytes held per connection
	ReorderTotal int // out-of-order bytes held in all
	InflateRatio int // bytes inflated per byte read: gzip input, permessage-deflate per connection
	SpillAbove   int // bytes of open messages at rest held in memory, all connections together
}

// reassemblyPage is the size of gopacket's reassembly pages: out-of-order
// bytes are held in pages of up to this many bytes, one segment or more each.
const reassemblyPage = 1900

// The defaults of the limits.
const (
	DefaultMaxConnections = 100000
	DefaultMaxHTTPHeader  = 64 << 10
	DefaultMaxHeaderAll   = wsparse.DefaultMaxHTTPHeaderTotal
	DefaultMaxPending     = 1 << 20
	DefaultMaxPendingAll  = wsparse.DefaultMaxPendingTotal
	DefaultMaxSniff       = 256 << 10
	DefaultMaxSniffAll    = wsparse.DefaultMaxSniffTotal
	DefaultMaxReorder     = 8 << 20
	DefaultMaxReorderAll  = 128 << 20
	DefaultSpillAbove     = 16 << 20 // wsparse's default Config.SpillAbove
)

// Apply sets the limits in reassembly options.
func (l *Limits) Apply(o *reassembly.Options) {
	o.MaxConnections = l.Connections
	o.Decoder.MaxHTTPHeader = l.HTTPHeader
	o.Decoder.MaxHTTPHeaderTotal = l.HeaderTotal
	o.Decoder.MaxPending = l.Pending
	o.Decoder.MaxPendingTotal = l.PendingTotal
	o.Decoder.MaxSniff = l.Sniff
	o.Decoder.MaxSniffTotal = l.SniffTotal
	o.Decoder.MaxInflateRatio = l.InflateRatio
	o.Decoder.SpillAbove = l.SpillAbove
	o.MaxBufferedPagesPerConnection = pages(l.Reorder)
	o.MaxBufferedPagesTotal = pages(l.ReorderTotal)
}

func pages(bytes int) int {
	if bytes <= 0 {
		return 0 // the default
	}
	return (bytes + reassemblyPage - 1) / reassemblyPage
}

// Report writes a notice on w for each limit the capture ran into that no
// record shows (report.WriteLimitNotices).
func (l *Limits) Report(w io.Writer, st reassembly.Stats) { l.ReportNamed(w, st, "") }

// ReportNamed is Report for one of several captures a command reads each
// on its own (lint, diff), name in each notice ("" for none).
func (l *Limits) ReportNamed(w io.Writer, st reassembly.Stats, name string) {
	or := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	report.WriteLimitNotices(w, st, report.Limits{
		Connections: or(l.Connections, DefaultMaxConnections), Reorder: or(l.Reorder, DefaultMaxReorder),
		ReorderTotal: or(l.ReorderTotal, DefaultMaxReorderAll), HTTPHeader: or(l.HTTPHeader, DefaultMaxHTTPHeader), HeaderTotal: or(l.HeaderTotal, DefaultMaxHeaderAll),
		Pending: or(l.Pending, DefaultMaxPending), PendingTotal: or(l.PendingTotal, DefaultMaxPendingAll), InflateRatio: or(l.InflateRatio, wsparse.DefaultMaxInflateRatio),
		Sniff: or(l.Sniff, DefaultMaxSniff), SniffTotal: or(l.SniffTotal, DefaultMaxSniffAll), H2Streams: h2.DefaultMaxStreams, FallbackSessions: fallbackSessions, Name: name,
	})
}
