package tlsdec

// Extension numbers (IANA TLS ExtensionType Values).
const (
	extServerName        = 0
	extALPN              = 16
	extEncryptThenMAC    = 22
	extEarlyData         = 42
	extSupportedVersions = 43
	extSessionTicket     = 35     // RFC 5077 §3.2
	extRenegotiationInfo = 0xff01 // RFC 5746 §3.2
)

// maxListed bounds the ALPN protocols and the versions kept from one
// hello: a 64 KiB message could list tens of thousands, each costing more
// to keep than its bytes in the message. Real clients list a handful.
const maxListed = 32

// reader reads TLS presentation-language fields (RFC 8446 §3); any read
// past the end sets bad and returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) n(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() int {
	if v := r.n(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (r *reader) u16() int {
	if v := r.n(2); v != nil {
		return int(v[0])<<8 | int(v[1])
	}
	return 0
}

func (r *reader) vec8() []byte  { return r.n(r.u8()) }
func (r *reader) vec16() []byte { return r.n(r.u16()) }

type clientHello struct {
	random   [32]byte
	sni      string
	alpn     []string
	versions []uint16 // supported_versions offered
	early    bool     // early_data: 0-RTT data follows (ClientHello), or was accepted (EncryptedExtensions)
	session  []byte   // legacy_session_id (aliases the message)
	ri       []byte   // renegotiation_info's renegotiated_connection (aliases the message)
	hasRI    bool     // renegotiation_info was sent
	ticket   []byte   // SessionTicket offered (aliases the message)
}

// parseClientHello reads a ClientHello body (RFC 8446 §4.1.2).
func parseClientHello(body []byte) (ch clientHello, ok bool) {
	r := reader{b: body}
	r.n(2) // legacy_version
	copy(ch.random[:], r.n(32))
	ch.session = r.vec8()
	r.vec16() // cipher_suites
	r.vec8()  // legacy_compression_methods
	if r.bad {
		return ch, false
	}
	if len(r.b) == 0 {
		return ch, true // no extensions (before TLS 1.2 this is allowed)
	}
	exts := r.vec16()
	if r.bad {
		return ch, false
	}
	ch.parseExtensions(exts)
	return ch, true
}

func (ch *clientHello) parseExtensions(exts []byte) {
	r := reader{b: exts}
	for len(r.b) > 0 && !r.bad {
		typ, data := r.u16(), r.vec16()
		if r.bad {
			return
		}
		x := reader{b: data}
		switch typ {
		case extServerName:
			list := reader{b: x.vec16()}
			for len(list.b) > 0 && !list.bad {
				nameType, name := list.u8(), list.vec16()
				if nameType == 0 && !list.bad && ch.sni == "" {
					ch.sni = string(name)
				}
			}
		case extALPN:
			list := reader{b: x.vec16()}
			for len(list.b) > 0 && !list.bad {
				if p := list.vec8(); !list.bad && len(ch.alpn) < maxListed {
					ch.alpn = append(ch.alpn, string(p))
				}
			}
		case extEarlyData:
			ch.early = true
		case extRenegotiationInfo:
			ch.ri, ch.hasRI = x.vec8(), !x.bad
		case extSessionTicket:
			ch.ticket = data
		case extSupportedVersions:
			list := reader{b: x.vec8()}
			for len(list.b) >= 2 && len(ch.versions) < maxListed {
				ch.versions = append(ch.versions, uint16(list.u16()))
			}
		}
	}
}

// extensionsOf returns the extensions block of an EncryptedExtensions body.
func extensionsOf(body []byte) ([]byte, bool) {
	r := reader{b: body}
	exts := r.vec16()
	return exts, !r.bad
}

type serverHello struct {
	random  [32]byte
	version uint16 // negotiated: supported_versions if present
	suite   uint16
	alpn    string
	etm     bool
	session []byte // session_id (aliases the message)
	ri      []byte // renegotiation_info's renegotiated_connection (aliases the message)
	hasRI   bool
}

// parseServerHello reads a ServerHello body (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
func parseServerHello(body []byte) (sh serverHello, ok bool) {
	r := reader{b: body}
	sh.version = uint16(r.u16())
	copy(sh.random[:], r.n(32))
	sh.session = r.vec8()
	sh.suite = uint16(r.u16())
	r.u8() // compression
	if r.bad {
		return sh, false
	}
	if len(r.b) == 0 {
		return sh, true
	}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ, data := exts.u16(), exts.vec16()
		x := reader{b: data}
		switch typ {
		case extSupportedVersions:
			if v := x.u16(); !x.bad {
				sh.version = uint16(v)
			}
		case extALPN:
			list := reader{b: x.vec16()}
			if p := list.vec8(); !list.bad {
				sh.alpn = string(p)
			}
		case extEncryptThenMAC:
			sh.etm = true
		case extRenegotiationInfo:
			sh.ri, sh.hasRI = x.vec8(), !x.bad
		}
	}
	return sh, !r.bad && !exts.bad
}

// Detect reports whether b, the first bytes of a TCP stream, start a TLS
// handshake record carrying a ClientHello. It needs 6 bytes and is false
// with fewer; an HTTP request never starts with 0x16.
func Detect(b []byte) bool {
	if len(b) < 6 {
		return false
	}
	l := int(b[3])<<8 | int(b[4])
	return b[0] == typeHandshake && b[1] == 3 && b[2] <= 4 && l > 0 && l <= 1<<14 && b[5] == hsClientHello
}

// DetectMidSession reports whether b, the first bytes of a TCP stream
// captured after its handshake (or after its first bytes were lost),
// start a TLS record: a ChangeCipherSpec (of 1 byte), alert, handshake or
// application data header of TLS 1.0-1.3 with a length up to MaxRecord,
// followed (when b holds it) by another record header. No WebSocket frame
// starts that way (opcodes 4-7 are reserved), nor does an HTTP message.
// It needs 5 bytes.
func DetectMidSession(b []byte) bool {
	for i := 0; i < 2; i++ {
		if len(b) < 5 && i == 0 {
			return false
		}
		var h [5]byte // the next header, as far as b holds it, else one that passes
		copy(h[:], []byte{typeAlert, 3, 3, 0, 1})
		copy(h[:], b)
		l := int(h[3])<<8 | int(h[4])
		if h[0] < typeChangeCipherSpec || h[0] > typeApplicationData || h[1] != 3 || h[2] < 1 || h[2] > 4 || l == 0 || l > MaxRecord ||
			h[0] == typeChangeCipherSpec && l != 1 {
			return false
		}
		if len(b) < 5+l {
			return true
		}
		b = b[5+l:]
	}
	return true
}
