package h2

// Router tells, from a connection's first bytes, whether it is HTTP/2:
// when its first bytes are the client preface (h2c with prior
// knowledge) or a server's SETTINGS, when TLS chose ALPN "h2", or when
// the server answers an HTTP/1.1 Upgrade: h2c request with a 101. It
// says where each side's bytes go (Route) and holds none but the few
// first bytes too short to tell; the caller owns the decoders.
type Router struct {
	known bool // decided whether it is HTTP/2
	h2    bool // it is: every byte goes to the HTTP/2 decoder
	up    *Upgrade

	// A first piece of bytes too short to tell ("P", "PR", "PRI": the
	// client preface cut in the first segment) is held until more come.
	held   [8]byte
	heldN  uint8
	heldSd uint8
	// A first request head not ended yet (cut in several segments), kept
	// to tell an Upgrade: h2c request once it ends (its bytes go on to
	// the HTTP/1 decoder meanwhile).
	req   []byte
	reqSd int
}

// Route is where a side's bytes go, in this order: if HTTP1, Data[:N] to
// the HTTP/1 decoder; then, if Open, a new HTTP/2 decoder with client
// side Client is made (NewUpgraded if Upgraded, else NewConn); then, if
// HTTP2, Data[N:] to the HTTP/2 decoder. None of them: the bytes are held
// (Release).
type Route struct {
	Data     []byte // the side's bytes, after those it had held
	N        int
	HTTP1    bool
	Open     bool
	Upgraded bool
	Client   int
	HTTP2    bool
}

// Decided reports whether it is known whether the connection is HTTP/2.
func (r *Router) Decided() bool { return r.known }

// Settled reports whether the connection is known not to be HTTP/2 with
// nothing held and no Upgrade: h2c watched: every later byte goes to the
// HTTP/1 decoder as it is, and the caller may drop the Router.
func (r *Router) Settled() bool {
	return r.known && !r.h2 && r.up == nil && r.req == nil && r.heldN == 0
}

// Decide ends the detection (the connection ended before its first bytes
// could tell): the bytes held are released as they are.
func (r *Router) Decide() { r.known = true }

// Release returns the bytes held while it was not known whether the
// connection is HTTP/2, once it is known (after the Route that decided,
// or Decide): the caller routes them next.
func (r *Router) Release() (side int, b []byte, ok bool) {
	if !r.known || r.heldN == 0 {
		return 0, nil, false
	}
	n := r.heldN
	r.heldN = 0
	return int(r.heldSd), append([]byte(nil), r.held[:n]...), true
}

// Route takes side sd's next bytes (decrypted, over TLS). alpn is the
// protocol TLS chose ("" without TLS) and tlsClient TLS's client side
// (read when alpn is "h2" and the connection is not decided yet).
func (r *Router) Route(sd int, data []byte, alpn string, tlsClient int) Route {
	if !r.known {
		if r.heldN > 0 && int(r.heldSd) == sd {
			data = append(r.held[:r.heldN:r.heldN], data...)
			r.heldN = 0
		}
		if r.heldN == 0 && alpn == "" && (len(data) < len("PRI ") && Preface[:len(data)] == string(data) || MaybeServer(data)) {
			r.heldN, r.heldSd = uint8(copy(r.held[:], data)), uint8(sd)
			return Route{}
		}
		r.known = true
		client := -1
		switch {
		case Detect(data):
			client = sd
		case DetectServer(data):
			client = 1 - sd
		case alpn == "h2":
			client = tlsClient
		case UpgradeRequest(data):
			r.up = NewUpgrade(sd)
		case alpn == "" && UpgradePending(data):
			r.req, r.reqSd = append([]byte(nil), data...), sd
			return Route{Data: data, N: len(data), HTTP1: true}
		}
		if client >= 0 {
			r.h2 = true
			return Route{Data: data, Open: true, Client: client, HTTP2: true}
		}
	}
	if r.h2 {
		return Route{Data: data, HTTP2: true}
	}
	if r.req != nil {
		if sd == r.reqSd {
			r.req = append(r.req, data...)
			if UpgradeRequest(r.req) {
				r.up = NewUpgrade(sd)
			}
			if !UpgradePending(r.req) {
				r.req = nil
			}
		} else {
			r.req = nil // the other side spoke first: no Upgrade to watch
		}
	}
	if u := r.up; u != nil && sd != u.Client() {
		// The server's answer to Upgrade: h2c: after a 101, HTTP/2.
		if n, ok := u.Server(data); ok {
			r.up = nil
			r.h2 = true
			return Route{Data: data, N: n, HTTP1: true, Open: true, Upgraded: true, Client: u.Client(), HTTP2: true}
		} else if u.Failed() {
			r.up = nil
		}
	}
	return Route{Data: data, N: len(data), HTTP1: true}
}
