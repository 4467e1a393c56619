package h2

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// endSink keeps each connection's summary by its label.
type endSink struct {
	logSink
	ends map[string]*wsparse.Summary
}

func (s *endSink) End(c *wsparse.Conn, sum *wsparse.Summary) {
	cp := *sum
	s.ends[wsparse.ConnLabel(c.ID)] = &cp
}

// decode feeds chunks and returns the summaries by label.
func decode(chunks []chunk) map[string]*wsparse.Summary {
	sink := &endSink{ends: map[string]*wsparse.Summary{}}
	parent := wsparse.NewConn(1, cli, srv, wsparse.Config{EndAll: true}, sink)
	c := NewConn(parent, 0, Config{Decoder: wsparse.Config{EndAll: true}}, sink)
	ts := epoch
	for _, ch := range chunks {
		side := 1
		if ch.client {
			side = 0
		}
		c.Feed(side, ch.b, ts)
	}
	c.End(ts)
	return sink.ends
}

// TestRFC8441Rules: each rule of RFC 8441 (and what HTTP/2 forbids on a
// WebSocket) broken once, and the anomaly it gives; the valid exchange
// gives none.
func TestRFC8441Rules(t *testing.T) {
	open := func(h *synth.H2, settings []byte, req []string, resp ...string) []chunk {
		ch := []chunk{{true, h.Preface()}}
		if settings != nil {
			ch = append(ch, chunk{false, settings})
		}
		ch = append(ch, chunk{true, h.Headers(true, 1, false, req...)})
		if len(resp) == 0 {
			resp = []string{":status", "200"}
		}
		ch = append(ch, chunk{false, h.Headers(false, 1, false, resp...)},
			chunk{false, h.Data(false, 1, false, synth.WSFrame(false, wsparse.OpText, []byte("hi")))})
		return ch
	}
	cases := []struct {
		name  string
		conv  func(h *synth.H2) []chunk
		want  string // the stream's anomalies
		label string // the stream's; default 1/1
	}{
		{"valid", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"))
		}, "", ""},
		{"no SETTINGS_ENABLE_CONNECT_PROTOCOL", func(h *synth.H2) []chunk {
			return open(h, nil, synth.ExtendedConnect("/x"))
		}, "h2_connect_without_setting", ""},
		{"SETTINGS_ENABLE_CONNECT_PROTOCOL=0", func(h *synth.H2) []chunk {
			return open(h, h.Settings(false, 0x8, 0), synth.ExtendedConnect("/x"))
		}, "h2_connect_without_setting", ""},
		{"setting sent by the client only", func(h *synth.H2) []chunk {
			ch := open(h, nil, synth.ExtendedConnect("/x"))
			return append([]chunk{ch[0], {true, h.Settings(true, 0x8, 1)}}, ch[1:]...)
		}, "h2_connect_without_setting", ""},
		{":protocol on GET", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), []string{":method", "GET", ":protocol", "websocket", ":scheme", "http", ":path", "/x", ":authority", "h"})
		}, "h2_protocol_not_connect", ""},
		{"no :scheme", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), []string{":method", "CONNECT", ":protocol", "websocket", ":path", "/x", ":authority", "h"})
		}, "h2_pseudo_header_missing", ""},
		{"no :path", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":authority", "h"})
		}, "h2_pseudo_header_missing", ""},
		{"Sec-WebSocket-Key", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x", "sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="))
		}, "h2_forbidden_header", ""},
		{"Upgrade", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x", "upgrade", "websocket"))
		}, "h2_forbidden_header", ""},
		{"Connection", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x", "connection", "Upgrade"))
		}, "h2_forbidden_header", ""},
		{"Sec-WebSocket-Accept in the response", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"), ":status", "200", "sec-websocket-accept", "x")
		}, "h2_forbidden_header", ""},
		{"refused, DATA after", func(h *synth.H2) []chunk {
			return open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"), ":status", "404")
		}, "upgrade_refused,h2_data_after_refusal", ""},
		{"RST_STREAM", func(h *synth.H2) []chunk {
			return append(open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x")), chunk{true, h.RST(true, 1, 8)})
		}, "h2_stream_reset", ""},
		{"CONTINUATION without HEADERS", func(h *synth.H2) []chunk {
			ch := open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"))
			bad := []byte{0, 0, 1, 9, 4, 0, 0, 0, 1, 0x82}
			return append(ch, chunk{false, bad})
		}, "h2_malformed", ""},
		{"padding longer than the frame", func(h *synth.H2) []chunk {
			ch := open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"))
			bad := []byte{0, 0, 2, 0, 8, 0, 0, 0, 1, 200, 0}
			return append(ch, chunk{false, bad})
		}, "h2_malformed", ""},
		{"HPACK index out of range", func(h *synth.H2) []chunk {
			ch := open(h, h.ConnectProtocol(), synth.ExtendedConnect("/x"))
			bad := []byte{0, 0, 1, 1, 4, 0, 0, 0, 3, 0xff} // indexed field 127: no such entry
			return append(ch, chunk{true, bad})
		}, "h2_malformed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ends := decode(tc.conv(synth.NewH2()))
			label := tc.label
			if label == "" {
				label = "1/1"
			}
			s := ends[label]
			if s == nil {
				t.Fatalf("no summary for %s: %v", label, ends)
			}
			// The anomaly of a stream ended by END_STREAM etc. aside:
			if got := s.Anomalies.String(); got != tc.want {
				t.Errorf("anomalies %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPrefaceBroken: bytes after a client preface that is not one are
// not decoded, and counted.
func TestPrefaceBroken(t *testing.T) {
	ends := decode([]chunk{{true, []byte("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + strings.Repeat("x", 100))}})
	s := ends["1"]
	if s == nil || s.Anomalies.String() != "h2_malformed" || s.Stats[0].SkippedBytes == 0 {
		t.Fatalf("summary %+v", s)
	}
}

// TestUpgradeH2C: an Upgrade: h2c request is recognised, and the server's
// 101 found however its bytes are split; another answer ends the watch.
func TestUpgradeH2C(t *testing.T) {
	if !UpgradeRequest([]byte("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nupgrade: H2C\r\n\r\n")) {
		t.Error("Upgrade: h2c request not recognised")
	}
	for _, b := range []string{"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "GET / HTTP/1.1\r\nUpgrade: h2c\r\n", Preface} {
		if UpgradeRequest([]byte(b)) {
			t.Errorf("%q taken for an Upgrade: h2c request", b)
		}
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	after := "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	for cut := 1; cut < len(resp)+len(after); cut++ {
		b := []byte(resp + after)
		u := NewUpgrade(0)
		n, ok := u.Server(b[:cut])
		if ok {
			if cut < len(resp) || n != len(resp) {
				t.Fatalf("cut %d: switched at %d", cut, n)
			}
			continue
		}
		n, ok = u.Server(b[cut:])
		if !ok || cut+n != len(resp) {
			t.Fatalf("cut %d: switched %v at %d", cut, ok, cut+n)
		}
	}
	u := NewUpgrade(0)
	if _, ok := u.Server([]byte("HTTP/1.1 200 OK\r\n\r\n")); ok || !u.Failed() {
		t.Error("a 200 switched")
	}
}

// TestPendingBudget: DATA held for streams not answered yet is bounded
// per connection (--max-pending), not per stream; an answer frees its
// stream's share.
func TestPendingBudget(t *testing.T) {
	h := synth.NewH2()
	big := synth.WSFrame(true, wsparse.OpText, []byte(strings.Repeat("a", 70)))
	chunks := []chunk{{true, h.Preface()}, {false, h.ConnectProtocol()},
		{true, h.Headers(true, 1, false, synth.ExtendedConnect("/a")...)}, {true, h.Data(true, 1, false, big)},
		{true, h.Headers(true, 3, false, synth.ExtendedConnect("/b")...)}, {true, h.Data(true, 3, false, big)},
		{false, h.Headers(false, 1, false, ":status", "200")},
		{true, h.Headers(true, 5, false, synth.ExtendedConnect("/c")...)}, {true, h.Data(true, 5, false, big)},
		{false, h.Headers(false, 3, false, ":status", "200")}, {false, h.Headers(false, 5, false, ":status", "200")}}
	sink := &endSink{ends: map[string]*wsparse.Summary{}}
	cfg := wsparse.Config{MaxPending: 100}
	c := NewConn(wsparse.NewConn(1, cli, srv, cfg, sink), 0, Config{Decoder: cfg}, sink)
	for _, ch := range chunks {
		side := 1
		if ch.client {
			side = 0
		}
		c.Feed(side, ch.b, epoch)
	}
	c.End(epoch)
	for label, want := range map[string]string{"1/1": "1 0 ", "1/3": "0 76 pending_limit", "1/5": "1 0 "} {
		s := sink.ends[label]
		if got := fmt.Sprintf("%d %d %s", s.Stats[0].Messages, s.Stats[0].SkippedBytes, s.Anomalies); got != want {
			t.Errorf("%s: messages, skipped, anomalies %q, want %q", label, got, want)
		}
	}
}

// TestGap: bytes lost from an HTTP/2 connection take its frame boundaries
// with them: the side is not decoded further, the stream's message under
// way is reported cut short, and the lost bytes are counted on the
// connection.
func TestGap(t *testing.T) {
	h := synth.NewH2()
	sink := &endSink{ends: map[string]*wsparse.Summary{}}
	c := NewConn(wsparse.NewConn(1, cli, srv, wsparse.Config{EndAll: true}, sink), 0, Config{Decoder: wsparse.Config{EndAll: true}}, sink)
	c.Feed(0, h.Preface(), epoch)
	c.Feed(1, h.ConnectProtocol(), epoch)
	c.Feed(0, h.Headers(true, 1, false, synth.ExtendedConnect("/a")...), epoch)
	c.Feed(1, h.Headers(false, 1, false, ":status", "200"), epoch)
	frag := wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: 2})
	c.Feed(1, h.Data(false, 1, false, append(frag, "hi"...)), epoch)
	c.Gap(1, 500, epoch)
	c.Feed(1, h.Data(false, 1, false, synth.WSFrame(false, wsparse.OpContinuation, []byte("lost"))), epoch)
	c.End(epoch)
	s, p := sink.ends["1/1"], sink.ends["1"]
	if got := fmt.Sprintf("%d %d %s", s.Stats[1].Messages, s.Stats[1].LostBytes, s.Anomalies); got != "1 0 message_incomplete,h2_malformed" {
		t.Errorf("stream: messages, lost, anomalies %q", got)
	}
	if got := fmt.Sprintf("%d %d %s", p.Stats[1].LostBytes, p.Stats[1].SkippedBytes, p.Anomalies); got != "500 15 h2_malformed" {
		t.Errorf("connection: lost, skipped, anomalies %q", got)
	}
}
