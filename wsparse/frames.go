package wsparse

// The per-direction frame reader: header, then payload (unmasked and kept
// up to the limits), then the frame's record; a gap skips payload bytes or
// loses the frame boundaries (the side is then resynchronised).

import (
	"sync"
	"time"
)

// reader is where a side's decoding stands: its mode (HTTP, frames, a
// search for frame boundaries, nothing) and, reading frames, its place in
// the frame stream: header, payload (with its key phase), or desynced
// after a gap and searched (sniff) until the boundaries are found again.
type reader struct {
	sniff     *sniffer // modeSniff: the search for frame boundaries
	frames    int
	mode      mode
	midStream bool // decoding started inside a message: a first continuation is expected
	masked    int8 // masking this side's frames used so far (-1 none yet)
	inPayload bool
	holed     bool // a gap hit the current payload
	closed    bool // this side sent a Close frame
	phase     int8 // masking key phase
	sniffed   bool // framing recognised without a handshake
}

// frameState is the frame a side is assembling, taken from framePool when
// the frame starts and given back when it ends.
type frameState struct {
	cur  Frame
	left uint64 // payload bytes still to come

	// Frame header being accumulated across feeds (before cur starts).
	hdr  [MaxHeaderLen]byte
	hdrN int8

	// The payload at rest between feeds (spill.go): counted in
	// spills.held, or in the spill file.
	payAtRest bool
	paySpill  spillRef

	payload  []byte
	unmasked []byte // scratch for streamed payload bytes past the limits
}

var framePool = sync.Pool{New: func() any { return new(frameState) }}

// openFrame gives a side its frame state.
func (h *half) openFrame() {
	if h.frameState == nil {
		h.frameState = framePool.Get().(*frameState)
	}
}

// feedFrames decodes WebSocket frames.
func (c *Conn) feedFrames(side int, data []byte, ts time.Time) {
	h := &c.half[side]
	c.wakeFrame(h, true)
	defer c.restFrame(h, len(data))
	for len(data) > 0 {
		if h.inPayload {
			n := int(min(uint64(len(data)), h.left))
			c.payloadBytes(h, data[:n])
			data = data[n:]
			h.left -= uint64(n)
			if h.left == 0 {
				c.endFrame(side, ts)
			}
			continue
		}
		var hdr Header
		var n int
		if h.frameState == nil || h.hdrN == 0 {
			hdr, n = ParseHeader(data)
			if n > 0 {
				data = data[n:]
			}
		}
		if n == 0 {
			// The header straddles feeds: gather it in h.hdr.
			h.openFrame()
			hn := int(h.hdrN)
			need := MaxHeaderLen
			if hn >= 2 {
				need = HeaderSize(h.hdr[0], h.hdr[1])
			} else if hn+len(data) >= 2 {
				b1 := data[1-hn]
				if hn == 1 {
					b1 = data[0]
				}
				b0 := h.hdr[0]
				if hn == 0 {
					b0 = data[0]
				}
				need = HeaderSize(b0, b1)
			}
			take := min(need-hn, len(data))
			copy(h.hdr[hn:], data[:take])
			hn += take
			h.hdrN = int8(hn)
			data = data[take:]
			if hn < need {
				return
			}
			hdr, _ = ParseHeader(h.hdr[:h.hdrN])
			h.hdrN = 0
		}
		c.startFrame(side, hdr, len(data))
		if h.left == 0 {
			c.endFrame(side, ts)
		}
	}
}

func (c *Conn) startFrame(side int, hdr Header, avail int) {
	h := &c.half[side]
	if !hdr.Opcode.IsControl() {
		// A message at rest since its last frame (spill.go) is needed
		// again; a control frame between its fragments leaves it be.
		c.wake(h, true)
	}
	dir := c.dirOf(side)
	h.frames++
	h.openFrame()
	h.cur = Frame{Header: hdr, Dir: dir, Index: h.frames}
	a := hdr.Rules()
	if dir == ClientToServer && !hdr.Masked {
		a |= AnomClientUnmasked
	}
	if dir == ServerToClient && hdr.Masked {
		a |= AnomServerMasked
	}
	deflate := c.deflate()
	if hdr.RSV&^4 != 0 || hdr.RSV&4 != 0 && !deflate {
		a |= AnomRSVWithoutExt
	} else if hdr.RSV&4 != 0 {
		if hdr.Opcode == OpContinuation {
			a |= AnomRSV1OnContinuation
		} else if hdr.Opcode.IsControl() {
			a |= AnomRSV1OnControl
		}
	}
	if h.closed {
		a |= AnomDataAfterClose
	}
	switch {
	case hdr.Opcode == OpContinuation && !h.msgOpen && !h.midStream:
		a |= AnomOrphanContinuation
	case (hdr.Opcode == OpText || hdr.Opcode == OpBinary) && h.msgOpen:
		a |= AnomInterruptedMessage
	}
	if hdr.Opcode == OpText || hdr.Opcode == OpBinary || hdr.Opcode.IsControl() {
		h.midStream = false
	}
	if hdr.Masked {
		h.masked = 1
	} else {
		h.masked = 0
	}
	switch hdr.Opcode {
	case OpText, OpBinary:
		h.cur.MessageOpcode = hdr.Opcode
	case OpContinuation:
		if h.msgOpen {
			h.cur.MessageOpcode = h.msg.Opcode
		}
	}
	h.cur.Anomalies = a
	switch hdr.Opcode {
	case OpText, OpBinary:
		// Not while another message is open (interrupted_message): its
		// inflation comes first.
		h.deflating = hdr.RSV&4 != 0 && deflate && !h.msgOpen
	case OpContinuation:
		h.deflating = h.msgOpen && h.msg.Compressed && !h.msgCut
	default:
		h.deflating = false
	}
	h.inPayload = true
	h.left = hdr.Length
	h.phase = 0
	h.holed = false
	h.payload = h.payload[:0]
	if want := int(min(hdr.Length, uint64(c.cfg.MaxPayload), uint64(avail))); want > cap(h.payload) {
		// Sized for what the frame has of this feed at once, then by
		// doubling as its bytes come: a header's length is only a claim
		// (100 000 connections whose headers claimed 1 MiB and sent 1 000
		// bytes held 1 MiB each, 720 MiB, when it sized the buffer).
		h.payload = grow(h.payload, want)
	}
	st := &c.sum.Stats[dir]
	st.Frames++
	if hdr.Opcode.IsControl() {
		st.ControlFrames++
	}
	st.PayloadBytes += hdr.Length
	st.WireBytes += uint64(hdr.Size) + hdr.Length
	c.fed += uint64(hdr.Size)
}

// payloadBytes keeps (up to the limit) and unmasks the next payload bytes of
// the current frame. The bytes of a compressed message too big to keep
// whole go to the inflater as they come (see stream).
func (c *Conn) payloadBytes(h *half, b []byte) {
	c.fed += uint64(len(b))
	z := h.inflater
	streaming := h.deflating && !h.holed && z != nil && z.streaming()
	if h.deflating && !h.holed && !streaming && c.overflows(h, len(b)) {
		z = c.inflaterFor(h, h.cur.Dir)
		z.startStream(c.cfg.MaxMessage, c.inflateBudget())
		if h.cur.Opcode == OpContinuation && h.msgState != nil {
			c.unchunk(h)
			z.push(h.msg.Data, c.inflateBudget())
		}
		z.push(h.payload, c.inflateBudget())
		streaming = true
	}
	room := c.cfg.MaxPayload - len(h.payload)
	if h.holed {
		room = 0
	}
	keep := b
	if len(b) > room {
		keep = b[:max(room, 0)]
		if !h.holed {
			h.cur.Anomalies |= AnomPayloadTruncated
		}
	}
	if len(keep) > 0 {
		start := len(h.payload)
		h.payload = append(grow(h.payload, len(keep)), keep...)
		if h.cur.Masked {
			h.phase = int8(Unmask(h.cur.MaskKey, int(h.phase), h.payload[start:]))
		}
		if streaming {
			z.push(h.payload[start:], c.inflateBudget())
		}
	}
	rest := b[len(keep):]
	if !streaming {
		h.phase = int8((int(h.phase) + len(rest)) & 3)
		return
	}
	if h.unmasked == nil {
		h.unmasked = getBuf(32 << 10)[:32<<10]
	}
	for len(rest) > 0 {
		p := h.unmasked[:copy(h.unmasked, rest)]
		rest = rest[len(p):]
		if h.cur.Masked {
			h.phase = int8(Unmask(h.cur.MaskKey, int(h.phase), p))
		}
		z.push(p, c.inflateBudget())
	}
}

// overflows reports whether n more payload bytes of the current frame
// would not all be kept, in the frame or in its message.
func (c *Conn) overflows(h *half, n int) bool {
	kept := len(h.payload) + n
	if h.cur.Opcode == OpContinuation && h.msgState != nil {
		return kept > c.cfg.MaxPayload || h.msgLen()+kept > c.cfg.MaxMessage
	}
	return kept > min(c.cfg.MaxPayload, c.cfg.MaxMessage)
}

// endFrame reports the finished current frame and any message it completes,
// then gives its buffers back to the pools (the message buffer once the
// message is done): an idle direction holds none.
func (c *Conn) endFrame(side int, ts time.Time) {
	h := &c.half[side]
	decoded := h.cur.Size + len(h.payload) // the frame's bytes (those kept of its payload)
	c.emitFrame(side, ts)
	h.payload = release(h.payload)
	h.cur.Payload = nil
	h.idle()
	c.rest(h, decoded)
}

// emitFrame reports the finished current frame and any message it completes.
func (c *Conn) emitFrame(side int, ts time.Time) {
	h := &c.half[side]
	c.wakeFrame(h, true) // a payload at rest since the last feed, cut by the end or a gap
	f := &h.cur
	h.inPayload = false
	f.TS = ts
	f.Payload = h.payload
	if h.msgState != nil {
		c.setMsgTS(h, ts) // the open message's last frame (see msgState)
	}
	if f.Opcode == OpClose {
		code, has, reason, a := ParseClose(f.Payload)
		f.CloseCode, f.HasCloseCode, f.CloseReason = code, has, reason
		f.Anomalies |= a
		if !h.closed {
			h.closed = true
			x := c.extra()
			x.close[f.Dir] = CloseInfo{Sent: true, TS: ts, Code: code, HasCode: has, Reason: reason}
			if !x.close[1-f.Dir].Sent {
				x.initiator = f.Dir
			}
		}
	}
	c.sum.Anomalies |= f.Anomalies
	c.sink.Frame(c, f)
	c.addToMessage(h, f, ts)
}

// gap skips n lost bytes of a side's stream (Gap, and replays of sniffed
// bytes with holes in them); not sure: at most n (GapUnsure).
func (c *Conn) gap(side int, n int, sure bool, ts time.Time) {
	h := &c.half[side]
	switch h.mode {
	case modeSniff:
		// Chains may run through the hole inside a payload.
		c.gapSniff(h.sniff, n, ts)
		h.sniff.lock = -1 // the frame start chosen may be lost: look again
		return
	case modeWS:
	case modeHTTP, modeAwait:
		// A gap in the handshake (a snap length cut the heads short, a
		// segment was lost): the upgrade may have happened unseen, so look
		// for frames after it.
		if c.startSniff(side, nil, true) {
			h.dropHTTP()
			return
		}
		c.ignore(side)
		return
	default:
		c.ignore(side)
		return
	}
	if h.inPayload && uint64(n) <= h.left && sure {
		h.cur.Anomalies |= AnomPayloadIncomplete
		h.phase = int8((int(h.phase) + n) & 3)
		h.left -= uint64(n)
		// What is kept must stay contiguous: keep nothing more of this frame.
		h.holed = true
		if h.left == 0 {
			c.endFrame(side, ts)
		}
		return
	}
	if h.inPayload {
		h.cur.Anomalies |= AnomPayloadIncomplete
		c.endFrame(side, ts)
	}
	// The frame boundaries are lost: find them again. Whole compressed
	// messages may have been lost with them, and the window with them.
	if h.frameState != nil {
		h.hdrN = 0
	}
	if h.inflater != nil {
		h.inflater.forget()
	}
	if h.msgOpen {
		h.msg.Anomalies |= AnomMessageIncomplete
		c.emitMessage(h, h.msg.Dir)
	}
	h.idle()
	h.mode = modeSniff
	c.newSniff(h, h.masked, 1, true)
	c.rare(c.dirOf(side)).Resyncs++
}
