package wsparse

import (
	"bytes"
	"github.com/wsdump/wsdump/httpfb"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for the parsers that had none, and for the connection state
// machine driven by a script of feeds, gaps and TCP ends. Seeds from the
// capture fixtures are committed under testdata/fuzz (written by
// testdata/gen/fuzzseeds).

// FuzzParseHeader: a header parses to what it says (size, round trip) and
// never reads past what it needs.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	f.Add([]byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x02, 0xfe, 0x00, 0x10, 1, 2, 3, 4})
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n := ParseHeader(b)
		if n == 0 {
			if len(b) >= 2 && len(b) >= HeaderSize(b[0], b[1]) {
				t.Fatalf("%x: complete header not parsed", b)
			}
			return
		}
		if n < 2 || n > MaxHeaderLen || n != h.Size || n != HeaderSize(b[0], b[1]) || n > len(b) {
			t.Fatalf("%x: size %d (h.Size %d)", b, n, h.Size)
		}
		if h.Len7 < len16Code && h.Length != uint64(h.Len7) || h.Len7 == len16Code && h.Length > 0xffff {
			t.Fatalf("%x: len7 %d length %d", b, h.Len7, h.Length)
		}
		_ = h.Rules()
		_ = h.Opcode.String()
		if got := AppendHeader(nil, h); !bytes.Equal(got, b[:n]) {
			t.Fatalf("round trip: %x -> %+v -> %x", b[:n], h, got)
		}
		// Parsing never looks past the header.
		if h2, n2 := ParseHeader(b[:n]); n2 != n || h2 != h {
			t.Fatalf("%x: parse of the header alone differs", b)
		}
	})
}

// FuzzParseHead: the HTTP head parser and the handshake checks built on it
// accept any bytes, and split heads end where whole ones do.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")), true)
	f.Add([]byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; server_max_window_bits=10\r\nSec-WebSocket-Protocol: chat\r\n")), false)
	f.Add([]byte("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n folded\n\n"), false)
	f.Add([]byte("POST /x HTTP/1.0\r\nContent-Length: 12\r\n\r\nhello world!"), true)
	f.Fuzz(func(t *testing.T, b []byte, head bool) {
		_ = httpStart(b)
		end := headEnd(b, 0)
		if end > len(b) || end == 0 {
			t.Fatalf("headEnd %d of %d", end, len(b))
		}
		// Found incrementally, the end is the same.
		for cut := 0; cut < len(b) && end > 0; cut += 7 {
			if e := headEnd(b, cut); cut < end && e != end {
				t.Fatalf("headEnd from %d = %d, from 0 = %d", cut, e, end)
			}
		}
		if end < 0 {
			end = len(b)
		}
		h, ok := parseHead(b[:end])
		if !ok {
			_, _ = partialHead(b)
			return
		}
		var hs Handshake
		if h.request {
			_, _ = requestBody(&h)
			hs.fromRequest(&h, testTime)
		} else {
			method := "GET"
			if head {
				method = "HEAD"
			}
			_, _ = responseBody(&h, method)
			hs.Key = testKey
			hs.OfferedExtensions = "permessage-deflate"
			hs.fromResponse(&h, testTime)
		}
		_ = hs.Anomalies.String()
	})
}

// FuzzChunked: the chunked body skipper consumes the same bytes however
// the body is split.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1"), uint8(3))
	f.Add([]byte("a;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n"), uint8(1))
	f.Add([]byte("fffffffffffffff\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		var whole chunkSkipper
		rest, done, broken := whole.skip(b)
		if done && broken {
			t.Fatal("done and broken")
		}
		n := int(step) + 1
		var split chunkSkipper
		used := 0
		var d2, b2 bool
		for i := 0; i < len(b) && !d2 && !b2; i += n {
			piece := b[i:min(i+n, len(b))]
			r, d, br := split.skip(piece)
			used += len(piece) - len(r)
			d2, b2 = d, br
		}
		if d2 != done || b2 != broken || used != len(b)-len(rest) {
			t.Fatalf("split by %d: done %v/%v broken %v/%v used %d/%d", n, d2, done, b2, broken, used, len(b)-len(rest))
		}
	})
}

// FuzzParseClose: a close payload decodes to what it holds.
func FuzzParseClose(f *testing.F) {
	f.Add([]byte{0x03, 0xe8, 'b', 'y', 'e'})
	f.Add([]byte{0x03})
	f.Add([]byte{0x0f, 0xa0, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, has, reason, a := ParseClose(p)
		if has != (len(p) >= 2) || has && (code != uint16(p[0])<<8|uint16(p[1]) || reason != string(p[2:])) {
			t.Fatalf("%x: code %d has %v reason %q", p, code, has, reason)
		}
		if has && (a&AnomCloseCodeInvalid != 0) == ValidCloseCode(code) {
			t.Fatalf("%x: code validity", p)
		}
		if has && (a&AnomCloseReasonBadUTF8 != 0) == utf8.ValidString(reason) {
			t.Fatalf("%x: utf-8 check", p)
		}
		_ = CloseCodeName(code)
	})
}

// FuzzConnScript drives a connection with a script: the first byte picks the
// limits, then each control byte feeds one side a chunk, loses bytes (a
// gap), or ends a TCP direction. Records are checked against the limits.
func FuzzConnScript(f *testing.F) {
	client, server := conversation()
	f.Add(script(0, client, server, 5))
	f.Add(script(0x13, client, server, 200))
	var z compressor
	t := &testing.T{}
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	dc := cat([]byte(upgradeRequest(ext)),
		frame(true, 4, OpText, testMask, z.message(t, "hello hello hello", true)))
	ds := cat([]byte(upgradeResponse(ext)),
		frame(true, 4, OpText, nil, z.message(t, "hello again, hello again", true)),
		frame(false, 4, OpBinary, nil, "\xf2\x48"), frame(true, 0, OpContinuation, nil, "\xcd\xc9\xc9\x07\x00"))
	f.Add(script(0, dc, ds, 9))
	f.Add(script(0x21, dc, ds, 3))
	sc, ss := sessionStreams()
	f.Add(script(0, cat(sc...), cat(ss...), 40))
	f.Add([]byte{0, 0x7c, 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, 0xfe})
	// SockJS xhr-streaming and an Engine.IO poll (Config.Fallback).
	f.Add(script(0, []byte("POST /s/1/a/xhr_streaming HTTP/1.1\r\n\r\nPOST /s/1/a/xhr_send HTTP/1.1\r\nContent-Length: 5\r\n\r\n[\"x\"]"),
		[]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\no\nh\nx\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), 7))
	f.Add(script(0, []byte("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n0{\"sid\":\"S\"}\x1e2"), 4))
	f.Fuzz(func(t *testing.T, s []byte) {
		runScript(t, s)
	})
}

// script encodes two streams as FuzzConnScript input, alternating sides in
// chunks of about step bytes.
func script(cfg byte, a, b []byte, step int) []byte {
	out := []byte{cfg}
	streams := [2][]byte{a, b}
	for len(streams[0]) > 0 || len(streams[1]) > 0 {
		for side := range streams {
			d := streams[side]
			if len(d) == 0 {
				continue
			}
			k := min((min(step, len(d))-1)/8, 31)
			n := min(k*8+1, len(d))
			out = append(out, byte(k<<3|side))
			out = append(out, d[:n]...)
			streams[side] = d[n:]
		}
	}
	return out
}

// runScript decodes a FuzzConnScript input. Control byte c: bit 0 the side;
// bits 1-2 the action (0: feed, 1: feed then gap, 2: gap, 3: FIN or RST);
// bits 3-7 the size: feed (k*8+1 bytes), gap (k+1 bytes, 31: 1 MiB).
func runScript(t *testing.T, s []byte) {
	if len(s) == 0 {
		return
	}
	cfg := Config{
		MaxPayload:    1 << (4 + s[0]&7),
		MaxMessage:    1 << (4 + s[0]>>3&7),
		MaxHTTPHeader: 1 << 12,
		MaxPending:    1 << 12,
		NoSniff:       s[0]&0x80 != 0,
		Fallback:      true,
	}
	if s[0]&0x40 != 0 {
		cfg = Config{MaxPending: 1 << 12, Fallback: true}
	}
	sink := &checkSink{t: t, cfg: cfg.withDefaults()}
	c := NewConn(1, testClient, testServer, cfg, sink)
	if s[0]&0xc0 == 0xc0 {
		c.Force(1)
	}
	ts := testTime
	for s = s[1:]; len(s) > 0; {
		ctl := s[0]
		s = s[1:]
		side, k := int(ctl&1), int(ctl>>3)
		ts = ts.Add(time.Millisecond)
		sink.fed = ts
		gap := k + 1
		if k == 31 {
			gap = 1 << 20
		}
		switch ctl >> 1 & 3 {
		case 0, 1:
			n := min(k*8+1, len(s))
			c.Feed(side, s[:n], ts)
			s = s[n:]
			if ctl>>1&3 == 1 {
				c.Gap(side, 1+k%5, ts)
			}
		case 2:
			c.Gap(side, gap, ts)
		case 3:
			c.TCPEnd(side, k&1 != 0, ts)
		}
	}
	sink.fed = ts
	c.End(ts)
	if sink.ends > 1 {
		t.Fatalf("%d summaries", sink.ends)
	}
}

// checkSink checks records against the decoder's limits and order.
type checkSink struct {
	t      *testing.T
	cfg    Config
	ends   int
	frames [2]int
	msgs   [2]int
	// fed is the time of the last feed, gap or end: no frame is later. A
	// direction's frames are in time order (the times fed increase).
	fed    time.Time
	lastTS [2]time.Time
}

func (s *checkSink) Handshake(c *Conn, h *Handshake) {
	if s.ends > 0 {
		s.t.Fatal("handshake after the end")
	}
}

func (s *checkSink) Frame(c *Conn, f *Frame) {
	if s.ends > 0 {
		s.t.Fatal("frame after the end")
	}
	if len(f.Payload) > s.cfg.MaxPayload || uint64(len(f.Payload)) > f.Length {
		s.t.Fatalf("frame payload %d bytes, length %d, limit %d", len(f.Payload), f.Length, s.cfg.MaxPayload)
	}
	if s.frames[f.Dir]++; f.Index != s.frames[f.Dir] {
		s.t.Fatalf("frame index %d, want %d", f.Index, s.frames[f.Dir])
	}
	if f.TS.After(s.fed) || f.TS.Before(s.lastTS[f.Dir]) {
		s.t.Fatalf("frame %d at %v: after the last time fed (%v) or before the direction's frame before (%v)", f.Index, f.TS, s.fed, s.lastTS[f.Dir])
	}
	s.lastTS[f.Dir] = f.TS
	_ = f.Anomalies.String()
}

func (s *checkSink) Message(c *Conn, m *Message) {
	if s.ends > 0 {
		s.t.Fatal("message after the end")
	}
	if m.Fallback != nil {
		// An HTTP fallback transport's message (Config.Fallback): not a
		// WebSocket message of this connection.
		if len(m.Data) > httpfb.MaxBody || uint64(len(m.Data)) != m.Len || c.IsWebSocket() {
			s.t.Fatalf("fallback message of %d bytes, length %d, on a WebSocket %v", len(m.Data), m.Len, c.IsWebSocket())
		}
		return
	}
	if len(m.Data) > s.cfg.MaxMessage {
		s.t.Fatalf("message data %d bytes, limit %d", len(m.Data), s.cfg.MaxMessage)
	}
	if !m.Compressed && uint64(len(m.Data)) > m.Len {
		s.t.Fatalf("message data %d bytes, length %d", len(m.Data), m.Len)
	}
	if uint64(len(m.Data)) > m.Len || m.LenUnknown && !m.Compressed {
		s.t.Fatalf("message data %d bytes, length %d (unknown %v)", len(m.Data), m.Len, m.LenUnknown)
	}
	if uint64(len(m.Data)) < m.Len && m.Anomalies&(AnomMessageTruncated|AnomMessageIncomplete|AnomInflateLimit|AnomCaptureTruncated) == 0 {
		s.t.Fatalf("message cut to %d of %d bytes without saying so: %s", len(m.Data), m.Len, m.Anomalies)
	}
	if s.msgs[m.Dir]++; m.Index < s.msgs[m.Dir] {
		s.t.Fatalf("message index %d after %d", m.Index, s.msgs[m.Dir])
	}
}

func (s *checkSink) End(c *Conn, sum *Summary) {
	s.ends++
	for d := range sum.Stats {
		if sum.Stats[d].Frames != s.frames[d] {
			s.t.Fatalf("summary counts %d frames, %d reported", sum.Stats[d].Frames, s.frames[d])
		}
	}
}
