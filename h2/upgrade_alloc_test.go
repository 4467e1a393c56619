package h2

import (
	"bytes"
	"testing"
)

// oldHeadHasToken is headHasToken as it was (bytes.Split over the lines
// and the list): the reference the in-place walk must agree with.
func oldHeadHasToken(head []byte, name, token string) bool {
	for _, line := range bytes.Split(head, []byte("\r\n"))[1:] {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			continue
		}
		for _, t := range bytes.Split(v, []byte(",")) {
			if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
				return true
			}
		}
	}
	return false
}

// TestUpgradeRequestAllocs: every connection's first request head is asked
// whether it is an Upgrade: h2c request; asking allocates nothing (the
// lines and the list were split into slices: 2 allocations for a
// WebSocket upgrade request), and answers as the splitting code did.
func TestUpgradeRequestAllocs(t *testing.T) {
	ws := []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	n := testing.AllocsPerRun(100, func() {
		if UpgradeRequest(ws) {
			t.Fatal("a WebSocket upgrade taken for h2c")
		}
	})
	t.Logf("%v allocations per request head", n)
	if n != 0 {
		t.Errorf("%v allocations per request head, want 0", n)
	}
	heads := []string{"", "GET / HTTP/1.1", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nUpgrade: h2c",
		"GET / HTTP/1.1\r\nupgrade :  x, H2C ,y", "GET / HTTP/1.1\r\nUpgrade: h2c,\r\n", "GET / HTTP/1.1\r\nUpgrade:\r\nX: h2c",
		"GET / HTTP/1.1\r\n\r\nUpgrade: h2c", "GET / HTTP/1.1\r\nUpgrade: ,,", "Upgrade: h2c\r\nA: b", "GET / HTTP/1.1\nUpgrade: h2c"}
	for _, h := range heads {
		for _, tok := range []string{"h2c", "", "x"} {
			if got, want := headHasToken([]byte(h), "upgrade", tok), oldHeadHasToken([]byte(h), "upgrade", tok); got != want {
				t.Errorf("headHasToken(%q, %q) = %v, want %v", h, tok, got, want)
			}
		}
	}
}
