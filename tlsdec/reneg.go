package tlsdec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// TLS 1.2 renegotiation (RFC 5246 §7.4.1.1, RFC 5746). A new handshake
// runs inside the encrypted channel: the server's HelloRequest (or the
// client on its own) and the ClientHello, ServerHello... that follow are
// handshake records under the current keys, and each side changes to the
// new keys at its ChangeCipherSpec, itself still under the old ones. The
// new master secret is the key log's for the new client random (a full
// handshake's, or a resumed session's, which OpenSSL logs again under the
// new random); failing that, a handshake resuming a session of the
// connection (the server echoes the session id offered with the session's
// id or with a ticket the server sent on this connection, RFC 5077 §3.4)
// reuses its master secret with the new randoms, as tshark does. Until
// session 38 the first renegotiation ended decryption of both sides: a
// server that renegotiated hid the rest of the conversation.

// renegState is the renegotiation in progress, allocated by the first.
type renegState struct {
	count   int      // renegotiations begun (ClientHellos inside the encrypted channel)
	random  [32]byte // the latest ClientHello's random
	session []byte   // and the session id it offered
	resume  []byte   // the master secret of the connection's session it offers to resume (nil: none)
	hello   bool     // that ClientHello awaits its ServerHello
	unknown string   // why the latest renegotiation's keys are not known ("": known or not yet told)
	failMsg string   // the error a side's change to unknown keys set, as Info amends it
	stopMsg string   // and the stop it made, as Info amends StopError
	opaque  [2]bool  // a side changed to keys not known
	after   [2]int64 // and the bytes of its records since, counted, not decrypted
	orphan  []byte   // a ServerHello that came before its ClientHello (renegwait.go)
	wait    [2]bool  // a side changed keys before they were known: its records are held
	held    [2][]heldRecord
	heldN   int
	guessed bool // random was found by trying the key log (renegguess.go)
	// guessNote says so, until its ClientHello comes (late, not lost).
	guessNote string
	guesses   int  // key log lines tried so far (maxRenegGuesses)
	guessCut  bool // and the capture's total (GuessBudget) cut them short
}

// session12 is what a TLS 1.2 renegotiation needs of the handshake
// before it.
type session12 struct {
	master  []byte    // its master secret
	session []byte    // its session id
	verify  [2][]byte // each side's Finished verify_data (RFC 5746 §3.1), by side
	long    [2]int    // or the length of one too long for renegotiation_info to carry (0: none)
	ticket  *[32]byte // the SHA-256 of the server's latest NewSessionTicket's ticket (not the ticket: up to 64 KiB)
	tmaster []byte    // and the master secret of the session it resumes
	lostHS  bool      // a handshake record under keys was lost (lostControl12)
}

// ticket12 keeps a TLS 1.2 NewSessionTicket (RFC 5077 §3.3), sent in the
// handshake whose master secret it stands for.
func (c *Conn) ticket12(body []byte) {
	r := reader{b: body}
	r.n(4) // ticket_lifetime_hint
	if t := r.vec16(); !r.bad && c.t12.master != nil && (c.reneg == nil || c.reneg.orphan == nil) {
		sum := sha256.Sum256(t)
		c.t12.ticket, c.t12.tmaster = &sum, c.t12.master
	}
}

// renegClientHello handles a ClientHello of the client inside the
// encrypted channel of a TLS 1.2 session.
func (c *Conn) renegClientHello(side int, body []byte) {
	if c.version != VersionTLS12 || side != c.info.Client {
		return
	}
	r := c.reneg
	if r == nil {
		r = new(renegState)
		c.reneg = r
	}
	r.count++
	r.unknown, r.hello = "", false
	ch, ok := parseClientHello(body)
	if ok && r.guessedHello(ch.random) {
		r.count-- // (come late: counted when its keys were found)
		return
	}
	if !ok {
		r.unknown = "its ClientHello is malformed"
		return
	}
	r.hello, r.random, r.session = true, ch.random, append(r.session[:0], ch.session...)
	switch {
	case ch.ticket != nil && c.t12.ticket != nil && sha256.Sum256(ch.ticket) == *c.t12.ticket:
		r.resume = c.t12.tmaster
	case len(ch.session) > 0 && bytes.Equal(ch.session, c.t12.session):
		r.resume = c.t12.master
	default:
		r.resume = nil
	}
	c.checkRI(r, "ClientHello", ch.hasRI, ch.ri, c.t12.verify[side], c.t12.long[side])
	if sh := r.orphan; sh != nil { // the server's answer came first (renegwait.go)
		r.orphan = nil
		c.renegServerHello(1-side, sh)
	}
}

// checkRI compares a renegotiation hello's renegotiation_info with the
// Finished messages before it (RFC 5746 §3.5, §3.7): a mismatch or its
// absence is said, and decryption goes on (the keys come from the key log).
// long is the length of verify_data the Finished messages carried when
// renegotiation_info cannot (over maxRIData bytes): it is not compared,
// said.
func (c *Conn) checkRI(r *renegState, what string, has bool, ri, want []byte, long int) {
	switch {
	case !has:
		c.fail("renegotiation %d: its %s has no renegotiation_info: insecure renegotiation (RFC 5746), the data before it may be another client's; decryption goes on", r.count, what)
	case long > 0:
		c.fail("renegotiation %d: its %s's renegotiation_info is not checked: the Finished messages before it carried %d bytes of verify_data, more than the %d it holds (RFC 5746 §3.2); decryption goes on", r.count, what, long, maxRIData)
	case want != nil && !bytes.Equal(ri, want):
		c.fail("renegotiation %d: its %s's renegotiation_info does not match the Finished messages before it (RFC 5746 §3.7); decryption goes on", r.count, what)
	}
}

// alertNoRenegotiation is the no_renegotiation alert (RFC 5246 §7.2.2),
// a warning: the peer declines to renegotiate and the session goes on.
const alertNoRenegotiation = 100

// renegRefused handles an alert of side: the server's warning
// no_renegotiation to a renegotiation ClientHello that awaits its
// ServerHello refuses it, and it is not counted (until a hostile review
// a refused ClientHello counted as a renegotiation in
// Info.Renegotiations, jsonl tls.renegotiations).
func (c *Conn) renegRefused(side int, plain []byte) {
	r := c.reneg
	if r == nil || !r.hello || side == c.info.Client || c.version != VersionTLS12 ||
		len(plain) != 2 || plain[0] != 1 || plain[1] != alertNoRenegotiation {
		return
	}
	r.count--
	r.hello, r.unknown = false, ""
}

// renegServerHello handles the server's answer to a renegotiation
// ClientHello: the new keys become each direction's pending ones.
func (c *Conn) renegServerHello(side int, body []byte) {
	if side == c.info.Client {
		return
	}
	if c.reneg == nil {
		c.reneg = new(renegState)
	}
	r := c.reneg
	if !r.hello { // its ClientHello may come late, behind a hole (renegwait.go)
		r.orphan = append(r.orphan[:0], body...)
		return
	}
	defer c.settleWaiting()
	r.hello = false
	sh, ok := parseServerHello(body)
	s := suites[sh.suite]
	switch {
	case !ok:
		r.unknown = "its ServerHello is malformed"
		return
	case sh.version != VersionTLS12:
		r.unknown = "its ServerHello is of " + VersionName(sh.version)
		return
	}
	c.info.Cipher = CipherSuiteName(sh.suite) // the suite now negotiated, decrypted or not
	switch {
	case s == nil || s.tls13:
		r.unknown = "cipher suite " + CipherSuiteName(sh.suite) + " is not decrypted"
		return
	}
	switch cv, sv, cl, sl := c.t12.verify[1-side], c.t12.verify[side], c.t12.long[1-side], c.t12.long[side]; {
	case cl > 0 || sl > 0 || len(cv)+len(sv) > maxRIData:
		c.checkRI(r, "ServerHello", sh.hasRI, sh.ri, nil, max(cl, len(cv))+max(sl, len(sv)))
	case cv != nil && sv != nil:
		c.checkRI(r, "ServerHello", sh.hasRI, sh.ri, append(append([]byte(nil), cv...), sv...), 0)
	default:
		c.checkRI(r, "ServerHello", sh.hasRI, sh.ri, nil, 0)
	}
	var master []byte
	if sec := c.keys.Lookup(r.random); sec != nil && sec.MasterSecret != nil {
		master = sec.MasterSecret
	} else if len(sh.session) > 0 && bytes.Equal(sh.session, r.session) {
		master = r.resume // a session of this connection resumed (nil: another's)
	}
	if master == nil {
		r.unknown = "key log has no CLIENT_RANDOM line for client random " + hex.EncodeToString(r.random[:])
		return
	}
	cc, sc, err := keyBlock12(s, master, r.random, sh.random, sh.etm)
	if err != nil {
		r.unknown = err.Error()
		return
	}
	c.dir[1-side].pending, c.dir[side].pending = cc, sc
	c.suite, c.etm, c.clientRandom, c.serverRandom = s, sh.etm, r.random, sh.random
	c.t12.master, c.t12.session = master, append(c.t12.session[:0:0], sh.session...)
}

// Renegotiations returns the TLS 1.2 renegotiations begun so far (Info's,
// without its copies).
func (c *Conn) Renegotiations() int {
	if c.reneg == nil {
		return 0
	}
	return c.reneg.count
}

// renegCount is the renegotiations begun so far.
func (c *Conn) renegCount() int { return c.Renegotiations() }

// renegOpaque reports whether a side changed to renegotiated keys not
// known: its later bytes are told to OnLost, as a side's that lost its
// record framing.
func (c *Conn) renegOpaque(side int) bool { return c.reneg != nil && c.reneg.opaque[side] }

// renegChangeCipherSpec handles a ChangeCipherSpec under the keys of a
// TLS 1.2 session: the side changes to the renegotiation's keys, or, with
// none known, is only counted from here on.
func (c *Conn) renegChangeCipherSpec(side int) {
	d := &c.dir[side]
	d.hs.restart()
	if d.pending != nil {
		d.cipher, d.pending, d.seq = d.pending, nil, 0
		if c.renegWaiting(1 - side) {
			c.guessReneg(1 - side) // (renegguess.go)
		}
		return
	}
	if c.reneg == nil {
		c.reneg = new(renegState)
	}
	if c.waitKeys(side) {
		return
	}
	c.endRenegSide(side)
}

// endRenegSide ends a side that changed to keys not known: its records
// from here on are counted and told lost.
func (c *Conn) endRenegSide(side int) {
	d := &c.dir[side]
	d.phase, d.cipher = phaseOpaque, nil
	r := c.reneg
	switch {
	case r.unknown != "":
		c.renegStop("side %d: renegotiation %d to keys not known (%s): its records after its ChangeCipherSpec are counted, not decrypted", side, r.count, r.unknown)
	case r.orphan != nil && r.guessCut:
		c.renegStop("side %d: a renegotiation's ServerHello and ChangeCipherSpec with no ClientHello seen (lost, or later than the %d bytes of records held for it), and the key log lines to try for such renegotiations were spent (%d in a capture, divided among the -j workers) before one for it was found: its records after it are counted, not decrypted", side, maxHeldReneg, DefaultMaxRenegGuessesTotal)
	case r.orphan != nil:
		c.renegStop("side %d: a renegotiation's ServerHello and ChangeCipherSpec with no ClientHello seen (lost, or later than the %d bytes of records held for it): its records after it are counted, not decrypted", side, maxHeldReneg)
	case c.t12.lostHS:
		c.renegStop("side %d: ChangeCipherSpec after a handshake record lost: the keys it changes to are not known: its records after it are counted, not decrypted", side)
	case r.count == 0:
		c.renegStop("side %d: ChangeCipherSpec inside the encrypted channel with no renegotiation before it: its records after it are counted, not decrypted", side)
	default:
		c.renegStop("side %d: renegotiation %d: ChangeCipherSpec before the ServerHello: its records after it are counted, not decrypted", side, r.count)
	}
	r.opaque[side] = true
}

// maxRIData is the most renegotiation_info carries: renegotiated_connection
// is opaque<0..255> (RFC 5746 §3.2), the client's verify_data in its
// ClientHello, both sides' in the ServerHello.
const maxRIData = 255

// finished12 keeps a TLS 1.2 Finished message's verify_data, which the
// next renegotiation's hellos must carry. verify_data is 12 bytes unless
// the cipher suite says otherwise (RFC 5246 §7.4.9), and no more than
// renegotiation_info holds can be compared: a longer one is not kept, its
// length is, and the next renegotiation says it was not checked (a
// verify_data kept from an earlier Finished made a false mismatch).
func (c *Conn) finished12(side int, body []byte) {
	if len(body) > maxRIData {
		c.t12.verify[side], c.t12.long[side] = nil, len(body)
		return
	}
	c.t12.verify[side], c.t12.long[side] = append(c.t12.verify[side][:0], body...), 0
}

// amend amends the error of a side changed to unknown keys, and the stop
// it made, with the bytes counted since.
func (r *renegState) amend(i *Info, client int) {
	r.sayGuessed(i)
	if !r.opaque[0] && !r.opaque[1] {
		return
	}
	cl := max(client, 0)
	since := fmt.Sprintf(" (since: %d bytes of client records, %d of server records)", r.after[cl], r.after[1-cl])
	if r.failMsg != "" && i.Error == r.failMsg {
		i.Error += since
	}
	if r.stopMsg != "" && i.StopError == r.stopMsg {
		i.StopError += since
	}
}

// lostControl12 passes over a TLS 1.2 record under keys that a gap cut
// and that holds no application data: its sequence number is spent and
// OnLost hears nothing (told its plaintext length, the WebSocket decoder
// skipped as many bytes that were never lost). A ChangeCipherSpec's
// content is known (RFC 5246 §7.1): the side changes keys. A handshake
// record's messages are not followed to the side's next ChangeCipherSpec
// (but for its Finished's record: the next renegotiation's ClientHello
// would be missed); the server's may have held a renegotiation's
// ServerHello.
func (c *Conn) lostControl12(side int) {
	d := &c.dir[side]
	first := d.seq == 0 && len(d.hs.buf) == 0 && d.hs.skip == 0 && !d.hs.lost
	d.seq++
	n := c.info.Records[side]
	switch typ := d.hdr[0]; {
	case typ == typeHandshake && first:
		// The first record after the side's ChangeCipherSpec holds its
		// Finished and nothing else (RFC 5246 §7.4.9: the flight's last
		// message): the messages after it are read, its verify_data
		// is not known.
		c.t12.verify[side], c.t12.long[side] = nil, 0
		c.fail("side %d: record %d (handshake: Finished) cut by lost bytes: no application data in it, decryption goes on", side, n)
	case typ == typeChangeCipherSpec:
		c.fail("side %d: record %d (change_cipher_spec) cut by lost bytes: no application data in it, decryption goes on", side, n)
		c.changeCipherSpec(side)
	case typ != typeHandshake:
		c.fail("side %d: record %d (alert) cut by lost bytes: no application data in it, decryption goes on", side, n)
	case c.reneg != nil && c.reneg.hello && side != c.info.Client:
		d.hs.lost, c.t12.lostHS = true, true
		c.reneg.hello, c.reneg.unknown = false, "a record of the server's handshake was lost"
		c.renegFail("side %d: record %d (handshake) cut by lost bytes: it may have held renegotiation %d's ServerHello, the keys of which are then not known: each side's records after its ChangeCipherSpec are counted, not decrypted", side, n, c.reneg.count)
	default:
		d.hs.lost, c.t12.lostHS = true, true
		c.renegFail("side %d: record %d (handshake) cut by lost bytes: no application data in it, but the side's handshake messages are not read up to its next ChangeCipherSpec: a renegotiation among them is not decrypted", side, n)
	}
}

// renegStop is renegFail for a side that a renegotiation ended: Info
// amends the stop too.
func (c *Conn) renegStop(format string, args ...any) {
	first := c.stopErr == ""
	c.renegFail(format, args...)
	if first {
		c.stopErr = fmt.Sprintf(format, args...)
		c.reneg.stopMsg = c.stopErr
	}
}

// renegFail records why decryption may stop at a renegotiation; Info
// amends the error, when it is the first, with the bytes counted since.
func (c *Conn) renegFail(format string, args ...any) {
	if c.reneg == nil {
		c.reneg = new(renegState)
	}
	first := c.info.Error == ""
	c.fail(format, args...)
	if first {
		c.reneg.failMsg = c.info.Error
	}
}
