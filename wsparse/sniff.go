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
	sniffScan      = 2048      // every offset this close to the start is a candidate
	sniffLimit     = 256 << 10 // bytes buffered before giving up on a side
	sniffMaxFrame  = 16 << 20  // a longer frame does not count as evidence
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
	boundary    bool // start is where a feed began: a likely frame start
	frames      int
	evidence    int  // frames that are not continuations: message starts and control frames
	masked      int8 // -1 not yet known
	open        bool // inside a fragmented message
	rsv1        bool
	dead        bool
}

// sniffer holds one side's bytes and candidate chains.
type sniffer struct {
	buf     []byte
	cands   []cand
	scanned int  // offsets below this have been made candidates
	want    int8 // required masking (-1 any): known from the other side or earlier frames
	minimum int  // frames needed
}

func newSniffer(want int8, minimum int) *sniffer {
	return &sniffer{want: want, minimum: minimum}
}

// add appends bytes and returns the start of an accepted chain, or -1.
func (s *sniffer) add(b []byte) int {
	s.addCand(len(s.buf), true) // a segment boundary is a likely frame start
	s.buf = append(s.buf, b...)
	for ; s.scanned < min(len(s.buf), sniffScan); s.scanned++ {
		s.addCand(s.scanned, false)
	}
	return s.decide()
}

func (s *sniffer) addCand(off int, boundary bool) {
	if len(s.cands) >= sniffMaxCands {
		return
	}
	for i := range s.cands {
		if c := &s.cands[i]; !c.dead && (c.start == off || c.next == off) {
			c.boundary = c.boundary || boundary && c.start == off
			return // an existing chain already reaches this offset
		}
	}
	s.cands = append(s.cands, cand{start: off, next: off, masked: -1, boundary: boundary})
}

// decide advances every chain over the buffered bytes and returns the
// start of the best chain that ends exactly at the end of the bytes: the
// longest, where starting at a feed boundary counts as two frames (chains
// that start inside a payload and merge into the true one later differ by
// a frame or two at their start).
func (s *sniffer) decide() int {
	best := -1
	bestScore := 0
	live := s.cands[:0]
	for i := range s.cands {
		c := s.cands[i]
		s.advance(&c)
		if c.dead {
			continue
		}
		need := s.minimum
		if c.rsv1 && need < sniffMinFrames+1 {
			need = sniffMinFrames + 1 // compressed-looking chains need more proof
		}
		score := c.frames
		if c.boundary {
			score += 2
		}
		if c.next == len(s.buf) && c.evidence >= need &&
			(score > bestScore || score == bestScore && c.start < best) {
			best, bestScore = c.start, score
		}
		live = append(live, c)
	}
	s.cands = live
	return best
}

// advance walks a chain over every frame now wholly buffered.
func (s *sniffer) advance(c *cand) {
	for !c.dead && c.next+2 <= len(s.buf) {
		hdr, n := ParseHeader(s.buf[c.next:])
		if n == 0 {
			return // header not complete yet
		}
		if hdr.Length > sniffMaxFrame {
			c.dead = true
			return
		}
		if c.next+n+int(hdr.Length) > len(s.buf) {
			return // payload not complete yet
		}
		if !s.plausible(c, &hdr, s.buf[c.next+n:c.next+n+int(hdr.Length)]) {
			c.dead = true
			return
		}
		c.next += n + int(hdr.Length)
		c.frames++
		if hdr.Opcode != OpContinuation {
			c.evidence++
		}
	}
}

// sniffCheck is how much of a payload is unmasked to check its content.
const sniffCheck = 512

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
