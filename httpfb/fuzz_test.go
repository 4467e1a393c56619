package httpfb

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzChunks: the chunked decoder never panics, hands out only bytes of
// its input, and gives the same data and end however its input is split.
func FuzzChunks(f *testing.F) {
	f.Add([]byte("4\r\nabcd\r\n0\r\n\r\n"), 3)
	f.Add([]byte("a;ext=1\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"), 1)
	f.Add([]byte("zz\r\n"), 2)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		whole, wdone, wbroken := dechunk(b, len(b)+1)
		if len(whole) > len(b) {
			t.Fatalf("%d bytes of data out of %d", len(whole), len(b))
		}
		cut = 1 + abs(cut)%8
		split, sdone, sbroken := dechunk(b, cut)
		if !bytes.Equal(whole, split) || wdone != sdone || wbroken != sbroken {
			t.Fatalf("split in %d: %q %v %v, whole: %q %v %v", cut, split, sdone, sbroken, whole, wdone, wbroken)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func dechunk(b []byte, piece int) (data []byte, done, broken bool) {
	var c Chunks
	for len(b) > 0 && !done && !broken {
		p := b[:min(piece, len(b))]
		b = b[len(p):]
		for len(p) > 0 && !done && !broken {
			var n int
			var d []byte
			n, d, done, broken = c.Next(p)
			data = append(data, d...)
			p = p[n:]
		}
	}
	return data, done, broken
}

// FuzzPayload: Engine.IO payloads of either version never panic, and the
// packets and the bytes counted as not decoded never exceed the input.
func FuzzPayload(f *testing.F) {
	f.Add([]byte("0{\"sid\":\"x\"}\x1e2\x1ebAQI="), 4)
	f.Add([]byte("1:22:40x:zz"), 3)
	f.Add([]byte("6:b4AQI=2:40"), 3)
	f.Fuzz(func(t *testing.T, p []byte, v int) {
		pk, bad := Payload(p, 3+abs(v)%2)
		n := 0
		for _, x := range pk {
			if len(x.Data) == 0 && !x.Binary {
				t.Fatalf("empty text packet from %q", p)
			}
			n += len(x.Data)
		}
		if n > len(p) || bad > len(p) || bad < 0 {
			t.Fatalf("%d packet bytes, %d bad, from %d", n, bad, len(p))
		}
	})
}

type count struct {
	msgs []string
	reqs int
}

func (c *count) Message(m *Msg)     { c.msgs = append(c.msgs, string(m.Data)) }
func (c *count) Request(r *Request) { c.reqs++ }

// FuzzConn: a connection fed any bytes (SockJS and Engine.IO requests,
// chunked or not, streamed or polled) never panics and reports the same
// messages however both directions are split.
func FuzzConn(f *testing.F) {
	prelude := strings.Repeat("h", 2048) + "\n"
	f.Add([]byte("POST /s/1/a/xhr_streaming HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n803\r\n"+prelude+"o\n\r\n3\r\nh\nx\r\n0\r\n\r\n"), 5)
	f.Add([]byte("GET /s/1/a/eventsource HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n\r\ndata: o\r\n\r\ndata: a[\"x\"]\r\n\r\n"), 2)
	f.Add([]byte("POST /s/1/a/xhr_send HTTP/1.1\r\nContent-Length: 5\r\n\r\n[\"x\"]POST /s/1/a/xhr HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"), 3)
	f.Add([]byte("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n0{\"sid\":\"S\"}\x1e2"), 4)
	f.Add([]byte("GET /s/1/a/jsonp?c=f HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n/**/f(\"o\");\r\n"), 1)
	f.Add([]byte("GET /s/1/a/htmlfile?c=f HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n<html>\r\n<script>\np(\"o\");\n</script>\r\n"), 6)
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, cut int) {
		cut = 1 + abs(cut)%16
		whole := feedConn(c2s, s2c, len(c2s)+len(s2c)+1)
		split := feedConn(c2s, s2c, cut)
		if strings.Join(whole.msgs, "\x00") != strings.Join(split.msgs, "\x00") || whole.reqs != split.reqs {
			t.Fatalf("split in %d: %q %d; whole: %q %d", cut, split.msgs, split.reqs, whole.msgs, whole.reqs)
		}
	})
}

// feedConn feeds the client's bytes, then the server's, in pieces.
func feedConn(c2s, s2c []byte, piece int) *count {
	h := &count{}
	c := NewConn(h)
	ts := time.Unix(0, 0)
	for _, d := range []struct {
		c2s bool
		b   []byte
	}{{true, c2s}, {false, s2c}} {
		b := d.b
		for len(b) > 0 {
			p := b[:min(piece, len(b))]
			b = b[len(p):]
			c.Feed(d.c2s, p, ts)
		}
	}
	c.End(ts)
	return h
}
