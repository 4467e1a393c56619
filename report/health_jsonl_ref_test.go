package report

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// writeHealthJSONLRef is WriteHealthJSONL as it was written, with
// encoding/json on these structs: the reference TestHealthJSONLAsEncoded
// holds the writer to.
func writeHealthJSONLRef(w io.Writer, r *health.Report, o health.Options) error {
	o = o.WithDefaults()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, c := range r.Conns {
		if err := enc.Encode(connJSON(c)); err != nil {
			return err
		}
	}
	for i, g := range r.Groups {
		if err := enc.Encode(groupJSON(i+1, g, o)); err != nil {
			return err
		}
	}
	for _, h := range r.HTTP2 {
		rec := http2Record{Type: "http2_conn", Conn: h.ID, TS: jts(h.End), Client: h.Client.String(), Server: h.Server.String(),
			FirstTS: jts(h.Start), LastTS: jts(h.End), Streams: h.Streams, WebSockets: h.WebSockets, Requests: h.Requests, RequestBytes: h.RequestBytes,
			NotFollowed: h.NotFollowed, SkippedBytes: h.SkippedBytes, LostBytes: h.LostBytes, GoAway: h.GoAway, Anomalies: h.Anomalies.Names()}
		if rec.Anomalies == nil {
			rec.Anomalies = []string{}
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// http2Record is an HTTP/2 connection (WebSockets over HTTP/2 are its
// streams' conn records).
type http2Record struct {
	Type         string   `json:"type"`
	Conn         int      `json:"conn"`
	TS           jts      `json:"ts"`
	Client       string   `json:"client"`
	Server       string   `json:"server"`
	FirstTS      jts      `json:"first_ts"`
	LastTS       jts      `json:"last_ts"`
	Streams      int      `json:"streams"`
	WebSockets   int      `json:"websockets"`
	Requests     int      `json:"requests"`
	RequestBytes int64    `json:"request_bytes"`
	NotFollowed  int      `json:"streams_not_followed,omitempty"`
	SkippedBytes uint64   `json:"skipped_bytes,omitempty"`
	LostBytes    uint64   `json:"lost_bytes,omitempty"`
	GoAway       string   `json:"goaway,omitempty"`
	Anomalies    []string `json:"anomalies"`
}

// jts is a timestamp in the report package's format (RFC 3339, ns, UTC);
// the zero time is null.
type jts time.Time

func (t jts) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000000000Z07:00") + `"`), nil
}

// secs is a duration in seconds with microsecond precision.
type secs time.Duration

func (s secs) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', 6, 64), nil
}

type dirJSON struct {
	Frames        int    `json:"frames"`
	Messages      int    `json:"messages"`
	ControlFrames int    `json:"control_frames"`
	PayloadBytes  uint64 `json:"payload_bytes"`
	WireBytes     uint64 `json:"wire_bytes"`
	LostBytes     uint64 `json:"lost_bytes"`
	SkippedBytes  uint64 `json:"skipped_bytes,omitempty"`
	Urgent        int    `json:"urgent_segments,omitempty"`
	TCPFin        bool   `json:"tcp_fin"`
	TCPRst        bool   `json:"tcp_rst"`
}

type closeFrameJSON struct {
	TS       jts    `json:"ts"`
	Code     *int   `json:"code,omitempty"`
	CodeName string `json:"code_name,omitempty"`
	Reason   string `json:"reason"`
}

type appEndJSON struct {
	TS     jts    `json:"ts"`
	Text   string `json:"text"`
	Failed bool   `json:"failed"`
}

type closeJSON struct {
	End            string          `json:"end"`
	Clean          bool            `json:"clean"`
	Initiator      *string         `json:"initiator"`
	Client         *closeFrameJSON `json:"client"`
	Server         *closeFrameJSON `json:"server"`
	CloseDelay     *secs           `json:"close_delay"`
	DataAfterClose bool            `json:"data_after_close"`
	App            *appEndJSON     `json:"app,omitempty"`
	Summary        string          `json:"summary"`
}

type rttJSON struct {
	Min    secs `json:"min"`
	Median secs `json:"median"`
	P95    secs `json:"p95"`
	Max    secs `json:"max"`
}

type pingJSON struct {
	Pings            int      `json:"pings"`
	Answered         int      `json:"answered"`
	Unanswered       int      `json:"unanswered"`
	UnansweredTail   int      `json:"unanswered_tail"`
	UnansweredSince  jts      `json:"unanswered_since"`
	OverdueTail      int      `json:"overdue_tail"`
	Mismatched       int      `json:"mismatched"`
	UnsolicitedPongs int      `json:"unsolicited_pongs"`
	RTT              *rttJSON `json:"rtt"`
}

type gapJSON struct {
	From     jts  `json:"from_ts"`
	To       jts  `json:"to_ts"`
	Gap      secs `json:"gap"`
	Missed   int  `json:"missed"`
	Trailing bool `json:"trailing"`
	Open     bool `json:"open_at_end,omitempty"`
}

type seriesJSON struct {
	Kind           string    `json:"kind"`
	Proto          string    `json:"proto,omitempty"`
	Key            string    `json:"key,omitempty"`
	Dir            string    `json:"dir"`
	Count          int       `json:"count"`
	Unmeasured     int       `json:"unmeasured,omitempty"`
	First          jts       `json:"first_ts"`
	Last           jts       `json:"last_ts"`
	Interval       *secs     `json:"interval"`
	IntervalSource string    `json:"interval_source"`
	Timeout        *secs     `json:"timeout,omitempty"`
	Mean           secs      `json:"mean_interval"`
	Jitter         secs      `json:"jitter"`
	MaxGap         secs      `json:"max_gap"`
	MaxGapAt       jts       `json:"max_gap_ts"`
	Missed         int       `json:"missed"`
	Timers         int       `json:"timers"`
	TimerOffsets   []secs    `json:"timer_offsets,omitempty"`
	Extra          int       `json:"extra,omitempty"`
	Gaps           []gapJSON `json:"gaps"`
	GapsTruncated  bool      `json:"gaps_truncated,omitempty"`
	ClockSteps     int       `json:"clock_steps_back,omitempty"`
}

type heartbeatJSON struct {
	Glance string       `json:"glance"`
	Series []seriesJSON `json:"series"`
}

type connRecord struct {
	Type        string              `json:"type"`
	Conn        int                 `json:"conn"`
	Stream      uint32              `json:"stream,omitempty"` // HTTP/2 stream (RFC 8441)
	Encap       string              `json:"encap,omitempty"`  // VLAN tags, tunnels
	TS          jts                 `json:"ts"`
	Client      string              `json:"client"`
	Server      string              `json:"server"`
	FirstTS     jts                 `json:"first_ts"`
	LastTS      jts                 `json:"last_ts"`
	Duration    secs                `json:"duration"`
	Host        string              `json:"host"`
	URI         string              `json:"uri"`
	Path        string              `json:"path"`
	Session     string              `json:"session,omitempty"`
	Transport   string              `json:"transport,omitempty"`     // a SockJS or Engine.IO session over HTTP
	HTTPConns   []int               `json:"http_conns,omitempty"`    // the TCP connections that carried it
	HTTPReqs    int                 `json:"http_requests,omitempty"` // its HTTP requests
	Midstream   bool                `json:"midstream,omitempty"`
	Status      int                 `json:"status"`
	Subprotocol string              `json:"subprotocol"`
	Extensions  string              `json:"extensions"`
	C2S         dirJSON             `json:"c2s"`
	S2C         dirJSON             `json:"s2c"`
	End         string              `json:"end"`
	StreamEnd   string              `json:"stream_end,omitempty"` // how its HTTP/2 stream ended
	Close       closeJSON           `json:"close"`
	Ping        map[string]pingJSON `json:"ping"` // keys c2s/s2c; encoding/json sorts map keys
	Heartbeat   heartbeatJSON       `json:"heartbeat"`
	Anomalies   []string            `json:"anomalies"`
}

func connJSON(c *health.Conn) *connRecord {
	r := &connRecord{
		Type: "conn", Conn: connOf(c.ID), Stream: c.Stream(), Encap: c.Encap, TS: jts(c.End), Client: c.Client.String(), Server: c.Server.String(),
		FirstTS: jts(c.Start), LastTS: jts(c.End), Duration: secs(c.Duration()),
		Host: c.Host, URI: c.URI, Path: c.Path, Session: c.Session, Midstream: c.Midstream, Status: c.Status,
		Transport: c.Transport, HTTPConns: c.HTTPConns, HTTPReqs: c.HTTPRequests,
		Subprotocol: c.Subprotocol, Extensions: c.Extensions,
		End: string(c.Close.End), StreamEnd: c.Close.StreamEnd, Ping: map[string]pingJSON{}, Anomalies: []string{},
	}
	for d, dst := range []*dirJSON{&r.C2S, &r.S2C} {
		st := &c.Stats[d]
		*dst = dirJSON{st.Frames, st.Messages, st.ControlFrames, st.PayloadBytes, st.WireBytes, st.LostBytes, st.SkippedBytes, st.Urgent,
			c.Close.TCPFin[d], c.Close.TCPRst[d]}
	}
	cl := &c.Close
	r.Close = closeJSON{End: string(cl.End), Clean: cl.Clean, DataAfterClose: cl.DataAfterClose, Summary: CloseText(c)}
	if cl.Initiator != "" {
		r.Close.Initiator = &cl.Initiator
	}
	if a := cl.App; a != nil {
		r.Close.App = &appEndJSON{jts(a.TS), a.Text, a.Failed}
	}
	r.Close.Client = closeFrame(cl.Frames[wsparse.ClientToServer])
	r.Close.Server = closeFrame(cl.Frames[wsparse.ServerToClient])
	if a, b := cl.Frames[0], cl.Frames[1]; a != nil && b != nil {
		d := secs(b.TS.Sub(a.TS).Abs())
		r.Close.CloseDelay = &d
	}
	for d := range c.Ping {
		p := &c.Ping[d]
		if p.Pings == 0 && p.Unsolicited == 0 {
			continue
		}
		pj := pingJSON{p.Pings, p.Answered, p.Unanswered, p.UnansweredTail, jts(p.UnansweredSince), p.OverdueTail, p.Mismatched, p.Unsolicited, nil}
		if p.Answered > 0 {
			pj.RTT = &rttJSON{secs(p.RTTMin), secs(p.RTTMedian), secs(p.RTTP95), secs(p.RTTMax)}
		}
		r.Ping[wsparse.Dir(d).String()] = pj
	}
	r.Heartbeat = heartbeatJSON{Glance: Glance(c), Series: []seriesJSON{}}
	for _, s := range c.Heartbeats {
		sj := seriesJSON{
			Kind: s.Kind, Proto: s.Proto, Key: s.Key, Dir: s.Dir.String(), Count: s.Count, Unmeasured: s.Unmeasured, First: jts(s.First), Last: jts(s.Last),
			IntervalSource: s.IntervalSource, Mean: secs(s.Mean), Jitter: secs(s.Jitter),
			MaxGap: secs(s.MaxGap), MaxGapAt: jts(s.MaxGapAt), Missed: s.Missed, Gaps: []gapJSON{},
			GapsTruncated: s.GapsTruncated, ClockSteps: s.ClockSteps, Timers: s.Timers, Extra: s.Extra,
		}
		for _, o := range s.TimerOffsets {
			sj.TimerOffsets = append(sj.TimerOffsets, secs(o))
		}
		if s.Interval > 0 {
			iv := secs(s.Interval)
			sj.Interval = &iv
		}
		if s.Timeout > 0 {
			to := secs(s.Timeout)
			sj.Timeout = &to
		}
		for _, g := range s.Gaps {
			sj.Gaps = append(sj.Gaps, gapJSON{jts(g.From), jts(g.To), secs(g.Len()), g.Missed, g.Trailing, g.Open})
		}
		r.Heartbeat.Series = append(r.Heartbeat.Series, sj)
	}
	c.Anomalies.Each(func(name string) { r.Anomalies = append(r.Anomalies, name) })
	return r
}

func closeFrame(f *health.CloseFrame) *closeFrameJSON {
	if f == nil {
		return nil
	}
	j := &closeFrameJSON{TS: jts(f.TS), CodeName: f.Name, Reason: f.Reason}
	if f.HasCode {
		code := int(f.Code)
		j.Code = &code
	}
	return j
}

type attemptJSON struct {
	Conn       int    `json:"conn"`
	Stream     uint32 `json:"stream,omitempty"` // HTTP/2 stream (RFC 8441)
	Via        []int  `json:"via,omitempty"`
	Start      jts    `json:"start_ts"`
	End        jts    `json:"end_ts"`
	Status     int    `json:"status"`
	Outcome    string `json:"outcome"`
	Session    string `json:"session,omitempty"`
	After      *secs  `json:"after"`
	Concurrent bool   `json:"concurrent,omitempty"`
	Retry      bool   `json:"retry,omitempty"`
	Outage     *secs  `json:"outage,omitempty"`
	InFlight   bool   `json:"in_flight,omitempty"`
}

type groupRecord struct {
	Type            string        `json:"type"`
	Group           int           `json:"group"`
	ClientIP        string        `json:"client_ip"`
	Server          string        `json:"server"`
	Host            string        `json:"host"`
	Path            string        `json:"path"`
	Encap           string        `json:"encap,omitempty"`
	Attempts        int           `json:"attempts"`
	Unlisted        int           `json:"unlisted,omitempty"`
	Refused         int           `json:"refused"`
	Failed          int           `json:"failed"`
	Errors          int           `json:"errors"`
	InFlight        int           `json:"in_flight,omitempty"`
	FirstTS         jts           `json:"first_ts"`
	LastTS          jts           `json:"last_ts"`
	Outage          secs          `json:"outage"`
	Outages         int           `json:"outages"`
	DownAtEnd       *secs         `json:"down_at_end"`
	MaxParallel     int           `json:"max_parallel"`
	MaxInWindow     int           `json:"max_in_window"`
	Window          secs          `json:"storm_window"`
	Storm           bool          `json:"storm"`
	Backoff         string        `json:"backoff"`
	BackoffInterval *secs         `json:"backoff_interval"`
	Timeline        []attemptJSON `json:"timeline"`
}

func groupJSON(n int, g *health.Group, o health.Options) *groupRecord {
	r := &groupRecord{
		Type: "client_group", Group: n, ClientIP: g.ClientIP.String(), Server: g.Server.String(), Host: g.Host, Path: g.Path, Encap: g.Encap(),
		Attempts: len(g.Attempts) + g.Unlisted, Unlisted: g.Unlisted, Refused: g.Refused, Failed: g.Failed, Errors: g.Errors, InFlight: g.InFlight,
		Outage: secs(g.Outage), Outages: g.Outages, MaxParallel: g.MaxParallel,
		MaxInWindow: g.MaxInWindow, Window: secs(o.StormWindow), Storm: g.Storm, Backoff: g.Backoff,
		Timeline: []attemptJSON{},
	}
	if g.DownAtEnd > 0 {
		d := secs(g.DownAtEnd)
		r.DownAtEnd = &d
	}
	if g.BackoffInterval > 0 {
		iv := secs(g.BackoffInterval)
		r.BackoffInterval = &iv
	}
	for _, a := range g.Attempts {
		aj := attemptJSON{Conn: connOf(a.Conn), Stream: streamOf(a.Conn), Via: a.Via, Start: jts(a.Start), End: jts(a.End), Status: a.Status, Outcome: a.Outcome,
			Session: a.Session, Concurrent: a.Concurrent, Retry: a.Retry, InFlight: a.InFlight}
		if a.HasAfter {
			s := secs(a.After)
			aj.After = &s
		}
		if a.HasOutage {
			s := secs(a.Outage)
			aj.Outage = &s
		}
		r.Timeline = append(r.Timeline, aj)
		if time.Time(r.FirstTS).IsZero() || a.Start.Before(time.Time(r.FirstTS)) {
			r.FirstTS = jts(a.Start)
		}
		if a.End.After(time.Time(r.LastTS)) {
			r.LastTS = jts(a.End)
		}
	}
	return r
}
