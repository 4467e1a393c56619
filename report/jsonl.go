package report

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// jsonl writes one JSON object per record. Field order is fixed, so the
// same input always gives byte-identical output. It builds the lines by
// hand into one reused buffer, written out when it holds flushAt bytes:
// this is the fast path for large captures.
type jsonl struct {
	w   io.Writer
	buf []byte // the lines not yet written
	gen int    // counts the writes of buf: offsets into it hold until the next
	err error
	st  *Stabilizer // --stable; nil: values as captured

	// The last unfragmented data frame's payload and where its base64 is
	// in buf (lastAt:lastEnd, while gen is lastGen): the message that
	// follows usually carries the same bytes, encoded once for both. The
	// bytes are compared, not the slices: a filter may drop records in
	// between, and buffers are reused.
	lastPayload     []byte
	lastAt, lastEnd int
	lastGen         int
	lastOK          bool

	// files name the inputs by number (wsparse.Conn.Input) when there
	// are several read merged: every record of a connection then has its
	// "file" (nil: none, the jsonl of one input as it was).
	files []string

	conns    *[connTexts]connText // made at the first frame or message
	connHits int                  // records that found their connText made (tests)
	ts       tsText
}

// flushAt is how much output jsonl gathers before writing it.
const flushAt = 256 << 10

func newJSONL(w io.Writer) *jsonl {
	return &jsonl{w: w, buf: make([]byte, 0, flushAt+flushAt/4)}
}

func (j *jsonl) SetOrigin(t time.Time) { j.st.SetOrigin(t) }

// write writes out the lines in buf.
func (j *jsonl) write() {
	if len(j.buf) > 0 && j.err == nil {
		_, j.err = j.w.Write(j.buf)
	}
	j.buf = j.buf[:0]
	j.gen++
}

func (j *jsonl) Flush() error {
	j.write()
	return j.err
}

func (j *jsonl) Close() error {
	j.write()
	return j.err
}

// maxReuse bounds the payloads whose base64 is kept for the message.
const maxReuse = 1 << 20

// emit ends the record being appended to buf.
func (j *jsonl) emit(b []byte) {
	j.buf = append(b, '}', '\n')
	if len(j.buf) >= flushAt {
		j.write()
	}
}

// start begins a record with its type and connection.
func (j *jsonl) start(typ string, c *wsparse.Conn) []byte {
	b := append(j.buf, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	return j.appendConnField(b, c)
}

// appendConnField appends `,"conn":N` for connection c, `,"stream":S`
// for a WebSocket in an HTTP/2 stream (RFC 8441), and `,"encap":E` for
// one that came encapsulated (VLAN tags, tunnels: Conn.Encap).
// With several inputs (files), `,"file":F` follows: the input the
// connection was first seen in.
func (j *jsonl) appendConnField(b []byte, c *wsparse.Conn) []byte {
	b = append(b, `,"conn":`...)
	conn, stream := wsparse.SplitID(c.ID)
	b = strconv.AppendInt(b, int64(conn), 10)
	if stream != 0 {
		b = append(b, `,"stream":`...)
		b = strconv.AppendUint(b, uint64(stream), 10)
	}
	if c.EncapID() != 0 {
		b = strField(b, "encap", c.Encap())
	}
	if i := c.Input(); i < len(j.files) {
		b = strField(b, "file", j.files[i])
	}
	return b
}

func (j *jsonl) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	b := j.start("handshake", c)
	b = field(b, "ts")
	b = appendQuotedTS(b, j.st.Time(h.TS))
	b = addrField(b, "client", j.st.Client(c.Client()))
	b = addrField(b, "server", c.Server())
	b = field(b, "request_ts")
	b = appendQuotedTS(b, j.st.Time(h.RequestTS))
	b = strField(b, "method", h.Method)
	b = strField(b, "uri", h.URI)
	b = strField(b, "http_version", h.HTTPVersion)
	if h.Protocol != "" {
		b = strField(b, "protocol", h.Protocol)
	}
	b = strField(b, "host", h.Host)
	b = strField(b, "origin", h.Origin)
	b = strField(b, "user_agent", h.UserAgent)
	b = strField(b, "version", h.Version)
	b = strField(b, "offered_protocols", h.OfferedProtocols)
	b = strField(b, "offered_extensions", h.OfferedExtensions)
	b = field(b, "status")
	b = strconv.AppendInt(b, int64(h.Status), 10)
	b = strField(b, "reason", h.Reason)
	b = strField(b, "subprotocol", h.Subprotocol)
	b = strField(b, "extensions", h.Extensions)
	b = strField(b, "key", j.st.Key(h.Key))
	b = strField(b, "accept", j.st.Accept(h.Accept))
	b = field(b, "accept_valid")
	b = strconv.AppendBool(b, h.AcceptValid)
	if h.Transport != "" {
		b = strField(b, "transport", h.Transport) // a SockJS or Engine.IO session over HTTP
	}
	if h.TLS != nil {
		b = j.appendTLS(field(b, "tls"), h.TLS)
	}
	if h.Deflate {
		p := h.DeflateParams
		b = append(b, `,"deflate":{"server_no_context_takeover":`...)
		b = strconv.AppendBool(b, p.ServerNoContextTakeover)
		b = append(b, `,"client_no_context_takeover":`...)
		b = strconv.AppendBool(b, p.ClientNoContextTakeover)
		b = append(b, `,"server_max_window_bits":`...)
		b = strconv.AppendInt(b, int64(p.ServerMaxWindowBits), 10)
		b = append(b, `,"client_max_window_bits":`...)
		b = strconv.AppendInt(b, int64(p.ClientMaxWindowBits), 10)
		b = append(b, '}')
	}
	b = anomaliesField(b, h.Anomalies)
	j.emit(b)
}

func (j *jsonl) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	var b []byte
	if f.Dir == wsparse.ClientToServer || f.Dir == wsparse.ServerToClient {
		e := j.connText(c)
		b = append(j.buf, `{"type":"frame"`...)
		b = append(b, e.conn...)
		b = field(b, "ts")
		b = j.ts.appendQuotedTS(b, j.st.Time(f.TS))
		b = append(b, j.dirs(e)[f.Dir]...)
	} else {
		b = j.start("frame", c)
		b = field(b, "ts")
		b = appendQuotedTS(b, j.st.Time(f.TS))
		b = addrField(b, "src", j.st.Client(c.Client()))
		b = addrField(b, "dst", c.Server())
		b = strField(b, "dir", f.Dir.String())
	}
	b = field(b, "index")
	b = strconv.AppendInt(b, int64(f.Index), 10)
	b = field(b, "fin")
	b = strconv.AppendBool(b, f.Fin)
	b = field(b, "rsv")
	b = strconv.AppendInt(b, int64(f.RSV), 10)
	b = field(b, "opcode")
	b = strconv.AppendInt(b, int64(f.Opcode), 10)
	b = strField(b, "opcode_name", f.Opcode.String())
	b = field(b, "masked")
	b = strconv.AppendBool(b, f.Masked)
	if f.Masked && j.st.On() {
		b = strField(b, "mask_key", StableMask)
	} else if f.Masked {
		b = field(b, "mask_key")
		b = append(b, '"')
		b = hex.AppendEncode(b, f.MaskKey[:])
		b = append(b, '"')
	}
	b = field(b, "len")
	b = strconv.AppendUint(b, f.Length, 10)
	b = field(b, "header_len")
	b = strconv.AppendInt(b, int64(f.Size), 10)
	b = field(b, "payload")
	at := len(b)
	b = appendBase64(b, f.Payload)
	j.lastOK = f.Fin && (f.Opcode == wsparse.OpText || f.Opcode == wsparse.OpBinary) && len(f.Payload) <= maxReuse
	if j.lastOK {
		j.lastPayload = append(j.lastPayload[:0], f.Payload...)
		j.lastAt, j.lastEnd, j.lastGen = at, len(b), j.gen
	}
	if uint64(len(f.Payload)) != f.Length {
		b = field(b, "payload_kept")
		b = strconv.AppendInt(b, int64(len(f.Payload)), 10)
	}
	if f.Opcode == wsparse.OpClose && f.HasCloseCode {
		b = field(b, "close_code")
		b = strconv.AppendInt(b, int64(f.CloseCode), 10)
		b = strField(b, "close_reason", f.CloseReason)
	}
	b = anomaliesField(b, f.Anomalies)
	j.emit(b)
}

func (j *jsonl) Message(c *wsparse.Conn, m *wsparse.Message) { j.MessageApps(c, m, nil) }

// MessageApps writes a message record with the application messages
// decoded from it ("app": an array, as one WebSocket message can carry
// several, each an object with "protocol", "type", "key", "summary" and
// the protocol's fields).
func (j *jsonl) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	b := append(j.buf, `{"type":"message"`...)
	b = append(b, j.connText(c).conn...)
	b = field(b, "ts")
	b = j.ts.appendQuotedTS(b, j.st.Time(m.TS))
	b = strField(b, "dir", m.Dir.String())
	b = field(b, "index")
	b = strconv.AppendInt(b, int64(m.Index), 10)
	b = field(b, "opcode")
	b = strconv.AppendInt(b, int64(m.Opcode), 10)
	b = field(b, "frames")
	b = strconv.AppendInt(b, int64(m.Frames), 10)
	b = field(b, "len")
	if m.LenUnknown {
		b = append(b, "null"...) // compressed, not inflated to its end: see wire_len
	} else {
		b = strconv.AppendUint(b, m.Len, 10)
	}
	b = field(b, "data")
	if j.lastOK && j.lastGen == j.gen && bytes.Equal(m.Data, j.lastPayload) {
		b = append(b, b[j.lastAt:j.lastEnd]...)
	} else {
		b = appendBase64(b, m.Data)
	}
	if uint64(len(m.Data)) != m.Len || m.LenUnknown {
		b = field(b, "data_kept")
		b = strconv.AppendInt(b, int64(len(m.Data)), 10)
	}
	if m.Compressed {
		b = append(b, `,"compressed":true,"wire_len":`...)
		b = strconv.AppendUint(b, m.WireLen, 10)
	}
	if m.Fallback != nil {
		b = strField(b, "transport", m.Fallback.Transport) // the carrier of a joined SockJS or Engine.IO session
	}
	if len(apps) > 0 {
		b = field(b, "app")
		b = append(b, '[')
		for i := range apps {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendAppJSON(b, apps[i])
		}
		b = append(b, ']')
	}
	b = anomaliesField(b, m.Anomalies)
	j.emit(b)
}

func (j *jsonl) End(c *wsparse.Conn, s *wsparse.Summary) {
	b := j.start("conn", c)
	b = field(b, "ts")
	b = appendQuotedTS(b, j.st.Time(s.Last))
	b = addrField(b, "client", j.st.Client(c.Client()))
	b = addrField(b, "server", c.Server())
	b = field(b, "first_ts")
	b = appendQuotedTS(b, j.st.Time(s.First))
	b = field(b, "last_ts")
	b = appendQuotedTS(b, j.st.Time(s.Last))
	b = field(b, "duration")
	b = strconv.AppendFloat(b, s.Duration().Seconds(), 'f', 6, 64)
	b = field(b, "handshake_seen")
	b = strconv.AppendBool(b, s.Handshake != nil)
	if s.TLS != nil {
		b = j.appendTLS(field(b, "tls"), s.TLS)
	}
	b = strField(b, "confidence", string(s.Confidence))
	if h := s.Handshake; h != nil {
		b = strField(b, "host", h.Host)
		b = strField(b, "uri", h.URI)
		b = field(b, "status")
		b = strconv.AppendInt(b, int64(h.Status), 10)
		b = strField(b, "subprotocol", h.Subprotocol)
		b = strField(b, "extensions", h.Extensions)
	}
	for d, name := range [2]string{"c2s", "s2c"} {
		st := &s.Stats[d]
		b = field(b, name)
		b = append(b, `{"frames":`...)
		b = strconv.AppendInt(b, int64(st.Frames), 10)
		b = append(b, `,"messages":`...)
		b = strconv.AppendInt(b, int64(st.Messages), 10)
		b = append(b, `,"control_frames":`...)
		b = strconv.AppendInt(b, int64(st.ControlFrames), 10)
		b = append(b, `,"payload_bytes":`...)
		b = strconv.AppendUint(b, st.PayloadBytes, 10)
		b = append(b, `,"wire_bytes":`...)
		b = strconv.AppendUint(b, st.WireBytes, 10)
		b = append(b, `,"lost_bytes":`...)
		b = strconv.AppendUint(b, st.LostBytes, 10)
		b = append(b, `,"skipped_bytes":`...)
		b = strconv.AppendUint(b, st.SkippedBytes, 10)
		b = append(b, `,"resyncs":`...)
		b = strconv.AppendInt(b, int64(st.Resyncs), 10)
		if st.Conflicts > 0 {
			b = append(b, `,"retransmit_conflicts":`...)
			b = strconv.AppendInt(b, int64(st.Conflicts), 10)
		}
		if st.Urgent > 0 {
			b = append(b, `,"urgent_segments":`...)
			b = strconv.AppendInt(b, int64(st.Urgent), 10)
		}
		if st.CompressedMessages > 0 {
			b = append(b, `,"compressed_messages":`...)
			b = strconv.AppendInt(b, int64(st.CompressedMessages), 10)
			b = append(b, `,"compressed_bytes":`...)
			b = strconv.AppendUint(b, st.CompressedBytes, 10)
			b = append(b, `,"inflated_bytes":`...)
			b = strconv.AppendUint(b, st.InflatedBytes, 10)
			b = append(b, `,"compression_ratio":`...)
			ratio := 0.0
			if st.CompressedBytes > 0 {
				ratio = float64(st.InflatedBytes) / float64(st.CompressedBytes)
			}
			b = strconv.AppendFloat(b, ratio, 'f', 3, 64)
		}
		b = append(b, `,"tcp_fin":`...)
		b = strconv.AppendBool(b, s.TCPFin[d])
		b = append(b, `,"tcp_rst":`...)
		b = strconv.AppendBool(b, s.TCPRst[d])
		b = append(b, '}')
	}
	b = field(b, "close")
	if !s.Close[0].Sent && !s.Close[1].Sent {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		b = append(b, `"initiator":`...)
		b = appendString(b, s.Initiator.Side())
		for d, name := range [2]string{"client", "server"} {
			cl := &s.Close[d]
			if !cl.Sent {
				continue
			}
			b = field(b, name)
			b = append(b, `{"ts":`...)
			b = appendQuotedTS(b, j.st.Time(cl.TS))
			if cl.HasCode {
				b = append(b, `,"code":`...)
				b = strconv.AppendInt(b, int64(cl.Code), 10)
				b = strField(b, "code_name", wsparse.CloseCodeName(cl.Code))
				b = strField(b, "reason", cl.Reason)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = strField(b, "end", string(s.End))
	if s.StreamEnd != "" {
		b = strField(b, "stream_end", s.StreamEnd)
	}
	if h := s.HTTP2; h != nil {
		b = append(b, `,"http2":{"streams":`...)
		b = strconv.AppendInt(b, int64(h.Streams), 10)
		b = append(b, `,"requests":`...)
		b = strconv.AppendInt(b, int64(h.Requests), 10)
		if h.RequestBytes > 0 {
			b = append(b, `,"request_bytes":`...)
			b = strconv.AppendInt(b, h.RequestBytes, 10)
		}
		b = append(b, `,"websockets":`...)
		b = strconv.AppendInt(b, int64(h.WebSockets), 10)
		if h.NotFollowed > 0 {
			b = append(b, `,"streams_not_followed":`...)
			b = strconv.AppendInt(b, int64(h.NotFollowed), 10)
		}
		if h.GoAway != "" {
			b = strField(b, "goaway", h.GoAway)
		}
		b = append(b, '}')
	}
	b = anomaliesField(b, s.Anomalies)
	j.emit(b)
}

// TLSConn writes a TLS connection that showed no WebSocket: what its
// handshake told, and why it could not be looked into.
func (j *jsonl) TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, t *wsparse.TLSInfo) {
	b := j.start("tls", c)
	b = field(b, "ts")
	b = appendQuotedTS(b, j.st.Time(ts))
	b = addrField(b, "client", j.st.Client(client))
	b = addrField(b, "server", server)
	b = appendTLSFields(b, t, j.st)
	j.emit(b)
}

// appendTLS appends the "tls" object of handshake and conn records.
func (j *jsonl) appendTLS(b []byte, t *wsparse.TLSInfo) []byte {
	b = append(b, '{')
	start := len(b)
	b = appendTLSFields(b, t, j.st)
	b = append(b[:start], b[start+1:]...) // the first field's comma
	return append(b, '}')
}

func appendTLSFields(b []byte, t *wsparse.TLSInfo, st *Stabilizer) []byte {
	b = strField(b, "version", t.Version)
	b = strField(b, "cipher", t.Cipher)
	b = strField(b, "sni", t.SNI)
	b = strField(b, "alpn", t.ALPN)
	b = field(b, "alpn_offered")
	b = append(b, '[')
	for i, p := range t.Offered {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p)
	}
	b = append(b, ']')
	b = field(b, "decrypted")
	b = strconv.AppendBool(b, t.Decrypted)
	if t.Error != "" {
		b = strField(b, "error", st.Text(t.Error))
	}
	if t.Stopped && t.StopError != "" && t.StopError != t.Error { // (the stop, where the first failure was another)
		b = strField(b, "stop_error", st.Text(t.StopError))
	}
	if t.Renegotiations > 0 { // (only where there were: the field is new)
		b = field(b, "renegotiations")
		b = strconv.AppendInt(b, int64(t.Renegotiations), 10)
	}
	resync := t.Skipped != [2]int64{}
	if t.H2Renegotiations > 0 || resync { // (the anomaly bits are all taken)
		b = field(b, "anomalies")
		b = append(b, '[')
		if t.H2Renegotiations > 0 {
			b = append(b, `"`+wsparse.AnomNameH2TLSRenegotiation+`"`...)
		}
		if resync {
			if t.H2Renegotiations > 0 {
				b = append(b, ',')
			}
			b = append(b, `"`+wsparse.AnomNameTLSRecordResync+`"`...)
		}
		b = append(b, ']')
	}
	if t.H2Renegotiations > 0 {
		b = field(b, "h2_renegotiations")
		b = strconv.AppendInt(b, int64(t.H2Renegotiations), 10)
	}
	b = field(b, "client_bytes")
	b = strconv.AppendInt(b, t.Bytes[0], 10)
	b = field(b, "server_bytes")
	b = strconv.AppendInt(b, t.Bytes[1], 10)
	if resync { // (only where there were: the fields are new)
		b = field(b, "client_skipped")
		b = strconv.AppendInt(b, t.Skipped[0], 10)
		b = field(b, "server_skipped")
		b = strconv.AppendInt(b, t.Skipped[1], 10)
	}
	return b
}

// field appends `,"name":`.
func field(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func strField(b []byte, name, v string) []byte {
	return appendString(field(b, name), v)
}

// addrField is strField for an address: "1.2.3.4:80", "[::1]:80", or
// "invalid AddrPort" as String writes it, without the string.
func addrField(b []byte, name string, a netip.AddrPort) []byte {
	b = append(field(b, name), '"')
	if a.IsValid() {
		b = a.AppendTo(b)
	} else {
		b = append(b, a.String()...)
	}
	return append(b, '"')
}

func appendQuotedTS(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = appendTS(b, t)
	return append(b, '"')
}

func anomaliesField(b []byte, a wsparse.Anomalies) []byte {
	b = append(b, `,"anomalies":[`...)
	first := true
	a.Each(func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"')
	})
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"
