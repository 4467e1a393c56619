package report

import (
	"net/netip"
	"regexp"
	"time"
)

// Stabilizer rewrites the values that change from one recording of a
// session to the next, so that two captures of the same scripted session
// give the same output (--stable):
//
//   - client ports are ephemeral: each client endpoint's port becomes its
//     number in order of appearance (127.0.0.1:50198 -> 127.0.0.1:1);
//   - times count from the first packet, written as RFC 3339 times from
//     the Unix epoch (2.7 ms in: 1970-01-01T00:00:00.002700000Z);
//   - masking keys, Sec-WebSocket-Key and Sec-WebSocket-Accept are random:
//     they are replaced by placeholders (accept_valid and the anomalies
//     still say whether the Accept was right);
//   - long hex strings in TLS errors (client randoms) become "<hex>".
//
// Server addresses, payloads, lengths and everything else are kept. The
// exporters apply it where they write a value, so the records the decoder
// hands around stay true: lint, diff and health see the real values.
// A zero or nil Stabilizer (Stable off) changes nothing.
type Stabilizer struct {
	on      bool
	origin  time.Time
	clients map[netip.AddrPort]uint16
}

// Placeholders written in place of random values.
const (
	StableMask   = "********"
	StableKey    = "<key>"
	StableAccept = "<accept>"
)

// NewStabilizer returns a stabilizer, active when on.
func NewStabilizer(on bool) *Stabilizer {
	return &Stabilizer{on: on, clients: map[netip.AddrPort]uint16{}}
}

// On reports whether values are rewritten.
func (s *Stabilizer) On() bool { return s != nil && s.on }

// SetOrigin sets the first packet's time; without it, the first time seen.
func (s *Stabilizer) SetOrigin(t time.Time) {
	if s != nil && s.origin.IsZero() {
		s.origin = t
	}
}

// Client returns a client endpoint with its port replaced by its number.
func (s *Stabilizer) Client(a netip.AddrPort) netip.AddrPort {
	if !s.On() {
		return a
	}
	n, ok := s.clients[a]
	if !ok {
		n = uint16(len(s.clients) + 1)
		s.clients[a] = n
	}
	return netip.AddrPortFrom(a.Addr(), n)
}

// Time returns t as an offset from the first packet, from the Unix epoch.
func (s *Stabilizer) Time(t time.Time) time.Time {
	if !s.On() || t.IsZero() {
		return t
	}
	if s.origin.IsZero() {
		s.origin = t
	}
	return time.Unix(0, 0).UTC().Add(t.Sub(s.origin))
}

// Key returns a placeholder for a non-empty Sec-WebSocket-Key.
func (s *Stabilizer) Key(k string) string { return s.placeholder(k, StableKey) }

// Accept returns a placeholder for a non-empty Sec-WebSocket-Accept.
func (s *Stabilizer) Accept(a string) string { return s.placeholder(a, StableAccept) }

func (s *Stabilizer) placeholder(v, p string) string {
	if !s.On() || v == "" {
		return v
	}
	return p
}

var longHex = regexp.MustCompile(`[0-9a-fA-F]{32,}`)

// Text replaces long hex strings (TLS client randoms) in a message.
func (s *Stabilizer) Text(v string) string {
	if !s.On() {
		return v
	}
	return longHex.ReplaceAllString(v, "<hex>")
}
