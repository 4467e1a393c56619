package h2

import (
	"bytes"
	"compress/flate"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// logSink records every record as a line of text.
type logSink struct{ lines []string }

func (s *logSink) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	s.lines = append(s.lines, fmt.Sprintf("%s H %s %s %s host=%s proto=%s status=%d sub=%q ext=%q deflate=%v upgraded=%v anomalies=%s",
		wsparse.ConnLabel(c.ID), h.Method, h.URI, h.HTTPVersion, h.Host, h.Protocol, h.Status, h.Subprotocol, h.Extensions, h.Deflate, h.Upgraded(), h.Anomalies))
}

func (s *logSink) Frame(c *wsparse.Conn, f *wsparse.Frame) {}

func (s *logSink) Message(c *wsparse.Conn, m *wsparse.Message) {
	s.lines = append(s.lines, fmt.Sprintf("%s M %s #%d %s len=%d %q compressed=%v anomalies=%s",
		wsparse.ConnLabel(c.ID), m.Dir, m.Index, m.Opcode, m.Len, m.Data, m.Compressed, m.Anomalies))
}

func (s *logSink) End(c *wsparse.Conn, sum *wsparse.Summary) {
	line := fmt.Sprintf("%s E end=%s stream_end=%q fin=%v rst=%v skipped=%d/%d anomalies=%s",
		wsparse.ConnLabel(c.ID), sum.End, sum.StreamEnd, sum.TCPFin, sum.TCPRst, sum.Stats[0].SkippedBytes, sum.Stats[1].SkippedBytes, sum.Anomalies)
	if sum.HTTP2 != nil {
		line += fmt.Sprintf(" h2=%+v", *sum.HTTP2)
		for _, r := range sum.Requests {
			line += fmt.Sprintf(" [%s %s%s %d]", r.Method, r.Host, r.URI, r.Status)
		}
	}
	s.lines = append(s.lines, line)
}

var (
	cli   = netip.MustParseAddrPort("10.0.0.1:50000")
	srv   = netip.MustParseAddrPort("10.0.0.2:80")
	epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// chunk is one side's bytes in a conversation.
type chunk struct {
	client bool
	b      []byte
}

// deflated is payload compressed as permessage-deflate sends it (RFC 7692
// §7.2.1: the final 00 00 ff ff taken off).
func deflated(payload string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(payload))
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// compressedFrame is a text frame with RSV1 (permessage-deflate).
func compressedFrame(fromClient bool, payload string) []byte {
	p := deflated(payload)
	h := wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Length: uint64(len(p))}
	if fromClient {
		h.Masked, h.MaskKey = true, [4]byte{9, 8, 7, 6}
		wsparse.Unmask(h.MaskKey, 0, p)
	}
	return append(wsparse.AppendHeader(nil, h), p...)
}

// conversation is a connection with two WebSocket streams (one with
// permessage-deflate, ended by END_STREAM; one ended by RST_STREAM), two
// ordinary GETs, a refused CONNECT with DATA after it, and a GOAWAY.
func conversation() []chunk {
	h := synth.NewH2()
	ws := func(c bool, s string) []byte { return synth.WSFrame(c, wsparse.OpText, []byte(s)) }
	return []chunk{
		{true, h.Preface()},
		{false, h.ConnectProtocol()},
		{true, h.Headers(true, 1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "h")},
		{true, h.HeadersSplit(true, 3, false, 7, synth.ExtendedConnect("/chat",
			"sec-websocket-extensions", "permessage-deflate; client_max_window_bits", "sec-websocket-protocol", "chat")...)},
		{false, h.Headers(false, 1, false, ":status", "200", "content-type", "text/html")},
		{false, h.Headers(false, 3, false, ":status", "200", "sec-websocket-extensions", "permessage-deflate", "sec-websocket-protocol", "chat")},
		{false, h.Data(false, 1, true, []byte("<html>"))},
		{true, h.Data(true, 3, false, compressedFrame(true, "hello hello hello"))},
		{true, h.Headers(true, 5, false, synth.ExtendedConnect("/feed")...)},
		{false, h.DataPadded(false, 3, false, compressedFrame(false, "world world"), 9)},
		{false, h.Headers(false, 5, false, ":status", "200")},
		{true, h.Ping(true)},
		{true, h.WindowUpdate(true, 0, 1000)},
		{false, h.Data(false, 5, false, append(ws(false, "tick 1"), ws(false, "tick 2")[:3]...))},
		{false, h.Data(false, 5, false, ws(false, "tick 2")[3:])},
		{true, h.Headers(true, 7, true, ":method", "GET", ":scheme", "http", ":path", "/favicon.ico", ":authority", "h")},
		{true, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpClose, []byte{3, 232}))},
		{false, h.Data(false, 3, true, synth.WSFrame(false, wsparse.OpClose, []byte{3, 232}))},
		{true, h.Data(true, 3, true, nil)},
		{false, h.Headers(false, 7, true, ":status", "404")},
		{true, h.RST(true, 5, 8)},
		{true, h.Headers(true, 9, false, synth.ExtendedConnect("/nope")...)},
		{false, h.Headers(false, 9, false, ":status", "403")},
		{true, h.Data(true, 9, false, ws(true, "ignored"))},
		{false, h.GoAway(false, 9, 0)},
	}
}

// run feeds chunks to a decoder, each cut into pieces of n bytes (0: whole).
func run(chunks []chunk, n int) string {
	sink := &logSink{}
	parent := wsparse.NewConn(1, cli, srv, wsparse.Config{EndAll: true}, sink)
	c := NewConn(parent, 0, Config{Decoder: wsparse.Config{EndAll: true}}, sink)
	ts := epoch
	for _, ch := range chunks {
		side := 1
		if ch.client {
			side = 0
		}
		ts = ts.Add(time.Millisecond)
		for b := ch.b; len(b) > 0; {
			k := len(b)
			if n > 0 {
				k = min(n, k)
			}
			c.Feed(side, b[:k], ts)
			b = b[k:]
		}
	}
	c.TCPEnd(0, false, ts)
	c.End(ts)
	return strings.Join(sink.lines, "\n")
}

func TestConversation(t *testing.T) {
	got := run(conversation(), 0)
	want := `1/3 H CONNECT /chat HTTP/2 host=h proto=websocket status=200 sub="chat" ext="permessage-deflate" deflate=true upgraded=true anomalies=
1/3 M c2s #1 text len=17 "hello hello hello" compressed=true anomalies=
1/3 M s2c #1 text len=11 "world world" compressed=true anomalies=
1/5 H CONNECT /feed HTTP/2 host=h proto=websocket status=200 sub="" ext="" deflate=false upgraded=true anomalies=
1/5 M s2c #1 text len=6 "tick 1" compressed=false anomalies=
1/5 M s2c #2 text len=6 "tick 2" compressed=false anomalies=
1/3 E end=clean stream_end="end_stream" fin=[true true] rst=[false false] skipped=0/0 anomalies=
1/5 E end=rst_without_close stream_end="rst_stream CANCEL" fin=[false false] rst=[true false] skipped=0/0 anomalies=h2_stream_reset
1/9 H CONNECT /nope HTTP/2 host=h proto=websocket status=403 sub="" ext="" deflate=false upgraded=false anomalies=upgrade_refused
1/9 E end=not_upgraded stream_end="goaway NO_ERROR" fin=[true false] rst=[false false] skipped=13/0 anomalies=upgrade_refused,h2_data_after_refusal
1 E end=not_websocket stream_end="" fin=[false false] rst=[false false] skipped=0/0 anomalies= h2={Streams:5 Requests:2 WebSockets:3 NotFollowed:0 RequestBytes:6 GoAway:NO_ERROR} [GET h/ 200] [GET h/favicon.ico 404]`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestChunkSplit: the same bytes in any split give the same records.
func TestChunkSplit(t *testing.T) {
	whole := run(conversation(), 0)
	for _, n := range []int{1, 2, 3, 5, 8, 9, 10, 17, 100} {
		if got := run(conversation(), n); got != whole {
			t.Fatalf("pieces of %d bytes:\n%s\nwhole:\n%s", n, got, whole)
		}
	}
}
