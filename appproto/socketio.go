package appproto

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/wsparse"
)

// Engine.IO v3/v4 (https://socket.io/docs/v4/engine-io-protocol/) and
// Socket.IO v4/v5 (https://socket.io/docs/v4/socket-io-protocol/) over the
// WebSocket transport: one Engine.IO packet per WebSocket message, a digit
// type first (0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade,
// 6 noop). A message packet carries a Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// with type 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
// 5 BINARY_EVENT, 6 BINARY_ACK. A binary packet's buffers follow as binary
// WebSocket messages (v3 prefixes them with the byte 4), its data holding
// {"_placeholder":true,"num":N} in their place.

var eioTypes = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

var sioTypes = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// maxAttachments bounds the attachments a packet may announce.
const maxAttachments = 1000

type socketioDecoder struct {
	// attachments still expected, per direction, and how many the packet had
	left, total [2]int
}

func newSocketIO() *socketioDecoder { return &socketioDecoder{} }

func (d *socketioDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	dir := m.Dir & 1
	b := m.Data
	if m.Opcode == wsparse.OpBinary {
		if s.eio == 3 && len(b) > 0 && b[0] == 4 {
			b = b[1:]
		}
		if d.left[dir] == 0 {
			return append(out, App{Protocol: SocketIO, Type: "ATTACHMENT", Key: "-", Body: clone(b),
				Summary: "SIO attachment " + itoa(len(b)) + " B", Anomalies: []string{"socketio_unexpected_binary"}})
		}
		n := d.total[dir] - d.left[dir] + 1
		d.left[dir]--
		return append(out, App{Protocol: SocketIO, Type: "ATTACHMENT", Key: keyOf("n", itoa(n)), Body: clone(b),
			Fields:  []Field{{"n", itoa(n)}, {"of", itoa(d.total[dir])}, {"len", itoa(len(b))}},
			Summary: "SIO attachment " + itoa(n) + "/" + itoa(d.total[dir]) + " " + itoa(len(b)) + " B"})
	}
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return append(out, App{Protocol: EngineIO, Type: "", Key: "-", Summary: "EIO invalid packet " + quote(b),
			Anomalies: []string{"engineio_bad_packet"}})
	}
	var missing []string
	if d.left[dir] > 0 {
		// a text packet came while attachments were still expected
		d.left[dir] = 0
		missing = []string{"socketio_missing_attachments"}
	}
	typ := eioTypes[b[0]-'0']
	data := b[1:]
	if typ == "message" {
		a := d.packet(dir, data)
		a.Anomalies = append(missing, a.Anomalies...)
		return append(out, a)
	}
	a := App{Protocol: EngineIO, Type: typ, Key: "-", Summary: "EIO " + typ, Anomalies: missing}
	switch typ {
	case "ping", "pong":
		a.Heartbeat = true
		if string(data) == "probe" {
			a.Key = "probe"
			a.Summary += " probe"
			a.Heartbeat = false // part of the upgrade, not liveness
		} else if len(data) > 0 {
			a.Summary += " " + quote(data)
		}
	case "open":
		a.Body = clone(data)
		a = d.open(s, a, data)
	default:
		if len(data) > 0 {
			a.Body = clone(data)
			a.Summary += " " + quote(data)
		}
	}
	return append(out, a)
}

// open decodes the handshake packet and the ping timing it announces.
func (d *socketioDecoder) open(s *Session, a App, data []byte) App {
	var o struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}
	if json.Unmarshal(data, &o) != nil {
		a.Anomalies = append(a.Anomalies, "engineio_bad_open")
		return a
	}
	a.Fields = []Field{{"sid", o.SID}, {"pingInterval", strconv.FormatInt(o.PingInterval, 10)},
		{"pingTimeout", strconv.FormatInt(o.PingTimeout, 10)}}
	if o.MaxPayload > 0 {
		a.Fields = append(a.Fields, Field{"maxPayload", strconv.FormatInt(o.MaxPayload, 10)})
	}
	a.Summary += " sid=" + preview(o.SID) + " ping=" + strconv.FormatInt(o.PingInterval, 10) + "/" + strconv.FormatInt(o.PingTimeout, 10) + "ms"
	iv := time.Duration(o.PingInterval) * time.Millisecond
	s.ka = &Keepalive{Source: "engine.io open", Timeout: iv + time.Duration(o.PingTimeout)*time.Millisecond}
	// v4: the server pings and the client answers; v3: the other way round.
	s.ka.Interval = [2]time.Duration{iv, iv}
	return a
}

// packet decodes a Socket.IO packet (the payload of an Engine.IO message).
func (d *socketioDecoder) packet(dir wsparse.Dir, b []byte) App {
	a := App{Protocol: SocketIO, Key: "-"}
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		a.Type = ""
		a.Summary = "EIO message " + quote(b)
		a.Anomalies = []string{"socketio_bad_packet"}
		a.Body = clone(b)
		return a
	}
	t := int(b[0] - '0')
	a.Type = sioTypes[t]
	i := 1
	attachments := -1
	if t == 5 || t == 6 {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(string(b[i:j]))
		if err != nil || j == len(b) || b[j] != '-' || n > maxAttachments {
			a.Anomalies = append(a.Anomalies, "socketio_bad_attachments")
			n = 0
		} else {
			i = j + 1
		}
		attachments = n
		d.left[dir], d.total[dir] = n, n
	}
	nsp := "/"
	if i < len(b) && b[i] == '/' {
		j := i
		for j < len(b) && b[j] != ',' {
			j++
		}
		nsp = string(b[i:j])
		i = j
		if i < len(b) {
			i++ // the comma
		}
	}
	id := ""
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j > i {
		id = string(b[i:j])
		i = j
	}
	data := b[i:]
	a.Fields = []Field{{"type", a.Type}, {"nsp", nsp}}
	event := ""
	if len(data) > 0 {
		if !jsonValid(data) {
			a.Anomalies = append(a.Anomalies, "socketio_bad_json")
		} else if t == 2 || t == 5 {
			var args []json.RawMessage
			if json.Unmarshal(data, &args) != nil || len(args) == 0 {
				a.Anomalies = append(a.Anomalies, "socketio_bad_event")
			} else {
				event = jsonString(args[0])
			}
		}
		a.Body = clone(data)
	}
	if event != "" {
		a.Fields = append(a.Fields, Field{"event", event})
	}
	if id != "" {
		a.Fields = append(a.Fields, Field{"id", id})
	}
	att := ""
	if attachments >= 0 {
		att = itoa(attachments)
		a.Fields = append(a.Fields, Field{"attachments", att})
	}
	a.Key = keyOf("nsp", nsp, "event", event, "id", id, "attachments", att)
	sum := "SIO "
	switch t {
	case 0:
		sum += "connect " + nsp
	case 1:
		sum += "disconnect " + nsp
	case 2, 5:
		sum += "event " + quote(event)
		if nsp != "/" {
			sum += " " + nsp
		}
	case 3, 6:
		sum += "ack"
		if nsp != "/" {
			sum += " " + nsp
		}
	case 4:
		sum += "connect_error " + nsp
	}
	if id != "" {
		sum += " id=" + id
	}
	if attachments > 0 {
		sum += " +" + text.Plural(attachments, "attachment")
	}
	if len(data) > 0 && t != 2 && t != 5 {
		sum += " " + previewJSON(data)
	}
	a.Summary = sum
	return a
}
