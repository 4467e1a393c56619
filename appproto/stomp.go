package appproto

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// STOMP 1.0/1.1/1.2 (https://stomp.github.io/stomp-specification-1.2.html).
// A frame is COMMAND EOL, header lines, an empty line, a body and a NUL; the
// body is content-length bytes when that header is there. EOLs between
// frames are heart-beats. Frames are a byte stream per direction: several
// can share a WebSocket message, and one can span several (stompjs 2.x
// splits outgoing frames at 16 KiB; a SockJS bridge splits wherever TCP did).

var stompCommands = map[string]bool{
	"CONNECT": true, "STOMP": true, "CONNECTED": true, "SEND": true, "SUBSCRIBE": true,
	"UNSUBSCRIBE": true, "ACK": true, "NACK": true, "BEGIN": true, "COMMIT": true,
	"ABORT": true, "DISCONNECT": true, "MESSAGE": true, "RECEIPT": true, "ERROR": true,
}

type stompHalf struct {
	buf  []byte // bytes of an incomplete frame
	skip bool   // dropping an oversized frame up to its NUL
}

type stompDecoder struct {
	half    [2]stompHalf
	version string // from CONNECTED; "" until known (1.2 rules apply)
	hb      [2][2]time.Duration
	hbSeen  [2]bool
}

func newSTOMP() *stompDecoder { return &stompDecoder{} }

// looksSTOMP reports whether b starts with a client STOMP frame.
func looksSTOMP(b []byte) bool {
	b = bytes.TrimLeft(b, "\r\n")
	line, _, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return false
	}
	switch string(bytes.TrimSuffix(line, []byte("\r"))) {
	case "CONNECT", "STOMP", "CONNECTED":
		return true
	}
	return false
}

func (d *stompDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	h := &d.half[m.Dir&1]
	data := m.Data
	if h.skip {
		i := bytes.IndexByte(data, 0)
		if i < 0 {
			return out
		}
		data, h.skip = data[i+1:], false
	}
	if len(h.buf) > 0 {
		h.buf = append(h.buf, data...)
		data = h.buf
	}
	for {
		for len(data) > 0 && (data[0] == '\n' || data[0] == '\r' || data[0] == 0) {
			if data[0] == '\n' {
				out = keep(out, App{Protocol: STOMP, Type: "HEARTBEAT", Key: "-", Summary: "STOMP heart-beat", Heartbeat: true})
			}
			data = data[1:]
		}
		if len(data) == 0 {
			break
		}
		app, n := d.frame(s, m.Dir, data)
		if n == 0 {
			break
		}
		out = keep(out, app)
		data = data[n:]
	}
	switch {
	case len(data) > MaxBuffered:
		out = append(out, App{Protocol: STOMP, Type: "", Key: "-", Summary: "STOMP frame too large, skipped",
			Anomalies: []string{"stomp_frame_too_large"}})
		h.buf, h.skip = h.buf[:0], true
	case len(data) == 0:
		h.buf = h.buf[:0]
	default:
		h.buf = keepTail(h.buf, data)
	}
	return out
}

// frame parses one frame at the start of b. n is 0 when b holds only part
// of it.
func (d *stompDecoder) frame(s *Session, dir wsparse.Dir, b []byte) (App, int) {
	a := App{Protocol: STOMP}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return a, 0
	}
	cmd := string(bytes.TrimSuffix(b[:eol], []byte("\r")))
	a.Type = cmd
	if !stompCommands[cmd] {
		a.Anomalies = append(a.Anomalies, "stomp_unknown_command")
	}
	pos := eol + 1
	escapes := d.version != "1.0" && cmd != "CONNECT" && cmd != "CONNECTED" && cmd != "STOMP"
	a.Fields = append(a.Fields, Field{"command", cmd})
	contentLength := -1
	var seen map[string]bool
	for {
		e := bytes.IndexByte(b[pos:], '\n')
		if e < 0 {
			return a, 0
		}
		line := bytes.TrimSuffix(b[pos:pos+e], []byte("\r"))
		pos += e + 1
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			a.Anomalies = appendOnce(a.Anomalies, "stomp_bad_header")
			continue
		}
		key, val := string(k), string(v)
		if escapes {
			var bad bool
			key, bad = stompUnescape(key)
			val2, bad2 := stompUnescape(val)
			val = val2
			if bad || bad2 {
				a.Anomalies = appendOnce(a.Anomalies, "stomp_bad_escape")
			}
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		if seen[key] {
			a.Fields = append(a.Fields, Field{key, val}) // repeated: the first one counts (§ Repeated Header Entries)
			continue
		}
		seen[key] = true
		a.Fields = append(a.Fields, Field{key, val})
		if key == "content-length" {
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 0 {
				a.Anomalies = appendOnce(a.Anomalies, "stomp_bad_content_length")
			} else {
				contentLength = n
			}
		}
	}
	body := b[pos:]
	var end int // index in b just past the NUL
	if contentLength >= 0 {
		if len(body) < contentLength+1 {
			return a, 0 // decode bounds what it buffers
		}
		if body[contentLength] == 0 {
			a.Body = clone(body[:contentLength])
			end = pos + contentLength + 1
		} else {
			a.Anomalies = appendOnce(a.Anomalies, "stomp_content_length_mismatch")
			i := bytes.IndexByte(body, 0)
			if i < 0 {
				return a, 0
			}
			a.Body = clone(body[:i])
			end = pos + i + 1
		}
	} else {
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return a, 0
		}
		a.Body = clone(body[:i])
		end = pos + i + 1
	}
	d.describe(s, dir, &a)
	return a, end
}

// describe fills Key and Summary and picks up negotiated values.
func (d *stompDecoder) describe(s *Session, dir wsparse.Dir, a *App) {
	get := func(k string) string {
		for _, f := range a.Fields[1:] {
			if f.Key == k {
				return f.Value
			}
		}
		return ""
	}
	dest := get("destination")
	a.Key = keyOf("destination", dest)
	a.Fields = append(a.Fields, Field{"body_len", itoa(len(a.Body))})
	sum := "STOMP " + a.Type
	add := func(keys ...string) {
		for _, k := range keys {
			if v := get(k); v != "" {
				sum += " " + k + "=" + preview(v)
			}
		}
	}
	switch a.Type {
	case "SEND", "MESSAGE":
		sum += " " + preview(dest) + " " + itoa(len(a.Body)) + " B"
	case "SUBSCRIBE":
		sum += " " + preview(dest)
		add("id")
	case "CONNECT", "STOMP":
		add("host", "accept-version", "heart-beat")
		d.heartBeat(s, dir, get("heart-beat"), a)
	case "CONNECTED":
		add("version", "heart-beat")
		if v := get("version"); v != "" {
			d.version = v
		}
		d.heartBeat(s, dir, get("heart-beat"), a)
	case "ERROR":
		if v := get("message"); v != "" {
			sum += " " + quote(v)
		}
	case "UNSUBSCRIBE", "ACK", "NACK":
		add("id")
	case "RECEIPT":
		add("receipt-id")
	case "DISCONNECT":
		add("receipt")
	case "BEGIN", "COMMIT", "ABORT":
		add("transaction")
	default:
		sum = "STOMP " + quote(a.Type)
	}
	if get("receipt") != "" && a.Type != "DISCONNECT" {
		sum += " receipt=" + preview(get("receipt"))
	}
	a.Summary = sum
}

// heartBeat records one side's heart-beat header (cx,cy: can send every
// cx ms, wants to receive every cy ms) and, once both are known, the
// negotiated periods (§ Heart-beating).
func (d *stompDecoder) heartBeat(s *Session, dir wsparse.Dir, v string, a *App) {
	if v == "" {
		v = "0,0"
	}
	x, y, ok := strings.Cut(v, ",")
	cx, err1 := strconv.Atoi(strings.TrimSpace(x))
	cy, err2 := strconv.Atoi(strings.TrimSpace(y))
	// A period past what a time.Duration holds (about 292 years) wrapped
	// around: 18446744073710 ms made 448 µs.
	const maxMS = math.MaxInt64 / int64(time.Millisecond)
	if !ok || err1 != nil || err2 != nil || cx < 0 || cy < 0 || int64(cx) > maxMS || int64(cy) > maxMS {
		a.Anomalies = appendOnce(a.Anomalies, "stomp_bad_heart_beat")
		return
	}
	if s.ka != nil && s.ka.Source == "stomp heart-beat" && !s.ka.At.IsZero() {
		// A second CONNECT on a session already connected: the broker's
		// heart-beat timers, started at the first CONNECTED, run on
		// (RabbitMQ's STOMP processor takes a CONNECT only while it has
		// no channel): the first negotiation and its time stay.
		return
	}
	dir &= 1
	d.hb[dir] = [2]time.Duration{time.Duration(cx) * time.Millisecond, time.Duration(cy) * time.Millisecond}
	d.hbSeen[dir] = true
	if !d.hbSeen[0] || !d.hbSeen[1] {
		return
	}
	period := func(send, recv [2]time.Duration) time.Duration {
		if send[0] == 0 || recv[1] == 0 {
			return 0
		}
		return max(send[0], recv[1])
	}
	s.ka = &Keepalive{Source: "stomp heart-beat"}
	s.ka.Interval[wsparse.ClientToServer] = period(d.hb[wsparse.ClientToServer], d.hb[wsparse.ServerToClient])
	s.ka.Interval[wsparse.ServerToClient] = period(d.hb[wsparse.ServerToClient], d.hb[wsparse.ClientToServer])
}

// stompUnescape undoes STOMP 1.2 header escaping (\r \n \c \\). bad is true
// for any other escape, which the spec makes a fatal error; the text is
// kept as it was.
func stompUnescape(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, false
	}
	var b strings.Builder
	bad := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(s) {
			bad = true
			b.WriteByte(c)
			break
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 'c':
			b.WriteByte(':')
		case '\\':
			b.WriteByte('\\')
		default:
			bad = true
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String(), bad
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
