package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/wsparse"
)

// addLimitFlags registers the resource limits beyond --max-payload and
// --max-message (pipeline.Limits: applied to the reassembly, reported on
// stderr).
func addLimitFlags(f *pflag.FlagSet, l *pipeline.Limits) {
	f.Var(newLimit(&l.Connections, pipeline.DefaultMaxConnections), "max-connections", "TCP connections held at once; past it a tenth are evicted (finished and half-open first, WebSocket ones last, with their state kept)")
	f.Var(newLimit(&l.HTTPHeader, pipeline.DefaultMaxHTTPHeader), "max-http-header", "bytes of one HTTP head kept; the rest of a longer one is skipped up to its end")
	f.Var(newLimit(&l.HeaderTotal, pipeline.DefaultMaxHeaderAll), "max-http-header-total", "bytes of unfinished HTTP heads held by all connections together (divided among the -j workers); past it, the head whose bytes pass it is handled as over --max-http-header")
	f.Var(newLimit(&l.Pending, pipeline.DefaultMaxPending), "max-pending", "client bytes held while an upgrade request is unanswered")
	f.Var(newLimit(&l.PendingTotal, pipeline.DefaultMaxPendingAll), "max-pending-total", "client bytes held while upgrade requests are unanswered, all connections together (divided among the -j workers); past it, the connection whose bytes pass it is handled as over --max-pending")
	f.Var(newLimit(&l.Sniff, pipeline.DefaultMaxSniff), "max-sniff", "bytes of one direction searched for WebSocket frames when there is no handshake; after a gap, the bytes kept while the search goes on")
	f.Var(newLimit(&l.SniffTotal, pipeline.DefaultMaxSniffAll), "max-sniff-total", "bytes kept by the searches for WebSocket frames of all connections together (divided among the -j workers); past it, the search whose bytes pass it keeps only its last 1052 bytes, frames that leave them counted as skipped")
	f.Var(newLimit(&l.Reorder, pipeline.DefaultMaxReorder), "max-reorder", "out-of-order bytes held per connection waiting for a lost segment (then counted as lost)")
	f.Var(newLimit(&l.ReorderTotal, pipeline.DefaultMaxReorderAll), "max-reorder-total", "out-of-order bytes held in all connections together")
	f.Var(newLimit(&l.SpillAbove, pipeline.DefaultSpillAbove), "spill-above", "bytes of unfinished messages between their frames and of permessage-deflate windows between messages held in memory, all connections together; past it, one (a message of up to 64 KiB) waits in a temporary file ($TMPDIR, removed at once) until its connection's next frame or end")
	f.Var(newLimit(&l.InflateRatio, wsparse.DefaultMaxInflateRatio), "max-inflate-ratio", "bytes inflated per byte read, for a gzip capture and for each connection's permessage-deflate messages (decompression bombs)")
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
