// TLS connections: the plaintext handed on to the decoders, and the
// TLS metadata of the connection's record.

package reassembly

import (
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// resumedTLS is the error of the TLS record of a TLS connection ended
// early that went on.
const resumedTLS = "connection_resumed: ended early to stay under --max-connections and went on; a TLS session cannot be decrypted from its middle"

// plaintext receives decrypted application data.
func (s *stream) plaintext(side int, p []byte, ts time.Time) {
	if t := s.decoder().TLS(); t == nil || t.Version == "" {
		// (Version: 0-RTT early data comes before the ServerHello.)
		s.syncTLS()
		s.conn.SetTLS(s.tlsInfo())
	}
	s.feed(side, p, ts, s.tlsInfo().ALPN)
}

// plaintextLost passes on the plaintext of a TLS record that a gap cut,
// as a gap of its own.
func (s *stream) plaintextLost(side int, n int, ts time.Time) {
	if s.h2Layer() != nil {
		s.h2Layer().Gap(side, n, ts)
	} else {
		s.decoder().Gap(side, n, ts)
	}
}

// syncTLS copies what the TLS layer knows into tlsInfo.
func (s *stream) syncTLS() {
	i := s.tlsLayer().Info()
	if s.tlsInfo() == nil {
		s.setTLSInfo(new(wsparse.TLSInfo))
	}
	*s.tlsInfo() = wsparse.TLSInfo{Version: i.Version, Cipher: i.Cipher, SNI: i.SNI, ALPN: i.ALPN,
		Offered: i.ALPNOffered, Decrypted: i.Decrypted, Error: i.Error, Bytes: i.Bytes}
	if s.tlsClient() == 1 {
		s.tlsInfo().Bytes[0], s.tlsInfo().Bytes[1] = i.Bytes[1], i.Bytes[0]
	}
}

// tlsClient is the side that opened the TLS session: the ClientHello's
// sender; for a session captured after its handshake, the side whose port
// is not a well-known one (below 1024) when the other's is, else side 0,
// the first one seen.
func (s *stream) tlsClient() int {
	if c := s.tlsLayer().Info().Client; c >= 0 {
		return c
	}
	if addr := s.addrs(); addr[0].Port() < 1024 && addr[1].Port() >= 1024 {
		return 1
	}
	return 0
}
