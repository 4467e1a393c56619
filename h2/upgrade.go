package h2

import (
	"bytes"

	"github.com/wsdump/wsdump/wsparse"
)

// HTTP/1.1 Upgrade to h2c (RFC 7540 §3.2, kept by RFC 9113 §3.1 as a
// legacy): the request goes out as HTTP/1.1 with "Upgrade: h2c"; a 101
// switches the connection, the server's bytes after it are HTTP/2 (its
// SETTINGS first, then the response on stream 1) and the client's next
// bytes are the preface.

// maxUpgradeHead bounds the server head an Upgrade watches for (a 101 is
// a few lines).
const maxUpgradeHead = 4 << 10

// UpgradeRequest reports whether a side's first bytes are an HTTP/1.1
// request asking to upgrade to h2c.
func UpgradeRequest(b []byte) bool {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 || bytes.HasPrefix(b, []byte("PRI ")) {
		return false
	}
	return headHasToken(b[:end], "upgrade", "h2c")
}

// UpgradePending reports whether b, a side's first bytes, is an HTTP/1
// request head not yet ended that may still turn out an Upgrade: h2c
// request (UpgradeRequest tells once it ends; a head longer than the
// bound of a 101's is not watched).
func UpgradePending(b []byte) bool {
	return len(b) > 0 && len(b) < maxUpgradeHead && !bytes.Contains(b, []byte("\r\n\r\n")) &&
		!bytes.HasPrefix(b, []byte("PRI ")) && b[0] >= 'A' && b[0] <= 'Z'
}

// headHasToken reports whether a field of an HTTP head has the token. It
// walks the lines and the list in place: every connection's first request
// head is asked (UpgradeRequest), and splitting them made two slices each.
func headHasToken(head []byte, name, token string) bool {
	_, rest, more := bytes.Cut(head, []byte("\r\n")) // the start line
	for more {
		var line []byte
		line, rest, more = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) {
			continue
		}
		for list := true; list; {
			var t []byte
			t, v, list = bytes.Cut(v, []byte(","))
			if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
				return true
			}
		}
	}
	return false
}

// Upgrade watches the server's answer to an Upgrade: h2c request.
type Upgrade struct {
	client int
	head   []byte
	failed bool
}

// NewUpgrade watches a connection whose side client asked for h2c.
func NewUpgrade(client int) *Upgrade { return &Upgrade{client: client} }

// Client returns the side that asked.
func (u *Upgrade) Client() int { return u.client }

// Failed reports that the server answered with something else than a 101
// to h2c: there is nothing more to watch.
func (u *Upgrade) Failed() bool { return u.failed }

// Server takes the server's next bytes. When they complete a 101 that
// switches to h2c, switched is true and n is how many of them were the
// head (the rest is HTTP/2).
func (u *Upgrade) Server(b []byte) (n int, switched bool) {
	if u.failed {
		return 0, false
	}
	prev := len(u.head)
	u.head = append(u.head, b[:min(len(b), maxUpgradeHead-prev)]...)
	end := bytes.Index(u.head, []byte("\r\n\r\n"))
	if end < 0 {
		if len(u.head) >= maxUpgradeHead {
			u.failed, u.head = true, nil
		}
		return 0, false
	}
	head := u.head[:end]
	u.head = nil
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) || !headHasToken(head, "upgrade", "h2c") {
		u.failed = true
		return 0, false
	}
	return end + 4 - prev, true
}

// NewUpgraded returns a decoder for a connection the server switched to
// h2c: the request that asked is stream 1, answered in HTTP/2 (RFC 9113
// §3.1), listed by the HTTP/1 decoder of parent.
func NewUpgraded(parent *wsparse.Conn, client int, cfg Config, sink wsparse.Sink) *Conn {
	c := NewConn(parent, client, cfg, sink)
	s := &stream{logged: true}
	s.ended[client] = true
	c.streams[1] = s
	c.counts.Streams++
	c.counts.Requests++
	return c
}
