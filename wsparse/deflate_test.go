package wsparse

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
)

// compressor produces permessage-deflate payloads as a sender would: one
// flate stream for the connection (context takeover) or one per message.
type compressor struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func (c *compressor) message(t *testing.T, s string, takeover bool) string {
	t.Helper()
	if c.w == nil || !takeover {
		c.buf.Reset()
		c.w, _ = flate.NewWriter(&c.buf, flate.BestCompression)
	}
	start := c.buf.Len()
	c.w.Write([]byte(s))
	c.w.Flush()
	out := c.buf.Bytes()[start:]
	if !bytes.HasSuffix(out, deflateTail) {
		t.Fatal("flush did not end with the sync marker")
	}
	return string(out[:len(out)-4]) // RFC 7692 §7.2.1: drop the tail
}

func TestParseDeflate(t *testing.T) {
	cases := map[string]DeflateParams{
		"permessage-deflate": {},
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover":   {ServerNoContextTakeover: true, ClientNoContextTakeover: true},
		"permessage-deflate; server_max_window_bits=10; client_max_window_bits=\"12\"": {ServerMaxWindowBits: 10, ClientMaxWindowBits: 12},
		"permessage-deflate;client_max_window_bits":                                    {},
	}
	for ext, want := range cases {
		if got := parseDeflate(ext); got != want {
			t.Errorf("%q: got %+v, want %+v", ext, got, want)
		}
	}
}

func deflateExchange(t *testing.T, respExt string, server []byte, cfg Config) []string {
	t.Helper()
	s := run([]byte(upgradeRequest("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")),
		cat([]byte(upgradeResponse("Sec-WebSocket-Extensions: "+respExt+"\r\n")), server), cfg)
	return s.lines
}

func messages(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "M ") {
			out = append(out, l)
		}
	}
	return out
}

func TestInflateContextTakeover(t *testing.T) {
	var z compressor
	texts := []string{"hello hello hello", "hello again, hello hello", strings.Repeat("abc", 5000), "abcabcabc hello"}
	var server []byte
	for i, s := range texts {
		p := z.message(t, s, true)
		if i == 1 {
			// Fragmented compressed message: RSV1 on the first frame only.
			server = cat(server, frame(false, 4, OpText, nil, p[:3]), frame(true, 0, OpContinuation, nil, p[3:]))
			continue
		}
		server = cat(server, frame(true, 4, OpText, nil, p))
	}
	server = cat(server, frame(true, 0, OpText, nil, "plain")) // mixed: uncompressed
	msgs := messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	want := append(append([]string{}, texts...), "plain")
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages:\n%s", len(msgs), strings.Join(msgs, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(msgs[i], "data="+short([]byte(w))+" ") || !strings.HasSuffix(msgs[i], "anomalies=") {
			t.Errorf("message %d: %s, want %q", i, msgs[i], w)
		}
	}
}

func TestInflateNoContextTakeover(t *testing.T) {
	var z compressor
	var server []byte
	for _, s := range []string{"one one one", "two two two", "one one one"} {
		server = cat(server, frame(true, 4, OpBinary, nil, z.message(t, s, false)))
	}
	msgs := messages(deflateExchange(t, "permessage-deflate; server_no_context_takeover", server, Config{}))
	for i, w := range []string{"one one one", "two two two", "one one one"} {
		if !strings.Contains(msgs[i], "data="+hexOf(w)) {
			t.Errorf("message %d: %s", i, msgs[i])
		}
	}
	// The same bytes under context takeover (as the server did not
	// declare no_context_takeover) still inflate: resetting is the
	// sender's choice, and an empty window is never wrong for it.
	msgs = messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	if len(msgs) != 3 || strings.Contains(strings.Join(msgs, ""), "inflate") {
		t.Errorf("takeover reading of reset streams:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestInflateBomb(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ { // 64 MiB of zeros in about 64 KiB
		w.Write(zeros)
	}
	w.Flush()
	bomb := buf.Bytes()[:buf.Len()-4]
	var z compressor
	server := cat(frame(true, 4, OpBinary, nil, string(bomb)), frame(true, 4, OpText, nil, z.message(t, "after", true)))
	msgs := messages(deflateExchange(t, "permessage-deflate", server, Config{MaxMessage: 1 << 20}))
	if len(msgs) != 2 {
		t.Fatalf("got:\n%s", strings.Join(msgs, "\n"))
	}
	if !strings.Contains(msgs[0], "len=1048576 ") || !strings.Contains(msgs[0], "message_truncated") || !strings.Contains(msgs[0], "inflate_limit") {
		t.Errorf("bomb: %s", msgs[0])
	}
	// The window after a cut message is unknown: the next message under
	// context takeover is not inflated into garbage.
	if !strings.Contains(msgs[1], "inflate_context_unknown") {
		t.Errorf("after the bomb: %s", msgs[1])
	}
}

func TestInflateRecoversAfterReset(t *testing.T) {
	// With no context takeover a lost window does not matter: the next
	// message starts afresh.
	var z compressor
	server := cat(frame(true, 4, OpText, nil, "\xff\xff\xff garbage"), frame(true, 4, OpText, nil, z.message(t, "fine", false)))
	msgs := messages(deflateExchange(t, "permessage-deflate; server_no_context_takeover", server, Config{}))
	if len(msgs) != 2 || !strings.Contains(msgs[0], "inflate_failed") || !strings.Contains(msgs[1], "data="+hexOf("fine")+" compressed=true anomalies=") {
		t.Errorf("got:\n%s", strings.Join(msgs, "\n"))
	}
}

func TestInflatedTextUTF8(t *testing.T) {
	var z compressor
	server := frame(true, 4, OpText, nil, z.message(t, "bad \xff text", true))
	msgs := messages(deflateExchange(t, "permessage-deflate", server, Config{}))
	if len(msgs) != 1 || !strings.HasSuffix(msgs[0], "anomalies=invalid_utf8") {
		t.Errorf("got:\n%s", strings.Join(msgs, "\n"))
	}
}

func FuzzInflate(f *testing.F) {
	var z compressor
	t := &testing.T{}
	f.Add([]byte(z.message(t, "hello hello", true)), false)
	f.Add([]byte{0xff, 0x00, 0x12}, true)
	f.Fuzz(func(t *testing.T, msg []byte, noCtx bool) {
		in := &inflater{noCtx: noCtx}
		for i := 0; i < 2; i++ {
			out, _ := in.inflate(msg, true, 1<<16)
			if len(out) > 1<<16 {
				t.Fatalf("output over the limit: %d", len(out))
			}
		}
	})
}
