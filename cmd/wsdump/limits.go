package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// limitFlags are the resource limits beyond --max-payload and --max-message:
// what one hostile capture may make wsdump hold. Every limit hit is an
// anomaly on the records it touches or a notice on stderr, never silent.
type limitFlags struct {
	Connections  int // TCP connections held at once
	HTTPHeader   int // bytes of one HTTP head
	Pending      int // client bytes held while an upgrade is unanswered
	Sniff        int // bytes of one side searched for frames without a handshake
	Reorder      int // out-of-order bytes held per connection
	ReorderTotal int // out-of-order bytes held in all
	InflateRatio int // bytes inflated per byte read: gzip input, permessage-deflate per connection
}

// reassemblyPage is the size of gopacket's reassembly pages: out-of-order
// bytes are held in pages of up to this many bytes, one segment or more each.
const reassemblyPage = 1900

const (
	defaultMaxConnections = 100000
	defaultMaxHTTPHeader  = 64 << 10
	defaultMaxPending     = 1 << 20
	defaultMaxSniff       = 256 << 10
	defaultMaxReorder     = 8 << 20
	defaultMaxReorderAll  = 128 << 20
)

// addLimitFlags registers the limit flags.
func addLimitFlags(f *pflag.FlagSet, l *limitFlags) {
	f.Var(newLimit(&l.Connections, defaultMaxConnections), "max-connections", "TCP connections held at once; past it a tenth are evicted (finished and half-open first, WebSocket ones last, with their state kept)")
	f.Var(newLimit(&l.HTTPHeader, defaultMaxHTTPHeader), "max-http-header", "bytes of one HTTP head kept; the rest of a longer one is skipped up to its end")
	f.Var(newLimit(&l.Pending, defaultMaxPending), "max-pending", "client bytes held while an upgrade request is unanswered")
	f.Var(newLimit(&l.Sniff, defaultMaxSniff), "max-sniff", "bytes of one direction searched for WebSocket frames when there is no handshake; after a gap, the bytes kept while the search goes on")
	f.Var(newLimit(&l.Reorder, defaultMaxReorder), "max-reorder", "out-of-order bytes held per connection waiting for a lost segment (then counted as lost)")
	f.Var(newLimit(&l.ReorderTotal, defaultMaxReorderAll), "max-reorder-total", "out-of-order bytes held in all connections together")
	f.Var(newLimit(&l.InflateRatio, wsparse.DefaultMaxInflateRatio), "max-inflate-ratio", "bytes inflated per byte read, for a gzip capture and for each connection's permessage-deflate messages (decompression bombs)")
}

// apply sets the limits in reassembly options.
func (l *limitFlags) apply(o *reassembly.Options) {
	o.MaxConnections = l.Connections
	o.Decoder.MaxHTTPHeader = l.HTTPHeader
	o.Decoder.MaxPending = l.Pending
	o.Decoder.MaxSniff = l.Sniff
	o.Decoder.MaxInflateRatio = l.InflateRatio
	o.MaxBufferedPagesPerConnection = pages(l.Reorder)
	o.MaxBufferedPagesTotal = pages(l.ReorderTotal)
}

func pages(bytes int) int {
	if bytes <= 0 {
		return 0 // the default
	}
	return (bytes + reassemblyPage - 1) / reassemblyPage
}

// report writes a notice on stderr for each limit the capture ran into
// that no record shows (report.WriteLimitNotices).
func (l *limitFlags) report(w io.Writer, st reassembly.Stats) {
	or := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	report.WriteLimitNotices(w, st, report.Limits{
		Connections: or(l.Connections, defaultMaxConnections), Reorder: or(l.Reorder, defaultMaxReorder),
		ReorderTotal: or(l.ReorderTotal, defaultMaxReorderAll), HTTPHeader: or(l.HTTPHeader, defaultMaxHTTPHeader),
		Pending: or(l.Pending, defaultMaxPending), InflateRatio: or(l.InflateRatio, wsparse.DefaultMaxInflateRatio),
		Sniff: or(l.Sniff, defaultMaxSniff),
	})
}

// limitValue is a byte or count limit flag: a non-negative integer, 0 for
// the default.
type limitValue struct{ p *int }

func newLimit(p *int, def int) *limitValue {
	*p = def
	return &limitValue{p}
}

func (v *limitValue) String() string { return strconv.Itoa(*v.p) }
func (v *limitValue) Type() string   { return "N" }

func (v *limitValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a non-negative number", s)
	}
	*v.p = n
	return nil
}
