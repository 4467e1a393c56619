// TLS connections: the plaintext handed on to the decoders, and the
// TLS metadata of the connection's record.

package reassembly

import (
	"fmt"
	"strings"
	"time"

	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// resumedTLS is the error of the TLS record of a TLS connection ended
// early that went on.
const resumedTLS = "connection_resumed: ended early to stay under --max-connections and went on; a TLS session cannot be decrypted from its middle"

// plaintext receives decrypted application data.
func (s *stream) plaintext(side int, p []byte, ts time.Time) {
	if t := s.decoder().TLS(); t == nil || t.Version == "" {
		// (Version: 0-RTT early data, held until the server's answer,
		// syncs again at the first plaintext that is not early data.)
		s.syncTLS()
		s.conn.SetTLS(s.tlsInfo())
		if s.tlsLayer().Early() {
			s.tlsInfo().Version = ""
		}
	}
	s.feed(side, p, ts, s.tlsInfo().ALPN)
}

// plaintextLost passes on the plaintext of a TLS record that a gap cut,
// as a gap of its own; not exact (TLS 1.3: padding not known), as one
// after which the WebSocket framing is searched for (HTTP/2 is not
// decoded past any gap).
func (s *stream) plaintextLost(side int, n int, exact bool, ts time.Time) {
	switch {
	case s.h2Layer() != nil:
		s.h2Layer().Gap(side, n, ts)
	case exact:
		s.decoder().Gap(side, n, ts)
	default:
		s.decoder().GapUnsure(side, n, ts)
	}
}

// holdEarly and releaseEarly count the TLS layer's 0-RTT early data held
// until the server's answer in the decoders' --max-pending-total.
func (s *stream) holdEarly(n int) bool { return s.decoder().HoldEarly(n) }
func (s *stream) releaseEarly(n int)   { s.decoder().ReleasePending(n) }

func (s *stream) tlsLayer() *tlsdec.Conn {
	if s.rare == nil {
		return nil
	}
	return s.rare.tls
}

// lateTLS is what is kept of a stream taken for TLS captured after its
// handshake (tlsdec.DetectMidSession: no ClientHello), in case it is not.
type lateTLS struct {
	first time.Time // its first bytes
	took  [2]int64  // by sides, the bytes the TLS layer took, once given up
}

// feedTLS feeds a side's bytes to the TLS layer. A stream taken for TLS
// captured after its handshake whose bytes then stop being TLS records is
// given up: what looked like records was the payload of something else,
// a WebSocket frame carrying TLS (a tunnel) when the capture started at
// one of its records (until session 35 such a WebSocket was listed as a
// TLS connection, its frames not looked for). The bytes the TLS layer took
// count as skipped (told at the end: which side is the client is not
// known yet), and the WebSocket decoder searches the rest for frames.
func (s *stream) feedTLS(sd int, data []byte, ts time.Time) {
	t := s.tlsLayer()
	if s.rare.tlsLate == nil && t.Info().Client < 0 {
		s.rare.tlsLate = &lateTLS{first: ts}
	}
	t.Feed(sd, data, ts)
	if h := s.h2Layer(); h != nil && s.tlsInfo() != nil {
		if n := h.TLSRenegotiations(t.Renegotiations()); n > s.tlsInfo().H2Renegotiations { // RFC 9113 §9.2.1
			s.tlsInfo().H2Renegotiations = n // (the connection's and its streams')
			s.syncTLS()
		}
	}
	if !t.NotRecords() || t.Info().Client >= 0 {
		return
	}
	late := s.rare.tlsLate
	late.took = t.Info().Bytes
	late.took[sd] -= int64(len(data))
	s.rare.tls, s.rare.tlsInfo = nil, nil
	s.decoder().Carried(late.first) // its first bytes' time
	s.feed(sd, data, ts, "")
}

// skippedNotTLS counts, at the end, the bytes taken for TLS by a stream
// that was given up (feedTLS).
func (s *stream) skippedNotTLS() {
	if s.rare == nil || s.rare.tlsLate == nil || s.tlsLayer() != nil {
		return
	}
	for side, n := range s.rare.tlsLate.took {
		s.conn.StreamSkipped(side, int(max(n, 0)))
	}
}

// syncTLS copies what the TLS layer knows into tlsInfo.
func (s *stream) syncTLS() {
	i := s.tlsLayer().Info()
	if s.tlsInfo() == nil {
		s.setTLSInfo(new(wsparse.TLSInfo))
	}
	client, guess := s.tlsClientGuess()
	if client == 1 { // (its sides as the record's: the client first)
		if strings.HasPrefix(i.Error, tlsdec.HelloLost) {
			i.Error = s.tlsLayer().HelloLostFrom(client)
		}
		if strings.HasPrefix(i.StopError, tlsdec.HelloLost) {
			i.StopError = s.tlsLayer().HelloLostFrom(client)
		}
	}
	if guess != "" && (i.Error == tlsdec.NoHandshake || strings.HasPrefix(i.Error, tlsdec.HelloLost)) {
		i.Error += guess
	}
	*s.tlsInfo() = wsparse.TLSInfo{Version: i.Version, Cipher: i.Cipher, SNI: i.SNI, ALPN: i.ALPN,
		Offered: i.ALPNOffered, Decrypted: i.Decrypted, Error: i.Error, Bytes: i.Bytes, Skipped: i.Skipped, Renegotiations: i.Renegotiations, Stopped: i.Stopped, StopError: i.StopError,
		H2Renegotiations: s.tlsInfo().H2Renegotiations}
	if client == 1 {
		s.tlsInfo().Bytes[0], s.tlsInfo().Bytes[1] = i.Bytes[1], i.Bytes[0]
		s.tlsInfo().Skipped[0], s.tlsInfo().Skipped[1] = i.Skipped[1], i.Skipped[0]
	}
}

// tlsClient is the side that opened the TLS session: the ClientHello's
// sender (or the ServerHello's peer); for a session captured after its
// handshake, told by the ports (tlsClientGuess).
func (s *stream) tlsClient() int {
	c, _ := s.tlsClientGuess()
	return c
}

// tlsServerPorts are TLS servers' ports from 1024 on, each the other
// side's unless both are.
var tlsServerPorts = map[uint16]bool{1443: true, 2083: true, 2087: true, 2096: true, 3443: true, 4443: true,
	5061: true, 5443: true, 6443: true, 7443: true, 8443: true, 8883: true, 9443: true, 10443: true}

// portRank ranks a port as a server's: well-known (below 1024), a TLS
// server's port, registered (below 32768: no system's ephemeral range
// starts lower, Linux's at 32768, IANA's and Windows' at 49152), and
// ephemeral.
func portRank(p uint16) int {
	switch {
	case p < 1024:
		return 3
	case tlsServerPorts[p]:
		return 2
	case p < 32768:
		return 1
	}
	return 0
}

// tlsClientGuess returns the client side of a TLS session and, when only
// the ports told it, why it is a guess (""). A session captured after its
// handshake shows nothing in its records that tells the sides apart
// (which side sends application data first is up to the protocol): the
// server is the side whose port ranks higher (portRank: a well-known or
// TLS server's port, not a guess; a registered against an ephemeral one,
// a guess), else, both registered, the lower port's, a guess, and both
// ephemeral, the first side seen's peer, a guess (loopback tests' servers
// bound to port 0). Until session 36 two ports from 1024 on made the first
// side seen the client, unsaid.
func (s *stream) tlsClientGuess() (int, string) {
	if c := s.tlsLayer().Info().Client; c >= 0 {
		return c, ""
	}
	for sd := range 2 {
		// A SYN's sender, or a SYN-ACK's peer, whichever was captured
		// (its hello lost; until a review the SYN-ACK alone was not
		// used: the server was guessed the client by its ports).
		switch s.space & (synFirst | synAck) << sd {
		case synFirst << sd:
			return sd, ""
		case (synFirst | synAck) << sd:
			return 1 - sd, ""
		}
	}
	addr := s.addrs()
	p := [2]uint16{addr[0].Port(), addr[1].Port()}
	r := [2]int{portRank(p[0]), portRank(p[1])}
	switch {
	case r[0] != r[1]:
		server := 0
		if r[1] > r[0] {
			server = 1
		}
		if r[server] >= 2 {
			return 1 - server, ""
		}
		return 1 - server, fmt.Sprintf("; client guessed: port %d is ephemeral", p[1-server])
	case p[0] == p[1] || r[0] == 0:
		// Both ephemeral (a server bound to port 0): the ports say
		// nothing.
		return 0, "; client guessed: the first side seen"
	}
	server := 0
	if p[1] < p[0] {
		server = 1
	}
	return 1 - server, fmt.Sprintf("; client guessed: port %d is the lower", p[server])
}
