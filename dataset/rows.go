package dataset

import (
	"encoding/hex"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// The rows of the six datasets. Column names are the jsonl field names
// (README, JSON lines; wsdump conns --format jsonl for heartbeats and
// reconnect groups); capture is added to every row: conn numbers restart
// at 1 in every run, (capture, conn) is a connection across a dataset.
// Times are TIMESTAMP(NANOS, isAdjustedToUTC), null where the jsonl has
// null or the zero time; durations are DOUBLE seconds as in the jsonl;
// a field the jsonl leaves out is null.

type handshakeRow struct {
	Capture           string        `parquet:"capture,dict"`
	Conn              int64         `parquet:"conn"`
	Stream            *int64        `parquet:"stream,optional"` // the HTTP/2 stream of an RFC 8441 WebSocket
	TS                *time.Time    `parquet:"ts,timestamp(nanosecond:utc)"`
	Client            string        `parquet:"client,dict"`
	Server            string        `parquet:"server,dict"`
	RequestTS         *time.Time    `parquet:"request_ts,timestamp(nanosecond:utc)"`
	Method            string        `parquet:"method,dict"`
	URI               string        `parquet:"uri,dict"`
	HTTPVersion       string        `parquet:"http_version,dict"`
	Host              string        `parquet:"host,dict"`
	Origin            string        `parquet:"origin,dict"`
	UserAgent         string        `parquet:"user_agent,dict"`
	Version           string        `parquet:"version,dict"`
	OfferedProtocols  string        `parquet:"offered_protocols,dict"`
	OfferedExtensions string        `parquet:"offered_extensions,dict"`
	Status            int32         `parquet:"status"`
	Reason            string        `parquet:"reason,dict"`
	Subprotocol       string        `parquet:"subprotocol,dict"`
	Extensions        string        `parquet:"extensions,dict"`
	Transport         *string       `parquet:"transport,optional"` // a SockJS or Engine.IO session over HTTP: its carrier
	Key               string        `parquet:"key"`
	Accept            string        `parquet:"accept"`
	AcceptValid       bool          `parquet:"accept_valid"`
	Deflate           *deflateGroup `parquet:"deflate,optional"`
	TLS               *tlsGroup     `parquet:"tls,optional"`
	Anomalies         []string      `parquet:"anomalies,list"`
	Encap             *string       `parquet:"encap,optional,dict"` // what carried the connection (jsonl encap); last: files without it read as before
}

type deflateGroup struct {
	ServerNoContextTakeover bool  `parquet:"server_no_context_takeover"`
	ClientNoContextTakeover bool  `parquet:"client_no_context_takeover"`
	ServerMaxWindowBits     int32 `parquet:"server_max_window_bits"`
	ClientMaxWindowBits     int32 `parquet:"client_max_window_bits"`
}

type tlsGroup struct {
	Version     string   `parquet:"version"`
	Cipher      string   `parquet:"cipher"`
	SNI         string   `parquet:"sni"`
	ALPN        string   `parquet:"alpn"`
	ALPNOffered []string `parquet:"alpn_offered,list"`
	Decrypted   bool     `parquet:"decrypted"`
	Error       *string  `parquet:"error,optional"`
	// The failure that stopped decryption partway where Error is an
	// earlier one decryption went on past (jsonl tls.stop_error).
	StopError *string `parquet:"stop_error,optional"`
	// TLS 1.2 renegotiations begun inside the encrypted channel (jsonl
	// tls.renegotiations, there only where there were).
	Renegotiations int64 `parquet:"renegotiations"`
	// Of them, those after an HTTP/2 connection's preface (RFC 9113
	// §9.2.1 forbids them: the anomaly h2_tls_renegotiation; jsonl
	// tls.h2_renegotiations, there only where there were).
	H2Renegotiations int64 `parquet:"h2_renegotiations"`
	ClientBytes      int64 `parquet:"client_bytes"`
	ServerBytes      int64 `parquet:"server_bytes"`
	// Of them, bytes searched for a record boundary after a loss inside
	// a record and not decoded (jsonl tls.client_skipped/server_skipped,
	// there only where there were: the anomaly tls_record_resync).
	ClientSkipped int64 `parquet:"client_skipped"`
	ServerSkipped int64 `parquet:"server_skipped"`
}

type frameRow struct {
	Capture     string     `parquet:"capture,dict"`
	Conn        int64      `parquet:"conn"`
	Stream      *int64     `parquet:"stream,optional"` // the HTTP/2 stream of an RFC 8441 WebSocket
	TS          *time.Time `parquet:"ts,timestamp(nanosecond:utc)"`
	Src         string     `parquet:"src,dict"`
	Dst         string     `parquet:"dst,dict"`
	Dir         string     `parquet:"dir,dict"`
	Index       int64      `parquet:"index"`
	Fin         bool       `parquet:"fin"`
	RSV         int32      `parquet:"rsv"`
	Opcode      int32      `parquet:"opcode"`
	OpcodeName  string     `parquet:"opcode_name,dict"`
	Masked      bool       `parquet:"masked"`
	MaskKey     *string    `parquet:"mask_key,optional"`
	Len         int64      `parquet:"len"`
	HeaderLen   int32      `parquet:"header_len"`
	Payload     []byte     `parquet:"payload"`
	PayloadKept *int64     `parquet:"payload_kept,optional"`
	CloseCode   *int32     `parquet:"close_code,optional"`
	CloseReason *string    `parquet:"close_reason,optional"`
	Anomalies   []string   `parquet:"anomalies,list"`
	Encap       *string    `parquet:"encap,optional,dict"` // what carried the connection (jsonl encap); last: files without it read as before
}

type messageRow struct {
	Capture    string     `parquet:"capture,dict"`
	Conn       int64      `parquet:"conn"`
	Stream     *int64     `parquet:"stream,optional"` // the HTTP/2 stream of an RFC 8441 WebSocket
	TS         *time.Time `parquet:"ts,timestamp(nanosecond:utc)"`
	Dir        string     `parquet:"dir,dict"`
	Index      int64      `parquet:"index"`
	Opcode     int32      `parquet:"opcode"`
	Frames     int64      `parquet:"frames"`
	Len        *int64     `parquet:"len,optional"`
	Data       []byte     `parquet:"data"`
	DataKept   *int64     `parquet:"data_kept,optional"`
	Compressed bool       `parquet:"compressed"`
	WireLen    *int64     `parquet:"wire_len,optional"`
	Transport  *string    `parquet:"transport,optional"` // the HTTP fallback carrier (xhr-streaming, polling, ...), null on a WebSocket
	// App is the jsonl's "app" array as JSON text (null: none decoded):
	// its objects' "fields" differ by protocol and message type.
	App       *string  `parquet:"app,optional"`
	Anomalies []string `parquet:"anomalies,list"`
	Encap     *string  `parquet:"encap,optional,dict"` // what carried the connection (jsonl encap); last: files without it read as before
}

type dirGroup struct {
	Frames              int64    `parquet:"frames"`
	Messages            int64    `parquet:"messages"`
	ControlFrames       int64    `parquet:"control_frames"`
	PayloadBytes        int64    `parquet:"payload_bytes"`
	WireBytes           int64    `parquet:"wire_bytes"`
	LostBytes           int64    `parquet:"lost_bytes"`
	SkippedBytes        int64    `parquet:"skipped_bytes"`
	Resyncs             int64    `parquet:"resyncs"`
	RetransmitConflicts *int64   `parquet:"retransmit_conflicts,optional"`
	CompressedMessages  *int64   `parquet:"compressed_messages,optional"`
	CompressedBytes     *int64   `parquet:"compressed_bytes,optional"`
	InflatedBytes       *int64   `parquet:"inflated_bytes,optional"`
	CompressionRatio    *float64 `parquet:"compression_ratio,optional"`
	TCPFin              bool     `parquet:"tcp_fin"`
	TCPRst              bool     `parquet:"tcp_rst"`
	UrgentSegments      *int64   `parquet:"urgent_segments,optional"` // last: files without it read as before
}

type closeSide struct {
	TS       *time.Time `parquet:"ts,timestamp(nanosecond:utc)"`
	Code     *int32     `parquet:"code,optional"`
	CodeName *string    `parquet:"code_name,optional"`
	Reason   *string    `parquet:"reason,optional"`
}

type closeGroup struct {
	Initiator string     `parquet:"initiator"`
	Client    *closeSide `parquet:"client,optional"`
	Server    *closeSide `parquet:"server,optional"`
}

type connRow struct {
	Capture       string      `parquet:"capture,dict"`
	Conn          int64       `parquet:"conn"`
	Stream        *int64      `parquet:"stream,optional"` // the HTTP/2 stream of an RFC 8441 WebSocket
	TS            *time.Time  `parquet:"ts,timestamp(nanosecond:utc)"`
	Client        string      `parquet:"client,dict"`
	Server        string      `parquet:"server,dict"`
	FirstTS       *time.Time  `parquet:"first_ts,timestamp(nanosecond:utc)"`
	LastTS        *time.Time  `parquet:"last_ts,timestamp(nanosecond:utc)"`
	Duration      float64     `parquet:"duration"`
	HandshakeSeen bool        `parquet:"handshake_seen"`
	TLS           *tlsGroup   `parquet:"tls,optional"`
	Confidence    string      `parquet:"confidence,dict"`
	Host          *string     `parquet:"host,optional,dict"`
	URI           *string     `parquet:"uri,optional,dict"`
	Status        *int32      `parquet:"status,optional"`
	Subprotocol   *string     `parquet:"subprotocol,optional,dict"`
	Extensions    *string     `parquet:"extensions,optional,dict"`
	C2S           dirGroup    `parquet:"c2s"`
	S2C           dirGroup    `parquet:"s2c"`
	Close         *closeGroup `parquet:"close,optional"`
	End           string      `parquet:"end,dict"`
	StreamEnd     *string     `parquet:"stream_end,optional,dict"` // how an RFC 8441 WebSocket's HTTP/2 stream ended
	HTTP2         *http2Group `parquet:"http2,optional"`           // an HTTP/2 connection not wholly followed (end not_websocket)
	Anomalies     []string    `parquet:"anomalies,list"`
	Encap         *string     `parquet:"encap,optional,dict"` // what carried the connection (jsonl encap); last: files without it read as before
	File          *string     `parquet:"file,optional,dict"`  // the input file it was first seen in (-e file; null: standard input); after encap, as it
}

// http2Group is the jsonl conn record's "http2": what an HTTP/2
// connection carried, on the row of one wsdump did not wholly follow.
type http2Group struct {
	Streams            int64   `parquet:"streams"`
	Requests           int64   `parquet:"requests"`
	RequestBytes       *int64  `parquet:"request_bytes,optional"`
	WebSockets         int64   `parquet:"websockets"`
	StreamsNotFollowed *int64  `parquet:"streams_not_followed,optional"`
	GoAway             *string `parquet:"goaway,optional"`
}

// heartbeatRow is one series of conns --format jsonl's
// conn.heartbeat.series, with its connection.
type heartbeatRow struct {
	Capture        string     `parquet:"capture,dict"`
	Conn           int64      `parquet:"conn"`
	Stream         *int64     `parquet:"stream,optional"` // the HTTP/2 stream of an RFC 8441 WebSocket
	Kind           string     `parquet:"kind,dict"`
	Proto          string     `parquet:"proto,dict"`
	Key            string     `parquet:"key,dict"`
	Dir            string     `parquet:"dir,dict"`
	Count          int64      `parquet:"count"`
	Unmeasured     int64      `parquet:"unmeasured"`
	FirstTS        *time.Time `parquet:"first_ts,timestamp(nanosecond:utc)"`
	LastTS         *time.Time `parquet:"last_ts,timestamp(nanosecond:utc)"`
	Interval       *float64   `parquet:"interval,optional"`
	IntervalSource string     `parquet:"interval_source,dict"`
	Timeout        *float64   `parquet:"timeout,optional"`
	MeanInterval   float64    `parquet:"mean_interval"`
	Jitter         float64    `parquet:"jitter"`
	MaxGap         float64    `parquet:"max_gap"`
	MaxGapTS       *time.Time `parquet:"max_gap_ts,timestamp(nanosecond:utc)"`
	Missed         int64      `parquet:"missed"`
	Timers         int64      `parquet:"timers"`
	TimerOffsets   []float64  `parquet:"timer_offsets,list"`
	Extra          int64      `parquet:"extra"`
	Gaps           []gapRow   `parquet:"gaps,list"`
	GapsTruncated  bool       `parquet:"gaps_truncated"`
	Encap          *string    `parquet:"encap,optional,dict"` // what carried the connection (conns jsonl encap); last: files without it read as before
}

type gapRow struct {
	FromTS   *time.Time `parquet:"from_ts,timestamp(nanosecond:utc)"`
	ToTS     *time.Time `parquet:"to_ts,timestamp(nanosecond:utc)"`
	Gap      float64    `parquet:"gap"`
	Missed   int64      `parquet:"missed"`
	Trailing bool       `parquet:"trailing"`
}

// groupRow is conns --format jsonl's client_group record.
type groupRow struct {
	Capture         string       `parquet:"capture,dict"`
	Group           int64        `parquet:"group"`
	ClientIP        string       `parquet:"client_ip,dict"`
	Server          string       `parquet:"server,dict"`
	Host            string       `parquet:"host,dict"`
	Path            string       `parquet:"path,dict"`
	Attempts        int64        `parquet:"attempts"`
	Unlisted        int64        `parquet:"unlisted"`
	Refused         int64        `parquet:"refused"`
	Failed          int64        `parquet:"failed"`
	Errors          int64        `parquet:"errors"`
	FirstTS         *time.Time   `parquet:"first_ts,timestamp(nanosecond:utc)"`
	LastTS          *time.Time   `parquet:"last_ts,timestamp(nanosecond:utc)"`
	Outage          float64      `parquet:"outage"`
	Outages         int64        `parquet:"outages"`
	DownAtEnd       *float64     `parquet:"down_at_end,optional"`
	MaxParallel     int64        `parquet:"max_parallel"`
	MaxInWindow     int64        `parquet:"max_in_window"`
	StormWindow     float64      `parquet:"storm_window"`
	Storm           bool         `parquet:"storm"`
	Backoff         string       `parquet:"backoff,dict"`
	BackoffInterval *float64     `parquet:"backoff_interval,optional"`
	Timeline        []attemptRow `parquet:"timeline,list"`
	InFlight        int64        `parquet:"in_flight"`           // the attempts in flight at the capture's end (jsonl in_flight, absent there when 0)
	Encap           *string      `parquet:"encap,optional,dict"` // the tenant its connections came in (jsonl encap); last: files without it read as before
}

type attemptRow struct {
	Conn       int64      `parquet:"conn"`
	Via        []int64    `parquet:"via,list"`
	StartTS    *time.Time `parquet:"start_ts,timestamp(nanosecond:utc)"`
	EndTS      *time.Time `parquet:"end_ts,timestamp(nanosecond:utc)"`
	Status     int32      `parquet:"status"`
	Outcome    string     `parquet:"outcome"`
	Session    string     `parquet:"session"`
	After      *float64   `parquet:"after,optional"`
	Concurrent bool       `parquet:"concurrent"`
	Retry      bool       `parquet:"retry"`
	Outage     *float64   `parquet:"outage,optional"`
	InFlight   bool       `parquet:"in_flight"` // in flight at the capture's end (health.Attempt.InFlight)
}

// minTS and maxTS bound what TIMESTAMP(NANOS) holds (int64 nanoseconds
// since 1970): a time outside, or the zero time, is null.
var (
	minTS = time.Unix(0, -1<<63+1)
	maxTS = time.Unix(0, 1<<63-1)
)

// ts is t for a timestamp column: nil when zero or not representable.
func ts(t time.Time) *time.Time {
	if t.IsZero() || t.Before(minTS) || t.After(maxTS) {
		return nil
	}
	u := t.UTC()
	return &u
}

func ptr[T any](v T) *T { return &v }

// secs is d in seconds as the jsonl has it, to the microsecond: the
// nearest double to its six decimals, so that SQL engines show what the
// jsonl says (an outage of 1.5207 s was 1.5207000000000002, d.Seconds()).
// The jsonl's decimals themselves, parsed: d.Round(time.Microsecond)
// rounds a half microsecond away from zero where they may not (3 500 ns
// is 0.000003 in the jsonl, 0.000004 rounded so).
func secs(d time.Duration) float64 {
	var buf [32]byte
	v, _ := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], d.Seconds(), 'f', 6, 64)), 64)
	return v
}

func anomalies(a wsparse.Anomalies) []string {
	var s []string
	a.Each(func(name string) { s = append(s, name) })
	return s
}

func tlsOf(t *wsparse.TLSInfo) *tlsGroup {
	if t == nil {
		return nil
	}
	g := &tlsGroup{Version: t.Version, Cipher: t.Cipher, SNI: t.SNI, ALPN: t.ALPN, ALPNOffered: t.Offered,
		Decrypted: t.Decrypted, Renegotiations: int64(t.Renegotiations), H2Renegotiations: int64(t.H2Renegotiations), ClientBytes: t.Bytes[0], ServerBytes: t.Bytes[1],
		ClientSkipped: t.Skipped[0], ServerSkipped: t.Skipped[1]}
	if t.Error != "" {
		g.Error = ptr(t.Error)
	}
	if t.Stopped && t.StopError != "" && t.StopError != t.Error { // (as report's jsonl)
		g.StopError = ptr(t.StopError)
	}
	return g
}

func handshakeOf(capture string, c *wsparse.Conn, h *wsparse.Handshake) handshakeRow {
	r := handshakeRow{
		Capture: capture, Conn: connOnly(c.ID), Stream: streamOf(c.ID), TS: ts(h.TS), Client: c.Client().String(), Server: c.Server().String(),
		RequestTS: ts(h.RequestTS), Method: h.Method, URI: h.URI, HTTPVersion: h.HTTPVersion, Host: h.Host,
		Origin: h.Origin, UserAgent: h.UserAgent, Version: h.Version, OfferedProtocols: h.OfferedProtocols,
		OfferedExtensions: h.OfferedExtensions, Status: int32(h.Status), Reason: h.Reason,
		Subprotocol: h.Subprotocol, Extensions: h.Extensions, Key: h.Key, Accept: h.Accept, Transport: optString(h.Transport),
		AcceptValid: h.AcceptValid, TLS: tlsOf(h.TLS), Anomalies: anomalies(h.Anomalies), Encap: optString(c.Encap()),
	}
	if h.Deflate {
		p := h.DeflateParams
		r.Deflate = &deflateGroup{p.ServerNoContextTakeover, p.ClientNoContextTakeover,
			int32(p.ServerMaxWindowBits), int32(p.ClientMaxWindowBits)}
	}
	return r
}

func frameOf(capture string, c *wsparse.Conn, f *wsparse.Frame) frameRow {
	src, dst := c.Client(), c.Server()
	if f.Dir == wsparse.ServerToClient {
		src, dst = dst, src
	}
	r := frameRow{
		Capture: capture, Conn: connOnly(c.ID), Stream: streamOf(c.ID), TS: ts(f.TS), Src: src.String(), Dst: dst.String(), Dir: f.Dir.String(),
		Index: int64(f.Index), Fin: f.Fin, RSV: int32(f.RSV), Opcode: int32(f.Opcode), OpcodeName: f.Opcode.String(),
		Masked: f.Masked, Len: int64(f.Length), HeaderLen: int32(f.Size), Payload: f.Payload,
		Anomalies: anomalies(f.Anomalies), Encap: encapOf(c),
	}
	if r.Payload == nil {
		r.Payload = []byte{}
	}
	if f.Masked {
		r.MaskKey = ptr(hex.EncodeToString(f.MaskKey[:]))
	}
	if uint64(len(f.Payload)) != f.Length {
		r.PayloadKept = ptr(int64(len(f.Payload)))
	}
	if f.Opcode == wsparse.OpClose && f.HasCloseCode {
		r.CloseCode = ptr(int32(f.CloseCode))
		r.CloseReason = ptr(f.CloseReason)
	}
	return r
}

func messageOf(capture string, c *wsparse.Conn, m *wsparse.Message, app []byte) messageRow {
	r := messageRow{
		Capture: capture, Conn: connOnly(c.ID), Stream: streamOf(c.ID), TS: ts(m.TS), Dir: m.Dir.String(), Index: int64(m.Index),
		Opcode: int32(m.Opcode), Frames: int64(m.Frames), Data: m.Data, Compressed: m.Compressed,
		Anomalies: anomalies(m.Anomalies), Encap: encapOf(c),
	}
	if r.Data == nil {
		r.Data = []byte{}
	}
	if !m.LenUnknown {
		r.Len = ptr(int64(m.Len))
	}
	if uint64(len(m.Data)) != m.Len || m.LenUnknown {
		r.DataKept = ptr(int64(len(m.Data)))
	}
	if m.Compressed {
		r.WireLen = ptr(int64(m.WireLen))
	}
	if app != nil {
		r.App = ptr(string(app))
	}
	if m.Fallback != nil {
		r.Transport = optString(m.Fallback.Transport)
	}
	return r
}

// optString is nil for "", as the jsonl leaves an empty field out.
// encapOf is c's encapsulation for an encap column: null when plain
// (without a lookup: plain traffic pays nothing).
func encapOf(c *wsparse.Conn) *string {
	if c.EncapID() == 0 {
		return nil
	}
	return optString(c.Encap())
}

func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func connOf(capture string, c *wsparse.Conn, s *wsparse.Summary) connRow {
	r := connRow{
		Capture: capture, Conn: connOnly(c.ID), Stream: streamOf(c.ID), TS: ts(s.Last), Client: c.Client().String(), Server: c.Server().String(),
		FirstTS: ts(s.First), LastTS: ts(s.Last), Duration: secs(s.Duration()),
		HandshakeSeen: s.Handshake != nil, TLS: tlsOf(s.TLS), Confidence: string(s.Confidence),
		End: string(s.End), Anomalies: anomalies(s.Anomalies), Encap: optString(c.Encap()),
	}
	if h := s.Handshake; h != nil {
		r.Host, r.URI, r.Status = ptr(h.Host), ptr(h.URI), ptr(int32(h.Status))
		r.Subprotocol, r.Extensions = ptr(h.Subprotocol), ptr(h.Extensions)
	}
	for d, g := range []*dirGroup{&r.C2S, &r.S2C} {
		st := &s.Stats[d]
		*g = dirGroup{Frames: int64(st.Frames), Messages: int64(st.Messages), ControlFrames: int64(st.ControlFrames),
			PayloadBytes: int64(st.PayloadBytes), WireBytes: int64(st.WireBytes), LostBytes: int64(st.LostBytes),
			SkippedBytes: int64(st.SkippedBytes), Resyncs: int64(st.Resyncs), TCPFin: s.TCPFin[d], TCPRst: s.TCPRst[d]}
		if st.Conflicts > 0 {
			g.RetransmitConflicts = ptr(int64(st.Conflicts))
		}
		if st.Urgent > 0 {
			g.UrgentSegments = ptr(int64(st.Urgent))
		}
		if st.CompressedMessages > 0 {
			g.CompressedMessages = ptr(int64(st.CompressedMessages))
			g.CompressedBytes, g.InflatedBytes = ptr(int64(st.CompressedBytes)), ptr(int64(st.InflatedBytes))
			ratio := 0.0
			if st.CompressedBytes > 0 {
				ratio = float64(st.InflatedBytes) / float64(st.CompressedBytes)
			}
			g.CompressionRatio = ptr(ratio)
		}
	}
	r.StreamEnd = optString(s.StreamEnd)
	if h := s.HTTP2; h != nil {
		g := &http2Group{Streams: int64(h.Streams), Requests: int64(h.Requests), WebSockets: int64(h.WebSockets), GoAway: optString(h.GoAway)}
		if h.RequestBytes > 0 {
			g.RequestBytes = ptr(h.RequestBytes)
		}
		if h.NotFollowed > 0 {
			g.StreamsNotFollowed = ptr(int64(h.NotFollowed))
		}
		r.HTTP2 = g
	}
	if s.Close[0].Sent || s.Close[1].Sent {
		cl := &closeGroup{Initiator: "server"}
		if s.Initiator == wsparse.ClientToServer {
			cl.Initiator = "client"
		}
		for d, side := range []**closeSide{&cl.Client, &cl.Server} {
			ci := &s.Close[d]
			if !ci.Sent {
				continue
			}
			x := &closeSide{TS: ts(ci.TS)}
			if ci.HasCode {
				x.Code, x.CodeName, x.Reason = ptr(int32(ci.Code)), ptr(wsparse.CloseCodeName(ci.Code)), ptr(ci.Reason)
			}
			*side = x
		}
		r.Close = cl
	}
	return r
}

func heartbeatOf(capture string, c *health.Conn, s *health.Series) heartbeatRow {
	r := heartbeatRow{
		Capture: capture, Conn: connOnly(c.ID), Stream: streamOf(c.ID), Kind: s.Kind, Proto: s.Proto, Key: s.Key, Dir: s.Dir.String(),
		Count: int64(s.Count), Unmeasured: int64(s.Unmeasured), FirstTS: ts(s.First), LastTS: ts(s.Last),
		IntervalSource: s.IntervalSource, MeanInterval: secs(s.Mean), Jitter: secs(s.Jitter),
		MaxGap: secs(s.MaxGap), MaxGapTS: ts(s.MaxGapAt), Missed: int64(s.Missed), Timers: int64(s.Timers),
		Extra: int64(s.Extra), GapsTruncated: s.GapsTruncated, Encap: optString(c.Encap),
	}
	if s.Interval > 0 {
		r.Interval = ptr(secs(s.Interval))
	}
	if s.Timeout > 0 {
		r.Timeout = ptr(secs(s.Timeout))
	}
	for _, o := range s.TimerOffsets {
		r.TimerOffsets = append(r.TimerOffsets, secs(o))
	}
	for _, g := range s.Gaps {
		r.Gaps = append(r.Gaps, gapRow{ts(g.From), ts(g.To), secs(g.Len()), int64(g.Missed), g.Trailing})
	}
	return r
}

func groupOf(capture string, n int, g *health.Group, o health.Options) groupRow {
	r := groupRow{
		Capture: capture, Group: int64(n), ClientIP: g.ClientIP.String(), Server: g.Server.String(), Host: g.Host, Path: g.Path,
		Attempts: int64(len(g.Attempts) + g.Unlisted), Unlisted: int64(g.Unlisted), Refused: int64(g.Refused),
		Failed: int64(g.Failed), Errors: int64(g.Errors), Outage: secs(g.Outage), Outages: int64(g.Outages),
		MaxParallel: int64(g.MaxParallel), MaxInWindow: int64(g.MaxInWindow), StormWindow: secs(o.StormWindow),
		Storm: g.Storm, Backoff: g.Backoff, InFlight: int64(g.InFlight),
	}
	if g.Encap() != "" {
		r.Encap = ptr(g.Encap())
	}
	if g.DownAtEnd > 0 {
		r.DownAtEnd = ptr(secs(g.DownAtEnd))
	}
	if g.BackoffInterval > 0 {
		r.BackoffInterval = ptr(secs(g.BackoffInterval))
	}
	var first, last time.Time
	for _, a := range g.Attempts {
		ar := attemptRow{Conn: int64(a.Conn), StartTS: ts(a.Start), EndTS: ts(a.End), Status: int32(a.Status),
			Outcome: a.Outcome, Session: a.Session, Concurrent: a.Concurrent, Retry: a.Retry, InFlight: a.InFlight}
		for _, v := range a.Via {
			ar.Via = append(ar.Via, int64(v))
		}
		if a.HasAfter {
			ar.After = ptr(secs(a.After))
		}
		if a.HasOutage {
			ar.Outage = ptr(secs(a.Outage))
		}
		r.Timeline = append(r.Timeline, ar)
		if first.IsZero() || a.Start.Before(first) {
			first = a.Start
		}
		if a.End.After(last) {
			last = a.End
		}
	}
	r.FirstTS, r.LastTS = ts(first), ts(last)
	return r
}

// connOnly and streamOf split a connection id as the jsonl does: "conn"
// is the TCP connection's number, "stream" the HTTP/2 stream of a
// WebSocket over HTTP/2 (RFC 8441), null otherwise.
func connOnly(id int) int64 {
	conn, _ := wsparse.SplitID(id)
	return int64(conn)
}

func streamOf(id int) *int64 {
	if _, stream := wsparse.SplitID(id); stream != 0 {
		v := int64(stream)
		return &v
	}
	return nil
}
