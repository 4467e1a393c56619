package tlsdec

import (
	"encoding/hex"
	"fmt"
)

// A renegotiation whose ClientHello was lost (a segment not captured):
// its ServerHello came, with the server random and the cipher suite, and
// the new client random did not. The key log has the new master secret
// under that random; which of its lines is not known, so the lines are
// tried, those written after the connection's first, until one opens the
// first record a side sent under the new keys (its Finished): only a
// record whose tag opens is taken. It is tried when a side holds its
// first record after its ChangeCipherSpec (renegwait.go), and again when
// the client changes to the keys of an earlier renegotiation, behind a
// hole. Until then the side ended at its
// ChangeCipherSpec ("with no ClientHello seen"), its records counted.

// maxRenegGuesses bounds the key log lines looked at (of any label, the
// CLIENT_RANDOM ones tried) on one connection, all
// its renegotiations together (5-9 µs each, a key block and an open of a
// 40-byte record: 20-36 ms for all, TestRenegotiationGuessBound -v under
// a load of 12), so that a server renegotiating again and again
// to ClientHellos not read costs no more than this once.
const maxRenegGuesses = 4096

// DefaultMaxRenegGuessesTotal bounds the key log lines tried on all the
// connections of a capture together (GuessBudget): at 4096 a connection
// alone, a capture of many connections each renegotiating without its
// ClientHello cost 20-36 ms each (500 copies of a 12 KB connection, a
// 6 MB capture, took 12 CPU s where 0.12 did before the search).
const DefaultMaxRenegGuessesTotal = 1 << 16

// GuessBudget is the key log lines left to try for renegotiations whose
// ClientHello was lost, shared by the connections of one reassembler
// (one goroutine), and the searches it cut short or denied.
type GuessBudget struct {
	Left int
	Cut  int
}

// SetGuessBudget sets the budget the connection's key searches draw on
// (nil: maxRenegGuesses a connection alone).
func (c *Conn) SetGuessBudget(b *GuessBudget) { c.guessBudget = b }

// guessReneg tries the key log's master secrets on the first record a
// side holds after its ChangeCipherSpec to a renegotiation whose
// ServerHello came without a ClientHello. Found, each side gets the new
// keys (a side waiting decrypts what it held), and the error says how
// they were found.
func (c *Conn) guessReneg(side int) {
	r := c.reneg
	client := max(c.info.Client, 0)
	if r.orphan == nil || r.hello || len(r.held[side]) == 0 || c.keys == nil || c.dir[client].pending != nil || r.guesses >= maxRenegGuesses {
		// (pending: the client has yet to change to an earlier
		// renegotiation's keys, behind a hole: this one's ClientHello may
		// come after it; tried again when it changes.)
		return
	}
	sh, ok := parseServerHello(r.orphan)
	s := suites[sh.suite]
	if !ok || sh.version != VersionTLS12 || s == nil || s.tls13 {
		return
	}
	allow, cut := maxRenegGuesses-r.guesses, false
	if b := c.guessBudget; b != nil && b.Left < allow {
		allow, cut = max(b.Left, 0), true
	}
	tried, seen := 0, 0 // (CLIENT_RANDOM lines tried, lines looked at)
	defer func() {
		r.guesses += seen
		if b := c.guessBudget; b != nil {
			b.Left -= seen
			if cut && seen == allow && r.orphan != nil && !r.guessCut {
				r.guessCut = true // (said when the side ends: endRenegSide)
				b.Cut++
			}
		}
	}()
	if allow == 0 {
		return
	}
	h := r.held[side][0]
	scratch := make([]byte, len(h.body))
	var found [32]byte
	var master []byte
	ok, seen = c.keys.mastersNear(&c.clientRandom, allow, func(cr *[32]byte, m []byte) bool {
		tried++
		cc, sc, err := keyBlock12(s, m, *cr, sh.random, sh.etm)
		if err != nil {
			return false
		}
		ciph := sc
		if side == c.info.Client {
			ciph = cc
		}
		copy(scratch, h.body) // (opened in place)
		if _, _, err := ciph.open(h.hdr, scratch, 0); err != nil {
			return false
		}
		found, master = *cr, m
		return true
	})
	if !ok {
		return
	}
	cc, sc, err := keyBlock12(s, master, found, sh.random, sh.etm)
	if err != nil {
		return
	}
	r.count++ // (the renegotiation its ClientHello began)
	r.orphan, r.random, r.guessed, r.guessCut = nil, found, true, false
	r.guessNote = fmt.Sprintf("renegotiation %d: its ServerHello came without its ClientHello (lost, or late behind a hole): its keys were found by trying the key log's lines (%d tried: client random %s); decryption goes on", r.count, tried, hex.EncodeToString(found[:]))
	c.dir[client].pending, c.dir[1-client].pending = cc, sc
	c.info.Cipher = CipherSuiteName(sh.suite)
	c.suite, c.etm, c.clientRandom, c.serverRandom = s, sh.etm, found, sh.random
	c.t12.master, c.t12.session = append([]byte(nil), master...), append(c.t12.session[:0:0], sh.session...)
	c.settleWaiting()
}

// guessedHello reports whether a renegotiation ClientHello, come late,
// is the one whose keys guessReneg found: it is not counted again.
func (r *renegState) guessedHello(random [32]byte) bool {
	if !r.guessed || random != r.random {
		return false
	}
	r.guessed, r.guessNote = false, "" // (late, not lost: nothing to say)
	return true
}

// sayGuessed puts the note of keys found without their ClientHello, which
// did not come, in Info: an error, the first if none came before.
func (r *renegState) sayGuessed(i *Info) {
	if r.guessNote == "" {
		return
	}
	if i.Error == "" {
		i.Error = r.guessNote
	}
	i.Decrypted = false
}
