package report

import (
	"bufio"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/wsparse"
)

// WriteHealthJSONL writes wsdump conns --format jsonl: one "conn" record per connection, then one
// "client_group" record per reconnect group, then one "http2_conn" record
// per HTTP/2 connection. Field order is fixed and maps are never used, so
// output is deterministic. The conn record carries the fields of wsdump's
// main conn record (report package) plus session, close, ping and
// heartbeat objects.
//
// The records are appended field by field into one buffer, as
// encoding/json with SetEscapeHTML(false) wrote the structs that named
// them (health_jsonl_ref_test.go keeps those, and TestHealthJSONLAsEncoded
// holds the two to the same bytes): that took a third of `conns`' CPU on
// 100 000 connections, and its garbage made the collector run on the
// whole report for each few records.
func WriteHealthJSONL(w io.Writer, r *health.Report, o health.Options) error {
	return writeHealthJSONL(w, r, o, false, nil)
}

// writeHealthJSONL is WriteHealthJSONL; with release, each connection is
// dropped from r once written (ConnsView.Release); clock, when its
// clock jumped, adds the capture's clock_jump and clock_run records.
func writeHealthJSONL(w io.Writer, r *health.Report, o health.Options, release bool, clock *reassembly.Clock) error {
	o = o.WithDefaults()
	bw := bufio.NewWriter(w)
	var b []byte
	for i := range r.Len() {
		c := r.Conn(i)
		file := ""
		if r.SeveralFiles() {
			file = r.File(c)
		}
		b = appendConnJSON(b[:0], c, file)
		if release {
			r.Release(i)
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	for i, g := range r.Groups {
		b = appendGroupJSON(b[:0], i+1, g, o)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	for _, h := range r.HTTP2 {
		b = appendHTTP2JSON(b[:0], h)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if _, err := bw.Write(appendClockJSON(b[:0], clock)); err != nil {
		return err
	}
	return bw.Flush()
}

// appendHTTP2JSON appends an HTTP/2 connection's record (WebSockets over
// HTTP/2 are its streams' conn records).
func appendHTTP2JSON(b []byte, h *health.HTTP2Conn) []byte {
	b = append(b, `{"type":"http2_conn","conn":`...)
	b = strconv.AppendInt(b, int64(h.ID), 10)
	b = jtsField(b, "ts", h.End)
	b = addrPortJSON(b, "client", h.Client)
	b = addrPortJSON(b, "server", h.Server)
	b = jtsField(b, "first_ts", h.Start)
	b = jtsField(b, "last_ts", h.End)
	b = intField(b, "streams", h.Streams)
	b = intField(b, "websockets", h.WebSockets)
	b = intField(b, "requests", h.Requests)
	b = field(b, "request_bytes")
	b = strconv.AppendInt(b, h.RequestBytes, 10)
	if h.NotFollowed > 0 { // h2_streams_over_limit
		b = intField(b, "streams_not_followed", h.NotFollowed)
	}
	if h.SkippedBytes > 0 {
		b = uintField(b, "skipped_bytes", h.SkippedBytes)
	}
	if h.LostBytes > 0 {
		b = uintField(b, "lost_bytes", h.LostBytes)
	}
	if h.GoAway != "" {
		b = jsField(b, "goaway", h.GoAway)
	}
	b = anomaliesField(b, h.Anomalies)
	return append(b, '}', '\n')
}

// appendJTS appends a timestamp in the report package's format (RFC
// 3339, ns, UTC); the zero time is null.
func appendJTS(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return appendQuotedTS(b, t)
}

// appendSecs appends a duration in seconds with microsecond precision.
func appendSecs(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
}

// appendSecsOrNull appends d, or null when it is not set.
func appendSecsOrNull(b []byte, d time.Duration, set bool) []byte {
	if !set {
		return append(b, "null"...)
	}
	return appendSecs(b, d)
}

func jtsField(b []byte, name string, t time.Time) []byte { return appendJTS(field(b, name), t) }

func secsField(b []byte, name string, d time.Duration) []byte { return appendSecs(field(b, name), d) }

func intField(b []byte, name string, v int) []byte {
	return strconv.AppendInt(field(b, name), int64(v), 10)
}

func uintField(b []byte, name string, v uint64) []byte {
	return strconv.AppendUint(field(b, name), v, 10)
}

func boolField(b []byte, name string, v bool) []byte { return strconv.AppendBool(field(b, name), v) }

// jsField is strField as encoding/json writes the string (jsonNoHTML).
func jsField(b []byte, name, v string) []byte { return appendJSON(field(b, name), v, jsonNoHTML) }

// addrPortJSON is jsField for an address, written as String writes it
// without the string (a zone, any text, is escaped).
func addrPortJSON(b []byte, name string, a netip.AddrPort) []byte {
	if !a.IsValid() || a.Addr().Zone() != "" {
		return jsField(b, name, a.String())
	}
	return append(a.AppendTo(append(field(b, name), '"')), '"')
}

func appendInts(b []byte, v []int) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendConnJSON appends a connection's conn record.
// appendConnJSON appends c's conn record; file, when not "", is the
// input it was first seen in, of several read merged: after conn, stream
// and encap, where the main jsonl's records have it.
func appendConnJSON(b []byte, c *health.Conn, file string) []byte {
	b = append(b, `{"type":"conn","conn":`...)
	b = strconv.AppendInt(b, int64(connOf(c.ID)), 10)
	if s := c.Stream(); s != 0 {
		b = uintField(b, "stream", uint64(s)) // HTTP/2 stream (RFC 8441)
	}
	if c.Encap != "" {
		b = jsField(b, "encap", c.Encap)
	}
	if file != "" {
		b = jsField(b, "file", file)
	}
	b = jtsField(b, "ts", c.End)
	b = addrPortJSON(b, "client", c.Client)
	b = addrPortJSON(b, "server", c.Server)
	b = jtsField(b, "first_ts", c.Start)
	b = jtsField(b, "last_ts", c.End)
	b = secsField(b, "duration", c.Duration())
	b = jsField(b, "host", c.Host)
	b = jsField(b, "uri", c.URI)
	b = jsField(b, "path", c.Path)
	if c.Session != "" {
		b = jsField(b, "session", c.Session)
	}
	if c.Transport != "" { // a SockJS or Engine.IO session over HTTP
		b = jsField(b, "transport", c.Transport)
	}
	if len(c.HTTPConns) > 0 { // the TCP connections that carried it
		b = appendInts(field(b, "http_conns"), c.HTTPConns)
	}
	if c.HTTPRequests != 0 {
		b = intField(b, "http_requests", c.HTTPRequests)
	}
	if c.Midstream {
		b = boolField(b, "midstream", true)
	}
	b = intField(b, "status", c.Status)
	b = jsField(b, "subprotocol", c.Subprotocol)
	b = jsField(b, "extensions", c.Extensions)
	for d, name := range [2]string{"c2s", "s2c"} {
		st := &c.Stats[d]
		b = append(field(b, name), `{"frames":`...)
		b = strconv.AppendInt(b, int64(st.Frames), 10)
		b = intField(b, "messages", st.Messages)
		b = intField(b, "control_frames", st.ControlFrames)
		b = uintField(b, "payload_bytes", st.PayloadBytes)
		b = uintField(b, "wire_bytes", st.WireBytes)
		b = uintField(b, "lost_bytes", st.LostBytes)
		if st.SkippedBytes > 0 { // bytes not decoded: a fallback body over its bound, a resync
			b = uintField(b, "skipped_bytes", st.SkippedBytes)
		}
		if st.Urgent > 0 { // segments with the TCP URG flag: a byte the server may not have read
			b = intField(b, "urgent_segments", st.Urgent)
		}
		b = boolField(b, "tcp_fin", c.Close.TCPFin[d])
		b = boolField(b, "tcp_rst", c.Close.TCPRst[d])
		b = append(b, '}')
	}
	b = jsField(b, "end", string(c.Close.End))
	if c.Close.StreamEnd != "" { // how its HTTP/2 stream ended
		b = jsField(b, "stream_end", c.Close.StreamEnd)
	}
	b = appendCloseJSON(field(b, "close"), c)
	b = appendPingJSON(field(b, "ping"), c)
	b = append(field(b, "heartbeat"), '{')
	b = appendJSON(append(b, `"glance":`...), Glance(c), jsonNoHTML)
	b = append(b, `,"series":[`...)
	for i, s := range c.Heartbeats {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeriesJSON(b, s)
	}
	b = append(b, ']', '}')
	b = anomaliesField(b, c.Anomalies)
	return append(b, '}', '\n')
}

// appendCloseJSON appends how a connection closed.
func appendCloseJSON(b []byte, c *health.Conn) []byte {
	cl := &c.Close
	b = appendJSON(append(b, `{"end":`...), string(cl.End), jsonNoHTML)
	b = boolField(b, "clean", cl.Clean)
	b = field(b, "initiator")
	if cl.Initiator != "" {
		b = appendJSON(b, cl.Initiator, jsonNoHTML)
	} else {
		b = append(b, "null"...)
	}
	b = appendCloseFrameJSON(field(b, "client"), cl.Frames[wsparse.ClientToServer])
	b = appendCloseFrameJSON(field(b, "server"), cl.Frames[wsparse.ServerToClient])
	b = field(b, "close_delay")
	if x, y := cl.Frames[0], cl.Frames[1]; x != nil && y != nil {
		b = appendSecs(b, y.TS.Sub(x.TS).Abs())
	} else {
		b = append(b, "null"...)
	}
	b = boolField(b, "data_after_close", cl.DataAfterClose)
	if a := cl.App; a != nil {
		b = appendJTS(append(field(b, "app"), `{"ts":`...), a.TS)
		b = jsField(b, "text", a.Text)
		b = append(boolField(b, "failed", a.Failed), '}')
	}
	b = jsField(b, "summary", CloseText(c))
	return append(b, '}')
}

func appendCloseFrameJSON(b []byte, f *health.CloseFrame) []byte {
	if f == nil {
		return append(b, "null"...)
	}
	b = appendJTS(append(b, `{"ts":`...), f.TS)
	if f.HasCode {
		b = intField(b, "code", int(f.Code))
	}
	if f.Name != "" {
		b = jsField(b, "code_name", f.Name)
	}
	b = jsField(b, "reason", f.Reason)
	return append(b, '}')
}

// appendPingJSON appends the pings of each side that sent some, or had
// pongs unasked, keyed c2s and s2c.
func appendPingJSON(b []byte, c *health.Conn) []byte {
	b = append(b, '{')
	first := true
	for d := range c.Ping {
		p := &c.Ping[d]
		if p.Pings == 0 && p.Unsolicited == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, wsparse.Dir(d).String()...)
		b = append(b, `":{"pings":`...)
		b = strconv.AppendInt(b, int64(p.Pings), 10)
		b = intField(b, "answered", p.Answered)
		b = intField(b, "unanswered", p.Unanswered)
		b = intField(b, "unanswered_tail", p.UnansweredTail)
		b = jtsField(b, "unanswered_since", p.UnansweredSince)
		b = intField(b, "overdue_tail", p.OverdueTail)
		b = intField(b, "mismatched", p.Mismatched)
		b = intField(b, "unsolicited_pongs", p.Unsolicited)
		b = field(b, "rtt")
		if p.Answered > 0 {
			b = appendSecs(append(b, `{"min":`...), p.RTTMin)
			b = secsField(b, "median", p.RTTMedian)
			b = secsField(b, "p95", p.RTTP95)
			b = secsField(b, "max", p.RTTMax)
			b = append(b, '}')
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendSeriesJSON appends one heartbeat series.
func appendSeriesJSON(b []byte, s *health.Series) []byte {
	b = appendJSON(append(b, `{"kind":`...), s.Kind, jsonNoHTML)
	if s.Proto != "" {
		b = jsField(b, "proto", s.Proto)
	}
	if s.Key != "" {
		b = jsField(b, "key", s.Key)
	}
	b = jsField(b, "dir", s.Dir.String())
	b = intField(b, "count", s.Count)
	if s.Unmeasured != 0 {
		b = intField(b, "unmeasured", s.Unmeasured)
	}
	b = jtsField(b, "first_ts", s.First)
	b = jtsField(b, "last_ts", s.Last)
	b = appendSecsOrNull(field(b, "interval"), s.Interval, s.Interval > 0)
	b = jsField(b, "interval_source", s.IntervalSource)
	if s.Timeout > 0 {
		b = secsField(b, "timeout", s.Timeout)
	}
	b = secsField(b, "mean_interval", s.Mean)
	b = secsField(b, "jitter", s.Jitter)
	b = secsField(b, "max_gap", s.MaxGap)
	b = jtsField(b, "max_gap_ts", s.MaxGapAt)
	b = intField(b, "missed", s.Missed)
	b = intField(b, "timers", s.Timers)
	if len(s.TimerOffsets) > 0 {
		b = append(field(b, "timer_offsets"), '[')
		for i, o := range s.TimerOffsets {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSecs(b, o)
		}
		b = append(b, ']')
	}
	if s.Extra != 0 {
		b = intField(b, "extra", s.Extra)
	}
	b = append(field(b, "gaps"), '[')
	for i, g := range s.Gaps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJTS(append(b, `{"from_ts":`...), g.From)
		b = jtsField(b, "to_ts", g.To)
		b = secsField(b, "gap", g.Len())
		b = intField(b, "missed", g.Missed)
		b = boolField(b, "trailing", g.Trailing)
		if g.Open {
			b = boolField(b, "open_at_end", true)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	if s.GapsTruncated {
		b = boolField(b, "gaps_truncated", true)
	}
	if s.ClockSteps != 0 {
		b = intField(b, "clock_steps_back", s.ClockSteps)
	}
	return append(b, '}')
}

// appendGroupJSON appends the record of reconnect group n.
func appendGroupJSON(b []byte, n int, g *health.Group, o health.Options) []byte {
	b = append(b, `{"type":"client_group","group":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = field(b, "client_ip")
	if a := g.ClientIP; a.IsValid() && a.Zone() == "" {
		b = append(a.AppendTo(append(b, '"')), '"')
	} else {
		b = appendJSON(b, a.String(), jsonNoHTML)
	}
	b = addrPortJSON(b, "server", g.Server)
	b = jsField(b, "host", g.Host)
	b = jsField(b, "path", g.Path)
	if g.Encap() != "" {
		b = jsField(b, "encap", g.Encap())
	}
	b = intField(b, "attempts", len(g.Attempts)+g.Unlisted)
	if g.Unlisted != 0 {
		b = intField(b, "unlisted", g.Unlisted)
	}
	b = intField(b, "refused", g.Refused)
	b = intField(b, "failed", g.Failed)
	b = intField(b, "errors", g.Errors)
	if g.InFlight != 0 {
		b = intField(b, "in_flight", g.InFlight)
	}
	var first, last time.Time
	for _, a := range g.Attempts {
		if first.IsZero() || a.Start.Before(first) {
			first = a.Start
		}
		if a.End.After(last) {
			last = a.End
		}
	}
	b = jtsField(b, "first_ts", first)
	b = jtsField(b, "last_ts", last)
	b = secsField(b, "outage", g.Outage)
	b = intField(b, "outages", g.Outages)
	b = appendSecsOrNull(field(b, "down_at_end"), g.DownAtEnd, g.DownAtEnd > 0)
	b = intField(b, "max_parallel", g.MaxParallel)
	b = intField(b, "max_in_window", g.MaxInWindow)
	b = secsField(b, "storm_window", o.StormWindow)
	b = boolField(b, "storm", g.Storm)
	b = jsField(b, "backoff", g.Backoff)
	b = appendSecsOrNull(field(b, "backoff_interval"), g.BackoffInterval, g.BackoffInterval > 0)
	b = append(field(b, "timeline"), '[')
	for i, a := range g.Attempts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, `{"conn":`...), int64(connOf(a.Conn)), 10)
		if s := streamOf(a.Conn); s != 0 { // HTTP/2 stream (RFC 8441)
			b = uintField(b, "stream", uint64(s))
		}
		if len(a.Via) > 0 {
			b = appendInts(field(b, "via"), a.Via)
		}
		b = jtsField(b, "start_ts", a.Start)
		b = jtsField(b, "end_ts", a.End)
		b = intField(b, "status", a.Status)
		b = jsField(b, "outcome", a.Outcome)
		if a.Session != "" {
			b = jsField(b, "session", a.Session)
		}
		b = appendSecsOrNull(field(b, "after"), a.After, a.HasAfter)
		if a.Concurrent {
			b = boolField(b, "concurrent", true)
		}
		if a.Retry {
			b = boolField(b, "retry", true)
		}
		if a.HasOutage {
			b = secsField(b, "outage", a.Outage)
		}
		if a.InFlight {
			b = boolField(b, "in_flight", true)
		}
		b = append(b, '}')
	}
	return append(b, ']', '}', '\n')
}

// connOf is the connection number of a Conn.ID (without its HTTP/2 stream).
func connOf(id int) int {
	conn, _ := wsparse.SplitID(id)
	return conn
}

// streamOf is the HTTP/2 stream of a Conn.ID (0: none).
func streamOf(id int) uint32 {
	_, s := wsparse.SplitID(id)
	return s
}
