package httpfb

import (
	"strconv"
	"strings"
	"testing"
)

type reqs struct{ r []Request }

func (h *reqs) Message(*Msg)       {}
func (h *reqs) Request(q *Request) { h.r = append(h.r, *q) }

// TestUndecodedByDirection: the bytes of a client's send body that breaks
// its framing and of a poll response over MaxBody are counted, each on the
// side that sent it (UndecodedC2S is the client's part).
func TestUndecodedByDirection(t *testing.T) {
	h := &reqs{}
	c := NewConn(h)
	c.Feed(true, []byte("POST /s/1/a/xhr_send HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5\r\n\r\nxx=yy"), t0)
	c.Feed(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"), t0)
	line := "a[" + strings.Repeat(`"x",`, MaxBody/4) + `"x"]`
	body := line + "\n" // a line over MaxBody, its newline framing
	c.Feed(true, []byte("POST /s/1/a/xhr HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), t0)
	c.Feed(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body), t0)
	c.End(t0)
	var all, c2s int64
	for _, q := range h.r {
		all, c2s = all+q.UndecodedBytes, c2s+q.UndecodedC2S
	}
	if len(h.r) != 2 || c2s != 5 || all != 5+int64(len(line)) {
		t.Errorf("%d requests, %d bytes not decoded, %d of them the client's; want 2, %d, 5", len(h.r), all, c2s, 5+len(line))
	}
}

// TestUnownedCounted: bytes that break HTTP framing between exchanges (a
// server's junk after a finished poll) are counted on the connection
// (Unowned): they went to a request made up on the spot and never reported.
func TestUnownedCounted(t *testing.T) {
	h := &reqs{}
	c := NewConn(h)
	c.Feed(true, []byte("POST /s/1/a/xhr HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), t0)
	c.Feed(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"), t0)
	junk := strings.Repeat("junk", 20000)
	c.Feed(false, []byte(junk), t0)
	c.End(t0)
	if c.Unowned(false) != int64(len(junk)) || c.Unowned(true) != 0 {
		t.Errorf("unowned bytes: server %d, client %d; want %d, 0", c.Unowned(false), c.Unowned(true), len(junk))
	}
}

// TestCountedAfterReported: bytes not decoded that come after their
// exchange was reported are counted on the connection (Unowned), not on
// the reported request, where no one read them: a send body cut by a lost
// segment whose response had come (the reassembly holds the client's
// bytes after the hole while the server's go on), and junk after a 204;
// and so are the bytes that came in the same segment as a head that
// broke framing (they were dropped).
func TestCountedAfterReported(t *testing.T) {
	h := &reqs{}
	c := NewConn(h)
	c.Feed(true, []byte("POST /s/1/a/xhr_send HTTP/1.1\r\nContent-Length: 6000\r\n\r\n"+strings.Repeat("a", 500)), t0)
	c.Feed(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"), t0)
	c.Gap(true, 1000, t0)
	c.Feed(true, []byte(strings.Repeat("e", 4500)), t0)
	c.Feed(false, []byte("JUNK\r\n\r\n"+strings.Repeat("s", 300)), t0)
	c.End(t0)
	if c2s, s2c := c.Unowned(true), c.Unowned(false); c2s != 4500 || s2c != 308 {
		t.Errorf("unowned bytes: client %d, server %d; want 4500 (after the gap), 308 (the junk head and the bytes with it)", c2s, s2c)
	}
}

// TestUndecodedAfterResponse: a body that ends after its response came
// (the server answered early) and does not decode is counted on the
// connection, not on the request reported without it: a jsonp_send form
// body with no d field, 10 bytes.
func TestUndecodedAfterResponse(t *testing.T) {
	h := &reqs{}
	c := NewConn(h)
	c.Feed(true, []byte("POST /s/1/a/jsonp_send HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n"), t0)
	c.Feed(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), t0)
	c.Feed(true, []byte("zzzzzzzzzz"), t0)
	c.End(t0)
	if n := c.Unowned(true); n != 10 {
		t.Errorf("unowned client bytes %d, want 10 (the body that broke its framing after its request was reported)", n)
	}
}
