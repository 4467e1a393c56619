package tlsdec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// A test-side TLS writer: it builds the records of a session the way a peer
// would, so that the state machine (key changes, KeyUpdate, CBC, padding)
// can be driven through cases the captures do not show. Its sealing mirrors
// the opening code, so the RFC 8448 trace and the real captures, not this,
// are what prove the crypto right.

type sealer interface {
	seal(typ uint8, plain []byte, seq uint64, pad int) []byte
}

type seal13 struct {
	aead cipher.AEAD
	iv   []byte
}

func (s seal13) seal(typ uint8, plain []byte, seq uint64, pad int) []byte {
	inner := append(append(append([]byte{}, plain...), typ), make([]byte, pad)...)
	n := len(inner) + s.aead.Overhead()
	hdr := []byte{typeApplicationData, 3, 3, byte(n >> 8), byte(n)}
	nonce := append([]byte{}, s.iv...)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	return s.aead.Seal(hdr, nonce, inner, hdr)
}

type seal12 struct {
	s      *suite
	aead   cipher.AEAD
	iv     []byte
	block  cipher.Block
	macKey []byte
	etm    bool
}

func (s seal12) ad(typ uint8, seq uint64, n int) []byte {
	ad := binary.BigEndian.AppendUint64(nil, seq)
	return append(ad, typ, 3, 3, byte(n>>8), byte(n))
}

func (s seal12) seal(typ uint8, plain []byte, seq uint64, pad int) []byte {
	var body []byte
	switch s.s.bulk {
	case bulkGCM:
		explicit := binary.BigEndian.AppendUint64(nil, seq^0x5555)
		nonce := append(append([]byte{}, s.iv...), explicit...)
		body = s.aead.Seal(explicit, nonce, plain, s.ad(typ, seq, len(plain)))
	case bulkChaCha:
		nonce := append([]byte{}, s.iv...)
		for i := 0; i < 8; i++ {
			nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
		body = s.aead.Seal(nil, nonce, plain, s.ad(typ, seq, len(plain)))
	case bulkCBC:
		mac := func(data []byte) []byte {
			m := hmac.New(newHash(s.s.mac), s.macKey)
			m.Write(s.ad(typ, seq, len(data)))
			m.Write(data)
			return m.Sum(nil)
		}
		data := append([]byte{}, plain...)
		if !s.etm {
			data = append(data, mac(plain)...)
		}
		p := 15 - len(data)%16 + 16*(pad%8)
		for i := 0; i <= p; i++ {
			data = append(data, byte(p))
		}
		iv := make([]byte, 16)
		binary.BigEndian.PutUint64(iv, seq*7919+1)
		cipher.NewCBCEncrypter(s.block, iv).CryptBlocks(data, data)
		body = append(iv, data...)
		if s.etm {
			body = append(body, mac(body)...)
		}
	}
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// session builds a TLS session record by record. Side 0 is the client.
type session struct {
	s       *suite
	tls13   bool
	etm     bool
	cr, sr  [32]byte
	master  []byte
	hs, app [2][]byte // TLS 1.3 traffic secrets (app: the current ones)
	app0    [2][]byte // TLS 1.3 application traffic secrets 0
	w       [2]sealer
	seq     [2]uint64
	evs     []event
	more    string    // the key log, when renegotiations wrote it (reneg_test.go)
	sid     []byte    // the ServerHello's session id
	verify  [2][]byte // TLS 1.2: each side's last Finished verify_data

	// TLS 1.3 0-RTT: early data the client sends after its ClientHello
	// (offering early_data), under earlySec; logged if logEarly, and
	// accepted by the server unless rejectEarly.
	early                 []byte
	earlySec              []byte
	logEarly, rejectEarly bool
}

func newSession(id uint16, etm bool) *session {
	s := &session{s: suites[id], etm: etm}
	s.tls13 = s.s.tls13
	for i := range s.cr {
		s.cr[i], s.sr[i] = byte(i+int(id)), byte(0xa0+i)
	}
	secret := func(label string) []byte {
		return prf12(s.s.hash, []byte(label), "test", s.cr[:], s.s.hash.Size())
	}
	s.master = prf12(s.s.hash, []byte("master"), "test", s.cr[:], 48)
	s.hs = [2][]byte{secret("c hs"), secret("s hs")}
	s.app = [2][]byte{secret("c ap"), secret("s ap")}
	s.app0 = s.app
	s.earlySec = secret("c e")
	s.verify = [2][]byte{make([]byte, 12), make([]byte, 12)}
	return s
}

func (s *session) keyLog() string {
	cr := hex.EncodeToString(s.cr[:])
	if s.more != "" {
		return s.more
	}
	if !s.tls13 {
		return "CLIENT_RANDOM " + cr + " " + hex.EncodeToString(s.master) + "\n"
	}
	var b strings.Builder
	for _, l := range []struct {
		label  string
		secret []byte
	}{{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", s.hs[0]}, {"SERVER_HANDSHAKE_TRAFFIC_SECRET", s.hs[1]},
		{"CLIENT_TRAFFIC_SECRET_0", s.app0[0]}, {"SERVER_TRAFFIC_SECRET_0", s.app0[1]}} {
		fmt.Fprintf(&b, "%s %s %x\n", l.label, cr, l.secret)
	}
	if s.logEarly {
		fmt.Fprintf(&b, "CLIENT_EARLY_TRAFFIC_SECRET %s %x\n", cr, s.earlySec)
	}
	return b.String()
}

func (s *session) keys() *KeyLog {
	k, err := ParseKeyLog(strings.NewReader(s.keyLog()))
	if err != nil || k.Malformed != 0 {
		panic("session key log")
	}
	return k
}

func (s *session) raw(side int, typ uint8, body []byte) {
	rec := append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
	s.evs = append(s.evs, event{side, rec})
}

func (s *session) sealed(side int, typ uint8, plain []byte, pad int) {
	s.evs = append(s.evs, event{side, s.w[side].seal(typ, plain, s.seq[side], pad)})
	s.seq[side]++
}

func hsMsg(typ uint8, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func vec16(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }
func ext(typ int, data []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ)}, vec16(data)...)
}

func (s *session) clientHello() []byte {
	b := []byte{3, 3}
	b = append(b, s.cr[:]...)
	b = append(b, vec8(nil)...)
	b = append(b, vec16([]byte{byte(s.s.id >> 8), byte(s.s.id)})...)
	b = append(b, vec8([]byte{0})...)
	var exts []byte
	exts = append(exts, ext(extServerName, vec16(append([]byte{0}, vec16([]byte("example.test"))...)))...)
	exts = append(exts, ext(extALPN, vec16(append(vec8([]byte("http/1.1")), vec8([]byte("h2"))...)))...)
	exts = append(exts, ext(extSupportedVersions, vec8([]byte{3, 4, 3, 3}))...)
	if s.early != nil {
		exts = append(exts, ext(extEarlyData, nil)...)
	}
	return hsMsg(hsClientHello, append(b, vec16(exts)...))
}

func (s *session) serverHello() []byte {
	b := []byte{3, 3}
	b = append(b, s.sr[:]...)
	b = append(b, vec8(s.sid)...)
	b = append(b, byte(s.s.id>>8), byte(s.s.id), 0)
	var exts []byte
	if s.tls13 {
		exts = append(exts, ext(extSupportedVersions, []byte{3, 4})...)
	} else {
		exts = append(exts, ext(extALPN, vec16(vec8([]byte("http/1.1"))))...)
		if s.etm {
			exts = append(exts, ext(extEncryptThenMAC, nil)...)
		}
	}
	return hsMsg(hsServerHello, append(b, vec16(exts)...))
}

func (s *session) set13(side int, secret []byte) {
	key, iv := trafficKeys13(s.s, secret)
	a, err := newAEAD(s.s.bulk, key)
	if err != nil {
		panic(err)
	}
	s.w[side], s.seq[side] = seal13{a, iv}, 0
}

func (s *session) set12() { s.w = s.writers12() }

// writers12 returns the TLS 1.2 record writers of the current master
// secret and randoms, by side.
func (s *session) writers12() (w [2]sealer) {
	macLen, ivLen := 0, 0
	switch s.s.bulk {
	case bulkCBC:
		macLen = s.s.mac.Size()
	case bulkGCM:
		ivLen = 4
	case bulkChaCha:
		ivLen = 12
	}
	kb := prf12(s.s.hash, s.master, "key expansion", append(s.sr[:], s.cr[:]...), 2*(macLen+s.s.keyLen+ivLen))
	take := func(n int) []byte { b := kb[:n]; kb = kb[n:]; return b }
	mac := [2][]byte{take(macLen), take(macLen)}
	key := [2][]byte{take(s.s.keyLen), take(s.s.keyLen)}
	iv := [2][]byte{take(ivLen), take(ivLen)}
	for side := 0; side < 2; side++ {
		sw := seal12{s: s.s, iv: iv[side], macKey: mac[side], etm: s.etm}
		if s.s.bulk == bulkCBC {
			sw.block, _ = aes.NewCipher(key[side])
		} else {
			sw.aead, _ = newAEAD(s.s.bulk, key[side])
		}
		w[side] = sw
	}
	return w
}

// appData is deterministic application data of n bytes.
func appData(side, i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(side*101 + i*7 + j)
	}
	return b
}

// build writes a whole session: handshake, application data both ways
// (sizes), and for TLS 1.3 a KeyUpdate from each side in the middle. It
// returns the application data each side sent.
func (s *session) build(sizes []int) (sent [2][]byte) {
	sent = s.exchange(sizes, s.handshake())
	s.sealed(0, typeAlert, []byte{1, 0}, 0) // close_notify
	return sent
}

// handshake writes the session's handshake; in TLS 1.2 each Finished's
// verify_data is 12 zero bytes.
func (s *session) handshake() (sent [2][]byte) {
	s.raw(0, typeHandshake, s.clientHello())
	if s.early != nil {
		s.raw(0, typeChangeCipherSpec, []byte{1})
		s.set13(0, s.earlySec)
		s.sealed(0, typeApplicationData, s.early[:1], 0)
		s.sealed(0, typeApplicationData, s.early[1:], 2)
		if !s.rejectEarly {
			sent[0] = append(sent[0], s.early...)
			s.sealed(0, typeHandshake, hsMsg(hsEndOfEarlyData, nil), 0)
		}
	}
	sh := s.serverHello()
	if s.tls13 {
		s.raw(1, typeHandshake, sh)
		s.raw(1, typeChangeCipherSpec, []byte{1})
		s.set13(1, s.hs[1])
		eeExts := ext(extALPN, vec16(vec8([]byte("http/1.1"))))
		if s.early != nil && !s.rejectEarly {
			eeExts = append(eeExts, ext(extEarlyData, nil)...)
		}
		ee := hsMsg(hsEncryptedExtensions, vec16(eeExts))
		cert := hsMsg(11, make([]byte, 5000))
		fin := hsMsg(hsFinished, make([]byte, s.s.hash.Size()))
		flight := append(append(ee, cert...), fin...)
		s.sealed(1, typeHandshake, flight[:100], 0) // a message across records
		s.sealed(1, typeHandshake, flight[100:], 3)
		s.set13(1, s.app[1])
		s.raw(0, typeChangeCipherSpec, []byte{1})
		s.set13(0, s.hs[0])
		s.sealed(0, typeHandshake, fin, 0)
		s.set13(0, s.app[0])
		s.sealed(1, typeHandshake, hsMsg(4, make([]byte, 200)), 0) // NewSessionTicket
	} else {
		body := append(append(sh, hsMsg(11, make([]byte, 3000))...), hsMsg(14, nil)...)
		s.raw(1, typeHandshake, body)
		s.raw(0, typeHandshake, hsMsg(16, make([]byte, 65)))
		s.raw(0, typeChangeCipherSpec, []byte{1})
		s.set12()
		s.sealed(0, typeHandshake, hsMsg(hsFinished, make([]byte, 12)), 0)
		s.raw(1, typeChangeCipherSpec, []byte{1})
		s.sealed(1, typeHandshake, hsMsg(hsFinished, make([]byte, 12)), 0)
	}
	return sent
}

// exchange writes application data both ways (sizes), appending it to
// sent; in TLS 1.3 with a KeyUpdate from each side in the middle.
func (s *session) exchange(sizes []int, sent [2][]byte) [2][]byte {
	for i, n := range sizes {
		for side := 0; side < 2; side++ {
			p := appData(side, i, n)
			sent[side] = append(sent[side], p...)
			s.sealed(side, typeApplicationData, p, i%3)
		}
		if s.tls13 && i == len(sizes)/2 {
			for side := 0; side < 2; side++ {
				s.sealed(side, typeHandshake, hsMsg(hsKeyUpdate, []byte{byte(1 - side)}), 0)
				s.app[side] = nextSecret13(s.s, s.app[side])
				s.set13(side, s.app[side])
			}
		}
	}
	return sent
}

// editKeys returns a copy of k (which has no parent) with the secrets of
// one client random changed by edit: Lookup returns copies.
func editKeys(k *KeyLog, cr [32]byte, edit func(*Secrets)) *KeyLog {
	s := k.Lookup(cr)
	edit(s)
	out := NewKeyLog()
	for i := range k.n {
		if e := k.rec(i); e.cr != cr {
			out.put(&e.cr, e.label, e.sec[:e.n])
		}
	}
	for l := range uint8(numLabels) {
		if sec := *s.field(l); sec != nil {
			out.put(&cr, l, sec)
		}
	}
	return out
}
