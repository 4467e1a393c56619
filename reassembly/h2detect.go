// HTTP/2 detection in a connection's first bytes: the client preface,
// the server's SETTINGS, ALPN h2, and an HTTP/1.1 Upgrade: h2c.

package reassembly

import (
	"time"

	"github.com/wsdump/wsdump/h2"
)

// feed hands a side's bytes (decrypted, over TLS) on: to the HTTP/2
// decoder when the connection's first bytes are the client preface (h2c
// with prior knowledge) or TLS chose ALPN "h2", else to conn.
func (s *stream) feed(sd int, data []byte, ts time.Time, alpn string) {
	if !s.h2Known {
		if s.h2heldN > 0 && int(s.h2heldSd) == sd {
			data = append(s.h2held[:s.h2heldN:s.h2heldN], data...)
			s.h2heldN = 0
		}
		if s.h2heldN == 0 && alpn == "" && (len(data) < len("PRI ") && h2.Preface[:len(data)] == string(data) || h2.MaybeServer(data)) {
			s.h2heldN, s.h2heldSd = uint8(copy(s.h2held[:], data)), uint8(sd)
			return
		}
		s.h2Known = true
		defer s.feedHeld(ts) // the other side's first bytes, held: after this side's, on the decoder chosen
		client := -1
		switch {
		case h2.Detect(data):
			client = sd
		case h2.DetectServer(data):
			client = 1 - sd
		case alpn == "h2" && s.tls != nil:
			client = s.tls.Info().Client
		case h2.UpgradeRequest(data):
			s.h2up = h2.NewUpgrade(sd)
		case alpn == "" && h2.UpgradePending(data):
			s.h2req, s.h2reqSd = append([]byte(nil), data...), sd
			s.conn.Feed(sd, data, ts)
			return
		}
		if client >= 0 {
			s.h2 = h2.NewConn(s.conn, client, h2.Config{Decoder: s.a.opts.Decoder}, s.a)
		}
	}
	if s.h2 != nil {
		s.h2.Feed(sd, data, ts)
		return
	}
	if s.h2req != nil {
		if sd == s.h2reqSd {
			s.h2req = append(s.h2req, data...)
			if h2.UpgradeRequest(s.h2req) {
				s.h2up = h2.NewUpgrade(sd)
			}
			if !h2.UpgradePending(s.h2req) {
				s.h2req = nil
			}
		} else {
			s.h2req = nil // the other side spoke first: no Upgrade to watch
		}
	}
	if u := s.h2up; u != nil && sd != u.Client() {
		// The server's answer to Upgrade: h2c: after a 101, HTTP/2.
		if n, ok := u.Server(data); ok {
			s.conn.Feed(sd, data[:n], ts)
			s.h2up = nil
			s.h2 = h2.NewUpgraded(s.conn, u.Client(), h2.Config{Decoder: s.a.opts.Decoder}, s.a)
			s.h2.Feed(sd, data[n:], ts)
			return
		} else if u.Failed() {
			s.h2up = nil
		}
	}
	s.conn.Feed(sd, data, ts)
}

// feedHeld feeds the bytes held while it was not known whether the
// connection is HTTP/2 (see feed).
func (s *stream) feedHeld(ts time.Time) {
	if n := s.h2heldN; n > 0 {
		s.h2heldN = 0
		s.feed(int(s.h2heldSd), append([]byte(nil), s.h2held[:n]...), ts, "")
	}
}
