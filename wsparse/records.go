package wsparse

// The records a connection reports besides its Handshake and Summary: Dir,
// Frame, Message, and the TLSInfo a caller attaches.

import (
	"strings"
	"time"
)

// Dir is the direction of a frame or message.
type Dir uint8

const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

func (d Dir) String() string {
	if d == ClientToServer {
		return "c2s"
	}
	return "s2c"
}

// Frame is one decoded frame. Payload and the Frame itself are only valid
// during the Sink call.
type Frame struct {
	Header
	Dir   Dir
	TS    time.Time
	Index int // 1-based ordinal of the frame in its direction

	// MessageOpcode is the opcode of the message a data frame belongs to:
	// the frame's own for text and binary, the open message's for a
	// continuation (0 when there is none), 0 for control frames.
	MessageOpcode Opcode

	// Payload is the unmasked payload as sent (still compressed when RSV1
	// marks a compressed message). It is shorter than Length when the
	// payload was cut by a limit or lost from the capture: see Anomalies.
	Payload []byte

	// Close frames only.
	CloseCode    uint16
	HasCloseCode bool
	CloseReason  string

	Anomalies Anomalies
}

// Message is a complete data message: one unfragmented frame or a run of
// fragments. Data is only valid during the Sink call.
type Message struct {
	Dir        Dir
	Opcode     Opcode    // OpText or OpBinary
	Compressed bool      // RSV1 on the first frame with permessage-deflate
	LenUnknown bool      // compressed and not inflated to its end (bytes lost, an error, a bound): Len is only what was inflated
	TS         time.Time // when the last frame completed
	Frames     int
	Len        uint64 // message bytes: inflated when compressed (see Anomalies when shorter than Len)
	WireLen    uint64 // payload bytes on the wire, summed over the frames
	Data       []byte // the message bytes kept, inflated when compressed
	Index      int    // 1-based ordinal of the message in its direction
	Anomalies  Anomalies
	Fallback   *Fallback // an HTTP fallback transport's message (Config.Fallback), nil on WebSocket
}

// TLSInfo describes the TLS layer a connection's bytes were decrypted from
// (wss), or the TLS connection that could not be looked into.
type TLSInfo struct {
	Version   string // "TLS 1.2", "TLS 1.3"
	Cipher    string // IANA name of the suite
	SNI       string
	ALPN      string   // protocol the server chose, when visible
	Offered   []string // ALPN protocols the client offered
	Decrypted bool
	Error     string   // why not (no key, wrong key, unsupported suite, lost bytes)
	Bytes     [2]int64 // TLS bytes sent by the client and by the server
	// Skipped: by the client and by the server, TLS bytes searched for a
	// record boundary after bytes lost inside a record and not decoded
	// (in Bytes too): the anomaly AnomNameTLSRecordResync.
	Skipped [2]int64

	Renegotiations int // TLS 1.2 renegotiations begun inside the encrypted channel
	// Stopped: decryption stopped partway (after application data, a
	// side's records stopped being decrypted): StopError says why (Error
	// is the first failure, which decryption may have gone on past).
	Stopped   bool
	StopError string
	// H2Renegotiations counts the renegotiations after the connection
	// preface of an HTTP/2 connection over this session, which RFC 9113
	// §9.2.1 forbids: the anomaly AnomNameH2TLSRenegotiation, kept here
	// as the 64 bits of Anomalies are all taken.
	H2Renegotiations int
}

// AnomNameH2TLSRenegotiation is the name of the anomaly of a TLSInfo with
// H2Renegotiations, in its record's tls object and lint.
const AnomNameH2TLSRenegotiation = "h2_tls_renegotiation"

// AnomNameTLSRecordResync is the name of the anomaly of a TLSInfo with
// Skipped bytes: a record boundary was searched for after bytes lost
// inside a record.
const AnomNameTLSRecordResync = "tls_record_resync"

// StopText is a short form of why decryption stopped partway ("" when it
// did not): StopWhy up to its first parenthesis, as it came (the views
// escape it).
func (i *TLSInfo) StopText() string {
	if !i.Stopped {
		return ""
	}
	e, _, _ := strings.Cut(i.StopWhy(), " (")
	if e == "" {
		return "no reason recorded"
	}
	return e
}

// StopWhy is the failure that stopped decryption partway: StopError, or
// Error where none was recorded (a TLSInfo made before the field).
func (i *TLSInfo) StopWhy() string {
	if i.StopError != "" {
		return i.StopError
	}
	return i.Error
}

// Why says why the connection was not decrypted: Error, or, when the
// decoder recorded none (a connection with no TLS record whole in the
// capture), that the capture held too little of it.
func (i *TLSInfo) Why() string {
	if i.Error != "" {
		return i.Error
	}
	return "no reason recorded: too little of it captured"
}
