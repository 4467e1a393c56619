package appproto

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// MQTT 3.1.1 (OASIS, 2014) and 5.0 (OASIS, 2019) control packets in binary
// WebSocket messages. The spec (3.1.1 §6, 5.0 §6) lets packets cross
// message boundaries, and stream-based clients (mqtt.js over ws) write a
// packet in several messages, so each direction is a byte stream.

var mqttTypes = [...]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
	"PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

type mqttHalf struct {
	buf    []byte
	skip   int  // bytes of an oversized packet still to drop
	desync bool // packet boundaries lost: MQTT has no way to find them again
}

type mqttDecoder struct {
	half    [2]mqttHalf
	version byte // protocol level from CONNECT: 3, 4 (3.1.1) or 5
}

func newMQTT() *mqttDecoder { return &mqttDecoder{version: 4} }

// looksMQTTConnect reports whether b starts with an MQTT CONNECT packet.
func looksMQTTConnect(b []byte) bool {
	if len(b) < 2 || b[0] != 0x10 {
		return false
	}
	_, n, ok := mqttVarint(b[1:])
	if !ok || n == 0 {
		return false
	}
	p := b[1+n:]
	if len(p) < 6 {
		return false
	}
	l := int(binary.BigEndian.Uint16(p))
	name := string(p[2:min(len(p), 2+l)])
	return name == "MQTT" || name == "MQIsdp"
}

// mqttVarint decodes a Variable Byte Integer (5.0 §1.5.5, 3.1.1 §2.2.3):
// n is 0 when b is too short, ok false when malformed (more than 4 bytes).
func mqttVarint(b []byte) (v, n int, ok bool) {
	mul := 1
	for i := 0; i < 4; i++ {
		if i == len(b) {
			return 0, 0, true
		}
		v += int(b[i]&0x7f) * mul
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
		mul *= 128
	}
	return 0, 0, false
}

func (d *mqttDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	h := &d.half[m.Dir&1]
	data := m.Data
	if m.Opcode == wsparse.OpText {
		out = append(out, App{Protocol: MQTT, Type: "", Key: "-", Summary: "MQTT in a text message",
			Anomalies: []string{"mqtt_text_frame"}})
	}
	if h.desync {
		return out
	}
	if h.skip > 0 {
		n := min(h.skip, len(data))
		h.skip -= n
		data = data[n:]
	}
	if len(h.buf) > 0 {
		h.buf = append(h.buf, data...)
		data = h.buf
	}
	for len(data) > 0 {
		if len(data) < 2 {
			break
		}
		rl, n, ok := mqttVarint(data[1:])
		if !ok {
			out = append(out, App{Protocol: MQTT, Type: "", Key: "-", Summary: "MQTT malformed remaining length",
				Anomalies: []string{"mqtt_bad_remaining_length"}})
			data, h.desync = nil, true // the rest of this direction is not decoded
			break
		}
		if n == 0 {
			break
		}
		total := 1 + n + rl
		if rl > MaxBuffered {
			a := App{Protocol: MQTT, Type: mqttTypes[data[0]>>4], Key: "-", Anomalies: []string{"mqtt_frame_too_large"}}
			a.Summary = "MQTT " + a.Type + " " + itoa(rl) + " B, too large, skipped"
			out = keep(out, a)
			drop := min(total, len(data))
			h.skip = total - drop
			data = data[drop:]
			continue
		}
		if len(data) < total {
			break
		}
		out = keep(out, d.packet(s, data[0], data[1+n:total]))
		data = data[total:]
	}
	if len(data) == 0 {
		h.buf = h.buf[:0]
	} else {
		h.buf = keepTail(h.buf, data)
	}
	return out
}

// mqttReader reads the fields of one packet; a short read sets bad.
type mqttReader struct {
	b   []byte
	bad bool
}

func (r *mqttReader) u8() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *mqttReader) u16() int {
	if len(r.b) < 2 {
		r.bad, r.b = true, nil
		return 0
	}
	v := int(binary.BigEndian.Uint16(r.b))
	r.b = r.b[2:]
	return v
}

func (r *mqttReader) bytes() []byte {
	n := r.u16()
	if len(r.b) < n {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *mqttReader) str() string { return string(r.bytes()) }

// props reads MQTT 5 properties (5.0 §2.2.2) and returns the ones worth
// showing.
func (r *mqttReader) props() []Field {
	l, n, ok := mqttVarint(r.b)
	if !ok || n == 0 || len(r.b) < n+l {
		r.bad, r.b = true, nil
		return nil
	}
	p := &mqttReader{b: r.b[n : n+l]}
	r.b = r.b[n+l:]
	var out []Field
	for len(p.b) > 0 && !p.bad {
		id, n, ok := mqttVarint(p.b)
		if !ok || n == 0 {
			p.bad = true
			break
		}
		p.b = p.b[n:]
		switch id {
		case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A: // one byte
			out = append(out, Field{mqttPropName(id), itoa(int(p.u8()))})
		case 0x13, 0x21, 0x22, 0x23: // two bytes
			out = append(out, Field{mqttPropName(id), itoa(p.u16())})
		case 0x02, 0x11, 0x18, 0x27: // four bytes
			if len(p.b) < 4 {
				p.bad = true
				break
			}
			out = append(out, Field{mqttPropName(id), strconv.FormatUint(uint64(binary.BigEndian.Uint32(p.b)), 10)})
			p.b = p.b[4:]
		case 0x0B: // subscription identifier: varint
			v, n, ok := mqttVarint(p.b)
			if !ok || n == 0 {
				p.bad = true
				break
			}
			out = append(out, Field{mqttPropName(id), itoa(v)})
			p.b = p.b[n:]
		case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F: // UTF-8 string
			out = append(out, Field{mqttPropName(id), p.str()})
		case 0x09, 0x16: // binary data
			out = append(out, Field{mqttPropName(id), itoa(len(p.bytes())) + " B"})
		case 0x26: // user property: string pair
			k := p.str()
			out = append(out, Field{"user:" + k, p.str()})
		default:
			p.bad = true
		}
	}
	if p.bad {
		r.bad = true
	}
	return out
}

func mqttPropName(id int) string {
	switch id {
	case 0x01:
		return "payload_format"
	case 0x02:
		return "message_expiry"
	case 0x03:
		return "content_type"
	case 0x08:
		return "response_topic"
	case 0x09:
		return "correlation_data"
	case 0x0B:
		return "subscription_id"
	case 0x11:
		return "session_expiry"
	case 0x12:
		return "assigned_client_id"
	case 0x13:
		return "server_keep_alive"
	case 0x15:
		return "auth_method"
	case 0x16:
		return "auth_data"
	case 0x17:
		return "request_problem_info"
	case 0x18:
		return "will_delay"
	case 0x19:
		return "request_response_info"
	case 0x1A:
		return "response_info"
	case 0x1C:
		return "server_reference"
	case 0x1F:
		return "reason_string"
	case 0x21:
		return "receive_maximum"
	case 0x22:
		return "topic_alias_max"
	case 0x23:
		return "topic_alias"
	case 0x24:
		return "max_qos"
	case 0x25:
		return "retain_available"
	case 0x27:
		return "max_packet_size"
	case 0x28:
		return "wildcard_sub_available"
	case 0x29:
		return "sub_id_available"
	case 0x2A:
		return "shared_sub_available"
	}
	return "prop_" + itoa(id)
}

// packet decodes one control packet: first byte and the remaining bytes.
func (d *mqttDecoder) packet(s *Session, first byte, body []byte) App {
	t := first >> 4
	flags := first & 0x0f
	a := App{Protocol: MQTT, Type: mqttTypes[t], Key: "-"}
	r := &mqttReader{b: body}
	v5 := d.version == 5
	sum := "MQTT " + a.Type
	add := func(k, v string) { a.Fields = append(a.Fields, Field{k, v}) }
	wantFlags := byte(0)
	if t == 6 || t == 8 || t == 10 {
		wantFlags = 2 // PUBREL, SUBSCRIBE, UNSUBSCRIBE (3.1.1 §2.2.2)
	}
	if t != 3 && flags != wantFlags {
		a.Anomalies = append(a.Anomalies, "mqtt_bad_flags")
	}
	switch t {
	case 0:
		a.Anomalies = append(a.Anomalies, "mqtt_reserved_type")
	case 1: // CONNECT
		name := r.str()
		level := r.u8()
		cf := r.u8()
		ka := r.u16()
		if name != "MQTT" && name != "MQIsdp" {
			a.Anomalies = append(a.Anomalies, "mqtt_bad_protocol_name")
		}
		if level == 3 || level == 4 || level == 5 {
			d.version = level
		} else {
			a.Anomalies = append(a.Anomalies, "mqtt_bad_protocol_level")
		}
		add("protocol", name)
		add("level", itoa(int(level)))
		add("clean", strconv.FormatBool(cf&0x02 != 0))
		add("keepalive", itoa(ka))
		if level == 5 {
			a.Fields = append(a.Fields, r.props()...)
		}
		client := r.str()
		add("client_id", client)
		if cf&0x04 != 0 {
			if level == 5 {
				r.props()
			}
			add("will_topic", r.str())
			add("will_len", itoa(len(r.bytes())))
			add("will_qos", itoa(int(cf>>3&3)))
		}
		if cf&0x80 != 0 {
			add("username", r.str())
		}
		if cf&0x40 != 0 {
			add("password_len", itoa(len(r.bytes())))
		}
		a.Key = keyOf("client", client, "keepalive", itoa(ka), "v", itoa(int(level)))
		sum += " client=" + quote(client) + " v" + itoa(int(level)) + " keepalive=" + itoa(ka) + "s"
		s.ka = &Keepalive{Source: "mqtt keep alive"}
		if ka > 0 {
			k := time.Duration(ka) * time.Second
			s.ka.Interval[wsparse.ClientToServer] = k
			s.ka.Timeout = k * 3 / 2
		}
	case 2: // CONNACK
		af := r.u8()
		rc := r.u8()
		add("session_present", strconv.FormatBool(af&1 != 0))
		add("rc", itoa(int(rc)))
		if v5 {
			props := r.props()
			a.Fields = append(a.Fields, props...)
			for _, p := range props {
				if p.Key == "server_keep_alive" {
					if k, err := strconv.Atoi(p.Value); err == nil && s.ka != nil && s.ka.Source != "" {
						s.ka.Interval[wsparse.ClientToServer] = time.Duration(k) * time.Second
						s.ka.Timeout = time.Duration(k) * time.Second * 3 / 2
					}
				}
			}
		}
		a.Key = keyOf("rc", itoa(int(rc)))
		sum += " rc=" + itoa(int(rc))
	case 3: // PUBLISH
		qos := int(flags >> 1 & 3)
		topic := r.str()
		id := ""
		if qos == 3 {
			a.Anomalies = append(a.Anomalies, "mqtt_bad_qos")
		}
		if qos > 0 {
			id = itoa(r.u16())
		}
		add("topic", topic)
		add("qos", itoa(qos))
		add("retain", strconv.FormatBool(flags&1 != 0))
		add("dup", strconv.FormatBool(flags&8 != 0))
		if id != "" {
			add("id", id)
		}
		if v5 {
			a.Fields = append(a.Fields, r.props()...)
		}
		if !r.bad {
			a.Body = clone(r.b)
			r.b = nil
		}
		add("payload_len", itoa(len(a.Body)))
		a.Key = keyOf("topic", topic, "qos", itoa(qos), "id", id)
		sum += " " + preview(topic) + " qos" + itoa(qos)
		if id != "" {
			sum += " id=" + id
		}
		if flags&1 != 0 {
			sum += " retain"
		}
		sum += " " + itoa(len(a.Body)) + " B"
	case 4, 5, 6, 7, 11: // PUBACK PUBREC PUBREL PUBCOMP UNSUBACK
		id := itoa(r.u16())
		add("id", id)
		if v5 && len(r.b) > 0 {
			if t == 11 {
				a.Fields = append(a.Fields, r.props()...)
				codes := make([]string, 0, len(r.b))
				for _, c := range r.b {
					codes = append(codes, itoa(int(c)))
				}
				add("reason_codes", strings.Join(codes, ","))
				r.b = nil
			} else {
				add("rc", itoa(int(r.u8())))
				if len(r.b) > 0 {
					a.Fields = append(a.Fields, r.props()...)
				}
			}
		}
		a.Key = keyOf("id", id)
		sum += " id=" + id
	case 8, 10: // SUBSCRIBE UNSUBSCRIBE
		id := itoa(r.u16())
		add("id", id)
		if v5 {
			a.Fields = append(a.Fields, r.props()...)
		}
		var topics []string
		for len(r.b) > 0 && !r.bad {
			tp := r.str()
			topics = append(topics, tp)
			if t == 8 {
				opt := r.u8()
				add("topic", tp)
				add("qos", itoa(int(opt&3)))
			} else {
				add("topic", tp)
			}
		}
		if len(topics) == 0 {
			a.Anomalies = append(a.Anomalies, "mqtt_no_topics")
		}
		a.Key = keyOf("id", id, "topics", strings.Join(topics, "|"))
		sum += " " + preview(strings.Join(topics, " ")) + " id=" + id
	case 9: // SUBACK
		id := itoa(r.u16())
		add("id", id)
		if v5 {
			a.Fields = append(a.Fields, r.props()...)
		}
		codes := make([]string, 0, len(r.b))
		for _, c := range r.b {
			codes = append(codes, itoa(int(c)))
		}
		r.b = nil
		add("return_codes", strings.Join(codes, ","))
		a.Key = keyOf("id", id)
		sum += " id=" + id + " [" + strings.Join(codes, ",") + "]"
	case 12, 13: // PINGREQ PINGRESP
		a.Heartbeat = true
	case 14, 15: // DISCONNECT AUTH
		if len(r.b) > 0 {
			rc := r.u8()
			add("rc", itoa(int(rc)))
			sum += " rc=" + itoa(int(rc))
			if len(r.b) > 0 {
				a.Fields = append(a.Fields, r.props()...)
			}
		}
	}
	if r.bad {
		a.Anomalies = append(a.Anomalies, "mqtt_truncated_packet")
	} else if len(r.b) > 0 {
		a.Anomalies = append(a.Anomalies, "mqtt_trailing_bytes")
	}
	a.Summary = sum
	return a
}
