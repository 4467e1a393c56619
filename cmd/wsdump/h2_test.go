package main

import (
	"bytes"
	"compress/flate"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// h2Deflated is a text frame compressed as permessage-deflate sends it.
func h2Deflated(fromClient bool, payload string) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(payload))
	w.Flush()
	p := bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	h := wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Length: uint64(len(p))}
	if fromClient {
		h.Masked, h.MaskKey = true, [4]byte{9, 8, 7, 6}
		wsparse.Unmask(h.MaskKey, 0, p)
	}
	return append(wsparse.AppendHeader(nil, h), p...)
}

// h2Capture writes an h2c connection (prior knowledge) with two
// WebSocket streams (RFC 8441), one with permessage-deflate ended by
// END_STREAM, one ended by RST_STREAM, and two ordinary GETs, then a
// GOAWAY and FINs.
func h2Capture(t *testing.T) string {
	t.Helper()
	h := synth.NewH2()
	ws := func(c bool, s string) []byte { return synth.WSFrame(c, wsparse.OpText, []byte(s)) }
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, h.Preface())
	c.Send(false, h.ConnectProtocol())
	c.Send(true, h.Headers(true, 1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "h"))
	c.Send(true, h.Headers(true, 3, false, synth.ExtendedConnect("/chat",
		"sec-websocket-extensions", "permessage-deflate", "sec-websocket-protocol", "chat")...))
	c.Send(false, h.Headers(false, 1, false, ":status", "200"))
	c.Send(false, h.Headers(false, 3, false, ":status", "200", "sec-websocket-extensions", "permessage-deflate", "sec-websocket-protocol", "chat"))
	c.Send(false, h.Data(false, 1, true, []byte("<html>")))
	c.Send(true, h.Data(true, 3, false, h2Deflated(true, "hello hello hello")))
	c.Send(true, h.Headers(true, 5, false, synth.ExtendedConnect("/feed")...))
	c.Send(false, h.Data(false, 3, false, h2Deflated(false, "world world")))
	c.Send(false, h.Headers(false, 5, false, ":status", "200"))
	c.Send(false, h.Data(false, 5, false, append(ws(false, "tick 1"), ws(false, "tick 2")...)))
	c.Send(true, h.Headers(true, 7, true, ":method", "GET", ":scheme", "http", ":path", "/favicon.ico", ":authority", "h"))
	c.Send(true, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpClose, []byte{3, 232})))
	c.Send(false, h.Data(false, 3, true, synth.WSFrame(false, wsparse.OpClose, []byte{3, 232})))
	c.Send(true, h.Data(true, 3, true, nil))
	c.Send(false, h.Headers(false, 7, true, ":status", "404"))
	c.Send(true, h.RST(true, 5, 8))
	c.Send(false, h.GoAway(false, 7, 0))
	c.Fin(true).Fin(false)
	path := filepath.Join(t.TempDir(), "h2c.pcap")
	var buf bytes.Buffer
	if err := synth.WritePcap(&buf, 0, c.Packets...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestH2Dump(t *testing.T) {
	p := h2Capture(t)
	b, _ := os.ReadFile(p)
	os.WriteFile("/tmp/h2dec/h2c.pcap", b, 0o644)
}
