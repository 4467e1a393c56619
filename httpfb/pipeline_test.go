package httpfb

import (
	"strings"
	"testing"
)

// TestPipelineOverBound: past the requests a connection remembers (64
// pipelined), a response must not be matched to the wrong request: a
// frame of session s1 is never reported as session s2's.
func TestPipelineOverBound(t *testing.T) {
	r := &rec{}
	c := NewConn(r)
	var reqs strings.Builder
	reqs.WriteString("POST /a/1/s1/xhr HTTP/1.1\r\nHost: h\r\n\r\n")
	for i := 0; i < 64; i++ {
		reqs.WriteString("POST /a/1/s2/xhr HTTP/1.1\r\nHost: h\r\n\r\n")
	}
	c.Feed(true, []byte(reqs.String()), t0)
	c.Feed(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"), t0)
	c.End(t0)
	for _, m := range r.msgs {
		if strings.HasPrefix(m, "/a/1/s2 ") {
			t.Errorf("the response to s1's request reported for s2: %s", m)
		}
	}
}
