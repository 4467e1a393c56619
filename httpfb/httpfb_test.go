package httpfb

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"
	"time"
)

type rec struct {
	msgs []string
	reqs []string
}

func (r *rec) Message(m *Msg) {
	d := "s2c"
	if m.C2S {
		d = "c2s"
	}
	r.msgs = append(r.msgs, fmt.Sprintf("%s %s %s %s %q a=%d", m.Session.ID, m.Session.Transport, d, m.TS.Format("05"), m.Data, m.Anomalies))
}

func (r *rec) Request(q *Request) {
	r.reqs = append(r.reqs, fmt.Sprintf("%s %s %d msgs=%d a=%d undecoded=%d", q.Method, q.URI, q.Status, q.Messages, q.Anomalies, q.UndecodedBytes))
}

func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

var t0 = time.Unix(0, 0).UTC()

// run feeds the client and server bytes alternately, each cut in pieces of
// n bytes (0: whole).
func run(c2s, s2c []string, n int) *rec {
	r := &rec{}
	c := NewConn(r)
	feed := func(cl bool, s string, ts time.Time) {
		b := []byte(s)
		for len(b) > 0 {
			k := len(b)
			if n > 0 {
				k = min(n, len(b))
			}
			c.Feed(cl, b[:k], ts)
			b = b[k:]
		}
	}
	for i := 0; i < max(len(c2s), len(s2c)); i++ {
		ts := t0.Add(time.Duration(i) * time.Second)
		if i < len(c2s) {
			feed(true, c2s[i], ts)
		}
		if i < len(s2c) {
			feed(false, s2c[i], ts)
		}
	}
	c.End(t0.Add(time.Minute))
	return r
}

func TestFraming(t *testing.T) {
	prelude := strings.Repeat("h", 2048) + "\n"
	stream := "GET /stomp/123/abcd/xhr_streaming HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name     string
		c2s, s2c []string
		want     []string // messages then requests
	}{
		{"xhr_streaming chunked", []string{stream},
			[]string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(prelude) + chunk("o\n"), chunk("a[\"CONNECTED\\n\\n\\u0000\"]\nh\n") + chunk("c[3000,\"Go away!\"]\n") + "0\r\n\r\n"},
			[]string{`/stomp/123/abcd xhr-streaming s2c 00 "o" a=0`, `/stomp/123/abcd xhr-streaming s2c 01 "a[\"CONNECTED\\n\\n\\u0000\"]" a=0`,
				`/stomp/123/abcd xhr-streaming s2c 01 "h" a=0`, `/stomp/123/abcd xhr-streaming s2c 01 "c[3000,\"Go away!\"]" a=0`,
				"GET /stomp/123/abcd/xhr_streaming 200 msgs=4 a=0 undecoded=0"}},
		{"xhr_streaming until close, cut line", []string{stream},
			[]string{"HTTP/1.1 200 OK\r\n\r\n" + prelude + "o\na[\"x\"]"},
			[]string{`/stomp/123/abcd xhr-streaming s2c 00 "o" a=0`, `/stomp/123/abcd xhr-streaming s2c 00 "a[\"x\"]" a=0`,
				"GET /stomp/123/abcd/xhr_streaming 200 msgs=2 a=0 undecoded=0"}},
		{"xhr_send pipelined with polls, keep-alive", []string{
			"POST /s/1/a/xhr_send HTTP/1.1\r\nContent-Length: 8\r\n\r\n[\"SEND\"]POST /s/1/a/xhr HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
			[]string{"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\na[\"MSG\"]\n"},
			[]string{`/s/1/a xhr-send c2s 00 "[\"SEND\"]" a=0`, "POST /s/1/a/xhr_send 204 msgs=1 a=0 undecoded=0",
				`/s/1/a xhr-polling s2c 00 "a[\"MSG\"]" a=0`, "POST /s/1/a/xhr 200 msgs=1 a=0 undecoded=0"}},
		{"eventsource", []string{"GET /s/1/a/eventsource HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n\r\ndata: o\r\n\r\n", "data: h\r\n\r\n"},
			[]string{`/s/1/a eventsource s2c 00 "o" a=0`, `/s/1/a eventsource s2c 01 "h" a=0`, "GET /s/1/a/eventsource 200 msgs=2 a=0 undecoded=0"}},
		{"gzip polling", []string{"POST /s/1/a/xhr HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(gz("a[\"z\"]\n"))) + "\r\n\r\n" + gz("a[\"z\"]\n")},
			[]string{`/s/1/a xhr-polling s2c 00 "a[\"z\"]" a=0`, "POST /s/1/a/xhr 200 msgs=1 a=0 undecoded=0"}},
		{"broken chunk", []string{stream},
			[]string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\no\n\r\nzz\r\nhhhh"},
			[]string{`/stomp/123/abcd xhr-streaming s2c 00 "o" a=0`, "GET /stomp/123/abcd/xhr_streaming 200 msgs=1 a=1 undecoded=8"}}, // the bad size line "zz" counted too
		{"broken chunk size line cut", []string{stream},
			[]string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\no\n\r\n1", "g\r\nhh"},
			[]string{`/stomp/123/abcd xhr-streaming s2c 00 "o" a=0`, "GET /stomp/123/abcd/xhr_streaming 200 msgs=1 a=1 undecoded=6"}},
		{"bad sockjs frame", []string{stream},
			[]string{"HTTP/1.1 200 OK\r\n\r\nx\n"},
			[]string{`/stomp/123/abcd xhr-streaming s2c 00 "x" a=1`, "GET /stomp/123/abcd/xhr_streaming 200 msgs=1 a=1 undecoded=0"}},
		{"engine.io v4 polling", []string{"GET /socket.io/?EIO=4&transport=polling&t=1 HTTP/1.1\r\n\r\n", "POST /socket.io/?EIO=4&transport=polling&sid=S1 HTTP/1.1\r\nContent-Length: 10\r\n\r\n40\x1e42[\"a\"]"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n0{\"sid\":\"S1\"}\x1e2\x1ebAQI=", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			[]string{`S1 polling s2c 00 "0{\"sid\":\"S1\"}" a=0`, `S1 polling s2c 00 "2" a=0`, `S1 polling s2c 00 "\x01\x02" a=0`,
				"GET /socket.io/?EIO=4&transport=polling&t=1 200 msgs=3 a=0 undecoded=0",
				`S1 polling c2s 01 "40" a=0`, `S1 polling c2s 01 "42[\"a\"]" a=0`, "POST /socket.io/?EIO=4&transport=polling&sid=S1 200 msgs=2 a=0 undecoded=0"}},
		{"engine.io v3 polling", []string{"GET /socket.io/?EIO=3&transport=polling&sid=S HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n1:22:40x:zzzzz"},
			[]string{`S polling s2c 00 "2" a=0`, `S polling s2c 00 "40" a=0`, "GET /socket.io/?EIO=3&transport=polling&sid=S 200 msgs=2 a=1 undecoded=7"}},
		{"engine.io v3 broken b packet", []string{"GET /socket.io/?EIO=3&transport=polling&sid=S HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n1:26:b4!!!!"},
			[]string{`S polling s2c 00 "2" a=0`, "GET /socket.io/?EIO=3&transport=polling&sid=S 200 msgs=1 a=1 undecoded=8"}},
		{"engine.io v3 empty packet", []string{"GET /socket.io/?EIO=3&transport=polling&sid=S HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n1:20:"},
			[]string{`S polling s2c 00 "2" a=0`, "GET /socket.io/?EIO=3&transport=polling&sid=S 200 msgs=1 a=1 undecoded=2"}},
		{"engine.io v3 binary payload", []string{"GET /socket.io/?EIO=3&transport=polling&sid=S HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 11\r\n\r\n\x00\x01\xff2\x01\x03\xff\x04\x01\x02\x07"},
			[]string{`S polling s2c 00 "2" a=0`, `S polling s2c 00 "\x04\x01\x02" a=0`, "GET /socket.io/?EIO=3&transport=polling&sid=S 200 msgs=2 a=1 undecoded=1"}},
		{"not a fallback", []string{"GET /info HTTP/1.1\r\n\r\n"}, []string{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"}, nil},
	}
	for _, tt := range tests {
		for _, n := range []int{0, 1, 3, 7} {
			r := run(tt.c2s, tt.s2c, n)
			got := mergeOrder(r)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%s (pieces of %d):\ngot  %q\nwant %q", tt.name, n, got, tt.want)
			}
		}
	}
}

// mergeOrder lists messages and requests: a request follows the messages
// it carried.
func mergeOrder(r *rec) []string {
	var out []string
	m := 0
	for _, q := range r.reqs {
		var k int
		fmt.Sscanf(q[strings.Index(q, "msgs=")+5:], "%d", &k)
		out = append(out, r.msgs[m:m+k]...)
		m += k
		out = append(out, q)
	}
	return append(out, r.msgs[m:]...)
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		method, uri string
		want        string
	}{
		{"GET", "/stomp/info?t=1", "false"},
		{"GET", "/stomp/123/abc/websocket", "false"},
		{"POST", "/stomp/123/abc/xhr_send", "sockjs /stomp/123/abc xhr-send true"},
		{"GET", "/123/abc/htmlfile?c=_jp.a", "sockjs /123/abc htmlfile false"},
		{"GET", "/a/1.2/abc/xhr", "false"},
		{"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", "false"},
		{"POST", "/socket.io/?EIO=3&transport=polling&sid=x", "engine.io x polling true"},
		{"OPTIONS", "/socket.io/?EIO=3&transport=polling&sid=x", "false"},
	} {
		s, ok := Classify(tt.method, tt.uri)
		got := "false"
		if ok {
			got = fmt.Sprintf("%s %s %s %v", s.Proto, s.ID, s.Transport, s.Send)
		}
		if got != tt.want {
			t.Errorf("Classify(%s %s) = %s, want %s", tt.method, tt.uri, got, tt.want)
		}
	}
}

// TestGap: bytes lost inside a streamed response end its decoding there:
// the frames before the loss are reported, the request is marked
// incomplete, and what follows on that side is counted, not decoded.
func TestGap(t *testing.T) {
	r := &rec{}
	c := NewConn(r)
	c.Feed(true, []byte("POST /s/1/a/xhr_streaming HTTP/1.1\r\n\r\n"), t0)
	c.Feed(false, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\no\nh\na["), t0)
	c.Gap(false, 100, t0)
	c.Feed(false, []byte("\"x\"]\n\r\n"), t0)
	c.End(t0)
	got := strings.Join(mergeOrder(r), "\n")
	want := "/s/1/a xhr-streaming s2c 00 \"o\" a=0\n/s/1/a xhr-streaming s2c 00 \"h\" a=0\nPOST /s/1/a/xhr_streaming 200 msgs=2 a=9 undecoded=9"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
