// Package record is what flows between wsdump's stages: one small sum
// type, Record, whose Kind says which of its fields are set, and one
// stage interface, Sink. A stage that wants only some kinds switches on
// Kind and passes the others on (or drops them): no stage asks, by type
// assertion, what the next one can do.
package record

import (
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// Kind says what a Record is.
type Kind uint8

const (
	Handshake  Kind = iota + 1 // Handshake is set
	Frame                      // Frame is set
	Message                    // Message is set; Apps too when Decoded
	End                        // Summary is set: the connection ended
	TLS                        // TLS is set: a TLS connection that showed no WebSocket
	Beat                       // Beat is set: a heartbeat found by application decoding
	Negotiated                 // Negotiated is set: a keepalive agreed in an application protocol
)

var kindNames = [...]string{"", "handshake", "frame", "message", "end", "tls", "beat", "negotiated"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Record is one thing a connection produced. Conn is set for every kind;
// the other fields are set as Kind says. A Record and what it points to
// are valid only during the Put that hands it over (the producer may reuse
// them): copy what you keep. An App's Body and fields may be the
// message's data and the decoder's scratch (appproto.Session.BorrowBodies):
// a sink that keeps Apps copies the slice and calls App.Own on each.
type Record struct {
	Kind      Kind
	Conn      *wsparse.Conn
	Handshake *wsparse.Handshake
	Frame     *wsparse.Frame
	Message   *wsparse.Message
	// Apps are the application messages (appproto) inside Message;
	// Decoded says they were looked for (Apps may then be empty).
	Apps       []appproto.App
	Decoded    bool
	Summary    *wsparse.Summary
	TLS        *TLSConn
	Beat       health.Beat
	Negotiated health.Negotiated
}

// TLSConn is what the TLS handshake of a connection that showed no
// WebSocket told (no key, or something else inside); it comes when the
// connection ends.
type TLSConn struct {
	TS             time.Time
	Client, Server netip.AddrPort
	Info           *wsparse.TLSInfo
}

// Sink takes records, one at a time, in order.
type Sink interface {
	Put(*Record)
}

// Func is a function used as a Sink.
type Func func(*Record)

// Put calls f(r).
func (f Func) Put(r *Record) { f(r) }

// Discard drops every record.
var Discard Sink = Func(func(*Record) {})

// Adapt feeds the four wsparse kinds (Handshake, Frame, Message, End) to
// s and drops the others; a Message's Apps are dropped with them.
func Adapt(s wsparse.Sink) Sink { return adapter{s} }

type adapter struct{ s wsparse.Sink }

func (a adapter) Put(r *Record) { ToWS(a.s, r) }

// ToWS calls the wsparse.Sink method for r's kind, if it has one, and
// reports whether it did.
func ToWS(s wsparse.Sink, r *Record) bool {
	switch r.Kind {
	case Handshake:
		s.Handshake(r.Conn, r.Handshake)
	case Frame:
		s.Frame(r.Conn, r.Frame)
	case Message:
		s.Message(r.Conn, r.Message)
	case End:
		s.End(r.Conn, r.Summary)
	default:
		return false
	}
	return true
}

// FromWS is a wsparse.Sink that turns each call into a Record for a Sink:
// what a wsparse.Conn is given to produce records. The Record handed
// over is reused from call to call.
type FromWS struct {
	Out Sink
	r   Record
}

func (w *FromWS) put(k Kind, c *wsparse.Conn) *Record {
	w.r = Record{Kind: k, Conn: c}
	return &w.r
}

func (w *FromWS) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	r := w.put(Handshake, c)
	r.Handshake = h
	w.Out.Put(r)
}

func (w *FromWS) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	r := w.put(Frame, c)
	r.Frame = f
	w.Out.Put(r)
}

func (w *FromWS) Message(c *wsparse.Conn, m *wsparse.Message) {
	r := w.put(Message, c)
	r.Message = m
	w.Out.Put(r)
}

func (w *FromWS) End(c *wsparse.Conn, s *wsparse.Summary) {
	r := w.put(End, c)
	r.Summary = s
	w.Out.Put(r)
}
