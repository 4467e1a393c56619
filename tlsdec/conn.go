// Package tlsdec follows the TLS records of one TCP connection, reads what
// the handshake says in the clear (version, cipher suite, SNI, ALPN) and,
// given the secrets of a key log, decrypts the application data. It has no
// notion of packets: the caller feeds each direction's bytes in order, as
// wsparse.Conn is fed.
//
// Decryption covers TLS 1.3 (AES-GCM, ChaCha20-Poly1305, KeyUpdate, 0-RTT) and
// TLS 1.2 (AES-GCM, ChaCha20-Poly1305, AES-CBC with HMAC-SHA1/256/384,
// encrypt-then-MAC). Failures (no key, wrong key, unsupported suite, lost
// bytes) are reported by Info, never by a panic or an error return.
package tlsdec

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Record content types (RFC 8446 §5.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
	typeHeartbeat        = 24
)

// Handshake message types (RFC 8446 §4).
const (
	hsHelloRequest        = 0 // RFC 5246 §7.4.1.1
	hsClientHello         = 1
	hsServerHello         = 2
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
	hsNewSessionTicket    = 4
)

// MaxRecord is the largest record body accepted: 2^14 bytes of plaintext
// plus 2048 of expansion (RFC 5246 §6.2.3). A header claiming more ends
// the direction.
const MaxRecord = 1<<14 + 2048

// maxHandshakeMessage bounds the handshake messages kept in full (hellos,
// EncryptedExtensions); others (certificates, tickets) are skipped.
const maxHandshakeMessage = 1 << 16

// maxKeptHandshakeBuffer: a handshake reassembly buffer grown past this
// for one large message is dropped once the message is handled, so that
// a Conn does not hold maxHandshakeMessage bytes per side for good.
const maxKeptHandshakeBuffer = 4096

// maxKeyUpdates bounds the TLS 1.3 KeyUpdates a side may send in a row
// without application data (the limit BoringSSL enforces). Each costs a
// key schedule from a 27-byte record; past it the side is not decrypted.
const maxKeyUpdates = 32

// NoHandshake is the Error of a connection captured after its handshake:
// no key log can decrypt it.
const NoHandshake = "no TLS handshake seen: capture starts after it"

// Info is what is known about the TLS session so far.
type Info struct {
	Version     string   // "TLS 1.2", "TLS 1.3"; "" until the ServerHello
	Cipher      string   // IANA name of the suite negotiated last (a TLS 1.2 renegotiation may change it)
	SNI         string   // server_name the client sent
	ALPN        string   // protocol the server selected, when it is visible
	ALPNOffered []string // protocols the client offered
	Offered     []string // versions the client offered in supported_versions (TLS 1.3 clients)
	Client      int      // side that sent the ClientHello, -1 until then
	Decrypted   bool     // records decrypt with the key log's secrets, and no failure so far
	Error       string   // first failure: no key, wrong key, unsupported suite, lost bytes
	Records     [2]int   // TLS records per side
	Bytes       [2]int64 // TLS bytes per side (headers included)
	AppBytes    [2]int64 // decrypted application data bytes per side
	// Skipped: by side, bytes searched for a record boundary after bytes
	// lost inside a record, and not decoded (counted in Bytes too);
	// Found: the boundaries found so (findrec.go).
	Skipped [2]int64
	Found   [2]int

	Renegotiations int // TLS 1.2 renegotiations begun (ClientHellos inside the encrypted channel)
	// Stopped: application data was decrypted, and then a side's records
	// stopped being decrypted for good (counted only, or their framing
	// lost): the rest of the conversation is hidden. Error says the
	// first failure, StopError the one that stopped it.
	Stopped bool
	// StopError is, when Stopped, the failure that ended a side's
	// decryption for good: Error may be an earlier one decryption went
	// on past (a record cut and passed over, an insecure renegotiation).
	StopError string
}

// Conn follows the two directions of one TLS connection.
type Conn struct {
	keys *KeyLog
	out  func(side int, plaintext []byte, ts time.Time)
	lost func(side int, n int, exact bool, ts time.Time) // see OnLost
	info Info

	dir            [2]direction
	suite          *suite
	version        uint16
	clientRandom   [32]byte
	serverRandom   [32]byte
	secrets        *Secrets
	etm            bool
	sawHello       bool // a ClientHello started the stream
	helloRetry     bool
	clientHellos   int  // ClientHellos of the client side so far
	sawServerHello bool // a ServerHello other than a HelloRetryRequest was handled
	stopped        bool // nothing more can be decrypted on this connection
	notRecords     bool // a side's bytes stopped being TLS records
	early          earlyState
	hold           func(n int) bool // see OnHold
	release        func(n int)
	t12            session12    // TLS 1.2: what a renegotiation needs (reneg.go)
	reneg          *renegState  // TLS 1.2: the renegotiations, from the first
	stopErr        string       // the first failure that ended a side for good (failStop)
	lostStart      [2]int64     // by side, bytes lost before its first captured byte (lost.go)
	guessBudget    *GuessBudget // the capture's key log lines to try (renegguess.go)
	failed         bool         // a failure so far (Error may be a note before it: early.go's sayRejected)
}

type phase uint8

const (
	phaseClear     phase = iota // records in the clear
	phaseHandshake              // TLS 1.3 handshake traffic keys
	phaseApp                    // application traffic keys (TLS 1.3) or after ChangeCipherSpec (TLS 1.2)
	phaseOpaque                 // encrypted and not decryptable: counted only
)

// direction is the record layer of one side's byte stream.
type direction struct {
	hdr    [5]byte
	nhdr   int
	body   []byte // record body collected so far (capacity MaxRecord)
	need   int    // body length of the current record
	inBody bool
	cut    bool // bytes of the current record were lost: it cannot be opened
	cutEnd int  // and its body bytes before this offset may be among them
	dead   bool // record framing lost: bytes are dropped
	deadOn bool // and it was decrypting: its later bytes are told to OnLost

	phase                phase
	cipher               recordCipher
	pending              recordCipher // TLS 1.2: takes over at ChangeCipherSpec
	seq                  uint64
	secret               []byte // TLS 1.3 current traffic secret, for KeyUpdate
	appSec               []byte // TLS 1.3 application traffic secret 0, after Finished
	switchApp, keyUpdate bool
	keyUpdates           int // KeyUpdates since the last application data

	hs     hsReader
	resync resyncState // after a gap past a record's end
	// find: searching for a record boundary by a chain of headers; findNext:
	// the next bytes follow a loss at the side's start (findrec.go).
	find     *ChainSearch
	findNext bool
}

// NewConn returns a Conn that decrypts with keys (nil: describe only) and
// passes each direction's application data to out. The plaintext slice is
// valid only during the call.
func NewConn(keys *KeyLog, out func(side int, plaintext []byte, ts time.Time)) *Conn {
	c := &Conn{keys: keys, out: out}
	c.info.Client = -1
	return c
}

// Info returns what is known so far.
func (c *Conn) Info() Info {
	i := c.info
	i.ALPNOffered = append([]string(nil), c.info.ALPNOffered...)
	i.Offered = append([]string(nil), c.info.Offered...)
	if i.AppBytes[0]+i.AppBytes[1] > 0 {
		for s := range c.dir {
			if d := &c.dir[s]; d.phase == phaseOpaque || d.dead {
				i.Stopped = true
			}
		}
	}
	if i.Stopped {
		i.StopError = c.stopErr
		if i.StopError == "" {
			i.StopError = i.Error // (a side with no keys from its start)
		}
	}
	c.amendLost(&i)
	if c.reneg != nil {
		i.Renegotiations = c.reneg.count
		c.reneg.amend(&i, c.info.Client)
	}
	if n := c.early.rejNote; n != "" { // (early.go: sayRejected)
		if i.Error == "" {
			i.Error = n
		} else {
			i.Error += "; " + n
		}
	}
	return i
}

func (c *Conn) fail(format string, args ...any) {
	if c.info.Error == "" {
		c.info.Error = fmt.Sprintf(format, args...)
	}
	c.failed, c.info.Decrypted = true, false
}

// failStop is fail for a failure that ends a side's decryption for good:
// the first is Info's StopError.
func (c *Conn) failStop(format string, args ...any) {
	if c.stopErr != "" {
		c.fail(format, args...)
		return
	}
	c.stopErr = fmt.Sprintf(format, args...)
	if c.info.Error == "" {
		c.info.Error = c.stopErr
	}
	c.failed, c.info.Decrypted = true, false
}

// stop gives up decryption for the whole connection.
func (c *Conn) stop(format string, args ...any) {
	c.failStop(format, args...)
	c.stopped = true
	for i := range c.dir {
		d := &c.dir[i]
		if d.phase != phaseClear {
			d.phase = phaseOpaque
		}
		d.cipher, d.pending = nil, nil
	}
}

// NotRecords reports whether a side's bytes stopped being TLS records: a
// header of no record type or version came where one was due.
func (c *Conn) NotRecords() bool { return c.notRecords }

// OnLost sets a function told of the plaintext a side lost in a record
// that a gap cut, after which decryption goes on: its length is the
// record's less the cipher's overhead and padding (CBC's read from its
// last block, TLS 1.3's from the record's captured tail; where that tail
// was lost, an upper bound, and the error says "at most"); and of the
// records a gap past a record's end took (resync.go: in TLS 1.3 an upper
// bound too). exact is false where the count is such an upper bound and
// plaintext follows: its decoder must find its framing again rather than
// count to it (true for the bytes of a side no longer decrypted, which
// stand for a plaintext not known and are followed by none).
func (c *Conn) OnLost(f func(side int, n int, exact bool, ts time.Time)) { c.lost = f }

// Gap tells of n bytes of one side that were never captured. Within the
// current record's body, the record is lost and the next one is decrypted
// (its sequence number is known); past it, the record framing and the
// sequence numbers of that side are lost with them, and the side's later
// bytes are only counted.
func (c *Conn) Gap(side int, n int, ts time.Time) {
	if side < 0 || side > 1 || n <= 0 {
		return
	}
	d := &c.dir[side]
	if d.find != nil {
		c.findGap(side)
		return
	}
	if d.dead || c.lostAtStart(side, n) {
		return
	}
	if c.renegWaiting(side) {
		c.giveUpWait(side) // (renegwait.go)
	}
	if d.inBody && n <= d.need-len(d.body) && d.phase == phaseApp && !d.resync.on {
		d.cut = true
		d.body = d.body[:len(d.body)+n] // capacity MaxRecord >= need
		d.cutEnd = len(d.body)
		return
	}
	// The current record's bytes so far are not decrypted either.
	part := d.nhdr
	if d.inBody {
		part = 5 + len(d.body)
	}
	if d.resync.on {
		part = 0 // (counted as they came)
	}
	c.info.Bytes[side] += int64(part)
	if c.resyncable(side) {
		c.startResync(side, part, n, ts)
		return
	}
	if c.findable(side) {
		c.startFind(side) // (findrec.go; until now the side ended here)
		return
	}
	d.dead = true
	c.failStop("side %d: %d bytes lost, TLS records not followed past them", side, n)
	if (d.phase == phaseApp && d.cipher != nil || c.renegOpaque(side)) && c.lost != nil {
		// The plaintext lost from here on is not known: the bytes lost
		// and the later bytes of the side stand for it.
		d.deadOn = true
		c.lost(side, part+n, true, ts) // (no plaintext follows: nothing to misread)
	}
}

// Feed passes bytes of one side, in stream order.
func (c *Conn) Feed(side int, data []byte, ts time.Time) {
	if side < 0 || side > 1 {
		return
	}
	d := &c.dir[side]
	if d.resync.on {
		c.feedResync(side, data, ts)
		return
	}
	if (d.find != nil || d.findNext) && c.feedFind(side, data, ts) {
		return
	}
	if d.dead {
		c.info.Bytes[side] += int64(len(data)) // counted, as the bytes of a side not decrypted are
		if d.deadOn && len(data) > 0 {
			c.lost(side, len(data), true, ts)
		}
		return
	}
	for len(data) > 0 && !d.dead {
		if !d.inBody {
			n := copy(d.hdr[d.nhdr:], data)
			d.nhdr += n
			data = data[n:]
			if d.nhdr < 5 {
				return
			}
			d.nhdr = 0
			typ, major := d.hdr[0], d.hdr[1]
			d.need = int(d.hdr[3])<<8 | int(d.hdr[4])
			switch {
			case typ < typeChangeCipherSpec || typ > typeHeartbeat || major != 3:
				d.dead, c.notRecords = true, true
				c.failStop("side %d: not a TLS record (header % x)", side, d.hdr[:])
				c.info.Bytes[side] += int64(5 + len(data))
				return
			case d.need > MaxRecord:
				d.dead = true
				c.failStop("side %d: record of %d bytes, more than %d", side, d.need, MaxRecord)
				c.info.Bytes[side] += int64(5 + len(data))
				return
			}
			if d.body == nil {
				d.body = make([]byte, 0, MaxRecord)
			}
			d.body = d.body[:0]
			d.inBody = true
		}
		n := min(d.need-len(d.body), len(data))
		d.body = append(d.body, data[:n]...)
		data = data[n:]
		if len(d.body) == d.need {
			d.inBody = false
			c.info.Records[side]++
			c.info.Bytes[side] += int64(5 + d.need)
			if d.cut {
				d.cut = false
				if c.lostRecord(side, ts); d.dead {
					c.Feed(side, data, ts) // counted, and told as lost
					return
				}
				continue
			}
			c.record(side, d.hdr, d.body, ts)
		}
	}
}

// record handles one complete record.
func (c *Conn) record(side int, hdr [5]byte, body []byte, ts time.Time) {
	d := &c.dir[side]
	typ := hdr[0]
	if c.early.on && typ == typeApplicationData && side == c.info.Client && (d.phase == phaseClear || d.phase == phaseHandshake) &&
		c.earlyRecord(side, hdr, body, ts) {
		return
	}
	switch d.phase {
	case phaseOpaque:
		if c.renegOpaque(side) {
			c.reneg.after[side] += int64(5 + len(body))
			if c.lost != nil {
				c.lost(side, 5+len(body), true, ts) // (a side no longer decrypted: nothing to misread)
			}
		}
		return
	case phaseHandshake, phaseApp:
		if d.cipher == nil {
			if c.renegWaiting(side) {
				c.holdReneg(side, hdr, body, ts) // (renegwait.go)
			}
			return
		}
		if c.version == VersionTLS13 && typ != typeApplicationData {
			// ChangeCipherSpec for middlebox compatibility, or an alert
			// sent in the clear: not protected (RFC 8446 §5).
			return
		}
		plain, inner, err := d.cipher.open(hdr, body, d.seq)
		d.seq++
		if err != nil {
			d.phase, d.cipher = phaseOpaque, nil
			c.failStop("side %d: record %d: %v (wrong key?)", side, c.info.Records[side], err)
			return
		}
		if !c.failed {
			c.info.Decrypted = true
		}
		c.content(side, inner, plain, ts)
		c.afterRecord(side)
	case phaseClear:
		c.content(side, typ, body, ts)
	}
}

// content dispatches a record's plaintext by content type.
func (c *Conn) content(side int, typ uint8, plain []byte, ts time.Time) {
	d := &c.dir[side]
	switch typ {
	case typeHandshake:
		if err := d.hs.feed(plain, func(t uint8, body []byte) { c.handshake(side, t, body) }); err != nil {
			d.phase, d.cipher = phaseOpaque, nil
			c.failStop("side %d: %v", side, err)
		}
	case typeChangeCipherSpec:
		c.changeCipherSpec(side)
	case typeAlert:
		c.renegRefused(side, plain)
	case typeApplicationData:
		if d.phase == phaseClear {
			// Encrypted data we have no keys for (or a stream that started
			// after the handshake).
			d.phase = phaseOpaque
			c.noHello()
			return
		}
		c.info.AppBytes[side] += int64(len(plain))
		if len(plain) > 0 {
			d.keyUpdates = 0
			if c.out != nil {
				c.out(side, plain, ts)
			}
		}
	}
}

func (c *Conn) changeCipherSpec(side int) {
	d := &c.dir[side]
	if c.sawHello && !c.sawServerHello && c.lostStart == [2]int64{} {
		// TLS 1.3 middlebox compatibility (RFC 8446 §D.4): a server's after
		// a HelloRetryRequest, a client's before its second ClientHello or
		// after a first one that sends early data. TLS 1.2 has no keys to
		// change to yet. (A ServerHello lost: lost.go.)
		return
	}
	if c.version == VersionTLS13 || d.phase != phaseClear {
		if c.version != VersionTLS13 && d.phase == phaseApp {
			c.renegChangeCipherSpec(side) // (reneg.go)
		}
		return
	}
	if d.pending == nil {
		d.phase = phaseOpaque // no keys: c.stop or a missing ServerHello says why
		c.noHello()
		if c.suite == nil && c.info.Error == "" {
			c.fail("side %d: ChangeCipherSpec before any ServerHello", side)
		}
		return
	}
	d.phase, d.cipher, d.pending, d.seq = phaseApp, d.pending, nil, 0
}

// afterRecord applies key changes that take effect at the record boundary
// after a handshake message (RFC 8446 §5.1: they may not span a key change).
func (c *Conn) afterRecord(side int) {
	d := &c.dir[side]
	var secret []byte
	switch {
	case d.switchApp:
		d.switchApp = false
		d.phase = phaseApp
		secret = d.appSec
	case d.keyUpdate:
		d.keyUpdate = false
		if d.keyUpdates++; d.keyUpdates > maxKeyUpdates {
			d.phase, d.cipher = phaseOpaque, nil
			c.failStop("side %d: more than %d KeyUpdates without application data", side, maxKeyUpdates)
			return
		}
		secret = nextSecret13(c.suite, d.secret)
	default:
		return
	}
	if secret == nil {
		d.phase, d.cipher = phaseOpaque, nil
		c.failStop("key log lacks the %s application traffic secret", c.sideName(side))
		return
	}
	ciph, err := newCipher13(c.suite, secret)
	if err != nil {
		c.stop("%v", err)
		return
	}
	d.cipher, d.secret, d.seq = ciph, secret, 0
}

func (c *Conn) sideName(side int) string {
	if side == c.info.Client {
		return "client"
	}
	return "server"
}

// handshake handles one complete handshake message of a side.
func (c *Conn) handshake(side int, typ uint8, body []byte) {
	d := &c.dir[side]
	switch typ {
	case hsClientHello:
		if d.phase != phaseClear {
			if d.phase == phaseApp {
				c.renegClientHello(side, body) // TLS 1.2 renegotiation (reneg.go)
			}
			return
		}
		if c.info.Client < 0 {
			c.info.Client = side
		}
		if side == c.info.Client {
			c.clientHello(body)
		}
	case hsServerHello:
		// Only the first ServerHello (after a HelloRetryRequest, if any)
		// counts: later ones are not parsed, let alone given a key schedule.
		if d.phase == phaseClear && side != c.info.Client && !c.sawServerHello {
			c.serverHello(side, body)
		} else if d.phase == phaseApp && c.version == VersionTLS12 {
			c.renegServerHello(side, body)
		}
	case hsEncryptedExtensions:
		if d.phase != phaseHandshake {
			return // only ever sent under the TLS 1.3 handshake keys
		}
		var ch clientHello
		if exts, ok := extensionsOf(body); ok {
			ch.parseExtensions(exts)
			if len(ch.alpn) == 1 {
				c.info.ALPN = ch.alpn[0]
			}
		}
		c.earlyAnswer(ch.early)
	case hsFinished:
		if c.version == VersionTLS13 && d.phase == phaseHandshake {
			d.switchApp = true
		} else if c.version == VersionTLS12 && d.phase == phaseApp {
			c.finished12(side, body)
		}
	case hsNewSessionTicket:
		if c.version == VersionTLS12 && side != c.info.Client {
			c.ticket12(body)
		}
	case hsKeyUpdate:
		if c.version == VersionTLS13 && d.phase == phaseApp {
			d.keyUpdate = true
		}
	}
}

func (c *Conn) clientHello(body []byte) {
	// The first ClientHello counts. A second one answers a
	// HelloRetryRequest and keeps the random (RFC 8446 §4.1.2): it is only
	// checked. Any other is ignored unparsed.
	c.clientHellos++
	if c.clientHellos > 2 || c.clientHellos == 2 && !c.helloRetry {
		return
	}
	ch, ok := parseClientHello(body)
	if !ok {
		c.fail("malformed ClientHello")
		return
	}
	if c.clientHellos > 1 {
		return
	}
	c.sawHello = true
	c.early.on = ch.early
	c.clientRandom = ch.random
	c.info.SNI = ch.sni
	c.info.ALPNOffered = ch.alpn
	c.info.Offered = nil
	for _, v := range ch.versions {
		if v&0x0f0f != 0x0a0a { // GREASE (RFC 8701)
			c.info.Offered = append(c.info.Offered, VersionName(v))
		}
	}
}

// helloRetryRandom marks a ServerHello as a HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

func (c *Conn) serverHello(side int, body []byte) {
	sh, ok := parseServerHello(body)
	if ok && sh.random == helloRetryRandom && !c.helloRetry {
		c.helloRetry = true
		if c.info.Client >= 0 {
			c.earlyDecide(c.info.Client, false) // rejected (RFC 8446 §4.1.4)
		}
		return
	}
	c.sawServerHello = true
	switch {
	case !ok:
		c.stop("malformed ServerHello")
		return
	case sh.random == helloRetryRandom:
		c.stop("second HelloRetryRequest") // RFC 8446 §4.1.4: the client aborts
		return
	}
	if c.info.Client < 0 {
		c.info.Client = 1 - side
	}
	c.serverRandom = sh.random
	c.version = sh.version
	c.info.Version = VersionName(sh.version)
	c.info.Cipher = CipherSuiteName(sh.suite)
	if sh.alpn != "" {
		c.info.ALPN = sh.alpn
	}
	c.etm = sh.etm
	client, server := &c.dir[1-side], &c.dir[side]
	s := suites[sh.suite]
	switch {
	case !c.sawHello:
		c.stop("%s", noClientHello) // (lost.go: amendLost)
		return
	case sh.version != VersionTLS12 && sh.version != VersionTLS13:
		c.stop("%s is not decrypted", VersionName(sh.version))
		return
	case s == nil || s.tls13 != (sh.version == VersionTLS13):
		c.stop("cipher suite %s is not decrypted", CipherSuiteName(sh.suite))
		return
	}
	c.suite = s
	sec := c.keys.Lookup(c.clientRandom)
	if sec == nil {
		c.stop("no key for client random %s", hex.EncodeToString(c.clientRandom[:]))
		return
	}
	c.secrets = sec
	if sh.version == VersionTLS12 {
		if sec.MasterSecret == nil {
			c.stop("key log has no CLIENT_RANDOM line for client random %s", hex.EncodeToString(c.clientRandom[:]))
			return
		}
		cc, sc, err := keyBlock12(s, sec.MasterSecret, c.clientRandom, c.serverRandom, c.etm)
		if err != nil {
			c.stop("%v", err)
			return
		}
		client.pending, server.pending = cc, sc
		c.t12.master, c.t12.session = sec.MasterSecret, append([]byte(nil), sh.session...)
		server.hs.tickets = true // (a resumed renegotiation may offer one: reneg.go)
		return
	}
	// TLS 1.3: everything after the ServerHello is under handshake keys.
	if sec.ClientHandshake == nil || sec.ServerHandshake == nil {
		c.stop("key log lacks the handshake traffic secrets for client random %s", hex.EncodeToString(c.clientRandom[:]))
		return
	}
	for _, x := range []struct {
		d           *direction
		hs, traffic []byte
	}{{client, sec.ClientHandshake, sec.ClientTraffic0}, {server, sec.ServerHandshake, sec.ServerTraffic0}} {
		ciph, err := newCipher13(s, x.hs)
		if err != nil {
			c.stop("%v", err)
			return
		}
		x.d.phase, x.d.cipher, x.d.seq, x.d.secret, x.d.appSec = phaseHandshake, ciph, 0, x.hs, x.traffic
	}
}
