package wsparse

import (
	"crypto/sha1"
	"encoding/base64"
	"iter"
	"math"
	"strings"
	"time"
)

// acceptGUID is appended to the key to compute Sec-WebSocket-Accept (RFC 6455 §1.3, §4.2.2).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	var b [acceptLen]byte
	return string(acceptKey(&b, key))
}

// acceptLen is the length of a Sec-WebSocket-Accept value: a SHA-1 in base64.
const acceptLen = 28

// acceptKey writes the Sec-WebSocket-Accept value for key into b, without
// allocating for a key of up to 64 bytes (a real one has 24).
func acceptKey(b *[acceptLen]byte, key string) []byte {
	var in [64 + len(acceptGUID)]byte
	var h [sha1.Size]byte
	if len(key) <= 64 {
		n := copy(in[:], key)
		n += copy(in[n:], acceptGUID)
		h = sha1.Sum(in[:n])
	} else {
		h = sha1.Sum([]byte(key + acceptGUID))
	}
	base64.StdEncoding.Encode(b[:], h[:])
	return b[:]
}

// keyValid reports whether a Sec-WebSocket-Key is 16 bytes in base64
// (RFC 6455 §4.1), decoding a key of usual length on the stack.
func keyValid(key string) bool {
	var b [48]byte
	if base64.StdEncoding.DecodedLen(len(key)) > len(b) {
		k, err := base64.StdEncoding.DecodeString(key)
		return err == nil && len(k) == 16
	}
	n, err := base64.StdEncoding.Decode(b[:], []byte(key))
	return err == nil && n == 16
}

// acceptMatches reports whether accept is AcceptKey(key).
func acceptMatches(key, accept string) bool {
	var b [acceptLen]byte
	return len(accept) == acceptLen && string(acceptKey(&b, key)) == accept
}

// Handshake is an HTTP Upgrade exchange: the client's request and, when it
// came, the server's response.
type Handshake struct {
	RequestTS time.Time
	TS        time.Time // when the response completed (or the request, without one)

	// Request (RFC 6455 §4.1).
	Method            string
	URI               string
	HTTPVersion       string
	Host              string
	Origin            string
	UserAgent         string
	Key               string
	Version           string
	OfferedProtocols  string // Sec-WebSocket-Protocol of the request
	OfferedExtensions string // Sec-WebSocket-Extensions of the request

	// Response (RFC 6455 §4.2.2). Status is 0 when no response was seen.
	Status      int
	Reason      string
	Accept      string
	AcceptValid bool
	Subprotocol string // Sec-WebSocket-Protocol of the response
	Extensions  string // Sec-WebSocket-Extensions of the response

	// Deflate is true when permessage-deflate (RFC 7692) was accepted,
	// with DeflateParams its parameters.
	Deflate       bool
	DeflateParams DeflateParams

	// TLS is the TLS layer the exchange was decrypted from (wss), or nil.
	TLS *TLSInfo

	// Protocol is the :protocol pseudo-header of an HTTP/2 extended
	// CONNECT (RFC 8441 §4), "websocket"; empty over HTTP/1.1. Such a
	// handshake has HTTPVersion "HTTP/2" and is accepted by a 2xx status.
	Protocol string

	// Transport names the HTTP fallback transport of a SockJS or Engine.IO
	// session joined into one conversation (package fbjoin), "" for a
	// WebSocket. Such a session's handshake is made up from its first
	// request, with Status 101 once the session answered: the session was
	// established, over HTTP.
	Transport string

	Anomalies Anomalies
}

// Upgraded reports whether the server switched to WebSocket.
// Over HTTP/2 (RFC 8441 §5) a 2xx status accepts the extended CONNECT.
func (h *Handshake) Upgraded() bool {
	return h.Status == 101 || h.Protocol != "" && h.Status/100 == 2
}

// isUpgradeRequest reports whether a request asks for a WebSocket upgrade.
func isUpgradeRequest(h *httpHead) bool { return h.hasToken("Upgrade", "websocket") }

// fromRequest fills the request half and checks the client's rules.
func (hs *Handshake) fromRequest(h *httpHead, ts time.Time) {
	hs.RequestTS, hs.TS = ts, ts
	hs.Method, hs.URI, hs.HTTPVersion = h.method, h.uri, h.proto
	hs.Host = h.get("Host")
	hs.Origin = h.get("Origin")
	hs.UserAgent = h.get("User-Agent")
	hs.Key = h.get("Sec-WebSocket-Key")
	hs.Version = h.get("Sec-WebSocket-Version")
	hs.OfferedProtocols = h.get("Sec-WebSocket-Protocol")
	hs.OfferedExtensions = h.get("Sec-WebSocket-Extensions")
	if h.method != "GET" {
		hs.Anomalies |= AnomMethodNotGet
	}
	if !h.hasToken("Connection", "upgrade") {
		hs.Anomalies |= AnomMissingConnectionUpgrade
	}
	switch {
	case !h.has("Sec-WebSocket-Key"):
		hs.Anomalies |= AnomKeyMissing
	case !keyValid(hs.Key):
		hs.Anomalies |= AnomKeyInvalid
	}
	if hs.Version != "13" {
		hs.Anomalies |= AnomVersionNot13
	}
	if !deflateOffersValid(hs.OfferedExtensions) {
		hs.Anomalies |= AnomDeflateParamsInvalid
	}
	hs.compact()
}

// compact copies the handshake's strings into one: they were cut from the
// whole HTTP heads (cookies and all, a kilobyte or more from a browser),
// which an open connection would otherwise keep for its whole life.
func (hs *Handshake) compact() {
	compactStrings(&hs.Method, &hs.URI, &hs.HTTPVersion, &hs.Host, &hs.Origin, &hs.UserAgent, &hs.Key,
		&hs.Version, &hs.OfferedProtocols, &hs.OfferedExtensions, &hs.Reason, &hs.Accept, &hs.Subprotocol, &hs.Extensions)
}

// compactStrings copies the strings into one (none when all are empty).
// The response's strings are compacted alone: the request's are already
// (fromRequest), and copying them again made a second copy of the request.
func compactStrings(fields ...*string) {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	if n == 0 {
		return
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range fields {
		*f, all = all[:len(*f)], all[len(*f):]
	}
}

// fromResponse fills the response half and checks the server's rules.
func (hs *Handshake) fromResponse(h *httpHead, ts time.Time) {
	hs.TS = ts
	hs.Status, hs.Reason = h.status, h.reason
	hs.Accept = h.get("Sec-WebSocket-Accept")
	hs.Subprotocol = h.get("Sec-WebSocket-Protocol")
	hs.Extensions = h.get("Sec-WebSocket-Extensions")
	defer compactStrings(&hs.Reason, &hs.Accept, &hs.Subprotocol, &hs.Extensions)
	if h.status != 101 {
		hs.Anomalies |= AnomUpgradeRefused
		return
	}
	if !h.hasToken("Connection", "upgrade") {
		hs.Anomalies |= AnomMissingConnectionUpgrade
	}
	switch {
	case !h.has("Sec-WebSocket-Accept"):
		hs.Anomalies |= AnomAcceptMissing
	case acceptMatches(hs.Key, hs.Accept):
		hs.AcceptValid = true
	default:
		hs.Anomalies |= AnomAcceptMismatch
	}
	hs.negotiate()
}

// negotiate checks the response's subprotocol and extensions against the
// request's offers and takes permessage-deflate's parameters.
func (hs *Handshake) negotiate() {
	if hs.Subprotocol != "" && !listHas(hs.OfferedProtocols, hs.Subprotocol) {
		hs.Anomalies |= AnomSubprotocolNotOffered
	}
	for ext := range splitList(hs.Extensions) {
		name, _, _ := strings.Cut(ext, ";")
		name = strings.TrimSpace(name)
		if !extensionOffered(hs.OfferedExtensions, name) {
			hs.Anomalies |= AnomExtensionNotOffered
		}
		if strings.EqualFold(name, "permessage-deflate") && !hs.Deflate {
			hs.Deflate = true
			hs.DeflateParams = parseDeflate(ext)
			if !deflateAnswers(hs.OfferedExtensions, ext) {
				hs.Anomalies |= AnomDeflateParamsInvalid
			}
		}
	}
}

// deflateOffersValid reports whether every permessage-deflate element of
// a request's Sec-WebSocket-Extensions keeps to RFC 7692 §7.
func deflateOffersValid(offered string) bool {
	for e := range splitList(offered) {
		if n, _, _ := strings.Cut(e, ";"); strings.EqualFold(strings.TrimSpace(n), "permessage-deflate") && checkDeflate(e, false).invalid {
			return false
		}
	}
	return true
}

// deflateAnswers reports whether the server's permessage-deflate element
// keeps to RFC 7692 §7 and answers one of the valid offers (any, when the
// request was not seen).
func deflateAnswers(offered, resp string) bool {
	r := checkDeflate(resp, true)
	if r.invalid {
		return false
	}
	seen := false
	for e := range splitList(offered) {
		if n, _, _ := strings.Cut(e, ";"); !strings.EqualFold(strings.TrimSpace(n), "permessage-deflate") {
			continue
		}
		seen = true
		if o := checkDeflate(e, false); !o.invalid && r.answers(o) {
			return true
		}
	}
	return !seen
}

// splitList yields the elements of a comma-separated header list,
// trimmed, passing over empty ones; it allocates nothing.
func splitList(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for v != "" {
			e, rest, _ := strings.Cut(v, ",")
			v = rest
			if e = strings.TrimSpace(e); e != "" && !yield(e) {
				return
			}
		}
	}
}

// listHas reports whether the comma-separated list v contains token.
func listHas(v, token string) bool {
	for e := range splitList(v) {
		if e == token {
			return true
		}
	}
	return false
}

// extensionOffered reports whether an extension called name appears in the
// offered Sec-WebSocket-Extensions list.
func extensionOffered(offered, name string) bool {
	for e := range splitList(offered) {
		n, _, _ := strings.Cut(e, ";")
		if strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

// keptHandshake is what a connection keeps of its handshake once the
// handshake record is out: the fields its summary reports
// (Summary.Handshake) and what permessage-deflate needs. The rest (the
// request's key, user agent, origin, ...) is in the record only: an open
// connection does not carry it for its whole life. The four strings are
// one (all, cut at hostN, uriN, subN); the status (three characters, -99
// to 999) is 16 bits; the TLS layer is the connection's, the deflate
// parameters are read again from the extensions when needed, and
// RequestTS is kept as the time since the connection's First: 48 bytes,
// was 144, then 96, then 80, then 64. A handshake that does not fit this
// is kept whole.
type keptHandshake struct {
	requestSince      time.Duration // RequestTS - First
	all               string        // host, URI, subprotocol and extensions, one after the other
	hostN, uriN, subN uint32
	status            int16
	deflate           bool
	h2                bool // an HTTP/2 extended CONNECT (Handshake.Protocol "websocket")
	anomalies         Anomalies
}

// keepHandshake replaces the connection's handshake, whose record is out,
// by what it keeps of it.
func (c *Conn) keepHandshake() {
	hs := c.hs
	first := c.sum.First // not zero once bytes were fed, and never changed then
	since := hs.RequestTS.Sub(first)
	if first.IsZero() || first.Add(since) != hs.RequestTS ||
		hs.Status != int(int16(hs.Status)) || hs.TLS != c.TLS() ||
		len(hs.Host)+len(hs.URI)+len(hs.Subprotocol) > math.MaxUint32 ||
		hs.DeflateParams != (DeflateParams{}) && (!hs.Deflate || deflateOf(hs.Extensions) != hs.DeflateParams) {
		// Hostile (an HTTP/2 :status out of range, gigabytes of host, times
		// centuries apart), or made by a caller other than the head
		// driver: kept whole, as a copy: the sent one may be held by a
		// sink (the -j merger holds it unchanged) and an anomaly found
		// later (hsAnomaly) must not change it.
		cp := *hs
		c.hs = &cp
		return
	}
	k := &keptHandshake{requestSince: since, status: int16(hs.Status), deflate: hs.Deflate,
		anomalies: hs.Anomalies, h2: hs.Protocol != ""}
	// One string for the four, not pieces of the handshake's.
	k.all = hs.Host + hs.URI + hs.Subprotocol + hs.Extensions
	k.hostN, k.uriN, k.subN = uint32(len(hs.Host)), uint32(len(hs.URI)), uint32(len(hs.Subprotocol))
	c.hs, c.kept = nil, k
}

// deflateOf returns the parameters of the first permessage-deflate
// element of a response's extensions, as negotiate takes them.
func deflateOf(extensions string) DeflateParams {
	for ext := range splitList(extensions) {
		name, _, _ := strings.Cut(ext, ";")
		if strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
			return parseDeflate(ext)
		}
	}
	return DeflateParams{}
}

// deflateParams returns the permessage-deflate parameters kept.
func (k *keptHandshake) deflateParams() DeflateParams {
	if !k.deflate {
		return DeflateParams{}
	}
	return deflateOf(k.all[k.hostN+k.uriN+k.subN:])
}

// handshake sets h to the Summary's handshake: the fields kept, the
// connection's TLS layer, and RequestTS from the connection's First.
func (k *keptHandshake) handshake(h *Handshake, tls *TLSInfo, first time.Time) {
	all := k.all
	host, all := all[:k.hostN], all[k.hostN:]
	uri, all := all[:k.uriN], all[k.uriN:]
	sub, ext := all[:k.subN], all[k.subN:]
	*h = Handshake{RequestTS: first.Add(k.requestSince), Host: host, URI: uri, Status: int(k.status),
		Subprotocol: sub, Extensions: ext, Deflate: k.deflate,
		DeflateParams: k.deflateParams(), TLS: tls, Anomalies: k.anomalies}
	if k.h2 {
		h.HTTPVersion, h.Method, h.Protocol = "HTTP/2", "CONNECT", "websocket"
	}
}

// hasHS reports whether the connection has a handshake (an upgrade
// request, or a 101 believed without one).
func (c *Conn) hasHS() bool { return c.hs != nil || c.kept != nil }

// hsAnomaly adds an anomaly to the connection's handshake, if it has one
// (it reaches the summary).
func (c *Conn) hsAnomaly(a Anomalies) {
	switch {
	case c.hs != nil:
		c.hs.Anomalies |= a
	case c.kept != nil:
		c.kept.anomalies |= a
	}
}
