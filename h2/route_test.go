package h2

import (
	"fmt"
	"strings"
	"testing"
)

// TestRouter: where each side's bytes go, step by step, as the router
// tells HTTP/2 from HTTP/1 by a connection's first bytes.
func TestRouter(t *testing.T) {
	settings := string([]byte{0, 0, 6, frameSettings, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100})
	const upReq = "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"
	const sw = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	type step struct {
		sd   int
		b    string
		alpn string
		want string
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"preface cut", []step{
			{0, "PR", "", "held"},
			{0, Preface[2:], "", fmt.Sprintf("open client 0; h2 %q", Preface)},
			{1, settings, "", fmt.Sprintf("h2 %q", settings)},
		}},
		{"server speaks first", []step{
			{1, settings[:3], "", "held"},
			{1, settings[3:], "", fmt.Sprintf("open client 0; h2 %q", settings)},
		}},
		{"held side released after the other", []step{
			{0, "P", "", "held"},
			{1, "HTTP/1.1 200 OK\r\n\r\n", "", `http1 "HTTP/1.1 200 OK\r\n\r\n"; release 0 "P"`},
			{0, "P", "", `http1 "P"`},
		}},
		{"alpn h2", []step{
			{0, "GET", "h2", `open client 1; h2 "GET"`},
		}},
		{"alpn http/1.1, short bytes not held", []step{
			{0, "P", "http/1.1", `http1 "P"`},
		}},
		{"upgrade h2c cut, switched", []step{
			{0, upReq[:20], "", fmt.Sprintf("http1 %q", upReq[:20])},
			{0, upReq[20:], "", fmt.Sprintf("http1 %q", upReq[20:])},
			{1, sw[:10], "", fmt.Sprintf("http1 %q", sw[:10])},
			{1, sw[10:] + settings, "", fmt.Sprintf("http1 %q; open upgraded client 0; h2 %q", sw[10:], settings)},
			{0, Preface, "", fmt.Sprintf("h2 %q", Preface)},
		}},
		{"upgrade h2c refused", []step{
			{0, upReq, "", fmt.Sprintf("http1 %q", upReq)},
			{1, "HTTP/1.1 200 OK\r\n\r\n", "", `http1 "HTTP/1.1 200 OK\r\n\r\n"`},
			{1, settings, "", fmt.Sprintf("http1 %q", settings)},
		}},
		{"websocket upgrade", []step{
			{0, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "", `http1 "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"`},
			{1, sw, "", fmt.Sprintf("http1 %q", sw)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Router
			for i, s := range tc.steps {
				tlsClient := -1
				if s.alpn == "h2" {
					tlsClient = 1
				}
				if got := routeString(&r, s.sd, []byte(s.b), s.alpn, tlsClient); got != s.want {
					t.Errorf("step %d: got %s, want %s", i, got, s.want)
				}
			}
		})
	}
}

// TestRouterDecide: bytes held when the connection ends are released as
// they are.
func TestRouterDecide(t *testing.T) {
	var r Router
	if got := routeString(&r, 1, []byte{0}, "", -1); got != "held" {
		t.Fatalf("got %s, want held", got)
	}
	if _, _, ok := r.Release(); ok || r.Decided() {
		t.Fatal("released before it is decided")
	}
	r.Decide()
	if sd, b, ok := r.Release(); !ok || sd != 1 || string(b) != "\x00" {
		t.Fatalf("Release = %d %q %v, want 1 \"\\x00\" true", sd, b, ok)
	}
	if _, _, ok := r.Release(); ok {
		t.Fatal("released twice")
	}
}

// routeString routes b and describes the Route, then what Release gives.
func routeString(r *Router, sd int, b []byte, alpn string, tlsClient int) string {
	rt := r.Route(sd, b, alpn, tlsClient)
	var out []string
	if rt.HTTP1 {
		out = append(out, fmt.Sprintf("http1 %q", rt.Data[:rt.N]))
	}
	if rt.Open {
		up := ""
		if rt.Upgraded {
			up = "upgraded "
		}
		out = append(out, fmt.Sprintf("open %sclient %d", up, rt.Client))
	}
	if rt.HTTP2 {
		out = append(out, fmt.Sprintf("h2 %q", rt.Data[rt.N:]))
	}
	if len(out) == 0 {
		out = append(out, "held")
	}
	if sd, b, ok := r.Release(); ok {
		out = append(out, fmt.Sprintf("release %d %q", sd, b))
	}
	return strings.Join(out, "; ")
}

// FuzzRouter: whatever the bytes and however they are cut, every byte a
// side sends comes out of the router once, in order (held bytes on
// Release).
func FuzzRouter(f *testing.F) {
	f.Add([]byte("\x00\x02PR\x00\x20I * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	f.Add([]byte("\x01\x03\x00\x00\x06\x00\x02GE\x01\x06\x04\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x00\x40GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n\x01\x40HTTP/1.1 101 Switching\r\nUpgrade: h2c\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Router
		var sent, got [2][]byte
		// route feeds b as stream.feed does: the bytes held, once
		// released, are routed next.
		var route func(sd int, b []byte, alpn string, tlsClient int)
		route = func(sd int, b []byte, alpn string, tlsClient int) {
			rt := r.Route(sd, b, alpn, tlsClient)
			if rt.HTTP1 {
				got[sd] = append(got[sd], rt.Data[:rt.N]...)
			}
			if rt.HTTP2 {
				got[sd] = append(got[sd], rt.Data[rt.N:]...)
			}
			if hs, hb, ok := r.Release(); ok {
				route(hs, hb, "", -1)
			}
		}
		for len(in) >= 2 {
			sd, n := int(in[0]&1), min(int(in[1]), len(in)-2)
			alpn := ""
			if in[0]&2 != 0 {
				alpn = "h2"
			}
			b := in[2 : 2+n]
			in = in[2+n:]
			sent[sd] = append(sent[sd], b...)
			route(sd, b, alpn, int(in0(in)&1))
		}
		r.Decide()
		if hs, hb, ok := r.Release(); ok {
			route(hs, hb, "", -1)
		}
		for sd := range sent {
			if string(got[sd]) != string(sent[sd]) {
				t.Fatalf("side %d: sent %q, routed %q", sd, sent[sd], got[sd])
			}
		}
	})
}

func in0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
