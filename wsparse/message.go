package wsparse

// Message assembly: data frames joined into messages, cut at the limits,
// inflated with permessage-deflate, checked for UTF-8.

import (
	"sync"
	"time"
	"unicode/utf8"
)

// msgAssembly is what a side keeps across its messages.
type msgAssembly struct {
	inflater  *inflater // permessage-deflate, made at the first compressed message
	messages  int
	msgOpen   bool // a message is being assembled
	deflating bool // the current frame belongs to a compressed message (that may stream into the inflater)
	msgCut    bool // bytes of the open message were not kept: nothing after them is
	msgPooled bool // msg.Data is the open message's pooled buffer (see msgState)
	atRest    bool // the open message's buffer is counted in spills.held (spill.go)
	// chunked: the first bytes of the open message, over spillMax, are in
	// the spill file (spills.chunks); msg.Data holds the bytes after them.
	chunked bool
}

// msgState is the message a side is assembling, taken from msgPool when
// the message starts and given back when it has been reported: the
// fields of its Message that change while it is open (its Index is the
// side's count of messages; its TS, when its direction last completed a
// frame, is kept as the time since the connection's First), made into
// the Message reported when it ends (its Len is its WireLen until then).
// msg.Data is the buffer its bytes are kept in (msgPooled; set when it is
// reported anyway): 64 bytes, not 152 with a field for each, then 128,
// then 112 (a whole Message).
type msgState struct {
	msg openMessage
}

// openMessage is what a Message is while it is being assembled.
type openMessage struct {
	Data       []byte
	WireLen    uint64
	Frames     int
	Anomalies  Anomalies
	since      time.Duration // TS - First
	Dir        Dir
	Opcode     Opcode
	Compressed bool
	far        bool     // First + since is not TS (hostile times): TS is the side's sumMore.farMsgTS
	spill      spillRef // where Data's bytes are in the spill file, or 0 (spill.go)
}

var msgPool = sync.Pool{New: func() any { return new(msgState) }}

// messagePool holds the Messages handed to the sink: one is made from the
// open message's state when it ends, and given back once reported.
var messagePool = sync.Pool{New: func() any { return new(Message) }}

// setMsgTS sets the TS of a side's open message.
func (c *Conn) setMsgTS(h *half, ts time.Time) {
	m := &h.msg
	first := c.sum.First // not zero once bytes were fed, and never changed then
	if d := ts.Sub(first); !first.IsZero() && first.Add(d) == ts {
		m.since, m.far = d, false
		return
	}
	m.far = true
	c.extra().farMsgTS[c.sideOfHalf(h)] = ts
}

// msgTS returns the TS of a side's open message.
func (c *Conn) msgTS(h *half) time.Time {
	if h.msg.far {
		return c.sum.more.farMsgTS[c.sideOfHalf(h)]
	}
	return c.sum.First.Add(h.msg.since)
}

// sideOfHalf returns the side whose state h is.
func (c *Conn) sideOfHalf(h *half) int {
	if h == &c.half[1] {
		return 1
	}
	return 0
}

// openMsg gives a side its message state.
func (h *half) openMsg() {
	if h.msgState == nil {
		h.msgState = msgPool.Get().(*msgState)
	}
}

// inflatedBytes is what the connection inflated so far (kept or not).
func (c *Conn) inflatedBytes() uint64 {
	if c.sum.more == nil {
		return 0
	}
	return c.sum.more.inflated
}

// inflateAllowance is inflated output every connection may have beyond
// MaxInflateRatio times its bytes, so that a first message that compresses
// very well is not cut for coming first.
const inflateAllowance = 64 << 10

// inflateBudget is what the connection may still inflate under
// MaxInflateRatio.
func (c *Conn) inflateBudget() uint64 {
	r := uint64(c.cfg.MaxInflateRatio)
	if c.fed > (noBudget-inflateAllowance)/r {
		return noBudget
	}
	if b, done := c.fed*r+inflateAllowance, c.inflatedBytes(); b > done {
		return b - done
	}
	return 0
}

// addToMessage adds a data frame just reported to its side's message:
// it starts one (text, binary) or goes on with the open one
// (continuation), and reports the message the frame ends.
func (c *Conn) addToMessage(h *half, f *Frame, ts time.Time) {
	switch f.Opcode {
	case OpText, OpBinary:
		if h.msgOpen {
			h.msg.Anomalies |= AnomMessageIncomplete
			c.emitMessage(h, f.Dir)
		}
		h.messages++
		h.openMsg()
		h.msg = openMessage{Dir: f.Dir, Opcode: f.Opcode, Frames: 1, WireLen: f.Length,
			Compressed: f.RSV&4 != 0 && c.deflate()}
		c.setMsgTS(h, ts)
		h.msgCut = false
		streamed := h.msg.Compressed && h.inflater != nil && h.inflater.streaming()
		c.frameCut(h, f, streamed)
		if f.Fin {
			// Unfragmented: the frame's payload is the message.
			c.setMsgTS(h, ts)
			if !streamed {
				h.msg.Data = f.Payload
				if len(f.Payload) > c.cfg.MaxMessage {
					// --max-message below --max-payload: the message limit holds.
					h.msg.Data = f.Payload[:c.cfg.MaxMessage]
					h.msg.Anomalies |= AnomMessageTruncated
				}
			}
			c.finishMessage(h)
			return
		}
		h.msgOpen = true
		if !streamed {
			keep := f.Payload[:min(len(f.Payload), c.cfg.MaxMessage)]
			if len(keep) < len(f.Payload) {
				h.msg.Anomalies |= AnomMessageTruncated
				h.msgCut = true
			}
			h.msg.Data, h.msgPooled = append(grow(h.msg.Data, len(keep)), keep...), true
		}
	case OpContinuation:
		if !h.msgOpen {
			return
		}
		h.msg.Frames++
		h.msg.WireLen += f.Length
		streamed := h.msg.Compressed && h.inflater != nil && h.inflater.streaming()
		wasCut := h.msgCut
		c.frameCut(h, f, streamed)
		if !wasCut && !streamed {
			// Nothing after a cut is kept: the data stays what was sent,
			// in one piece.
			room := c.cfg.MaxMessage - h.msgLen()
			keep := f.Payload[:min(len(f.Payload), max(room, 0))]
			if len(keep) < len(f.Payload) {
				h.msg.Anomalies |= AnomMessageTruncated
				h.msgCut = true
			}
			h.msg.Data, h.msgPooled = append(grow(h.msg.Data, len(keep)), keep...), true
		}
		if f.Fin {
			c.setMsgTS(h, ts)
			h.msgOpen = false
			c.finishMessage(h)
		}
	}
}

// frameCut marks the open message when the frame that just ended lost
// bytes: to the capture (capture_truncated), or to --max-payload
// (message_truncated) unless they streamed into the inflater. The message
// keeps nothing after them.
func (c *Conn) frameCut(h *half, f *Frame, streamed bool) {
	cut := false
	if f.Anomalies&AnomPayloadIncomplete != 0 {
		h.msg.Anomalies |= AnomCaptureTruncated
		cut = true
	}
	if f.Anomalies&AnomPayloadTruncated != 0 && !streamed {
		h.msg.Anomalies |= AnomMessageTruncated
		cut = true
	}
	if cut {
		h.msgCut = true
	}
}

// emitMessage reports an unfinished message (at a protocol error or the end).
func (c *Conn) emitMessage(h *half, dir Dir) {
	h.msgOpen = false // h.msg.TS: when the last frame completed; h.msg.Data: its bytes
	c.finishMessage(h)
}

func (c *Conn) finishMessage(h *half) {
	c.wake(h, true)
	c.unchunk(h)
	om := &h.msg
	m := messagePool.Get().(*Message)
	*m = Message{Dir: om.Dir, Opcode: om.Opcode, Compressed: om.Compressed, TS: c.msgTS(h), Frames: om.Frames,
		Len: om.WireLen, WireLen: om.WireLen, Data: om.Data, Index: h.messages, Anomalies: om.Anomalies}
	var pooled []byte // the buffer to give back once the record is out
	if h.msgPooled {
		pooled, h.msgPooled = m.Data, false
	}
	if m.Compressed {
		c.inflateMessage(h, m)
	}
	undecoded := m.Anomalies&(AnomInflateNoContext|AnomInflateFailed) != 0
	cut := m.Anomalies&(AnomMessageTruncated|AnomMessageIncomplete|AnomCaptureTruncated|AnomInflateRatio) != 0
	if m.Opcode == OpText && !undecoded && !validUTF8Prefix(m.Data, cut) {
		m.Anomalies |= AnomInvalidUTF8
	}
	st := &c.sum.Stats[m.Dir]
	st.Messages++
	c.sum.Anomalies |= m.Anomalies
	c.sink.Message(c, m)
	if m.Compressed && h.inflater != nil {
		h.inflater.release()
		c.restWindow(h.inflater, m.Len)
	}
	om.Data = nil
	*m = Message{}
	messagePool.Put(m)
	putBuf(pooled)
}

// inflaterFor returns the inflater of a side, made at its first
// compressed message.
func (c *Conn) inflaterFor(h *half, d Dir) *inflater {
	if h.inflater == nil {
		if !c.hasHS() {
			// Parameters unknown, window unknown: messages inflate while
			// they refer only to what was inflated since (see inflate).
			h.inflater = &inflater{lost: true}
		} else {
			var p DeflateParams
			if c.kept != nil {
				p = c.kept.deflateParams()
			}
			if c.hs != nil {
				p = c.hs.DeflateParams
			}
			noCtx := p.ClientNoContextTakeover
			if d == ServerToClient {
				noCtx = p.ServerNoContextTakeover
			}
			h.inflater = &inflater{noCtx: noCtx}
		}
	}
	return h.inflater
}

// inflateMessage replaces a compressed message's data by its inflated
// bytes, and its length by the inflated length when it inflated to its end.
func (c *Conn) inflateMessage(h *half, m *Message) {
	z := c.inflaterFor(h, m.Dir)
	complete := m.Anomalies&(AnomMessageTruncated|AnomMessageIncomplete|AnomCaptureTruncated) == 0
	var res inflated
	if z.streaming() {
		res = z.finish(complete, c.inflateBudget())
		if h.frameState != nil {
			h.unmasked = release(h.unmasked)
		}
	} else {
		res = z.inflateMsg(m.Data, complete, c.cfg.MaxMessage, c.inflateBudget())
	}
	if res.total > 0 {
		c.extra().inflated += res.total
	}
	if res.a&AnomInflateRatio != 0 {
		c.hit().InflateRatio++
	}
	m.Anomalies |= res.a
	m.Data = res.out
	m.Len = res.total
	st := c.rare(m.Dir)
	st.CompressedMessages++
	if !res.whole {
		// The inflated length is not known: only what was inflated.
		m.Len, m.LenUnknown = uint64(len(res.out)), true
		return
	}
	st.CompressedBytes += m.WireLen
	st.InflatedBytes += m.Len
}

// validUTF8Prefix reports whether b is UTF-8; when cut is true, b may end in
// the middle of a code point.
func validUTF8Prefix(b []byte, cut bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if !cut {
		return false
	}
	// Drop up to three bytes of a code point cut short at the end.
	for i := 1; i <= 3 && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			return !utf8.FullRune(b[len(b)-i:]) && utf8.Valid(b[:len(b)-i])
		}
	}
	return false
}

// deflate reports whether RSV1 means permessage-deflate: negotiated in the
// handshake, or (without one) assumed, since it is the only extension in use.
func (c *Conn) deflate() bool {
	if c.hs != nil {
		return c.hs.Deflate
	}
	if c.kept != nil {
		return c.kept.deflate
	}
	return c.ws
}
