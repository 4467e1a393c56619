// Package health answers "was this connection healthy?" from decoded
// WebSocket records: how each connection closed, whether pings got their
// pongs and how fast, whether heartbeats flowed on time, and how clients
// reconnected.
//
// A Tracker is a wsparse.Sink that sits in front of (or alone instead of) an
// output sink: it forwards every record unchanged and keeps what it needs.
// Heartbeats that only an application-protocol decoder can see (STOMP EOL
// frames, SockJS "h", Engine.IO ping/pong) are fed in through Beat and
// Negotiated; the tracker finds WebSocket ping/pong and user-defined text
// beats itself. Everything is computed by Report, after the input ends.
package health

import (
	"net/netip"
	"regexp"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Beat kinds the tracker produces itself. Application decoders use their own
// names ("stomp", "sockjs", "engineio-ping", "engineio-pong", "graphql-ping", ...).
const (
	KindWSPing = "ws-ping" // a WebSocket Ping frame
	KindWSPong = "ws-pong" // a WebSocket Pong frame
	KindText   = "text"    // a text message matching Options.HeartbeatText
	// KindAppEnd is no beat: an application protocol's word on the end of
	// its session (appproto.EndOf), Key its text, Failed whether it says
	// the session failed. Close.App keeps the first (or the first failed).
	KindAppEnd = "app-end"
	// KindSTOMPFrame is no beat either: a STOMP frame in a direction whose
	// heart-beats were negotiated, at most four an interval. Any data is
	// a sign of life (STOMP 1.2 § Heart-beating), and a server that has
	// frames to send need not send EOLs (Spring's broker sends them only
	// when idle): a late gap of the heart-beats is judged between them.
	KindSTOMPFrame = "stomp-frame"
)

// Options tunes the analysis. Zero values take the defaults.
type Options struct {
	// HeartbeatText matches whole text messages that are heartbeats (it is
	// anchored at both ends), e.g. `ping|pong`. Nil: none.
	HeartbeatText *regexp.Regexp
	// HeartbeatInterval is the expected interval of every heartbeat series
	// that has no negotiated one. Zero: the series' own median interval
	// (when it has at least MinBeats beats).
	HeartbeatInterval time.Duration
	// Tolerance: a gap longer than interval × Tolerance is late (default 1.5).
	Tolerance float64
	// StormAttempts and StormWindow: a reconnect group is a storm when at
	// least StormAttempts connection attempts start within StormWindow
	// (defaults 5 and 10 s).
	StormAttempts int
	StormWindow   time.Duration

	// captureEnd is when the input ended (Tracker.CaptureEnd): the
	// connections still open then are judged to it. endOf, when set
	// (Tracker.CaptureEndOf), gives it for a connection by its own end.
	captureEnd time.Time
	endOf      func(own time.Time) time.Time
}

// MinBeats is the fewest beats a series needs for its interval to be
// inferred from its own timing.
const MinBeats = 3

const maxGapsListed = 100 // late gaps kept per series

// WithDefaults returns o with its zero bounds set to the defaults.
func (o Options) WithDefaults() Options {
	if o.Tolerance <= 0 {
		o.Tolerance = 1.5
	}
	if o.StormAttempts <= 0 {
		o.StormAttempts = 5
	}
	if o.StormWindow <= 0 {
		o.StormWindow = 10 * time.Second
	}
	return o
}

// Beat is one heartbeat seen by an application-protocol decoder. With Kind
// KindApp it is a small application message of a recognisable shape that
// may be one: Proto and Key say what it is, and Report keeps the keys
// whose messages keep a heartbeat's rhythm (appbeats.go). An Engine.IO
// beat's Key is its packet type, ping or pong: the side that pings asks
// (lastAsked).
type Beat struct {
	Conn       int // wsparse.Conn.ID
	Dir        wsparse.Dir
	TS         time.Time
	Kind       string
	Proto, Key string
	Failed     bool // KindAppEnd: the session failed
}

// Negotiated is the interval a connection agreed for one kind of beat in
// one direction (STOMP heart-beat, Engine.IO pingInterval/pingTimeout).
type Negotiated struct {
	Conn     int
	Dir      wsparse.Dir // the direction the beats travel
	Kind     string
	Interval time.Duration
	Timeout  time.Duration // 0: none announced
	// At is when the agreement was made (the message that completed
	// it, STOMP's CONNECTED): beats are due from then on, so a direction
	// that never beats has a gap to judge. Zero: unknown.
	At time.Time
}

// Report is the result: connections by ID, reconnect groups by their first
// connection.
type Report struct {
	Conns  []*Conn
	Groups []*Group
	// ConnectsUncounted counts refused or unanswered connects past every
	// bound on what the tracker keeps of them: in no group.
	ConnectsUncounted int
	// HTTP2 lists the HTTP/2 connections (with wsparse.Config.EndAll):
	// their streams, WebSockets among them (RFC 8441) and ordinary
	// requests: the first 1 000, then those not wholly followed, 10 000
	// more at most. HTTP2More counts those past them, HTTP2MoreNotFollowed
	// the ones among them not wholly followed.
	HTTP2                []*HTTP2Conn
	HTTP2More            int
	HTTP2MoreNotFollowed int
	// ClockStepped counts the connections that saw the capture's clock
	// step back: in a series of beats (Series.ClockSteps), or their last
	// bytes captured before their first (their Duration is then wrong).
	ClockStepped int
	// Files name the inputs by number (Conn.Input): the file each
	// connection was first seen in (File). The caller sets them; nil for
	// standard input.
	Files []string

	each []eachConn // the connections of a report made by ReportEach (Conns nil)
}

// File names the input c was first seen in (Files[c.Input]); "" when
// the inputs are not named.
func (r *Report) File(c *Conn) string {
	if i := int(c.Input); i >= 0 && i < len(r.Files) {
		return r.Files[i]
	}
	return ""
}

// SeveralFiles reports whether the report is of several inputs read
// merged: its jsonl, csv and table then name each connection's file.
func (r *Report) SeveralFiles() bool { return len(r.Files) > 1 }

// HTTP2Conn is one HTTP/2 connection: what its streams were.
type HTTP2Conn struct {
	ID                            int
	Client, Server                netip.AddrPort
	Start, End                    time.Time
	Streams, Requests, WebSockets int
	RequestBytes                  int64  // DATA bytes of the ordinary requests (wsparse.HTTP2Counts)
	GoAway                        string // the GOAWAY's error code, if one was sent
	Anomalies                     wsparse.Anomalies
	// NotFollowed counts the streams opened while as many as are followed
	// at once were open (h2_streams_over_limit); SkippedBytes and
	// LostBytes, both sides', the connection's bytes not decoded (DATA of
	// streams not followed, bytes after its framing was lost) and lost by
	// the capture.
	NotFollowed             int
	SkippedBytes, LostBytes uint64
	// SteppedBack is how far the capture's clock stepped back within the
	// connection (wsparse.Summary.SteppedBack).
	SteppedBack time.Duration
}

// Duration is End - Start with the clock's steps back taken out, as
// Conn.Duration; never negative.
func (h *HTTP2Conn) Duration() time.Duration {
	if d := h.End.Sub(h.Start) + h.SteppedBack; d > 0 || h.SteppedBack == 0 {
		return d
	}
	return 0
}

// NotAllFollowed tells a connection wsdump did not wholly follow: streams
// not followed, or framing it could not follow (wsparse.Summary.H2NotFollowed).
func (h *HTTP2Conn) NotAllFollowed() bool {
	return wsparse.H2NotAllFollowed(h.NotFollowed, h.Anomalies)
}

// Conn is one WebSocket connection (or refused upgrade attempt).
type Conn struct {
	ID             int
	Client, Server netip.AddrPort
	Host, URI      string
	Path           string // URI without the query
	Session        string // SockJS session or Socket.IO sid, when the URL has one
	// Encap is what carried its packets (VLAN ids, MPLS labels, tunnels
	// and their network identifiers: wsparse.Conn.Encap), "" if nothing.
	Encap string
	// Of a SockJS or Engine.IO session carried by HTTP (joined by fbjoin):
	// its transports, the TCP connections and the requests that carried it.
	Transport    string
	HTTPConns    []int
	HTTPRequests int
	Status       int // upgrade response status; 0: none seen
	// Midstream: the capture has no handshake for this connection (it
	// started mid-connection) but its frames were decoded.
	Midstream bool
	// Input is the number of the input (of several read merged) the
	// connection was first seen in (wsparse.Conn.Input): Report.File
	// names it. In the padding after Midstream.
	Input       int32
	Subprotocol string
	Extensions  string
	Start, End  time.Time // upgrade request; last byte decoded
	// SteppedBack is how far the capture's clock stepped back within the
	// connection (wsparse.Summary.SteppedBack): End is then its last
	// packet's time as it came, before Start when the step was the larger.
	SteppedBack time.Duration
	Stats       [2]wsparse.DirStats
	Close       Close
	Ping        [2]PingStats // by the pinging side's direction
	Heartbeats  []*Series    // by direction, then kind
	Anomalies   wsparse.Anomalies
	Ended       bool // End was reported; false if the input stopped first
}

// Duration is the time from the upgrade request to the last byte, the
// clock's steps back taken out as wsparse.Summary.Duration does; never
// negative.
func (c *Conn) Duration() time.Duration {
	if d := c.End.Sub(c.Start) + c.SteppedBack; d > 0 || c.SteppedBack == 0 {
		return d
	}
	return 0
}

// Until is when the connection ended on its start's clock, Start plus
// its Duration: End, but when the clock stepped back within it, End is
// its last packet's time on the clock after the step, maybe before Start.
// A timeline (the reconnect groups', the report's bars) draws it so.
func (c *Conn) Until() time.Time {
	if c.SteppedBack == 0 {
		return c.End
	}
	return c.Start.Add(c.Duration())
}

// Upgraded reports whether the server switched to WebSocket (or the
// capture started after it did).
// Over HTTP/2 (RFC 8441) a 2xx status accepts the WebSocket.
func (c *Conn) Upgraded() bool {
	return c.Status == 101 || c.Midstream || c.Stream() != 0 && c.Status/100 == 2
}

// Stream returns the HTTP/2 stream carrying the connection (0: none).
func (c *Conn) Stream() uint32 {
	_, s := wsparse.SplitID(c.ID)
	return s
}

// Close says how a connection ended.
type Close struct {
	End            wsparse.End
	Clean          bool // both Closes exchanged and no data after them
	Initiator      string
	Frames         [2]*CloseFrame // by Dir; nil when that side sent none
	DataAfterClose bool
	StreamEnd      string  // how its HTTP/2 stream ended (wsparse.Summary.StreamEnd); empty over HTTP/1.1
	TLSStopped     string  // why decryption of its wss stopped partway, as it came (wsparse.TLSInfo.StopText); "" if it did not
	TCPFin, TCPRst [2]bool // by Dir
	// TCPFirst is whose TCP end came first when both ended
	// (wsparse.Summary.TCPFirst): who left, as a FIN from both does not say.
	TCPFirst [2]bool
	// App is what the application protocol said of its session's end (a
	// STOMP ERROR, a SockJS close frame), nil when nothing: a WebSocket
	// that closed cleanly, or not at all, after its STOMP session was
	// refused is told from one that served its client.
	App *AppEnd
}

// AppEnd is an application protocol's word on the end of its session.
type AppEnd struct {
	TS     time.Time
	Dir    wsparse.Dir
	Text   string // `STOMP ERROR "Bad CONNECT"`, `SockJS close 3000 "Go away!"`
	Failed bool   // the session failed: a connection that served no client
}

// CloseFrame is one side's Close frame.
type CloseFrame struct {
	TS      time.Time
	Code    uint16
	HasCode bool
	Name    string // RFC/IANA name of the code
	Reason  string
}

// First returns the initiating Close frame, or nil.
func (c *Close) First() *CloseFrame {
	switch c.Initiator {
	case "client":
		return c.Frames[wsparse.ClientToServer]
	case "server":
		return c.Frames[wsparse.ServerToClient]
	}
	return nil
}

// PingStats describes the pings one side sent and the pongs the other side
// returned.
type PingStats struct {
	Pings      int
	Answered   int
	Unanswered int
	// UnansweredTail counts the unanswered pings after the last answered
	// one: the peer stopped answering.
	UnansweredTail int
	// UnansweredSince is when the first ping of that tail was sent (zero
	// without one): the peer answered none since, past the pings
	// remembered unanswered (256 a direction) too.
	UnansweredSince time.Time
	// OverdueTail counts the pings of that tail the peer had time to
	// answer: sent at least max(1 s, 4 × the connection's longest ping
	// round trip of at most an hour, a longer one being the clock's jump)
	// before its first Close, else its end, or the capture's end when it
	// was still open then. The rest went out too close to the end to be
	// owed a pong (the pings forgotten past the 256 remembered count as
	// owed).
	OverdueTail int
	// Mismatched counts pongs matched in order because no outstanding ping
	// had their payload.
	Mismatched int
	// Unsolicited counts pongs with no outstanding ping (RFC 6455 §5.5.3
	// allows them as unidirectional heartbeats).
	Unsolicited       int
	RTTMin, RTTMedian time.Duration
	RTTP95, RTTMax    time.Duration
}

// Series is one kind of heartbeat in one direction.
type Series struct {
	Kind string
	// Proto and Key say what an application heartbeat (Kind KindApp) is:
	// its protocol ("stomp", "socketio", "json", "text", ...) and the
	// shape its messages share ("SEND ping", "type=ping", "hb").
	Proto, Key string
	Dir        wsparse.Dir
	Count      int
	// Unmeasured counts the beats, past the tracker's bound on the beats it
	// keeps, that are in Count and Last but not in the rhythm and gaps.
	Unmeasured     int
	First, Last    time.Time
	Interval       time.Duration // expected; 0 when unknown
	IntervalSource string        // "negotiated", "flag", "observed" or ""
	Timeout        time.Duration // negotiated timeout, if any
	Mean, Jitter   time.Duration // of the intervals between beats (of each timer, on time, when Timers > 0)
	MaxGap         time.Duration // longest interval, the trailing one included
	MaxGapAt       time.Time     // when the longest gap began
	Missed         int           // beats missing in late gaps
	Gaps           []Gap         // late gaps, in time order (at most 100)
	GapsTruncated  bool
	// Timers is how many interleaved timers of the same period sent the
	// beats (a timer never cleared on reconnect makes 2), each judged on
	// its own; 0 when they were not told apart (too few beats, no
	// interval). TimerOffsets is each further timer's phase after the
	// first's, within the interval.
	Timers       int
	TimerOffsets []time.Duration
	Extra        int // beats on no timer's rhythm (sent by hand, retries): counted, not judged
	// ClockSteps counts the steps back of the capture's clock between
	// beats, in the order they arrived (an NTP step, captures merged
	// with a clock off): a beat over clockStepBack before the one that
	// came before it. No interval is measured across a step: the beats on
	// either side are judged apart.
	ClockSteps int
}

// Gap is a late gap: longer than the interval × tolerance.
type Gap struct {
	From, To time.Time
	Missed   int
	// Trailing: no beat ended the gap; To is when the connection's
	// heartbeats stopped being expected (its first Close, else its end).
	Trailing bool
	// Open: Trailing, and the connection was still open when the capture
	// ended (no FIN, RST nor Close): To is the capture's end
	// (Tracker.CaptureEnd), not its last byte.
	Open bool
}

// Len is the gap's length.
func (g Gap) Len() time.Duration { return g.To.Sub(g.From) }

// Healthy reports whether the heartbeats that flowed were all on time and
// every ping was answered.
func (c *Conn) Healthy() bool {
	for d := range c.Ping {
		if c.Ping[d].Unanswered > 0 {
			return false
		}
	}
	for _, s := range c.Heartbeats {
		if s.Missed > 0 {
			return false
		}
	}
	return true
}
