package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// h2Capture writes an h2c connection (prior knowledge) with two
// WebSocket streams (RFC 8441), one with permessage-deflate ended by
// END_STREAM, one ended by RST_STREAM, and two ordinary GETs, then a
// GOAWAY and FINs.
func h2Conv() *synth.Conv {
	h := synth.NewH2()
	ws := func(c bool, s string) []byte { return synth.WSFrame(c, wsparse.OpText, []byte(s)) }
	c := synth.New("192.0.2.3:40001", "192.0.2.2:80").Wait(time.Millisecond).Open()
	c.Send(true, h.Preface())
	c.Send(false, h.ConnectProtocol())
	c.Send(true, h.Headers(true, 1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "h"))
	c.Send(true, h.Headers(true, 3, false, synth.ExtendedConnect("/chat",
		"sec-websocket-extensions", "permessage-deflate", "sec-websocket-protocol", "chat")...))
	c.Send(false, h.Headers(false, 1, false, ":status", "200"))
	c.Send(false, h.Headers(false, 3, false, ":status", "200", "sec-websocket-extensions", "permessage-deflate", "sec-websocket-protocol", "chat"))
	c.Send(false, h.Data(false, 1, true, []byte("<html>")))
	c.Send(true, h.Data(true, 3, false, synth.WSDeflated(true, [4]byte{9, 8, 7, 6}, "hello hello hello")))
	c.Send(true, h.Headers(true, 5, false, synth.ExtendedConnect("/feed")...))
	c.Send(false, h.Data(false, 3, false, synth.WSDeflated(false, [4]byte{9, 8, 7, 6}, "world world")))
	c.Send(false, h.Headers(false, 5, false, ":status", "200"))
	c.Send(false, h.Data(false, 5, false, append(ws(false, "tick 1"), ws(false, "tick 2")...)))
	c.Send(true, h.Headers(true, 7, true, ":method", "GET", ":scheme", "http", ":path", "/favicon.ico", ":authority", "h"))
	c.Send(true, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpClose, []byte{3, 232})))
	c.Send(false, h.Data(false, 3, true, synth.WSFrame(false, wsparse.OpClose, []byte{3, 232})))
	c.Send(true, h.Data(true, 3, true, nil))
	c.Send(false, h.Headers(false, 7, true, ":status", "404"))
	c.Send(true, h.RST(true, 5, 8))
	c.Send(false, h.GoAway(false, 7, 0))
	return c.Fin(true).Fin(false)
}

// TestH2Parallel: an HTTP/1.1 WebSocket connection and an h2c one with
// two WebSocket streams give the same records with -j 1 and -j 2 (the
// parallel merge numbers a stream after its connection: 2/3, 2/5).
func TestH2Parallel(t *testing.T) {
	path := writeSynth(t, 0, conv(false), h2Conv())
	var outs []string
	for _, j := range []string{"1", "2"} {
		out, errs, code := runWsdump(t, nil, "-r", path, "--format", "jsonl", "-j", j)
		if code != 0 {
			t.Fatalf("-j %s: exit %d: %s", j, code, errs)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Fatalf("-j 1 and -j 2 differ:\n%s\n---\n%s", outs[0], outs[1])
	}
	table, _, _ := runWsdump(t, nil, "-r", path, "--messages", "-j", "2")
	for _, want := range []string{"2/3         upgrade", "2/3    c2s  text     1       17          hello hello hello",
		"2/5    s2c  text     1       6           tick 2", "2/3         end                          clean (end_stream)",
		"2/5         end                          rst_without_close (rst_stream CANCEL)"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in:\n%s", want, table)
		}
	}
}

// TestH2FilterStream: -Y and -T fields read an HTTP/2 stream's number, and
// --conn N selects every stream of connection N.
func TestH2FilterStream(t *testing.T) {
	path := writeSynth(t, 0, conv(false), h2Conv())
	out, errs, code := runWsdump(t, nil, "-r", path, "--messages", "-Y", "stream == 5", "-T", "fields", "-e", "conn", "-e", "stream", "-e", "text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if want := "2\t5\ttick 1\n2\t5\ttick 2\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	out, _, _ = runWsdump(t, nil, "-r", path, "--messages", "--conn", "2", "-T", "fields", "-e", "stream")
	if want := "3\n3\n5\n5\n"; out != want {
		t.Errorf("--conn 2: got %q, want %q", out, want)
	}
}

// TestH2Diff: diff pairs the WebSocket streams of two HTTP/2 captures as
// connections (the same session, one with every frame padded and a header
// block in CONTINUATION frames: nothing differs).
func TestH2Diff(t *testing.T) {
	const dir = "../../testdata/pcaps/"
	out, errs, code := runWsdump(t, nil, "diff", dir+"gen__h2c-connect.pcap", dir+"gen__h2c-connect-padded.pcap")
	if code != 0 || !strings.HasPrefix(out, "no differences: 3 connection(s), ") {
		t.Errorf("exit %d: %s%s", code, out, errs)
	}
}

// TestH2UpgradeH2C: a connection that starts as HTTP/1.1 and upgrades to
// h2c (Upgrade: h2c, 101; the request answered on stream 1), then opens a
// WebSocket stream: its messages are decoded, and conns counts the
// upgraded request among the connection's.
func TestH2UpgradeH2C(t *testing.T) {
	h := synth.NewH2()
	c := synth.New("192.0.2.5:40005", "192.0.2.2:80").Open()
	c.Send(true, []byte("GET /page HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"))
	c.Send(false, append([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"), h.ConnectProtocol()...))
	c.Send(true, h.Preface())
	c.Send(false, h.Headers(false, 1, false, ":status", "200"))
	c.Send(false, h.Data(false, 1, true, []byte("<html>")))
	c.Send(true, h.Headers(true, 3, false, synth.ExtendedConnect("/up")...))
	c.Send(false, h.Headers(false, 3, false, ":status", "200"))
	c.Send(true, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpText, []byte("over h2c"))))
	c.Send(false, h.Data(false, 3, true, synth.WSFrame(false, wsparse.OpText, []byte("upgraded"))))
	c.Send(true, h.Data(true, 3, true, nil))
	c.Fin(true).Fin(false)
	path := writeSynth(t, 0, c)
	out, errs, code := runWsdump(t, nil, "-r", path, "--messages")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"1/3    c2s  text     1       8           over h2c", "1/3    s2c  text     1       8           upgraded",
		"1/3         end                          fin_without_close (end_stream)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	out, _, _ = runWsdump(t, nil, "conns", "-r", path, "--format", "jsonl")
	if !strings.Contains(out, `"type":"http2_conn","conn":1,`) || !strings.Contains(out, `"streams":2,"websockets":1,"requests":1`) {
		t.Errorf("no http2_conn record with 2 streams, 1 WebSocket, 1 request:\n%s", out)
	}
}
