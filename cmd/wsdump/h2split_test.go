package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestH2PrefaceSplit: an h2c connection whose client preface comes in a
// first segment shorter than "PRI " (a client, or one hiding from a
// monitor, may cut it anywhere) is still found to be HTTP/2, and its
// WebSocket stream decoded.
func TestH2PrefaceSplit(t *testing.T) {
	for _, cut := range []int{1, 3} {
		h := synth.NewH2()
		c := synth.New("192.0.2.3:40001", "192.0.2.2:80").Wait(time.Millisecond).Open()
		pre := h.Preface()
		c.Send(true, pre[:cut])
		c.Send(true, pre[cut:])
		c.Send(false, h.ConnectProtocol())
		h2Chat(h, c)
		if out := h2Messages(t, c); !strings.Contains(out, "hello over h2") || !strings.Contains(out, "1/1") {
			t.Errorf("preface cut after %d bytes:\n%s", cut, out)
		}
	}
}

// TestH2ServerSettingsSplit: an h2c connection whose server speaks first
// (its SETTINGS) in a first segment shorter than a frame header is still
// found to be HTTP/2, and its WebSocket stream decoded.
func TestH2ServerSettingsSplit(t *testing.T) {
	for _, cut := range []int{1, 5, 8} {
		h := synth.NewH2()
		c := synth.New("192.0.2.3:40002", "192.0.2.2:80").Wait(time.Millisecond).Open()
		set := h.ConnectProtocol()
		c.Send(false, set[:cut])
		c.Send(false, set[cut:])
		c.Send(true, h.Preface())
		h2Chat(h, c)
		if out := h2Messages(t, c); !strings.Contains(out, "hello over h2") || !strings.Contains(out, "1/1") {
			t.Errorf("server SETTINGS cut after %d bytes:\n%s", cut, out)
		}
	}
}

// TestH2UpgradeRequestSplit: an Upgrade: h2c request whose head comes in
// several segments still switches the connection to HTTP/2 on the 101.
func TestH2UpgradeRequestSplit(t *testing.T) {
	req := "GET /page HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
	for _, cut := range []int{1, 40, len(req) - 2} {
		h := synth.NewH2()
		c := synth.New("192.0.2.5:40006", "192.0.2.2:80").Wait(time.Millisecond).Open()
		c.Send(true, []byte(req[:cut]))
		c.Send(true, []byte(req[cut:]))
		c.Send(false, append([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"), h.ConnectProtocol()...))
		c.Send(true, h.Preface())
		c.Send(false, h.Headers(false, 1, false, ":status", "200"))
		c.Send(false, h.Data(false, 1, true, []byte("<html>")))
		c.Send(true, h.Headers(true, 3, false, synth.ExtendedConnect("/up")...))
		c.Send(false, h.Headers(false, 3, false, ":status", "200"))
		c.Send(true, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpText, []byte("over h2c"))))
		c.Fin(true).Fin(false)
		if out := h2Messages(t, c); !strings.Contains(out, "1/3    c2s  text     1       8           over h2c") {
			t.Errorf("Upgrade: h2c request cut after %d bytes:\n%s", cut, out)
		}
	}
}

// h2Chat ends an h2c connection whose preface and SETTINGS were sent: an
// extended CONNECT on stream 1, its 200, one text message, FIN both ways.
func h2Chat(h *synth.H2, c *synth.Conv) {
	c.Send(true, h.Headers(true, 1, false, synth.ExtendedConnect("/chat")...))
	c.Send(false, h.Headers(false, 1, false, ":status", "200"))
	c.Send(true, h.Data(true, 1, false, synth.WSFrame(true, wsparse.OpText, []byte("hello over h2"))))
	c.Fin(true).Fin(false)
}

// h2Messages writes c as a capture and returns wsdump's --messages view of it.
func h2Messages(t *testing.T, c *synth.Conv) string {
	t.Helper()
	out, errs, code := runWsdump(t, nil, "-r", writeSynth(t, 0, c), "--messages")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	return out
}
