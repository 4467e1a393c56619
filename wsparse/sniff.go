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
	start, next int  // offsets from where the search began
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
	// The frame at the chain's end whose header (and first payload bytes)
	// were judged but whose payload is still coming: next is already its
	// end, pstart its payload's start.
	pending    bool
	pstart     int
	pendStrong bool // its content is strong evidence (counted when it ends)
	pendData   bool // it is not a continuation
	// peek: the header at next is plausible on its own, and the payload
	// bytes to check are still coming.
	peek bool
	// Frame starts of the chain, for replaying it when its start has left
	// the window: from is the earliest still in the window when the chain
	// last looked, recent the last few.
	from   int
	recent [4]int
	nrec   int
}

// sniffer holds one side's bytes and candidate chains. Offsets count from
// where the search began; only the last window bytes are kept (buf holds
// offsets base to base+len(buf)), so the search may go on as far as the data
// goes in bounded memory and linear time.
type sniffer struct {
	buf     []byte
	base    int
	cands   []cand
	at      map[chainKey]int // live chains by where they are and in what state: index in cands
	scanned int              // offsets below this have been made candidates
	want    int8             // required masking (-1 any): known from the other side or earlier frames
	minimum int              // frames needed
	// lenient accepts a chain whose last frame is still incomplete: for a
	// direction already known to be WebSocket (a resync after a gap), where
	// bytes arrive in large pieces after reassembly pushes them through.
	lenient bool
	// deflated: the connection negotiated permessage-deflate (a WebSocket
	// connection going on, ResumedWebSocket): a compressed-looking chain
	// needs no more frames than another.
	deflated bool
	// bounded gives up after limit bytes although the connection has a
	// handshake: it switched to another protocol (a 101 naming no
	// websocket), whose bytes are frames only by chance.
	bounded  bool
	holes    [][2]int // ranges lost from the capture (zero-filled in buf), from the window on
	lostGone int      // lost bytes in holes dropped with the window's start
	searched int      // bytes searched (not lost)
	limit    int      // Config.MaxSniff: bytes searched before giving up, when giving up is allowed; bytes kept
	lock     int      // a chain was chosen whose next frame starts here, past the window's start (-1 none)
	held              // the bytes kept, counted in the total of all searches (sniff_total.go)
	times    []piece  // from t0 on: when the bytes kept came (sniff_times.go)
	t0       int

	// memo holds, for one advanceAll, where the chains walked so far went
	// from each frame start they passed (passages, by index), and how the
	// chains that passed them ended (ends); walking, the passages of the
	// chain being walked. All are dropped at the end of the advanceAll:
	// kept, they would hold up to a window's worth for each direction
	// still searching.
	memo     map[memoKey]int32
	passages []passage
	ends     []cand
	walking  []int32
	walked   int // frame headers the chains read (tests)
	// walkAll: advanceAll keeps no passages, every chain walks every
	// frame (tests compare the two). A field, not a global, so that
	// those tests can run in parallel.
	walkAll bool
}

// memoKey is all of a chain's state that its walk from a frame start
// depends on, once it has a frame (plausible: a first frame may be a
// continuation): where it is, the masking, an open message, and rsv1
// (which the walk only sets, but the chain reports).
type memoKey struct {
	next   int
	open   bool
	masked int8
	rsv1   bool
}

// passage is a chain's counters as it passed a frame start, and the
// state its walk ended in (nil while it walks). Another chain that comes
// to the same frame start with the same memoKey in the same advanceAll
// goes the same way from there (the bytes, the holes, the masking wanted
// and final do not change within one): it takes the end state and the
// counts added after the start (jump) instead of walking again. In bytes
// where every offset starts a plausible frame (all zero), each new
// candidate walked every frame to the end of the bytes: ~6 us a byte.
type passage struct {
	frames, evidence, verified, strong, nrec int
	end                                      int32 // in ends; -1 while the chain walks
}

// memoCap bounds the passages kept in one advanceAll: one for each two
// bytes in the window (a frame takes two at least) and some, so that
// bytes where every offset starts a frame have theirs; past it chains
// walk as they did (about 10 MB at most for a 256 KiB window, dropped
// after).
func (s *sniffer) memoCap() int { return len(s.buf)/2 + 1024 }

// end is the offset just past the last byte seen.
func (s *sniffer) end() int { return s.base + len(s.buf) }

// window is how many bytes are kept: enough for a frame header and the
// payload bytes checked after it.
func (s *sniffer) window() int {
	if s.cut {
		return windowMin
	}
	return max(s.limit, windowMin)
}

// gap records n lost bytes: chains may run through them inside payloads but
// not read a header from them.
func (s *sniffer) gap(n int) {
	at := s.end()
	s.holes = append(s.holes, [2]int{at, at + n})
	if len(s.buf)+n > s.window() {
		// Nothing before the hole stays in the window.
		s.base, s.buf = at+n, s.buf[:0]
	} else {
		s.buf = append(s.buf, make([]byte, n)...)
	}
	s.scanned = s.end()
	s.trim()
}

// trim drops the bytes that fell out of the window, and the holes in them.
func (s *sniffer) trim() {
	s.cutOver()
	if over := len(s.buf) - s.window(); over > 0 {
		s.buf = s.buf[:copy(s.buf, s.buf[over:])]
		s.base += over
	}
	s.trimTimes()
	s.recount()
	s.shrinkCands()
	h := s.holes[:0]
	for _, hl := range s.holes {
		if hl[1] <= s.base {
			s.lostGone += hl[1] - hl[0]
			continue
		}
		h = append(h, hl)
	}
	s.holes = h
}

// lostBefore returns the lost bytes before offset p (p >= s.base).
func (s *sniffer) lostBefore(p int) int {
	n := s.lostGone
	for _, hl := range s.holes {
		if hl[0] < p {
			n += min(hl[1], p) - hl[0]
		}
	}
	return n
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
	return &sniffer{want: want, minimum: minimum, lenient: lenient, limit: limit, lock: -1, at: map[chainKey]int{}}
}

// add appends bytes and makes candidates of the new offsets; decide then
// says whether a chain is found, and trim drops what the window no longer
// holds.
func (s *sniffer) add(b []byte) {
	s.searched += len(b)
	if s.lock >= 0 {
		s.buf = append(s.buf, b...)
		s.scanned = s.end()
		return // a chain was chosen: only its next frame start is awaited
	}
	s.addCand(s.end(), true) // a segment boundary is a likely frame start
	s.buf = append(s.buf, b...)
	full := false
	for ; s.scanned < s.end()-1; s.scanned++ {
		if len(s.cands) >= sniffMaxCands && !full {
			// Most candidates in payload bytes die within a few bytes:
			// drop the dead ones so that a large feed (reassembly hands
			// over up to 64 KiB at once) has candidates to its end. When
			// that frees little, the rest of the feed gets none but its
			// boundary.
			s.advanceAll(false)
			full = len(s.cands) >= sniffMaxCands/2
		}
		s.addCand(s.scanned, false)
	}
}

func (s *sniffer) addCand(off int, boundary bool) {
	// Random payload bytes make many short-lived candidates; past the cap
	// only feed boundaries, the likeliest frame starts, still get one.
	if len(s.cands) >= sniffMaxCands && !boundary {
		return
	}
	if i := off - s.base; !boundary && (len(s.buf)-i >= 2 && !quickHeader(s.buf[i], s.buf[i+1]) || s.inHole(off, off+2)) {
		return // cannot start a frame: not worth a candidate
	}
	if i, ok := s.at[chainKey{next: off, masked: -1}]; ok {
		if c := &s.cands[i]; boundary && c.start == off {
			c.boundary = true
		}
		return // an existing chain already starts at or reaches this offset
	}
	if len(s.cands) >= sniffMaxCands+sniffMaxCands/4 {
		return
	}
	if i := off - s.base; len(s.buf)-i >= 2 && !quickHeader(s.buf[i], s.buf[i+1]) || s.inHole(off, off+2) {
		return
	}
	s.at[chainKey{next: off, masked: -1}] = len(s.cands)
	s.cands = append(s.cands, cand{start: off, next: off, firstEnd: -1, masked: -1, boundary: boundary, from: off})
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
// index in s.cands of the best chain (see better) that ends exactly at the
// end of the bytes or, when lenient or final, runs into a last frame whose
// header is plausible and whose payload is still to come; -1 when there is
// none yet.
func (s *sniffer) decide(final bool) int {
	s.advanceAll(final)
	live := s.cands
	best := -1
	for i := range live {
		c := &live[i]
		need := s.minimum
		if c.rsv1 && !s.deflated && need < sniffMinFrames+1 {
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
		reaches := proof && (!c.pending && !c.peek && c.next == s.end() || (s.lenient || final) && (c.pending || c.peek))
		if reaches && c.evidence >= need && (best < 0 || c.better(&live[best])) {
			best = i
		}
	}
	if best < 0 {
		return -1
	}
	if s.lenient && !final {
		// After a gap, a chain that began earlier and is still inside a
		// long frame may yet explain these bytes as its payload: wait for
		// it (at most until that frame ends) rather than take frames found
		// inside a payload.
		for i := range live {
			if c := &live[i]; c.start < live[best].start && (c.pending || c.peek) && !c.better(&live[best]) {
				return -1
			}
		}
	}
	return best
}

// advanceAll advances every chain over the buffered bytes and drops the
// dead; chains that reach the same offset behave the same from there on,
// so only the better of them is kept.
func (s *sniffer) advanceAll(final bool) {
	clear(s.at)
	defer func() { s.memo, s.passages, s.ends, s.walking = nil, nil, nil, nil }()
	live := s.cands[:0]
	for i := range s.cands {
		c := s.cands[i]
		if s.want >= 0 && c.masked >= 0 && c.masked != s.want {
			continue // the masking expected changed since this chain began
		}
		s.advance(&c, final)
		if len(s.walking) > 0 {
			s.ends = append(s.ends, c)
			for _, p := range s.walking {
				s.passages[p].end = int32(len(s.ends) - 1)
			}
			s.walking = s.walking[:0]
		}
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
}

// replayFrom returns the offset from which an accepted chain's frames can
// be decoded again: its start, or its earliest frame start still in the
// window; -1 when even the start of its last frame has left the window.
func (s *sniffer) replayFrom(c *cand) int {
	if c.start >= s.base {
		return c.start
	}
	p := -1
	if c.from >= s.base {
		p = c.from
	}
	for _, r := range c.recent[:min(c.nrec, len(c.recent))] {
		if r >= s.base && (p < 0 || r < p) {
			p = r
		}
	}
	if !c.pending && c.next >= s.base && (p < 0 || c.next < p) {
		p = c.next
	}
	return p
}

// pairable reports whether the bytes seen so far are, from their first
// byte to their last, a chain of whole frames with content that proves
// them (a close with a valid code, text): the one or two frames of a
// connection caught at its end, taken as WebSocket when the other side's
// bytes are such a chain too, masked the other way.
func (s *sniffer) pairable() (masked int8, ok bool) {
	if s.base != 0 || len(s.holes) > 0 {
		return -1, false
	}
	s.decide(true)
	for i := range s.cands {
		c := &s.cands[i]
		if c.start == 0 && !c.pending && c.next == s.end() && c.strong >= 1 && c.verified == c.frames && c.masked >= 0 {
			return c.masked, true
		}
	}
	return -1, false
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

// advance walks a chain over every frame now buffered: a frame is judged
// when its header and the first payload bytes checked are there, and
// counted when its payload has gone by.
func (s *sniffer) advance(c *cand, final bool) {
	c.peek = false
	for !c.dead {
		if c.pending {
			if c.next > s.end() {
				return // payload still coming
			}
			c.pending = false
			if !s.inHole(c.pstart, c.next) {
				c.verified++
				if c.pendStrong {
					c.strong++
				}
			}
			if c.frames == 0 {
				c.firstEnd = c.next
			}
			c.frames++
			if c.pendData {
				c.evidence++
			}
			// Nothing pending: its fields cleared, so that a chain that
			// jumps (jump copies them) ends as one that walks.
			c.pstart, c.pendStrong, c.pendData = 0, false, false
		}
		if c.next >= s.end() {
			return
		}
		if c.frames > 0 && !s.walkAll {
			k := memoKey{c.next, c.open, c.masked, c.rsv1}
			if i, ok := s.memo[k]; ok && s.passages[i].end >= 0 {
				s.jump(c, &s.passages[i])
				return
			} else if !ok && len(s.passages) < s.memoCap() {
				if s.memo == nil {
					s.memo = map[memoKey]int32{}
				}
				s.memo[k] = int32(len(s.passages))
				s.walking = append(s.walking, int32(len(s.passages)))
				s.passages = append(s.passages, passage{frames: c.frames, evidence: c.evidence, verified: c.verified, strong: c.strong, nrec: c.nrec, end: -1})
			}
		}
		if c.next < s.base {
			c.dead = true // its bytes left the window (a long hole)
			return
		}
		hdr, n := ParseHeader(s.buf[c.next-s.base:])
		s.walked++
		if n == 0 {
			// The header is not complete yet: judge its first bytes, so
			// that bytes ending inside a header (a gap follows, or the
			// capture ends) still close the chain as bytes ending inside
			// a payload do.
			c.peek = !s.inHole(c.next, s.end()) && s.plausiblePrefix(c, s.buf[c.next-s.base:])
			return
		}
		if len(s.holes) > 0 && s.inHole(c.next, c.next+n) {
			c.dead = true // the header was lost: this chain cannot go on
			return
		}
		if hdr.Length > sniffMaxFrame {
			c.dead = true
			return
		}
		pstart := c.next + n
		check := min(int(hdr.Length), sniffCheck)
		if pstart+check > s.end() && !final {
			// Wait for the payload bytes that are checked; meanwhile
			// judge the header alone.
			probe := *c
			c.peek = s.plausible(&probe, &hdr, nil)
			return
		}
		payload := s.buf[pstart-s.base : min(pstart+int(hdr.Length), s.end())-s.base]
		if len(s.holes) > 0 && s.inHole(pstart, pstart+check) {
			payload = nil // content partly lost: judge the header alone
		}
		if !s.plausible(c, &hdr, payload) {
			c.dead = true
			return
		}
		if c.from < s.base {
			c.from = c.next
		}
		c.recent[c.nrec%len(c.recent)] = c.next
		c.nrec++
		c.pending, c.pstart = true, pstart
		c.pendStrong = (payload != nil || hdr.Length == 0) && strongContent(&hdr, payload)
		c.pendData = hdr.Opcode != OpContinuation
		c.next = pstart + int(hdr.Length)
	}
}

// jump ends c's walk at a frame start where the chain of passage p was,
// with the same memoKey: c ends as that chain ended, with the counts it
// added since (advance's walk would have done the same, frame by frame).
func (s *sniffer) jump(c *cand, p *passage) {
	e := &s.ends[p.end]
	d := e.nrec - p.nrec // frames judged from the start on
	if c.from < s.base && d > 0 {
		c.from = c.next // as advance sets it at the first frame it judges (a chain from an earlier advanceAll whose frame starts left the window; no input of TestSniffMemoSame made one)
	}
	for i := max(d-len(c.recent), 0); i < d; i++ {
		c.recent[(c.nrec+i)%len(c.recent)] = e.recent[(p.nrec+i)%len(e.recent)]
	}
	c.nrec += d
	c.frames += e.frames - p.frames
	c.evidence += e.evidence - p.evidence
	c.verified += e.verified - p.verified
	c.strong += e.strong - p.strong
	c.next, c.open, c.masked, c.rsv1, c.dead = e.next, e.open, e.masked, e.rsv1, e.dead
	c.pending, c.pstart, c.pendStrong, c.pendData, c.peek = e.pending, e.pstart, e.pendStrong, e.pendData, e.peek
}

// plausiblePrefix judges the first bytes of a header (fewer than the whole
// header) as plausible when some completion of them is: the missing bytes
// are filled with the smallest length and a mask key that the rules allow.
func (s *sniffer) plausiblePrefix(c *cand, b []byte) bool {
	var tmp [MaxHeaderLen]byte
	k := copy(tmp[:], b)
	if k < 2 {
		if s.want == 1 || s.want < 0 && c.masked == 1 {
			tmp[1] = maskBit // masked as the side must be; length 0
		}
	}
	switch tmp[1] & len7Bits {
	case len16Code:
		if k < 4 && tmp[2] == 0 {
			tmp[3] = 0xff // the low byte missing: 0xff makes any high byte minimal
		}
	case len64Code:
		if k < 8 && tmp[2]|tmp[3]|tmp[4]|tmp[5]|tmp[6] == 0 {
			tmp[7] = 1 // 64 KiB: the smallest length this encoding allows
		}
	}
	hdr, n := ParseHeader(tmp[:])
	if n == 0 {
		return false
	}
	probe := *c
	return s.plausible(&probe, &hdr, nil)
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
	return validUTF8Prefix(b, uint64(n) < h.Length || !h.Fin)
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
