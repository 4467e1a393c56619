package wsparse

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// oldParseHead is parseHead as it was before it walked the head in place
// (a string per line, FieldsFunc and Join over the request line): the
// reference the new one must agree with on every input.
func oldParseHead(b []byte) (h httpHead, ok bool) {
	b = b[min(leadingEmpty(b), maxLeadingEmpty):]
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	start := strings.TrimSuffix(lines[0], "\r")
	if strings.HasPrefix(start, "HTTP/") {
		proto, rest, _ := strings.Cut(start, " ")
		code, reason, _ := strings.Cut(rest, " ")
		st, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 {
			return h, false
		}
		h.proto, h.status, h.reason = proto, st, reason
	} else {
		parts := strings.FieldsFunc(start, isBlank)
		if len(parts) < 3 || !strings.HasPrefix(parts[len(parts)-1], "HTTP/") {
			return h, false
		}
		h.request = true
		h.method, h.uri, h.proto = parts[0], strings.Join(parts[1:len(parts)-1], " "), parts[len(parts)-1]
		h.lenient = start != h.method+" "+h.uri+" "+h.proto || len(parts) > 3
	}
	h.fields = make([]httpField, 0, len(lines)-1)
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(h.fields) > 0 {
			h.fields[len(h.fields)-1].value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if !found {
			h.lenient = true
			continue
		}
		h.fields = append(h.fields, httpField{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return h, true
}

// oldHasToken is hasToken as it was (strings.Split over the value).
func oldHasToken(h *httpHead, name, token string) bool {
	for _, f := range h.fields {
		if !strings.EqualFold(f.name, name) {
			continue
		}
		for _, t := range strings.Split(f.value, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sameHead compares parseHead with the reference on b (and on every
// prefix of b, to cover heads cut anywhere).
func sameHead(t *testing.T, b []byte) {
	t.Helper()
	for _, in := range [][]byte{b, append(append([]byte{}, b...), "\r\n\r\n"...)} {
		got, gok := parseHead(in)
		want, wok := oldParseHead(in)
		if gok != wok || gok && (!reflect.DeepEqual(got.fields, want.fields) && (len(got.fields)+len(want.fields) > 0) ||
			got.request != want.request || got.method != want.method || got.uri != want.uri || got.proto != want.proto ||
			got.status != want.status || got.reason != want.reason || got.lenient != want.lenient) {
			t.Fatalf("%q:\n got %v %+v\nwant %v %+v", in, gok, got, wok, want)
		}
		for _, f := range got.fields {
			for _, tok := range append(strings.Split(f.value, ","), "websocket", "upgrade") {
				if g, w := got.hasToken(f.name, tok), oldHasToken(&got, f.name, tok); g != w {
					t.Fatalf("%q: hasToken(%q, %q) = %v, want %v", in, f.name, tok, g, w)
				}
			}
		}
	}
}

var oddHeads = []string{
	"", "\r\n", "\n\n\n", "HTTP/", "HTTP/1.1", "HTTP/1.1 ", "HTTP/1.1 101", "HTTP/1.1 +01 x", "HTTP/1.1 -01 x",
	"HTTP/1.1 +-1 x", "HTTP/1.1 1011 x", "HTTP/1.1 1x1 x", "HTTP/1.1  101 x", "HTTP/1.1\t101 x", "HTTP/1.1 101 \r\n",
	"GET / HTTP/1.1", "GET  / HTTP/1.1", "GET /\tHTTP/1.1", " GET / HTTP/1.1", "GET / HTTP/1.1 ", "GET / HTTP/1.1\t\r",
	"GET /a b c HTTP/1.1", "GET\t/a \t b HTTP/1.1", "GET / HTTPS/1.1", "GET HTTP/1.1", "GET / x", "a b HTTP/",
	"GET / HTTP/1.1 x", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", strings.Repeat("\n", 70) + "GET / HTTP/1.1\n\n",
	"GET / HTTP/1.1\r\n folded\r\nA: b\r\n  c \t\r\n\td\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n:\r\n : \r\n\r\n",
	"GET / HTTP/1.1\rHost: a\r\r\n\r\n", "GET / HTTP/1.1\nA:b\nA: c\n\n", "GET / HTTP/1.1\r\n\r\nA: after blank\r\n",
	"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\r\n\r\n", "GET /\x00 HTTP/1.1\r\n\xff: \xfe\r\n\r\n",
	"GET / HTTP/1.1\r\nConnection: , ,keep-alive,,Upgrade ,\r\nUpgrade:\r\n\r\n", "GET / HTTP/1.1\r\n\r", "GET / HTTP/1.1\r\n\r\n\r\n\r\n",
}

// TestParseHeadMatchesOld: the in-place parser (and hasToken) reads every hostile head,
// every prefix of them, and the FuzzParseHead corpus as the old one did.
func TestParseHeadMatchesOld(t *testing.T) {
	for _, s := range append(oddHeads, upgradeRequest("X: y\r\n"), upgradeResponse(" folded\r\n")) {
		for i := 0; i <= len(s); i++ {
			sameHead(t, []byte(s[:i]))
		}
	}
	files, _ := filepath.Glob("testdata/fuzz/FuzzParseHead/*")
	if len(files) == 0 {
		t.Fatal("no FuzzParseHead corpus")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Corpus files: "go test fuzz v1", then []byte("...") and a bool.
		for _, l := range strings.Split(string(raw), "\n") {
			if q, ok := strings.CutPrefix(l, "[]byte("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				sameHead(t, []byte(s))
			}
		}
	}
}

func FuzzParseHeadMatchesOld(f *testing.F) {
	for _, s := range oddHeads {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameHead(t, b) })
}

// TestHeadBytes guards what parsing an upgrade request and its answer
// costs: one slice of its fields each (the head driver lends one from a
// pool), its names and values pieces of the bytes parsed, not a copy. The
// first parser (a string of the head, a slice of line strings, FieldsFunc
// and a concatenation of the request line) made 7 allocations for this
// pair, the one that copied each head into a string 4.
func TestHeadBytes(t *testing.T) {
	req := []byte(upgradeRequest("User-Agent: Go-http-client/1.1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"))
	resp := []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate\r\n"))
	var sink int
	n := testing.AllocsPerRun(100, func() {
		h1, _ := parseHead(req)
		h2, _ := parseHead(resp)
		sink += len(h1.fields) + len(h2.fields)
	})
	if n > 2 {
		t.Errorf("%v allocations per upgrade request and response (want <= 2: a fields slice each)", n)
	} else {
		t.Logf("%v allocations per upgrade request and response", n)
	}
	_ = sink
}

// TestUpgradeBytes guards the bytes allocated by an upgrade request and
// its answer fed whole to a new connection (what NewConn alone allocates is
// taken off): the head driver parses a head that arrived whole where it
// lies, without copying it into the side's buffer first. The old driver
// and parser allocated 4 092-4 104 bytes here, then 3 098-3 125; now 707
// (session 19): the heads parsed in place (their fields in a pooled
// slice), the HTTP states of the sides and the exchange reused from
// pools, the deflate elements checked without maps, the accept value and
// the key checked on the stack, the response's strings compacted alone.
func TestUpgradeBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	req := []byte(upgradeRequest("User-Agent: Go-http-client/1.1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"))
	resp := []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate\r\n"))
	const n = 500
	conns := make([]*Conn, n)
	alloc := func(feed bool) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			c := NewConn(1, testClient, testServer, Config{}, nopSink{})
			if feed {
				c.Feed(0, req, testTime)
				c.Feed(1, resp, testTime)
			}
			conns[i] = c
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	base := alloc(false)
	all := alloc(true)
	if !conns[n-1].IsWebSocket() {
		t.Fatal("no upgrade")
	}
	per := (int64(all) - int64(base)) / n
	t.Logf("%d bytes allocated per upgrade request and response", per)
	if per > 900 {
		t.Errorf("%d bytes allocated per upgrade request and response, want <= 900", per)
	}
}

// TestHandshakeChecksAllocs guards the checks of an upgrade: the accept
// value, the key, and the subprotocol and permessage-deflate negotiation
// are computed without allocating (the old code made the accept value and
// the decoded key, split every list into a slice and every deflate
// element into a map: 24 allocations here).
func TestHandshakeChecksAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race")
	}
	const key, accept = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	hs := Handshake{Key: key, Accept: accept, OfferedProtocols: "chat, superchat", Subprotocol: "chat",
		OfferedExtensions: "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
		Extensions:        "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"}
	var ok bool
	n := testing.AllocsPerRun(100, func() {
		h := hs
		ok = acceptMatches(h.Key, h.Accept) && keyValid(h.Key) && deflateOffersValid(h.OfferedExtensions)
		h.negotiate()
		ok = ok && h.Deflate && h.Anomalies == 0
	})
	if !ok {
		t.Fatal("the handshake does not check out")
	}
	t.Logf("%v allocations to check an upgrade", n)
	if n != 0 {
		t.Errorf("%v allocations to check an upgrade, want 0", n)
	}
}

// TestUpgradeAllocs counts the allocations of an upgrade request and its
// answer fed to a new connection, NewConn's own taken off: the handshake
// record, its request's and its response's strings (one each), and what
// the connection keeps of it (the kept handshake and its one string): 5.
// The old driver made 34 (a copy and a fields slice per head, the sides' HTTP
// states, the exchange and its queue, a map per deflate element, the
// accept value, the key decoded, the lists split).
func TestUpgradeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race")
	}
	req := []byte(upgradeRequest("User-Agent: Go-http-client/1.1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"))
	resp := []byte(upgradeResponse("Sec-WebSocket-Extensions: permessage-deflate\r\n"))
	sh := NewShared(Config{}, nopSink{})
	var c *Conn
	base := testing.AllocsPerRun(200, func() { c = sh.NewConn(1, testClient, testServer) })
	all := testing.AllocsPerRun(200, func() {
		c = sh.NewConn(1, testClient, testServer)
		c.Feed(0, req, testTime)
		c.Feed(1, resp, testTime)
	})
	if !c.IsWebSocket() || c.kept == nil || !c.kept.deflate {
		t.Fatal("no upgrade with permessage-deflate")
	}
	n := all - base
	t.Logf("%v allocations per upgrade request and response", n)
	if n > 5 {
		t.Errorf("%v allocations per upgrade request and response, want <= 5", n)
	}
}
