package wsparse

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

// conversation is a full exchange exercising most of the decoder: an
// ordinary HTTP request first, the upgrade, a 101 coalesced with the first
// server frame, fragments with a ping between them, and a clean close.
func conversation() (client, server []byte) {
	client = cat(
		[]byte("GET /favicon.ico HTTP/1.1\r\nHost: a\r\n\r\n"),
		[]byte("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"),
		[]byte(upgradeRequest("Sec-WebSocket-Protocol: chat, superchat\r\n")),
		frame(true, 0, OpText, testMask, "Hello"),
		frame(false, 0, OpBinary, testMask, "frag1-"),
		frame(true, 0, OpPing, testMask, "p"),
		frame(false, 0, OpContinuation, testMask, "frag2-"),
		frame(true, 0, OpContinuation, testMask, "end"),
		frame(true, 0, OpText, testMask, strings.Repeat("x", 300)),
		frame(true, 0, OpClose, testMask, "\x03\xe8bye"),
	)
	server = cat(
		[]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!"),
		[]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\nT: 1\r\n\r\n"),
		[]byte(upgradeResponse("Sec-WebSocket-Protocol: chat\r\n")),
		frame(true, 0, OpPing, nil, ""),
		frame(true, 0, OpPong, nil, "p"),
		frame(true, 0, OpText, nil, "héllo"),
		frame(true, 0, OpBinary, nil, strings.Repeat("\x00\x01", 40000)),
		frame(true, 0, OpClose, nil, "\x03\xe8"),
	)
	return client, server
}

func TestConversation(t *testing.T) {
	client, server := conversation()
	s := run(client, server, Config{})
	want := []string{
		`H status=101 accept_valid=true sub="chat" ext="" deflate=false anomalies=`,
		// run feeds all the client's bytes first: its frames wait for the
		// 101 and are decoded when it arrives, before the server's frames.
		"F c2s #1 fin=true rsv=0 op=text masked=true key=37fa213d len=5 payload=48656c6c6f anomalies=",
		"M c2s #1 op=text frames=1 len=5 data=48656c6c6f compressed=false anomalies=",
		"F c2s #2 fin=false rsv=0 op=binary",
		"F c2s #3 fin=true rsv=0 op=ping masked=true key=37fa213d len=1 payload=70 anomalies=",
		"F c2s #4 fin=false rsv=0 op=cont",
		"F c2s #5 fin=true rsv=0 op=cont",
		"M c2s #2 op=binary frames=3 len=15 data=" + hexOf("frag1-frag2-end") + " compressed=false anomalies=",
		"F c2s #6 fin=true rsv=0 op=text masked=true key=37fa213d len=300",
		"M c2s #3 op=text frames=1 len=300",
		"F c2s #7 fin=true rsv=0 op=close masked=true key=37fa213d len=5 payload=03e8627965 anomalies= close=1000/true/\"bye\"",
		"F s2c #1 fin=true rsv=0 op=ping",
		"F s2c #2 fin=true rsv=0 op=pong",
		"F s2c #3 fin=true rsv=0 op=text masked=false key=00000000 len=6 payload=68c3a96c6c6f anomalies=",
		"M s2c #1 op=text frames=1 len=6 data=68c3a96c6c6f",
		"F s2c #4 fin=true rsv=0 op=binary masked=false key=00000000 len=80000",
		"M s2c #2 op=binary frames=1 len=80000",
		"F s2c #5 fin=true rsv=0 op=close masked=false key=00000000 len=2 payload=03e8 anomalies= close=1000/true/\"\"",
		"E end=clean initiator=c2s c2s={Frames:7 Messages:3 ControlFrames:2 PayloadBytes:326 WireBytes:370 LostBytes:0 SkippedBytes:0 Resyncs:0 Conflicts:0 Urgent:0 CompressedMessages:0 CompressedBytes:0 InflatedBytes:0} s2c={Frames:5 Messages:2 ControlFrames:3 PayloadBytes:80009 WireBytes:80027 LostBytes:0 SkippedBytes:0 Resyncs:0 Conflicts:0 Urgent:0 CompressedMessages:0 CompressedBytes:0 InflatedBytes:0} close=1000/1000 anomalies=",
	}
	checkPrefixes(t, s.lines, want)
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

func checkPrefixes(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("record %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

// feedChunks feeds a conversation the way a capture interleaves it: the
// client's bytes up to the end of the upgrade request, then the server's,
// then the rest of the client's, each side cut into the given chunks.
func feedChunks(client, server []byte, cuts func(n int) []int) *logSink {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	feed := func(side int, b []byte) {
		prev := 0
		for _, cut := range append(cuts(len(b)), len(b)) {
			c.Feed(side, b[prev:cut], testTime)
			prev = cut
		}
	}
	feed(0, client)
	feed(1, server)
	c.End(testTime)
	return s
}

func TestChunkSplitInvariance(t *testing.T) {
	t.Parallel()
	client, server := conversation()
	want := feedChunks(client, server, func(int) []int { return nil }).String()
	// Every single cut position, on each side, in the first 1000 bytes
	// (the whole client side; every HTTP head and the server's frames up
	// to its 80 kB payload), then sparser and sparser in that payload (a
	// cut at every byte up to 2000 took twice the time; the random
	// chunkings below cut it anywhere).
	for _, side := range []int{0, 1} {
		b := client
		if side == 1 {
			b = server
		}
		for cut := 1; cut < len(b); cut += 1 + cut/1000 {
			cuts := func(n int) []int {
				if n == len(b) {
					return []int{cut}
				}
				return nil
			}
			if got := feedChunks(client, server, cuts).String(); got != want {
				t.Fatalf("side %d cut at %d: events differ\n got:\n%s\nwant:\n%s", side, cut, got, want)
			}
		}
	}
	// Random chunkings, including one byte at a time.
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		maxChunk := 1 + rng.Intn(40)
		cuts := func(n int) []int {
			var out []int
			for p := rng.Intn(maxChunk) + 1; p < n; p += rng.Intn(maxChunk) + 1 {
				out = append(out, p)
			}
			return out
		}
		if got := feedChunks(client, server, cuts).String(); got != want {
			t.Fatalf("trial %d: events differ\n got:\n%s\nwant:\n%s", trial, got, want)
		}
	}
}

// exchange decodes a client stream after a valid handshake; the server
// sends serverFrames.
func exchange(t *testing.T, respExtra string, clientFrames, serverFrames []byte) []string {
	t.Helper()
	s := run(cat([]byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate\r\n")), clientFrames),
		cat([]byte(upgradeResponse(respExtra)), serverFrames), Config{})
	return s.lines
}

func TestConnRules(t *testing.T) {
	cases := []struct {
		name           string
		respExtra      string
		client, server []byte
		want           string // anomalies of the first frame record
	}{
		{"client unmasked", "", frame(true, 0, OpText, nil, "a"), nil, "client_frame_unmasked"},
		{"server masked", "", nil, frame(true, 0, OpText, testMask, "a"), "server_frame_masked"},
		{"rsv1 without deflate", "", frame(true, 4, OpText, testMask, "a"), nil, "rsv_without_extension"},
		{"rsv1 with deflate", "Sec-WebSocket-Extensions: permessage-deflate\r\n", frame(true, 4, OpText, testMask, "a"), nil, ""},
		{"rsv2 with deflate", "Sec-WebSocket-Extensions: permessage-deflate\r\n", frame(true, 2, OpText, testMask, "a"), nil, "rsv_without_extension"},
		{"rsv3", "", frame(true, 1, OpBinary, testMask, "a"), nil, "rsv_without_extension"},
		{"rsv1 on control", "Sec-WebSocket-Extensions: permessage-deflate\r\n", frame(true, 4, OpPing, testMask, ""), nil, "rsv1_on_control"},
		{"orphan continuation", "", frame(true, 0, OpContinuation, testMask, "x"), nil, "orphan_continuation"},
		{"reserved opcode", "", frame(true, 0, Opcode(5), testMask, "x"), nil, "reserved_opcode"},
		{"control too long", "", frame(true, 0, OpPing, testMask, strings.Repeat("p", 126)), nil, "control_too_long"},
		{"control fragmented", "", frame(false, 0, OpPong, testMask, ""), nil, "control_fragmented"},
		{"close code 1005", "", frame(true, 0, OpClose, testMask, "\x03\xed"), nil, "close_code_invalid"},
		{"close code 999", "", frame(true, 0, OpClose, testMask, "\x03\xe7"), nil, "close_code_invalid"},
		{"close code 4999", "", frame(true, 0, OpClose, testMask, "\x13\x87"), nil, ""},
		{"close 1 byte", "", frame(true, 0, OpClose, testMask, "\x03"), nil, "close_payload_one_byte"},
		{"close bad reason", "", frame(true, 0, OpClose, testMask, "\x03\xe8\xff"), nil, "close_reason_invalid_utf8"},
		{"everything at once", "", frame(false, 2, Opcode(0xB), nil, strings.Repeat("p", 200)), nil,
			"reserved_opcode,rsv_without_extension,control_too_long,control_fragmented,client_frame_unmasked"},
	}
	for _, tc := range cases {
		lines := exchange(t, tc.respExtra, tc.client, tc.server)
		var got string
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, "F ") {
				got = l[strings.Index(l, "anomalies=")+len("anomalies="):]
				got, _, _ = strings.Cut(got, " ")
				found = true
				break
			}
		}
		if !found || got != tc.want {
			t.Errorf("%s: anomalies %q, want %q\n%s", tc.name, got, tc.want, strings.Join(lines, "\n"))
		}
	}
}

func TestMessageRules(t *testing.T) {
	lines := exchange(t, "", cat(
		frame(false, 0, OpText, testMask, "ab"),
		frame(true, 0, OpText, testMask, "cd"), // interrupts the open message
		frame(true, 0, OpText, testMask, "\xff\xfe"),
		frame(false, 0, OpText, testMask, "\xe2\x82"), // € split across fragments is fine
		frame(true, 0, OpContinuation, testMask, "\xac"),
		frame(true, 0, OpClose, testMask, ""),
		frame(true, 0, OpText, testMask, "late"),
		frame(false, 0, OpBinary, testMask, "never finished"),
	), nil)
	want := []string{
		"H status=101",
		"F c2s #1 fin=false",
		"F c2s #2 fin=true rsv=0 op=text masked=true key=37fa213d len=2 payload=6364 anomalies=interrupted_message",
		"M c2s #1 op=text frames=1 len=2 data=6162 compressed=false anomalies=message_incomplete",
		"M c2s #2 op=text frames=1 len=2 data=6364 compressed=false anomalies=",
		"F c2s #3",
		"M c2s #3 op=text frames=1 len=2 data=fffe compressed=false anomalies=invalid_utf8",
		"F c2s #4", "F c2s #5",
		"M c2s #4 op=text frames=2 len=3 data=e282ac compressed=false anomalies=",
		"F c2s #6 fin=true rsv=0 op=close masked=true key=37fa213d len=0 payload= anomalies= close=0/false",
		"F c2s #7 fin=true rsv=0 op=text masked=true key=37fa213d len=4 payload=6c617465 anomalies=data_after_close",
		"M c2s #5",
		"F c2s #8 fin=false rsv=0 op=binary masked=true key=37fa213d len=14 payload=6e6576657220",
		"M c2s #6 op=binary frames=1 len=14 data=6e6576657220",
		"E end=close_unanswered initiator=c2s",
	}
	checkPrefixes(t, lines, want)
	if !strings.HasSuffix(lines[len(lines)-2], "anomalies=message_incomplete") {
		t.Errorf("unfinished message: %s", lines[len(lines)-2])
	}
}

func TestHandshakeOutcomes(t *testing.T) {
	cases := []struct {
		name      string
		req, resp string
		want      string
	}{
		{"valid", upgradeRequest(""), upgradeResponse(""), "H status=101 accept_valid=true sub=\"\" ext=\"\" deflate=false anomalies="},
		{"wrong accept", upgradeRequest(""), strings.Replace(upgradeResponse(""), testAccept, "AAAA", 1), "H status=101 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=accept_mismatch"},
		{"no accept", upgradeRequest(""), strings.Replace(upgradeResponse(""), "Sec-WebSocket-Accept: "+testAccept+"\r\n", "", 1), "H status=101 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=accept_missing"},
		{"refused", upgradeRequest(""), "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "H status=403 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=upgrade_refused"},
		{"no key, version 8", strings.NewReplacer("Sec-WebSocket-Key: "+testKey+"\r\n", "", "Version: 13", "Version: 8").Replace(upgradeRequest("")), upgradeResponse(""), "H status=101 accept_valid=false sub=\"\" ext=\"\" deflate=false anomalies=accept_mismatch,key_missing,version_not_13"},
		{"bad key", strings.Replace(upgradeRequest(""), testKey, "c2hvcnQ=", 1), upgradeResponse(""), "key_invalid"},
		{"unoffered subprotocol", upgradeRequest(""), upgradeResponse("Sec-WebSocket-Protocol: chat\r\n"), "anomalies=subprotocol_not_offered"},
		{"unoffered extension", upgradeRequest(""), upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate\r\n"), "deflate=true anomalies=extension_not_offered"},
		{"no response", upgradeRequest(""), "", "H status=0"},
		{"post upgrade", strings.Replace(upgradeRequest(""), "GET", "POST", 1), upgradeResponse(""), "method_not_get"},
		{"bare LF", strings.ReplaceAll(upgradeRequest(""), "\r\n", "\n"), strings.ReplaceAll(upgradeResponse(""), "\r\n", "\n"), "H status=101 accept_valid=true"},
	}
	for _, tc := range cases {
		s := run([]byte(tc.req), []byte(tc.resp), Config{})
		if len(s.lines) == 0 || !strings.Contains(s.lines[0], tc.want) {
			t.Errorf("%s: got\n%s\nwant %q", tc.name, s, tc.want)
		}
	}
}

func TestRefusedThenRetried(t *testing.T) {
	// A 401 with a body, then the client retries on the same connection.
	client := cat([]byte(upgradeRequest("")), []byte(upgradeRequest("Authorization: x\r\n")), frame(true, 0, OpText, testMask, "hi"))
	server := cat([]byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope"), []byte(upgradeResponse("")), frame(true, 0, OpText, nil, "yo"))
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	req1 := len(upgradeRequest(""))
	c.Feed(0, client[:req1], testTime)
	c.Feed(1, server[:len(server)-4-len(upgradeResponse(""))], testTime)
	c.Feed(0, client[req1:], testTime)
	c.Feed(1, server[len(server)-4-len(upgradeResponse("")):], testTime)
	c.End(testTime)
	// Only the first upgrade attempt makes a handshake record in this
	// version; the retry's frames are still decoded? No: the retry is a new
	// request on a connection whose handshake was refused.
	if !strings.Contains(s.lines[0], "status=401") {
		t.Fatalf("got\n%s", s)
	}
}

func TestNotHTTPIsIgnored(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte("\x16\x03\x01\x02\x00"), testTime)
	if !c.Done() {
		t.Fatal("TLS stream not given up")
	}
	c.Feed(1, []byte("SSH-2.0-OpenSSH\r\n"), testTime)
	c.End(testTime)
	if len(s.lines) != 0 {
		t.Fatalf("records for a non-HTTP stream:\n%s", s)
	}
	// Plain HTTP without an upgrade reports nothing either.
	s = run([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), Config{})
	if len(s.lines) != 0 {
		t.Fatalf("records for plain HTTP:\n%s", s)
	}
}

func TestLimits(t *testing.T) {
	lines := exchange(t, "", nil, cat(frame(true, 0, OpBinary, nil, strings.Repeat("z", 100)), frame(false, 0, OpText, nil, "abc"), frame(true, 0, OpContinuation, nil, "def")))
	_ = lines
	s := run(cat([]byte(upgradeRequest(""))), cat([]byte(upgradeResponse("")),
		frame(true, 0, OpBinary, nil, strings.Repeat("z", 100)),
		frame(false, 0, OpText, nil, "abcdef"), frame(true, 0, OpContinuation, nil, "ghijkl")),
		Config{MaxPayload: 10, MaxMessage: 8})
	checkPrefixes(t, s.lines, []string{
		"H status=101",
		"F s2c #1 fin=true rsv=0 op=binary masked=false key=00000000 len=100 payload=" + hexOf(strings.Repeat("z", 10)) + " anomalies=payload_truncated",
		"M s2c #1 op=binary frames=1 len=100 data=" + hexOf(strings.Repeat("z", 8)) + " compressed=false anomalies=message_truncated",
		"F s2c #2", "F s2c #3",
		"M s2c #2 op=text frames=2 len=12 data=" + hexOf("abcdefgh") + " compressed=false anomalies=message_truncated",
		"E end=open",
	})
}

func TestGap(t *testing.T) {
	s := &logSink{}
	c := NewConn(1, testClient, testServer, Config{}, s)
	c.Feed(0, []byte(upgradeRequest("")), testTime)
	c.Feed(1, []byte(upgradeResponse("")), testTime)
	f := frame(true, 0, OpBinary, testMask, "0123456789")
	c.Feed(0, f[:8], testTime)  // header (6) + "01"
	c.Gap(0, 3, testTime)       // "234" lost
	c.Feed(0, f[11:], testTime) // "56789"
	c.Feed(0, frame(true, 0, OpText, testMask, "next"), testTime)
	c.End(testTime.Add(time.Second))
	checkPrefixes(t, s.lines, []string{
		"H status=101",
		"F c2s #1 fin=true rsv=0 op=binary masked=true key=37fa213d len=10 payload=3031 anomalies=payload_incomplete",
		// A capture cut, not --max-message: the true length, what was kept.
		"M c2s #1 op=binary frames=1 len=10 data=3031 compressed=false anomalies=capture_truncated",
		"F c2s #2 fin=true rsv=0 op=text masked=true key=37fa213d len=4 payload=6e657874 anomalies=",
		"M c2s #2",
		"E end=open",
	})
}

func FuzzConn(f *testing.F) {
	client, server := conversation()
	f.Add(client, server, uint8(7))
	f.Add([]byte(upgradeRequest("")), cat([]byte(upgradeResponse("")), []byte{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2}), uint8(1))
	f.Fuzz(func(t *testing.T, a, b []byte, chunk uint8) {
		step := int(chunk) + 1
		c := NewConn(1, testClient, testServer, Config{MaxPayload: 1 << 16, MaxMessage: 1 << 16}, &logSink{})
		for i := 0; i < len(a) || i < len(b); i += step {
			if i < len(a) {
				c.Feed(0, a[i:min(i+step, len(a))], testTime)
			}
			if i < len(b) {
				c.Feed(1, b[i:min(i+step, len(b))], testTime)
			}
		}
		c.End(testTime)
	})
}
