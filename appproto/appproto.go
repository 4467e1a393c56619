// Package appproto decodes the application protocols that ride on WebSocket
// messages: STOMP 1.0-1.2, SockJS, Engine.IO v3/v4 with Socket.IO v4/v5,
// MQTT 3.1.1 and 5.0, GraphQL over WebSocket (graphql-transport-ws and the
// legacy subscriptions-transport-ws "graphql-ws"), JSON-RPC 2.0 and plain
// JSON.
//
// It works on whole wsparse messages and knows nothing of packets. One
// Session per WebSocket connection keeps the little state the protocols
// need: frames that span messages (STOMP split by stompjs, MQTT packets
// split by stream writers), Socket.IO binary attachments, JSON-RPC requests
// waiting for their response. That state is bounded (MaxBuffered, maxPending).
//
// Malformed application data never panics: it becomes an anomaly string
// (stable snake_case) on the App it was found in.
package appproto

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Protocol names, as found in App.Protocol and accepted as New's mode
// (Socket.IO mode decodes Engine.IO too; JSON mode decodes JSON-RPC).
const (
	STOMP              = "stomp"
	SockJS             = "sockjs"
	EngineIO           = "engineio"
	SocketIO           = "socketio"
	MQTT               = "mqtt"
	GraphQLTransportWS = "graphql-transport-ws" // graphql-ws library
	GraphQLWS          = "graphql-ws"           // legacy subscriptions-transport-ws
	JSON               = "json"
	JSONRPC            = "jsonrpc"
)

// Modes accepted by New besides the protocol names.
const (
	ModeAuto = "auto"
	ModeNone = "none"
)

// Modes lists every mode New accepts, for flag help and validation.
var Modes = []string{ModeAuto, ModeNone, STOMP, SockJS, SocketIO, MQTT, GraphQLTransportWS, GraphQLWS, JSON}

// ValidMode reports whether New accepts mode.
func ValidMode(mode string) bool {
	for _, m := range Modes {
		if m == mode {
			return true
		}
	}
	return false
}

// MaxBuffered bounds the bytes a stream decoder (STOMP, MQTT) keeps per
// direction while waiting for the rest of a frame or packet. A larger frame
// is reported with the anomaly "<proto>_frame_too_large" and skipped.
const MaxBuffered = 4 << 20

// Field is one decoded key/value, kept in wire or protocol order.
type Field struct {
	Key, Value string
}

// App is one application message. Several can come out of one WebSocket
// message (a SockJS array, several STOMP frames, MQTT packets); one can
// take several WebSocket messages (then it comes out of the last).
type App struct {
	Protocol string // one of the protocol constants
	// Type is the message type: STOMP command (HEARTBEAT for an EOL beat),
	// SockJS frame letter, Engine.IO packet type (open, ping, ...),
	// Socket.IO packet type (EVENT, BINARY_ACK, ..., ATTACHMENT for a
	// binary attachment), MQTT packet type, GraphQL message type, JSON-RPC
	// request/notification/response/error, JSON object/array/string/scalar
	// (invalid when it does not parse).
	// It is "" when the data could not be classified (see Anomalies).
	Type string
	// Key holds the identifying fields in a compact, stable form:
	// "destination=/topic/a", "topic=t/1,qos=1,id=5", "nsp=/,event=chat,id=3",
	// "id=op-1", "id=7,method=sum"; "-" when there are none. The .app.tsv
	// manifests of the test captures use the same form.
	Key     string
	Summary string  // one line for a table: `STOMP SEND /topic/a 42 B`
	Fields  []Field // decoded fields in a deterministic order
	// Body is the payload: STOMP body, MQTT PUBLISH payload, Engine.IO open
	// JSON, Socket.IO data / GraphQL payload / JSON-RPC params, result or
	// error as the JSON text sent, Socket.IO attachment bytes. It is owned
	// by the App and must not be changed: a JSON object's Fields are
	// strings of its bytes.
	Body      []byte
	Heartbeat bool // STOMP EOL beat, SockJS h, Engine.IO ping/pong, MQTT PINGREQ/PINGRESP, GraphQL ping/pong/ka
	// over counts, on the last App kept from a message, the application
	// messages past MaxApps that were decoded and not kept (keep).
	over      uint32
	Latency   time.Duration // JSON-RPC response or error: time since its request (0 when unmatched)
	Anomalies []string
	// members are the fields of a JSON object decoded by a session with
	// LazyFields, left where they lie in Body (Fields is nil then):
	// NumFields, FieldAt and AllFields read them.
	members []bodyMember
	// borrowed is where Body starts in the data of the message it was
	// decoded from, plus one, when Body is that data, not a copy, and
	// members may be in the session's Scratch (Session.BorrowBodies);
	// rebased (-1) when Body is in a copy of that data and members
	// perhaps in an Arena, both its Rebase's caller's; 0 when the App owns
	// both.
	borrowed int
}

// rebased is App.borrowed once Rebase moved a's Body and fields into
// memory its caller lends.
const rebased = -1

// Borrowed reports whether a's Body is the data of the message it was
// decoded from, valid only as long as that data, and its fields valid
// only until the next message of a session sharing its Scratch
// (Session.BorrowBodies).
func (a *App) Borrowed() bool { return a.borrowed > 0 }

// Own makes a's Body and fields its own copies, if they were borrowed or
// rebased (Rebase): what a sink that keeps an App past the record.Record
// that handed it over calls, with -j as without.
func (a *App) Own() {
	if a.borrowed != 0 {
		a.Body, a.members, a.borrowed = clone(a.Body), slices.Clone(a.members), 0
	}
}

// Rebase points a borrowed Body at data, a copy of the whole data of the
// message a was decoded from, which a then shares (it owns it, and holds
// it valid, no more than before), and copies its fields into ar (new
// memory when ar is nil). It reports false, and changes nothing, when a's
// Body is not borrowed or data is too short to be that copy. Once
// rebased, a is not Borrowed, but Own still copies its Body and fields.
func (a *App) Rebase(data []byte, ar *Arena) bool {
	off := a.borrowed - 1
	if off < 0 || off+len(a.Body) > len(data) {
		return false
	}
	a.Body, a.borrowed = data[off:off+len(a.Body):off+len(a.Body)], rebased
	if ar == nil {
		a.members = slices.Clone(a.members)
	} else if len(a.members) > 0 {
		n := len(ar.members)
		ar.members = append(ar.members, a.members...)
		a.members = ar.members[n:len(ar.members):len(ar.members)]
	}
	return true
}

// Arena keeps the fields of Apps rebased onto a copy of their message's
// data (App.Rebase) until Reset; as it grows, what it held stays valid.
type Arena struct {
	members []bodyMember
}

// Reset lets the arena's memory be used again: the Apps rebased into it
// must no longer be read. It keeps up to maxScratchMembers of room.
func (ar *Arena) Reset() {
	ar.members = ar.members[:0]
	if cap(ar.members) > maxScratchMembers {
		ar.members = nil
	}
}

// Scratch is memory that the Apps of the sessions sharing it borrow (see
// Session.BorrowBodies): a JSON object's members, until the next message
// of any of those sessions. One goroutine's sessions may share one.
type Scratch struct {
	members []bodyMember
}

// maxScratchMembers bounds what a Scratch keeps: the members of a larger
// object are allocated for it alone.
const maxScratchMembers = 1 << 16

// bodyMembers returns room for n members: sc's when it is given and big
// enough to keep, else new.
func (sc *Scratch) bodyMembers(n int) []bodyMember {
	if sc == nil || n > maxScratchMembers {
		return make([]bodyMember, n)
	}
	if cap(sc.members) < n {
		sc.members = make([]bodyMember, min(max(n, 2*cap(sc.members)), maxScratchMembers))
	}
	return sc.members[:n:n]
}

// Keepalive is what a connection's application protocol negotiated about
// liveness, for heartbeat analysis. Zero durations mean "no promise".
type Keepalive struct {
	Source string // "stomp heart-beat", "engine.io open", "mqtt keep alive"; "" when nothing was negotiated
	// Interval is, per wsparse.Dir, the longest that side may stay silent:
	// STOMP the negotiated heart-beat period (max of the sender's cx and the
	// receiver's cy, 0 when either is 0); Engine.IO v4 pingInterval for the
	// server (pings) and the client (pongs), v3 the other way round; MQTT the
	// keep alive for the client (PINGREQ), none for the server.
	Interval [2]time.Duration
	// Timeout is when the receiving side gives up: Engine.IO pingInterval +
	// pingTimeout, MQTT 1.5 x keep alive. STOMP leaves it to implementations.
	Timeout time.Duration
	// At is the time of the message that completed the negotiation
	// (STOMP's CONNECTED): beats are due from then on.
	At time.Time
}

// MaxApps bounds the application messages kept from one WebSocket
// message: one message of 16 MiB of STOMP heart-beats (newlines) or MQTT
// PINGREQs (two bytes) would otherwise hold an App of ~200 bytes for every
// one or two bytes of it (a 4 MiB one took 2.2 GB). The rest are decoded
// (a stream protocol's state goes on) and counted on the last App kept,
// marked app_limit.
const MaxApps = 4096

// keep appends a to out, the Apps of one message so far, up to MaxApps;
// past that, out's last App becomes one marked app_limit that counts a,
// or what a counts when it is itself such an App from a SockJS payload's
// inner session (it stands for those, not for one more).
func keep(out []App, a App) []App {
	k := max(a.over, 1) // the application messages a stands for
	switch n := len(out); {
	case n < MaxApps-1:
		return append(out, a)
	case n == MaxApps-1:
		return append(out, App{Protocol: a.Protocol, Key: "-", Anomalies: []string{"app_limit"}, over: k})
	default:
		if last := &out[n-1]; last.over <= math.MaxUint32-k {
			last.over += k
		}
		return out
	}
}

// decoder decodes one protocol's messages for a session.
type decoder interface {
	decode(s *Session, m *wsparse.Message, out []App) []App
}

// Session decodes one WebSocket connection's messages.
type Session struct {
	dec     decoder
	ka      *Keepalive // nil until the protocol negotiates one (most sessions: a session is 32 bytes, not 96)
	auto    bool       // mode auto: the protocol is chosen from the handshake or the content
	none    bool       // mode none: nothing is decoded
	sniffed int8       // messages looked at without a decision (auto mode), up to sniffLimit
	eio     int8       // Engine.IO protocol version from the URI (3 or 4)
	inner   bool       // a SockJS payload session: no handshake, text only
	beats   bool       // only heartbeats and keepalives are wanted (BeatsOnly)
	lazy    bool       // a JSON object's fields are left in its Body (LazyFields)
	borrow  bool       // a JSON App's Body may be the message's data (BorrowBodies)
}

// sniffLimit is how many messages auto mode looks at before giving up.
const sniffLimit = 8

// New returns a session for a connection with handshake hs (nil when the
// handshake was not captured). mode is "auto" (choose from the subprotocol,
// then the URI, then the content), "none", or a protocol name from Modes;
// an unknown mode behaves as "none".
func New(hs *wsparse.Handshake, mode string) *Session {
	s := &Session{auto: mode == ModeAuto, none: mode == ModeNone, eio: 4}
	if hs != nil {
		if v := queryParam(hs.URI, "EIO"); v == "3" {
			s.eio = 3
		}
	}
	switch mode {
	case ModeAuto:
		if hs != nil {
			s.dec = fromHandshake(hs)
		}
	case ModeNone:
	default:
		s.dec = byName(mode)
	}
	return s
}

// Blank reports whether the session is as New(nil, mode) makes it:
// nothing chosen from the handshake, nothing negotiated, no message looked
// at. A caller that keeps sessions by connection need not keep a blank one
// made at the handshake: one made at the connection's first message
// decodes the same.
func (s *Session) Blank() bool {
	n, ok := s.Sniffed()
	return ok && n == 0
}

// Sniffed reports whether the session holds nothing of its connection but
// the number of messages it looked at without choosing a protocol (n):
// nothing chosen from the handshake or the content, nothing negotiated.
// Such sessions of one caller, made alike (mode, BeatsOnly, LazyFields),
// with the same n are equal: the caller may share one among its
// connections, and copy it (*s) for a connection's next Message.
func (s *Session) Sniffed() (n int, ok bool) {
	return int(s.sniffed), s.dec == nil && s.ka == nil && s.eio == 4 && !s.inner
}

// Final reports whether Message can no longer change the session: it
// chose nothing and looks at no more messages (or decodes nothing).
func (s *Session) Final() bool {
	return s.none || s.dec == nil && (!s.auto || s.sniffed >= sniffLimit)
}

// BeatsOnly tells the session that only heartbeats (App.Heartbeat) and
// Keepalive will be read: messages of protocols that have neither are not
// decoded, and Message returns nothing for them. The protocol is still
// chosen as without it.
func (s *Session) BeatsOnly() { s.beats = true }

// LazyFields tells the session that the fields of its Apps are read with
// NumFields and FieldAt (or AllFields), not Fields: a JSON object's
// members are then left where they lie in its Body, 8 bytes each without
// a pointer, instead of becoming a Field of two strings each (issue 17:
// an object of thousands of members, written once by jsonl, cost more in
// Fields than its decoding).
func (s *Session) LazyFields() { s.lazy = true }

// BorrowBodies tells the session that its Apps are read only while the
// message they come from is unchanged, and before the next message given
// with the same Scratch (MessageIn), as record.Record's are: a JSON
// message's App (with LazyFields, or not an object) then has the
// message's data as its Body, not a copy, and its object's members in
// the Scratch, when one is given (App.Borrowed). A caller that keeps such
// an App longer calls App.Own, or App.Rebase onto its own copy of the
// message's data. (issue 17: the copy was 15% of jsonl's CPU on messages
// of large JSON objects, and the members' allocation 7%.)
func (s *Session) BorrowBodies() { s.borrow = true }

// Protocol returns the protocol chosen so far ("" while undecided or in
// mode none). Socket.IO sessions report "socketio".
func (s *Session) Protocol() string {
	switch d := s.dec.(type) {
	case *stompDecoder:
		return STOMP
	case *sockjsDecoder:
		return SockJS
	case *socketioDecoder:
		return SocketIO
	case *mqttDecoder:
		return MQTT
	case *graphqlDecoder:
		return d.protocol()
	case *jsonDecoder:
		return JSON
	}
	return ""
}

// Keepalive returns what the protocol negotiated so far about heartbeats.
func (s *Session) Keepalive() Keepalive {
	if sj, ok := s.dec.(*sockjsDecoder); ok && sj.inner != nil && (s.ka == nil || s.ka.Source == "") {
		return sj.inner.Keepalive()
	}
	if s.ka == nil {
		return Keepalive{}
	}
	return *s.ka
}

// Message decodes one WebSocket data message and returns the application
// messages that completed in it (none while a frame waits for more).
func (s *Session) Message(m *wsparse.Message) []App { return s.MessageIn(nil, m) }

// MessageIn is Message, with sc for the fields that a session with
// BorrowBodies lends its Apps (nil: none lent).
func (s *Session) MessageIn(sc *Scratch, m *wsparse.Message) []App {
	if m == nil || s.none {
		return nil
	}
	if s.dec == nil {
		if !s.auto || s.sniffed >= sniffLimit {
			return nil
		}
		s.dec = sniff(m, s.inner)
		if s.dec == nil {
			s.sniffed++
			return nil
		}
		if jd, ok := s.dec.(*jsonDecoder); ok {
			// Guessed from content: a message that is not JSON is just not
			// JSON, not a broken JSON message.
			jd.quiet = true
		}
	}
	if _, plain := s.dec.(*jsonDecoder); plain && s.beats {
		return nil // JSON and JSON-RPC have no heartbeats
	}
	if jd, ok := s.dec.(*jsonDecoder); ok && s.borrow {
		jd.scratch = sc
	}
	out := s.dec.decode(s, m, nil)
	if s.ka != nil && s.ka.At.IsZero() {
		s.ka.At = m.TS
	}
	if len(out) >= MaxApps && out[MaxApps-1].over > 0 {
		a := &out[MaxApps-1] // a plain append (a last App about the message's end) may follow it
		a.Summary = strconv.FormatUint(uint64(a.over), 10) +
			" more application messages in this message, decoded and not kept"
		a.Fields = []Field{{"not_kept", strconv.FormatUint(uint64(a.over), 10)}}
	}
	if m.Len > uint64(len(m.Data)) || m.LenUnknown {
		// the capture or a size limit cut the message: say so on what came out
		for i := range out {
			out[i].Anomalies = append(out[i].Anomalies, "message_truncated")
		}
	}
	return out
}

func byName(name string) decoder {
	switch name {
	case STOMP:
		return newSTOMP()
	case SockJS:
		return &sockjsDecoder{}
	case SocketIO, EngineIO:
		return newSocketIO()
	case MQTT:
		return newMQTT()
	case GraphQLTransportWS:
		return &graphqlDecoder{fixed: true}
	case GraphQLWS:
		return &graphqlDecoder{fixed: true, legacy: true}
	case JSON, JSONRPC:
		return newJSON()
	}
	return nil
}

// fromHandshake picks a decoder from the negotiated subprotocol, then from
// the URI.
func fromHandshake(hs *wsparse.Handshake) decoder {
	sub := hs.Subprotocol
	if sub == "" && hs.Status == 0 {
		// response not captured: a single offered protocol is a good guess
		if p := strings.TrimSpace(hs.OfferedProtocols); p != "" && !strings.Contains(p, ",") {
			sub = p
		}
	}
	switch strings.ToLower(strings.TrimSpace(sub)) {
	case "v10.stomp", "v11.stomp", "v12.stomp", "stomp":
		return newSTOMP()
	case "mqtt", "mqttv3.1":
		return newMQTT()
	case "graphql-transport-ws":
		return &graphqlDecoder{fixed: true}
	case "graphql-ws":
		return &graphqlDecoder{fixed: true, legacy: true}
	}
	path, query, _ := strings.Cut(hs.URI, "?")
	if strings.Contains(path, "/socket.io/") || strings.Contains(path, "/engine.io/") || queryParam(query, "EIO") != "" {
		return newSocketIO()
	}
	if isSockJSPath(path) {
		return &sockjsDecoder{}
	}
	return nil
}

// sockjsTransports are the last segments of SockJS session URLs: the
// WebSocket and the HTTP fallbacks (a fallback session joined into one
// conversation keeps the URL of its first request).
var sockjsTransports = map[string]bool{"websocket": true, "xhr_streaming": true, "xhr": true, "xhr_send": true,
	"eventsource": true, "htmlfile": true, "jsonp": true, "jsonp_send": true}

// isSockJSPath matches /<prefix>/<server>/<session>/<transport>, where
// server and session are single segments without dots (SockJS protocol,
// "Session URLs").
func isSockJSPath(path string) bool {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	n := len(segs)
	if n < 3 || !sockjsTransports[segs[n-1]] {
		return false
	}
	for _, s := range segs[n-3 : n-1] {
		if s == "" || strings.Contains(s, ".") {
			return false
		}
	}
	return true
}

// queryParam returns the first value of key in a URI or raw query.
func queryParam(uri, key string) string {
	if _, q, ok := strings.Cut(uri, "?"); ok {
		uri = q
	}
	for _, kv := range strings.Split(uri, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// sniff guesses the protocol from one message's content.
func sniff(m *wsparse.Message, inner bool) decoder {
	d := m.Data
	if m.Opcode == wsparse.OpBinary {
		if !inner && looksMQTTConnect(d) {
			return newMQTT()
		}
		return nil
	}
	if len(d) == 0 {
		return nil
	}
	if !inner {
		switch {
		case m.Dir == wsparse.ServerToClient && string(d) == "o":
			return &sockjsDecoder{}
		case d[0] == '0' && len(d) > 1 && d[1] == '{' && jsonHasKey(d[1:], "sid"):
			return newSocketIO()
		}
	}
	if looksSTOMP(d) {
		return newSTOMP()
	}
	if d[0] == '{' || d[0] == '[' {
		if t := jsonStringField(d, "type"); t != "" {
			if _, ok := graphqlTypes[t]; ok {
				return &graphqlDecoder{}
			}
		}
		if validJSON(d) {
			return newJSON()
		}
	}
	return nil
}
