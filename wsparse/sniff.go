package wsparse

// Finding WebSocket framing in bytes without a handshake: a capture that
// started mid-connection, a port forced with --ws-port, or a direction that
// lost its frame boundaries in a gap. A candidate is a chain of frame
// headers from some start offset; bytes are taken as WebSocket when a chain
// of valid frames ends exactly where the captured bytes end (senders write
// whole frames, so segment ends fall on frame ends), is long enough, and is
// consistent: legal opcodes, no RSV bits (RSV1 only on the first frame of a
// data message), control frames short and final, minimal lengths, one
// masking choice, continuations only inside a fragmented message.

const (
	sniffScan      = 2048     // every offset this close to the start is a candidate
	sniffMaxFrame  = 16 << 20 // a longer frame does not count as evidence
	sniffMaxCands  = 4096
	sniffMinFrames = 3 // message starts and control frames a chain needs to be believed on its own
)

// Confidence says how a connection without a handshake was recognised.
type Confidence string

const (
	ConfidenceHandshake Confidence = "handshake" // the upgrade was seen
	ConfidenceHigh      Confidence = "high"      // both directions frame consistently, client masks, server does not
	ConfidenceMedium    Confidence = "medium"    // one direction frames consistently
	ConfidenceForced    Confidence = "forced"    // --ws-port: decoded because the user said so
)

type cand struct {
	start, next int
	firstEnd    int  // where the chain's second frame starts (-1 before it has one)
	boundary    bool // start is where a feed began: a likely frame start
	frames      int
	evidence    int  // frames that are not continuations: message starts and control frames
	verified    int  // frames whose whole payload was there to check
	strong      int  // frames whose content proves them: printable text, a valid close
	masked      int8 // -1 not yet known
	open        bool // inside a fragmented message
	rsv1        bool
	dead        bool
	pending     bool // the frame at next has a plausible header; its payload is still coming
}

// sniffer holds one side's bytes and candidate chains.
type sniffer struct {
	buf     []byte
	cands   []cand
	at      map[chainKey]int // live chains by where they are and in what state: index in cands
	scanned int              // offsets below this have been made candidates
	want    int8             // required masking (-1 any): known from the other side or earlier frames
	minimum int              // frames needed
	// lenient accepts a chain whose last frame is still incomplete: for a
	// direction already known to be WebSocket (a resync after a gap), where
	// bytes arrive in large pieces after reassembly pushes them through.
	lenient bool
	holes   [][2]int // byte ranges of buf lost from the capture (zero-filled)
	limit   int      // bytes buffered before giving up (Config.MaxSniff)
}

// gap records n lost bytes: chains may run through them inside payloads but
// not read a header from them. It reports false when the buffer would grow
// past the limit: the caller then starts afresh.
func (s *sniffer) gap(n int) bool {
	if len(s.buf)+n > s.limit {
		return false
	}
	at := len(s.buf)
	s.buf = append(s.buf, make([]byte, n)...)
	s.holes = append(s.holes, [2]int{at, at + n})
	s.scanned = len(s.buf)
	return true
}

// inHole reports whether [from, to) overlaps a lost range.
func (s *sniffer) inHole(from, to int) bool {
	for _, h := range s.holes {
		if from < h[1] && h[0] < to {
			return true
		}
	}
	return false
}

func newSniffer(want int8, minimum int, lenient bool, limit int) *sniffer {
	return &sniffer{want: want, minimum: minimum, lenient: lenient, limit: limit, at: map[chainKey]int{}}
}

// add appends bytes and returns the start of an accepted chain, or -1.
func (s *sniffer) add(b []byte) int {
	s.addCand(len(s.buf), true) // a segment boundary is a likely frame start
	s.buf = append(s.buf, b...)
	for ; s.scanned < len(s.buf)-1; s.scanned++ {
		s.addCand(s.scanned, false)
	}
	return s.decide(false)
}

func (s *sniffer) addCand(off int, boundary bool) {
	if i, ok := s.at[chainKey{next: off, masked: -1}]; ok {
		if c := &s.cands[i]; boundary && c.start == off {
			c.boundary = true
		}
		return // an existing chain already starts at or reaches this offset
	}
	// Random payload bytes make many short-lived candidates; past the cap
	// only feed boundaries, the likeliest frame starts, still get one.
	if len(s.cands) >= sniffMaxCands && !boundary || len(s.cands) >= sniffMaxCands+sniffMaxCands/4 {
		return
	}
	if len(s.buf)-off >= 2 && !quickHeader(s.buf[off], s.buf[off+1]) || s.inHole(off, off+2) {
		return // cannot start a frame: not worth a candidate
	}
	s.at[chainKey{next: off, masked: -1}] = len(s.cands)
	s.cands = append(s.cands, cand{start: off, next: off, firstEnd: -1, masked: -1, boundary: boundary})
}

// chainKey is what decides how a chain goes on: where its next header is,
// whether a fragmented message is open, and the masking it has used. Two
// chains with the same key behave the same from there on.
type chainKey struct {
	next   int
	open   bool
	masked int8
}

func (c *cand) key() chainKey { return chainKey{c.next, c.open, c.masked} }

// quickHeader rejects most offsets from their first two bytes alone.
func quickHeader(b0, b1 byte) bool {
	op := Opcode(b0 & opcodeBits)
	if op.IsReserved() || b0&(rsv2Bit|rsv3Bit) != 0 {
		return false
	}
	if op.IsControl() && (b0&finBit == 0 || b1&len7Bits > maxControlPayload) {
		return false
	}
	return true
}

// decide advances every chain over the buffered bytes and returns the
// start of the best chain (see better) that ends exactly at the end of the
// bytes or, when lenient or final, runs into a last frame whose header is
// plausible and whose payload is still to come; -1 when there is none yet.
func (s *sniffer) decide(final bool) int {
	// Advance every chain; chains that reach the same offset behave the
	// same from there on, so only the better of them is kept.
	clear(s.at)
	live := s.cands[:0]
	for i := range s.cands {
		c := s.cands[i]
		if s.want >= 0 && c.masked >= 0 && c.masked != s.want {
			continue // the masking expected changed since this chain began
		}
		s.advance(&c)
		if c.dead {
			continue
		}
		if j, ok := s.at[c.key()]; ok {
			if c.better(&live[j]) {
				live[j] = c
			}
			continue
		}
		s.at[c.key()] = len(live)
		live = append(live, c)
	}
	s.cands = live
	best := -1
	for i := range live {
		c := &live[i]
		need := s.minimum
		if c.rsv1 && need < sniffMinFrames+1 {
			need = sniffMinFrames + 1 // compressed-looking chains need more proof
		}
		// Running into an unfinished frame proves less than ending on a
		// boundary: ask for two frames seen whole (not through a hole).
		// After a gap, frames found inside a payload whose header was lost
		// are the danger: random bytes make valid binary and control
		// headers easily, printable text and close codes rarely.
		proof := c.verified >= 1
		if s.lenient {
			proof = c.strong >= 1 && c.verified >= 2 || c.verified >= 4
		}
		reaches := proof && (c.next == len(s.buf) || (s.lenient || final) && c.pending)
		if reaches && c.evidence >= need && (best < 0 || c.better(&live[best])) {
			best = i
		}
	}
	if best < 0 {
		return -1
	}
	if s.lenient && !final && len(s.buf) < s.limit/2 {
		// After a gap, a chain that began earlier and is still inside a
		// long frame may yet explain these bytes as its payload: wait for
		// it rather than take frames found inside a payload.
		for i := range live {
			if c := &live[i]; c.start < live[best].start && c.pending && !c.better(&live[best]) {
				return -1
			}
		}
	}
	return live[best].start
}

// better ranks two chains that explain the same bytes: the one that
// explains more of them (starts earlier), since a chain that starts inside
// another's payload and merges with it later is made of payload bytes;
// except that a single frame not at a feed boundary in front of a chain
// that starts at one is most likely the tail of a payload whose start was
// not captured (senders write whole frames, so segments start with frames).
func (c *cand) better(o *cand) bool {
	if c.start > o.start {
		return !o.better(c)
	}
	if c.start == o.start {
		return c.boundary && !o.boundary
	}
	return !(c.firstEnd == o.start && o.boundary && !c.boundary)
}

// advance walks a chain over every frame now wholly buffered.
func (s *sniffer) advance(c *cand) {
	for !c.dead && c.next+2 <= len(s.buf) {
		hdr, n := ParseHeader(s.buf[c.next:])
		if n == 0 {
			return // header not complete yet
		}
		if len(s.holes) > 0 && s.inHole(c.next, c.next+n) {
			c.dead = true // the header was lost: this chain cannot go on
			return
		}
		if hdr.Length > sniffMaxFrame {
			c.dead = true
			return
		}
		if c.next+n+int(hdr.Length) > len(s.buf) {
			// Payload not complete yet: judge the header alone.
			probe := *c
			c.pending = s.plausible(&probe, &hdr, nil)
			return
		}
		payload := s.buf[c.next+n : c.next+n+int(hdr.Length)]
		if len(s.holes) > 0 && s.inHole(c.next+n, c.next+n+int(hdr.Length)) {
			payload = nil // content partly lost: judge the header alone
		}
		if !s.plausible(c, &hdr, payload) {
			c.dead = true
			return
		}
		if payload != nil || hdr.Length == 0 {
			c.verified++
			if strongContent(&hdr, payload) {
				c.strong++
			}
		}
		c.next += n + int(hdr.Length)
		if c.frames == 0 {
			c.firstEnd = c.next
		}
		c.frames++
		if hdr.Opcode != OpContinuation {
			c.evidence++
		}
	}
}

// sniffCheck is how much of a payload is unmasked to check its content.
const sniffCheck = 512

// strongContent reports payloads that random bytes rarely imitate: text of
// at least eight printable characters, a close frame with a valid code.
func strongContent(h *Header, p []byte) bool {
	switch {
	case h.RSV != 0:
		return false
	case h.Opcode == OpText:
		return len(p) >= 8 // plausibleContent has checked it is printable UTF-8
	case h.Opcode == OpClose:
		return len(p) >= 2
	}
	return false
}

// plausibleContent checks what a payload must look like: text is UTF-8
// (a cut code point at the end allowed), a close payload has a valid code.
func plausibleContent(h *Header, p []byte) bool {
	if h.RSV != 0 || (h.Opcode != OpText && h.Opcode != OpClose) {
		return true
	}
	var tmp [sniffCheck]byte
	n := copy(tmp[:], p)
	b := tmp[:n]
	if h.Masked {
		Unmask(h.MaskKey, 0, b)
	}
	if h.Opcode == OpClose {
		_, _, _, a := ParseClose(b)
		return a == 0
	}
	for _, ch := range b {
		if ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' || ch == 0x7f {
			return false // valid UTF-8, but not what text messages carry
		}
	}
	return validUTF8Prefix(b, n < len(p) || !h.Fin)
}

func (s *sniffer) plausible(c *cand, h *Header, payload []byte) bool {
	if h.Rules() != 0 || h.Length > sniffMaxFrame || !plausibleContent(h, payload) {
		return false
	}
	switch h.RSV {
	case 0:
	case 4:
		if h.Opcode != OpText && h.Opcode != OpBinary {
			return false
		}
		c.rsv1 = true
	default:
		return false
	}
	m := int8(0)
	if h.Masked {
		m = 1
	}
	if s.want >= 0 && m != s.want || c.masked >= 0 && m != c.masked {
		return false
	}
	c.masked = m
	switch h.Opcode {
	case OpContinuation:
		if !c.open && c.frames > 0 {
			return false // only the first frame may continue a message we never saw start
		}
		c.open = !h.Fin
	case OpText, OpBinary:
		if c.open {
			return false
		}
		c.open = !h.Fin
	}
	return true
}
