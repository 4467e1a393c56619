package httpfb

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"time"
)

type bodyKind uint8

const (
	bodyLength bodyKind = iota + 1
	bodyChunked
	bodyUntilClose
)

// body is the state of one body being read: its transfer framing, its
// content coding and what its bytes are decoded as.
type body struct {
	kind   bodyKind
	left   int64 // bodyLength: bytes left
	chunks Chunks

	decode  bool   // a fallback body: its content is decoded
	lines   bool   // streamed line by line (no content coding)
	coded   string // "gzip" or "deflate": held, inflated at the end
	buf     []byte // the line being assembled, or the whole (held) body
	over    bool   // buf reached MaxBody: the rest is passed over
	prelude bool   // xhr_streaming: the 2048 'h' prelude line is still to come
	form    bool   // jsonp_send with a form body
	lastTS  time.Time
	skipped int64
}

func (b *body) setup(x *exchange, c2s bool, f headFields) {
	if !x.ok || x.Session.Send != c2s {
		return // not a body that carries messages (the answer to a send, a GET's empty body)
	}
	b.decode = true
	switch f.encoding {
	case "", "identity":
	case "gzip", "x-gzip", "deflate":
		b.coded = f.encoding
	default:
		b.decode = false
		x.Anomalies |= AnomFraming
		return
	}
	if x.Session.Proto == SockJS && !c2s {
		switch x.Session.Transport {
		case XHRStreaming, XHRPolling, EventSource, HTMLFile:
			b.lines = b.coded == ""
			b.prelude = x.Session.Transport == XHRStreaming
		}
	}
	b.form = c2s && strings.HasPrefix(f.contentType, "application/x-www-form-urlencoded")
}

// feed consumes body bytes of data and returns how many, and whether the
// body ended.
func (b *body) feed(data []byte, ts time.Time, c *Conn, x *exchange, c2s bool) (int, bool) {
	switch b.kind {
	case bodyLength:
		n := int(min(int64(len(data)), b.left))
		b.content(data[:n], ts, c, x, c2s)
		b.left -= int64(n)
		return n, b.left == 0
	case bodyChunked:
		n := 0
		for n < len(data) {
			k, piece, done, broken := b.chunks.Next(data[n:])
			if len(piece) > 0 {
				b.content(piece, ts, c, x, c2s)
			}
			n += k
			if broken {
				x.Anomalies |= AnomFraming
				c.undecoded(x, c2s, int64(b.chunks.Broken()+len(data)-n))
				c.side[dirIndex(c2s)].broken = true
				b.end(ts, c, x, c2s, true)
				return len(data), false
			}
			if done {
				return n, true
			}
		}
		return n, false
	default:
		b.content(data, ts, c, x, c2s)
		return len(data), false
	}
}

func dirIndex(c2s bool) int {
	if c2s {
		return 0
	}
	return 1
}

// content takes decoded body bytes.
func (b *body) content(p []byte, ts time.Time, c *Conn, x *exchange, c2s bool) {
	if !b.decode {
		return
	}
	b.lastTS = ts
	if !b.lines {
		if b.over {
			b.skipped += int64(len(p))
			return
		}
		n := min(len(p), MaxBody-len(b.buf))
		b.buf = append(b.buf, p[:n]...)
		if n < len(p) {
			b.over = true
			b.skipped += int64(len(p) - n)
		}
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		piece := p
		if i >= 0 {
			piece = p[:i]
		}
		if b.over {
			b.skipped += int64(len(piece))
		} else {
			n := min(len(piece), MaxBody-len(b.buf))
			b.buf = append(b.buf, piece[:n]...)
			if n < len(piece) {
				b.over = true
				b.skipped += int64(len(piece) - n)
			}
		}
		if i < 0 {
			return
		}
		p = p[i+1:]
		b.line(ts, c, x)
	}
}

// line decodes one complete line of a streamed SockJS body.
func (b *body) line(ts time.Time, c *Conn, x *exchange) {
	l := bytes.TrimSuffix(b.buf, []byte("\r"))
	over := b.over
	b.buf, b.over = b.buf[:0], false
	if over {
		x.Anomalies |= AnomTruncated
		c.undecoded(x, false, b.skipped+int64(len(l)))
		b.skipped = 0
		return
	}
	switch x.Session.Transport {
	case XHRStreaming, XHRPolling:
		if b.prelude && isPrelude(l) {
			b.prelude = false
			return
		}
		b.prelude = false
		b.frame(l, ts, c, x)
	case EventSource:
		if len(l) == 0 {
			return
		}
		if v, ok := bytes.CutPrefix(l, []byte("data:")); ok {
			b.frame(bytes.TrimPrefix(v, []byte(" ")), ts, c, x)
			return
		}
		if l[0] == ':' || bytes.HasPrefix(l, []byte("event:")) || bytes.HasPrefix(l, []byte("id:")) || bytes.HasPrefix(l, []byte("retry:")) {
			return // comments and fields other than data
		}
		x.Anomalies |= AnomFraming
		c.undecoded(x, false, int64(len(l)))
	case HTMLFile:
		// <script>\np("frame");\n</script>: one JS string per p(...) line;
		// the page's head is passed over.
		if s, ok := bytes.CutPrefix(l, []byte("p(")); ok {
			if s, ok = bytes.CutSuffix(s, []byte(");")); ok {
				var v string
				if json.Unmarshal(s, &v) == nil {
					b.frame([]byte(v), ts, c, x)
					return
				}
			}
			x.Anomalies |= AnomFraming
			c.undecoded(x, false, int64(len(l)))
		}
	}
}

// isPrelude reports a line of 'h' bytes only (xhr_streaming's 2048-byte
// prelude that defeats proxy buffering).
func isPrelude(l []byte) bool {
	return len(l) >= 128 && len(bytes.Trim(l, "h")) == 0
}

// frame reports one SockJS frame after checking its shape.
func (b *body) frame(f []byte, ts time.Time, c *Conn, x *exchange) {
	var a Anomalies
	if !ValidSockJSFrame(f) {
		a = AnomFraming
		x.Anomalies |= AnomFraming
	}
	x.Messages++
	c.h.Message(&Msg{Session: x.Session, TS: ts, Data: f, Anomalies: a, Method: x.Method, URI: x.URI, Host: x.Host, ReqTS: x.TS})
}

// ValidSockJSFrame reports whether f is a server frame of the SockJS
// protocol: o, h, a[...] (a JSON array of strings), c[code,"reason"] or
// the old m"..." form.
func ValidSockJSFrame(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case 'o', 'h':
		return len(f) == 1
	case 'a':
		var v []string
		return json.Unmarshal(f[1:], &v) == nil
	case 'm':
		var v string
		return json.Unmarshal(f[1:], &v) == nil
	case 'c':
		var v []json.RawMessage
		return json.Unmarshal(f[1:], &v) == nil && len(v) == 2
	}
	return false
}

// end finishes a body: a held body is decoded now; a streamed line not
// ended by its newline is decoded as far as it came when the body ended
// properly, and counted as not decoded when it was cut.
func (b *body) end(ts time.Time, c *Conn, x *exchange, c2s bool, cut bool) {
	if !b.decode {
		return
	}
	b.decode = false
	if b.lines {
		if len(b.buf) > 0 || b.over {
			if cut {
				x.Anomalies |= AnomIncomplete
				c.undecoded(x, c2s, int64(len(b.buf))+b.skipped)
			} else {
				b.line(ts, c, x)
			}
		}
		b.buf = nil
		return
	}
	data := b.buf
	b.buf = nil
	if b.over {
		x.Anomalies |= AnomTruncated
		c.undecoded(x, c2s, b.skipped)
	}
	if cut && len(data) > 0 {
		x.Anomalies |= AnomIncomplete
	}
	if b.coded != "" {
		out, ok := Inflate(data, b.coded)
		if !ok {
			x.Anomalies |= AnomInflate
			c.undecoded(x, c2s, int64(len(data)))
			return
		}
		data = out
	}
	if b.lastTS.IsZero() {
		b.lastTS = ts
	}
	ts = b.lastTS
	switch {
	case x.Session.Proto == EngineIO:
		pk, bad := Payload(data, x.Session.EIO)
		for _, p := range pk {
			if x.Session.ID == "" && !p.Binary && len(p.Data) > 0 && p.Data[0] == '0' {
				// The handshake poll: the session is named by its open packet.
				var open struct {
					Sid string `json:"sid"`
				}
				if json.Unmarshal(p.Data[1:], &open) == nil {
					x.Session.ID = open.Sid
				}
			}
			x.Messages++
			c.h.Message(&Msg{Session: x.Session, C2S: c2s, TS: ts, Data: p.Data, Binary: p.Binary, Method: x.Method, URI: x.URI, Host: x.Host, ReqTS: x.TS})
		}
		if bad > 0 {
			x.Anomalies |= AnomFraming
			c.undecoded(x, c2s, int64(bad))
		}
	case c2s:
		if b.form {
			v, err := url.ParseQuery(string(data))
			if err != nil || !v.Has("d") {
				x.Anomalies |= AnomFraming
				c.undecoded(x, c2s, int64(len(data)))
				return
			}
			data = []byte(v.Get("d"))
		}
		var a Anomalies
		var v []string
		if json.Unmarshal(data, &v) != nil {
			a = AnomFraming
			x.Anomalies |= AnomFraming
		}
		x.Messages++
		c.h.Message(&Msg{Session: x.Session, C2S: true, TS: ts, Data: data, Anomalies: a, Method: x.Method, URI: x.URI, Host: x.Host, ReqTS: x.TS})
	case x.Session.Transport == JSONP:
		// /**/callback("frame");
		i, j := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		var v string
		if i < 0 || j < i || json.Unmarshal(data[i+1:j], &v) != nil {
			x.Anomalies |= AnomFraming
			c.undecoded(x, c2s, int64(len(data)))
			return
		}
		b.frame([]byte(v), ts, c, x)
	default:
		// A compressed streaming body, held: its lines now.
		b.lines = true
		b.decode = true
		b.content(data, ts, c, x, c2s)
		if len(b.buf) > 0 {
			b.line(ts, c, x)
		}
		b.decode = false
	}
}

// Inflate decodes a gzip or deflate body, at most MaxInflateRatio times
// its size (and MaxBody).
func Inflate(data []byte, coding string) ([]byte, bool) {
	var r io.Reader
	if coding == "deflate" {
		// "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2); some servers send raw.
		if len(data) >= 2 && (uint16(data[0])<<8|uint16(data[1]))%31 == 0 && data[0]&0x0f == 8 {
			data = data[2:]
		}
		r = flate.NewReader(bytes.NewReader(data))
	} else {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, false
		}
		r = zr
	}
	limit := min(int64(len(data))*MaxInflateRatio, MaxBody)
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil || int64(len(out)) > limit {
		return nil, false
	}
	return out, true
}
