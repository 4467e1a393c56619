package tlsdec

import "fmt"

// hsReader reassembles handshake messages from record fragments (RFC 8446
// §5.1: messages may span records). Messages of types not wanted are
// skipped without being stored.
type hsReader struct {
	buf     []byte // header and body of the current message
	skip    int    // body bytes of an unwanted message still to drop
	tickets bool   // NewSessionTicket is wanted too (a TLS 1.2 server's: reneg.go)
	lost    bool   // a record of the messages was lost: none is read until restart
}

// restart reads messages again from a record that starts one (a TLS 1.2
// side's first after its ChangeCipherSpec is its Finished).
func (h *hsReader) restart() { h.buf, h.skip, h.lost = h.buf[:0], 0, false }

// maxTicketMessage is the largest TLS 1.2 NewSessionTicket: a lifetime
// hint and a ticket of up to 2^16-1 bytes (RFC 5077 §3.3), a little more
// than maxHandshakeMessage, which refused one and ended the server's side.
const maxTicketMessage = 4 + 2 + 0xffff

func (h *hsReader) wanted(t uint8) bool {
	switch t {
	case hsClientHello, hsServerHello, hsEncryptedExtensions, hsFinished, hsKeyUpdate:
		return true
	case hsNewSessionTicket:
		return h.tickets
	}
	return false
}

func (h *hsReader) feed(b []byte, emit func(typ uint8, body []byte)) error {
	for len(b) > 0 && !h.lost {
		if h.skip > 0 {
			n := min(h.skip, len(b))
			h.skip -= n
			b = b[n:]
			continue
		}
		if len(h.buf) < 4 {
			n := min(4-len(h.buf), len(b))
			h.buf = append(h.buf, b[:n]...)
			b = b[n:]
			if len(h.buf) < 4 {
				return nil
			}
			typ, l := h.buf[0], int(h.buf[1])<<16|int(h.buf[2])<<8|int(h.buf[3])
			if !h.wanted(typ) {
				h.buf, h.skip = h.buf[:0], l
				continue
			}
			if l > maxHandshakeMessage && !(typ == hsNewSessionTicket && l <= maxTicketMessage) {
				h.buf = h.buf[:0]
				return fmt.Errorf("handshake message type %d of %d bytes, more than %d", typ, l, maxHandshakeMessage)
			}
		}
		l := int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3])
		n := min(4+l-len(h.buf), len(b))
		h.buf = append(h.buf, b[:n]...)
		b = b[n:]
		if len(h.buf) == 4+l {
			emit(h.buf[0], h.buf[4:])
			h.buf = h.buf[:0]
			if cap(h.buf) > maxKeptHandshakeBuffer {
				h.buf = nil
			}
		}
	}
	return nil
}
