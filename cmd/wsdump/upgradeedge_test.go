package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// Opening handshakes that a server accepts, or makes, and tshark follows,
// decode frame for frame as tshark has them: a 101 to websocket answering
// a request that did not ask for it (until session 34 wsdump showed no
// record of the connection at all), a body on the upgrade request (read
// as frames: one Close of 121 bytes that swallowed the client's two
// frames), and interim 100 and 103 answers before the 101.
// wsparse's TestUpgradeVariantsAccounted checks these and more without
// tshark.
func TestUpgradeVariantsAgreeWithTshark(t *testing.T) {
	req, resp := synth.UpgradeRequest+"\r\n", synth.UpgradeResponse+"\r\n"
	cases := [][2]string{
		{req, resp},
		{"GET /x HTTP/1.1\r\nHost: h\r\n\r\n", resp},
		{strings.Replace(req, "Host: h", "Host: h\r\nContent-Length: 2", 1) + "xy", resp},
		{strings.Replace(req, "Host: h", "Host: h\r\nTransfer-Encoding: chunked", 1) + "2\r\nxy\r\n0\r\n\r\n", resp},
		{req, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + resp},
	}
	var convs []*synth.Conv
	for i, tc := range cases {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 40001+i), "192.0.2.2:80").At(time.Duration(i) * time.Second).Open()
		c.Send(true, []byte(tc[0])).Send(false, []byte(tc[1]))
		c.Frame(true, wsparse.OpText, []byte("from the client")).Frame(false, wsparse.OpText, []byte("from the server"))
		c.Frame(true, wsparse.OpText, []byte("client again")).Frame(false, wsparse.OpText, []byte("server again"))
		convs = append(convs, c)
	}
	path := writeSynth(t, 0, convs...)
	got, want := framesBoth(t, path)
	if len(streamsOf(want)) != len(cases) || len(want) != 4*len(cases) {
		t.Errorf("tshark has %d frames on %d connections, want 4 on each of %d", len(want), len(streamsOf(want)), len(cases))
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
}

// A capture with the 101 before its request (a tap or packet broker that
// merges the two directions, capture queues timestamped apart): wsdump
// reads the request first and gives the frames as sent; tshark, which
// reads the packets in the capture's order, takes the request for a
// spurious retransmission and shows no WebSocket frame at all. Until
// session 35 wsdump read the request as frames and misread every client
// frame after it.
func TestAnswerBeforeRequestTshark(t *testing.T) {
	c := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	c.Send(false, []byte(synth.UpgradeResponse+"\r\n")).Send(true, []byte(synth.UpgradeRequest+"\r\n"))
	sent := []string{"from the client", "from the server", "client again", "server again"}
	for i, m := range sent {
		c.Frame(i%2 == 0, wsparse.OpText, []byte(m))
	}
	got, want := framesBoth(t, writeSynth(t, 0, c))
	var payloads []string
	for _, f := range got {
		payloads = append(payloads, string(f.payload))
	}
	if strings.Join(payloads, "|") != strings.Join(sent, "|") {
		t.Errorf("wsdump has frames %q, want %q", payloads, sent)
	}
	if len(want) != 0 {
		t.Errorf("tshark has %d frames: it reads such captures now, compare with it (compareFrames)", len(want))
	}
}
