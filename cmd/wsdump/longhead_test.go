package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// longHeadConv is an upgrade whose request (or 101 response) carries one
// 70 KB header, before or after the WebSocket fields, then 40 frames each
// way.
func longHeadConv(inResponse, padFirst bool) *synth.Conv {
	pad := "X-Pad: " + strings.Repeat("p", 70000) + "\r\n"
	req, resp := upgradeReq, upgradeResp
	head := &req
	if inResponse {
		head = &resp
	}
	if padFirst {
		line, rest, _ := strings.Cut(*head, "\r\n")
		*head = line + "\r\n" + pad + rest
	} else {
		*head += pad
	}
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte(req+"\r\n"))
	c.Send(false, []byte(resp+"\r\n"))
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for i := 0; i < 40; i++ {
		p := []byte(fmt.Sprintf("client message %d", i))
		wsparse.Unmask(key, 0, p)
		c.Send(true, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: key}, p))
		c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte(fmt.Sprintf("server message %d", i))))
	}
	return c
}

// TestLongHTTPHead: a head over --max-http-header (64 KiB) must not hide
// the conversation after it: the frames are decoded, the handshake record
// says http_header_too_long, lint reports it, and every view shows the
// connection.
func TestLongHTTPHead(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		inResponse, padFirst bool
	}{
		{"request, pad last", false, false},
		{"request, pad first", false, true},
		{"response, pad last", true, false},
		{"response, pad first", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSynth(t, 0, longHeadConv(tc.inResponse, tc.padFirst))
			out, errs, code := runWsdump(t, nil, "-r", path, "--format", "jsonl")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.Contains(errs, "1 HTTP head longer than --max-http-header 65536 bytes") {
				t.Errorf("stderr %q", errs)
			}
			var frames, messages [2]int
			hsAnoms := "none"
			for _, r := range parseJSONL(t, out) {
				d := 0
				if r.Dir == "s2c" {
					d = 1
				}
				switch r.Type {
				case "handshake":
					hsAnoms = strings.Join(r.Anomalies, ",")
				case "frame":
					who := [2]string{"client", "server"}[d]
					if p, _ := base64.StdEncoding.DecodeString(r.Payload); string(p) != fmt.Sprintf("%s message %d", who, frames[d]) {
						t.Errorf("%s frame %d: %q", r.Dir, frames[d]+1, p)
					}
					frames[d]++
				case "message":
					messages[d]++
				}
			}
			t.Logf("frames %v, messages %v, handshake anomalies %s", frames, messages, hsAnoms)
			if frames != [2]int{40, 40} || messages != [2]int{40, 40} {
				t.Errorf("frames %v, messages %v, want 40 each way", frames, messages)
			}
			if !strings.Contains(hsAnoms, "http_header_too_long") {
				t.Errorf("handshake anomalies %q: no http_header_too_long", hsAnoms)
			}
			lint, errs, code := runWsdump(t, nil, "lint", "-r", path)
			if code != 0 {
				t.Errorf("lint: exit %d: %s", code, errs)
			}
			if !strings.Contains(lint, "WS212") || !strings.Contains(lint, "http-header-too-long") {
				t.Errorf("lint output has no WS212 http-header-too-long:\n%s", lint)
			}
			for _, args := range [][]string{{"-r", path}, {"-r", path, "--messages"}, {"conns", "-r", path}} {
				out, errs, code := runWsdump(t, nil, args...)
				want := "server message 39"
				if args[0] == "conns" {
					want = "192.0.2.1:40000"
				}
				if code != 0 || !strings.Contains(out, want) {
					t.Errorf("%v: exit %d, stderr %q, connection not shown:\n%s", args, code, errs, out)
				}
			}
		})
	}
}

// TestHostileHeadsAgreeWithTshark: the heads the reviewer found hiding a
// conversation (review items 3 and 4) are decoded frame for frame as
// tshark decodes them, where tshark does: a head padded before its
// Upgrade fields on both sides, a 101 whose status line is over the
// limit, and requests a strict parser rejects.
func TestHostileHeadsAgreeWithTshark(t *testing.T) {
	t.Parallel()
	tshark := needTshark(t)
	pad := "X-Pad: " + strings.Repeat("p", 70000) + "\r\n"
	padFirst := func(head string) string {
		line, rest, _ := strings.Cut(head, "\r\n")
		return line + "\r\n" + pad + rest
	}
	reqLine, reqRest, _ := strings.Cut(upgradeReq, "\r\n")
	for _, tc := range []struct{ name, req, resp string }{
		{"both padded first", padFirst(upgradeReq), padFirst(upgradeResp)},
		{"long status line", upgradeReq, strings.Replace(upgradeResp, "\r\n", strings.Repeat("x", 70000)+"\r\n", 1)},
		{"space in uri", strings.Replace(reqLine, "/x", "/a b", 1) + "\r\n" + reqRest, upgradeResp},
		{"trailing space", reqLine + " \r\n" + reqRest, upgradeResp},
		{"line without colon", reqLine + "\r\nJunkLine\r\n" + reqRest, upgradeResp},
		{"leading CRLF", "\r\n" + upgradeReq, upgradeResp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // most of each is tshark's start
			c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
			c.Send(true, []byte(tc.req+"\r\n"))
			c.Send(false, []byte(tc.resp+"\r\n"))
			for i := 0; i < 5; i++ {
				c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("client message %d", i)))
				c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("server message %d", i)))
			}
			c.Frame(true, wsparse.OpClose, []byte{3, 0xe8})
			c.Frame(false, wsparse.OpClose, []byte{3, 0xe8})
			path := writeSynth(t, 0, c)
			got, err := runWsdumpFrames(t, path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := runTshark(t, tshark, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != 12 {
				t.Fatalf("tshark decodes %d frames, want 12: the capture is not what this test means", len(want))
			}
			n := compareFrames(t, want, got)
			t.Logf("%d frames compared", n)
		})
	}
}
