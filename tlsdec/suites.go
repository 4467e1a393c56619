package tlsdec

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Protocol versions (RFC 8446 §4.2.1).
const (
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

// VersionName is "TLS 1.2" and the like.
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

type bulk uint8

const (
	bulkGCM bulk = iota + 1
	bulkChaCha
	bulkCBC
)

// suite describes what decryption needs of a cipher suite.
type suite struct {
	id     uint16
	name   string
	tls13  bool
	bulk   bulk
	keyLen int
	hash   crypto.Hash // PRF (TLS 1.2) or HKDF (TLS 1.3) hash
	mac    crypto.Hash // CBC only: the record MAC
}

// suites are the ones wsdump decrypts; key exchange does not matter since
// the key log gives the master secret.
var suites = map[uint16]*suite{}

func init() {
	for _, s := range []suite{
		// TLS 1.3, RFC 8446 §B.4
		{0x1301, "TLS_AES_128_GCM_SHA256", true, bulkGCM, 16, crypto.SHA256, 0},
		{0x1302, "TLS_AES_256_GCM_SHA384", true, bulkGCM, 32, crypto.SHA384, 0},
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, bulkChaCha, 32, crypto.SHA256, 0},
		// TLS 1.2 AES-GCM, RFC 5288 / RFC 5289
		{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkGCM, 16, crypto.SHA256, 0},
		{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkGCM, 32, crypto.SHA384, 0},
		{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, bulkGCM, 16, crypto.SHA256, 0},
		{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, bulkGCM, 32, crypto.SHA384, 0},
		{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkGCM, 16, crypto.SHA256, 0},
		{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkGCM, 32, crypto.SHA384, 0},
		{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, bulkGCM, 16, crypto.SHA256, 0},
		{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, bulkGCM, 32, crypto.SHA384, 0},
		// TLS 1.2 ChaCha20-Poly1305, RFC 7905
		{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, crypto.SHA256, 0},
		{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, crypto.SHA256, 0},
		{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, crypto.SHA256, 0},
		// TLS 1.2 AES-CBC with HMAC, RFC 5246 / RFC 4492 / RFC 5289
		{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, bulkCBC, 16, crypto.SHA256, crypto.SHA1},
		{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, bulkCBC, 32, crypto.SHA256, crypto.SHA1},
		{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, bulkCBC, 16, crypto.SHA256, crypto.SHA1},
		{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, bulkCBC, 32, crypto.SHA256, crypto.SHA1},
		{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkCBC, 16, crypto.SHA256, crypto.SHA256},
		{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, bulkCBC, 16, crypto.SHA256, crypto.SHA256},
		{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, bulkCBC, 32, crypto.SHA384, crypto.SHA384},
		{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, bulkCBC, 32, crypto.SHA384, crypto.SHA384},
		{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, bulkCBC, 16, crypto.SHA256, crypto.SHA1},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, bulkCBC, 32, crypto.SHA256, crypto.SHA1},
		{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkCBC, 16, crypto.SHA256, crypto.SHA256},
		{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, bulkCBC, 32, crypto.SHA256, crypto.SHA256},
		{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", false, bulkCBC, 16, crypto.SHA256, crypto.SHA1},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, bulkCBC, 32, crypto.SHA256, crypto.SHA1},
		{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, bulkCBC, 16, crypto.SHA256, crypto.SHA256},
		{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, bulkCBC, 32, crypto.SHA256, crypto.SHA256},
	} {
		s := s
		suites[s.id] = &s
	}
}

// CipherSuiteName is the IANA name of a suite wsdump decrypts, or its number.
func CipherSuiteName(id uint16) string {
	if s := suites[id]; s != nil {
		return s.name
	}
	return fmt.Sprintf("0x%04x", id)
}

func newHash(h crypto.Hash) func() hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New
	case crypto.SHA384:
		return sha512.New384
	}
	return sha256.New
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed).
func prf12(h crypto.Hash, secret []byte, label string, seed []byte, n int) []byte {
	mac := hmac.New(newHash(h), secret)
	ls := append([]byte(label), seed...)
	out := make([]byte, 0, n+mac.Size())
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1).
func expandLabel(h crypto.Hash, secret []byte, label string, context []byte, n int) []byte {
	info := make([]byte, 0, 4+6+len(label)+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(newHash(h), secret, string(info), n)
	if err != nil {
		panic("tlsdec: HKDF-Expand-Label: " + err.Error()) // only for n > 255*hash size
	}
	return out
}

// trafficKeys13 derives a TLS 1.3 write key and IV from a traffic secret
// (RFC 8446 §7.3).
func trafficKeys13(s *suite, secret []byte) (key, iv []byte) {
	return expandLabel(s.hash, secret, "key", nil, s.keyLen), expandLabel(s.hash, secret, "iv", nil, 12)
}

// nextSecret13 is the KeyUpdate step (RFC 8446 §7.2).
func nextSecret13(s *suite, secret []byte) []byte {
	return expandLabel(s.hash, secret, "traffic upd", nil, s.hash.Size())
}

// keyBlock12 splits the TLS 1.2 key block (RFC 5246 §6.3) into the client
// and server record ciphers.
func keyBlock12(s *suite, master []byte, clientRandom, serverRandom [32]byte, etm bool) (client, server recordCipher, err error) {
	macLen, ivLen := 0, 0
	switch s.bulk {
	case bulkCBC:
		macLen = s.mac.Size()
	case bulkGCM:
		ivLen = 4 // salt; the rest of the nonce is explicit (RFC 5288 §3)
	case bulkChaCha:
		ivLen = 12
	}
	seed := append(serverRandom[:], clientRandom[:]...)
	kb := prf12(s.hash, master, "key expansion", seed, 2*(macLen+s.keyLen+ivLen))
	take := func(n int) []byte { b := kb[:n:n]; kb = kb[n:]; return b }
	cmac, smac := take(macLen), take(macLen)
	ckey, skey := take(s.keyLen), take(s.keyLen)
	civ, siv := take(ivLen), take(ivLen)
	if client, err = newCipher12(s, ckey, civ, cmac, etm); err != nil {
		return nil, nil, err
	}
	server, err = newCipher12(s, skey, siv, smac, etm)
	return client, server, err
}

// recordCipher opens the records of one direction. open decrypts body (the
// record after its 5-byte header hdr) in place and returns the plaintext
// and the content type (the inner one for TLS 1.3).
type recordCipher interface {
	open(hdr [5]byte, body []byte, seq uint64) (plain []byte, typ uint8, err error)
	// plainLen is the length of the plaintext of a record with sequence
	// number seq whose body bytes from offset from on were captured (the
	// rest lost), whether it is exact, and whether it is known at all: CBC
	// reads its padding from the last block, which must have been captured
	// with the one before it; TLS 1.3 reads its padding from the captured
	// tail (tail.go), else the length is an upper bound.
	plainLen(body []byte, from int, seq uint64) (n int, exact, ok bool)
	// overhead is the bytes of a record's body that are not plaintext,
	// if every record has the same (0: not so, CBC's padding varies).
	overhead() int
	// explicitSeq is the sequence number a record's explicit nonce
	// suggests (TLS 1.2 GCM: senders count with it), if any.
	explicitSeq(body []byte) (uint64, bool)
}

func (c *aead13) overhead() int                     { return c.aead.Overhead() + 1 }
func (c *aead13) explicitSeq([]byte) (uint64, bool) { return 0, false }
func (c *cbc12) overhead() int                      { return 0 }
func (c *cbc12) explicitSeq([]byte) (uint64, bool)  { return 0, false }

func (c *aead12) overhead() int {
	if c.explicit {
		return c.aead.Overhead() + 8
	}
	return c.aead.Overhead()
}

func (c *aead12) explicitSeq(body []byte) (uint64, bool) {
	if !c.explicit || len(body) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(body), true
}

func (c *aead12) plainLen(body []byte, from int, seq uint64) (int, bool, bool) {
	n := len(body) - c.aead.Overhead()
	if c.explicit {
		n -= 8
	}
	return max(n, 0), true, true
}

func (c *cbc12) plainLen(body []byte, from int, seq uint64) (int, bool, bool) {
	n, ok := c.cbcPlainLen(body, from)
	return n, ok, ok
}

func (c *cbc12) cbcPlainLen(body []byte, from int) (int, bool) {
	bs, ms := c.block.BlockSize(), c.mac.Size()
	ct := body
	if c.etm {
		ct = body[:max(len(body)-ms, 0)]
	}
	var last [16]byte
	if bs != len(last) || len(ct) < 2*bs || len(ct)%bs != 0 || from > len(ct)-2*bs {
		return 0, false
	}
	c.block.Decrypt(last[:], ct[len(ct)-bs:])
	n := len(ct) - bs - 1 - int(last[bs-1]^ct[len(ct)-bs-1]) // RFC 5246 §6.2.3.2
	if !c.etm {
		n -= ms
	}
	return n, n >= 0
}

var (
	errAuth    = errors.New("authentication failed")
	errShort   = errors.New("record too short for its cipher")
	errPadding = errors.New("bad CBC padding")
	errNoType  = errors.New("TLS 1.3 record without a content type")
)

func newAEAD(b bulk, key []byte) (cipher.AEAD, error) {
	if b == bulkChaCha {
		return chacha20poly1305.New(key)
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// aead13 is a TLS 1.3 record protection (RFC 8446 §5.2).
type aead13 struct {
	aead  cipher.AEAD
	key   []byte       // for the counter mode under the AEAD (tail.go)
	block cipher.Block // AES-GCM's; nil: ChaCha20-Poly1305
	tail  []byte
	iv    [12]byte
	nonce [12]byte
	ad    [5]byte // kept here so that passing it does not allocate
}

func newCipher13(s *suite, secret []byte) (*aead13, error) {
	key, iv := trafficKeys13(s, secret)
	a, err := newAEAD(s.bulk, key)
	if err != nil {
		return nil, err
	}
	c := &aead13{aead: a, key: key}
	if s.bulk != bulkChaCha {
		c.block, _ = aes.NewCipher(key) // (newAEAD took the key)
	}
	copy(c.iv[:], iv)
	return c, nil
}

func (c *aead13) open(hdr [5]byte, body []byte, seq uint64) ([]byte, uint8, error) {
	if len(body) < c.aead.Overhead()+1 {
		return nil, 0, errShort
	}
	c.nonce = c.iv
	for i := 0; i < 8; i++ {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	c.ad = hdr
	p, err := c.aead.Open(body[:0], c.nonce[:], body, c.ad[:])
	if err != nil {
		return nil, 0, errAuth
	}
	// TLSInnerPlaintext: content, type, zero padding (RFC 8446 §5.4).
	i := len(p) - 1
	for i >= 0 && p[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, errNoType
	}
	return p[:i], p[i], nil
}

// aead12 is TLS 1.2 AES-GCM (RFC 5288) or ChaCha20-Poly1305 (RFC 7905).
type aead12 struct {
	aead     cipher.AEAD
	explicit bool // GCM: 8-byte explicit nonce in front of the ciphertext
	iv       []byte
	nonce    [12]byte
	ad       [13]byte
}

func (c *aead12) open(hdr [5]byte, body []byte, seq uint64) ([]byte, uint8, error) {
	if c.explicit {
		if len(body) < 8+c.aead.Overhead() {
			return nil, 0, errShort
		}
		copy(c.nonce[:4], c.iv)
		copy(c.nonce[4:], body[:8])
		body = body[8:]
	} else {
		if len(body) < c.aead.Overhead() {
			return nil, 0, errShort
		}
		copy(c.nonce[:], c.iv)
		for i := 0; i < 8; i++ {
			c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
	}
	binary.BigEndian.PutUint64(c.ad[:8], seq)
	copy(c.ad[8:11], hdr[:3])
	binary.BigEndian.PutUint16(c.ad[11:], uint16(len(body)-c.aead.Overhead()))
	p, err := c.aead.Open(body[:0], c.nonce[:], body, c.ad[:])
	if err != nil {
		return nil, 0, errAuth
	}
	return p, hdr[0], nil
}

// cbc12 is TLS 1.1/1.2 AES-CBC with an explicit IV and HMAC (RFC 5246
// §6.2.3.2), MAC-then-encrypt, or encrypt-then-MAC when negotiated (RFC 7366).
type cbc12 struct {
	block cipher.Block
	dec   cipher.BlockMode // reused through SetIV where the implementation has it
	mac   hash.Hash
	etm   bool
	ad    [13]byte
	sum   []byte
}

func newCipher12(s *suite, key, iv, macKey []byte, etm bool) (recordCipher, error) {
	switch s.bulk {
	case bulkCBC:
		blk, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		dec := cipher.NewCBCDecrypter(blk, make([]byte, blk.BlockSize()))
		return &cbc12{block: blk, dec: dec, mac: hmac.New(newHash(s.mac), macKey), etm: etm}, nil
	default:
		a, err := newAEAD(s.bulk, key)
		if err != nil {
			return nil, err
		}
		return &aead12{aead: a, explicit: s.bulk == bulkGCM, iv: iv}, nil
	}
}

func (c *cbc12) macOf(hdr [5]byte, seq uint64, data []byte) []byte {
	binary.BigEndian.PutUint64(c.ad[:8], seq)
	copy(c.ad[8:11], hdr[:3])
	binary.BigEndian.PutUint16(c.ad[11:], uint16(len(data)))
	c.mac.Reset()
	c.mac.Write(c.ad[:])
	c.mac.Write(data)
	c.sum = c.mac.Sum(c.sum[:0])
	return c.sum
}

func (c *cbc12) open(hdr [5]byte, body []byte, seq uint64) ([]byte, uint8, error) {
	bs, ms := c.block.BlockSize(), c.mac.Size()
	if c.etm {
		if len(body) < bs+bs+ms {
			return nil, 0, errShort
		}
		ct, tag := body[:len(body)-ms], body[len(body)-ms:]
		if !hmac.Equal(c.macOf(hdr, seq, ct), tag) {
			return nil, 0, errAuth
		}
		body = ct
	}
	if len(body) < 2*bs || len(body)%bs != 0 {
		return nil, 0, errShort
	}
	ct := body[bs:]
	if d, ok := c.dec.(interface{ SetIV([]byte) }); ok {
		d.SetIV(body[:bs])
	} else {
		c.dec = cipher.NewCBCDecrypter(c.block, body[:bs])
	}
	c.dec.CryptBlocks(ct, ct)
	// Padding: n+1 bytes of value n (RFC 5246 §6.2.3.2).
	pad := int(ct[len(ct)-1])
	if pad+1 > len(ct) {
		return nil, 0, errPadding
	}
	for _, b := range ct[len(ct)-1-pad:] {
		if int(b) != pad {
			return nil, 0, errPadding
		}
	}
	ct = ct[:len(ct)-1-pad]
	if c.etm {
		return ct, hdr[0], nil
	}
	if len(ct) < ms {
		return nil, 0, errShort
	}
	data, tag := ct[:len(ct)-ms], ct[len(ct)-ms:]
	if !hmac.Equal(c.macOf(hdr, seq, data), tag) {
		return nil, 0, errAuth
	}
	return data, hdr[0], nil
}
