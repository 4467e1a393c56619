package wsparse

// The HTTP/1 head driver: heads and bodies of each side, the upgrade
// request and its answer, and heads over the limit.

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// httpHalf is the state of a side that speaks HTTP.
type httpHalf struct {
	buf []byte // head being accumulated, or pending client bytes in modeAwait
	// A head over MaxHTTPHeader: its first MaxHTTPHeader bytes stay in buf
	// and the rest is passed over (counted in over) up to its blank line;
	// nl is how much of a line end was seen (1 after LF, 2 after LF CR).
	long    bool
	nl      int8
	body    bodyKind
	over    int
	bodyLen int64
	chunks  chunkSkipper
	upBody  bool // the body is the upgrade request's: counted as skipped, and the side awaits the answer after it
	// held is how many of buf's bytes are pending client bytes counted in
	// *heldIn, the total of the connections' Shared (MaxPendingTotal);
	// given back when buf is.
	held   int
	heldIn *int
	// head is the capacity of buf counted in *headIn, the total of the
	// unfinished heads of the connections' Shared (MaxHTTPHeaderTotal).
	head   int
	headIn *int
}

// httpPool holds the HTTP states of sides that speak HTTP no more: a
// connection borrows one per side for its handshake only, so they are
// reused rather than made (and dropped) for every connection.
var httpPool = sync.Pool{New: func() any { return new(httpHalf) }}

// openHTTP gives a side its HTTP state.
func (h *half) openHTTP() {
	if h.httpHalf == nil {
		h.httpHalf = httpPool.Get().(*httpHalf)
	}
}

// dropHTTP gives a side's HTTP state back to the pool (the bytes it held
// are left to whoever took them: they are not reused).
func (h *half) dropHTTP() {
	if h.httpHalf != nil {
		h.unhold()
		h.unhead()
		*h.httpHalf = httpHalf{}
		httpPool.Put(h.httpHalf)
		h.httpHalf = nil
	}
}

// dropBuf forgets the head or pending bytes a side holds.
func (h *half) dropBuf() {
	if h.httpHalf != nil {
		h.unhold()
		h.unhead()
		h.buf = nil
	}
}

// httpBuf returns the head or pending bytes a side holds.
func (h *half) httpBuf() []byte {
	if h.httpHalf == nil {
		return nil
	}
	return h.buf
}

// closeHTTP drops a side's HTTP state once it speaks HTTP no more.
func (h *half) closeHTTP() {
	if h.mode != modeHTTP && h.mode != modeAwait {
		h.dropHTTP()
	}
}

// httpDriver is what the HTTP/1 head driver knows of a connection: its
// handshake, the requests awaiting answers, and how its heads were read.
type httpDriver struct {
	hs        *Handshake     // the handshake until its record is out
	kept      *keptHandshake // then what the connection keeps of it
	ex        *httpExchange  // HTTP requests awaiting responses: nil until one, and after the upgrade
	upgrading bool           // the last request asked for an upgrade
	headCut   bool           // an HTTP head was over MaxHTTPHeader
	cut       bool           // the head being handled is cut: fields after the limit are unknown
	reqBad    bool           // the parser rejected the client's request: a 101 websocket answer is believed
	lenient   bool           // a head was read leniently (http_nonconforming)

	// The decoder's flags, here in the padding.
	ws     bool // the upgrade succeeded, or framing was recognised
	forced bool // --ws-port: decode as WebSocket whatever the evidence
	ended  bool
}

// feedHeads decodes HTTP heads and skips bodies until a side switches mode; it
// returns the bytes it did not consume.
func (c *Conn) feedHeads(side int, data []byte, ts time.Time) []byte {
	h := &c.half[side]
	h.openHTTP()
	for len(data) > 0 && h.mode == modeHTTP {
		if h.long {
			data = c.skipLongHead(side, data, ts)
			continue
		}
		switch h.body {
		case bodyLength:
			n := int64(min(int64(len(data)), h.bodyLen))
			data = data[n:]
			if h.upBody {
				c.rare(c.dirOf(side)).SkippedBytes += uint64(n)
			}
			if h.bodyLen -= n; h.bodyLen == 0 {
				h.body = bodyNone
				c.afterUpgradeBody(side)
			}
			continue
		case bodyChunked:
			rest, done, broken := h.chunks.skip(data)
			if h.upBody {
				c.rare(c.dirOf(side)).SkippedBytes += uint64(len(data) - len(rest))
			}
			data = rest
			if broken {
				c.failHTTP(side)
			} else if done {
				h.body = bodyNone
				c.afterUpgradeBody(side)
			}
			continue
		case bodyUntilClose:
			return nil
		}
		if len(h.buf) == 0 || httpStart(h.buf) == 0 {
			// Not yet known to be a head: held until its first line tells.
			b := data
			if len(h.buf) > 0 {
				b = append(h.buf[:len(h.buf):len(h.buf)], data...)
			}
			switch httpStart(b) {
			case -1:
				if side == int(c.clientSide) && !c.hasHS() && c.ex != nil && len(c.ex.reqs) > 0 && !c.reqBad && (len(b) < 2 || b[1]&maskBit != 0) {
					// Not HTTP after a request still unanswered: held for
					// the answer, as after an upgrade request (a 101 to
					// websocket may answer it all the same). Only what may
					// be a client's frame (masked): not a CONNECT's TLS.
					h.buf = nil
					h.mode = modeAwait
					return b
				}
				held := h.buf
				h.buf = nil
				if c.startSniff(side, b, false) {
					if len(held) > 0 {
						c.feedSniff(side, held, ts)
					}
					return data
				}
				c.failHTTP(side)
				return b // counted if the connection is reported
			case 0:
				h.buf = append(h.buf, data...)
				return nil
			}
			// Empty lines before the start line are passed over (RFC 9112 §2.2).
			if n := leadingEmpty(h.buf); n == len(h.buf) {
				h.buf = h.buf[:0]
				data = data[leadingEmpty(data):]
			} else if n > 0 {
				h.buf = append(h.buf[:0], h.buf[n:]...)
			}
			if len(data) == 0 {
				return nil
			}
		}
		start, limit := len(h.buf), c.cfg.MaxHTTPHeader
		room := limit - start
		take := min(len(data), room+1)
		var hb []byte // the head: in data when it is whole there, else in h.buf
		end := -1
		if start == 0 {
			if end = headEnd(data[:take], 0); end >= 0 {
				hb = data // parsed where it lies, not copied first
			}
		}
		if hb == nil {
			// Held until its end comes: in the total of all heads too.
			if l := c.headLimit(h, start); l < limit {
				limit = l
				take = min(take, limit-start+1)
			}
			h.buf = append(h.buf, data[:take]...)
			end = headEnd(h.buf, start)
			hb = h.buf
		}
		if end < 0 {
			data = data[take:]
			if len(h.buf) > limit {
				// Over the limit: keep what fits, pass over the rest up to
				// the blank line, and decode what follows.
				if limit < c.cfg.MaxHTTPHeader {
					c.hit().HTTPHeaderTotal++
				} else {
					c.hit().HTTPHeader++
				}
				c.headCut = true
				c.sum.Anomalies |= AnomHTTPHeaderTooLong
				c.hsAnomaly(AnomHTTPHeaderTooLong)
				h.long, h.over = true, 0
				last := h.buf[len(h.buf)-1]
				h.buf = h.buf[:len(h.buf)-1]
				h.nl = 0
				if n := len(h.buf); n > 0 && h.buf[n-1] == '\n' {
					h.nl = 1
				} else if n > 1 && h.buf[n-1] == '\r' && h.buf[n-2] == '\n' {
					h.nl = 2
				}
				data = c.skipLongHead(side, append([]byte{last}, data...), ts)
			}
			continue
		}
		data = data[end-start:]
		fields := takeFields()
		head, ok := parseHeadInto(hb[:end], *fields)
		response := bytes.HasPrefix(hb, []byte("HTTP/"))
		h.buf = nil // not kept for the rest of the connection
		if !ok {
			fieldsDone(fields, head.fields)
			c.hsAnomaly(AnomHTTPMalformed)
			c.sum.Anomalies |= AnomHTTPMalformed
			if !c.hasHS() && (c.ex == nil || len(c.ex.reqs) == 0) && int(c.clientSide) != 1-side && !response {
				// A request the parser rejects: what the server answers
				// tells whether the upgrade happened, and the client's bytes
				// after it wait for that answer.
				c.clientSide = int8(side)
				c.reqBad = true
				h.mode = modeAwait
				return data
			}
			if c.hasHS() && c.upgrading && side != int(c.clientSide) && c.startSniff(side, nil, true) {
				// The answer to the upgrade cannot be read: what follows
				// it is searched for frames, on both sides.
				c.rare(c.dirOf(side)).Resyncs++
				c.rare(c.dirOf(side)).SkippedBytes += uint64(end)
				c.resyncClient(side, ts)
				return data
			}
			c.failHTTP(side)
			return data // counted if the connection is reported
		}
		if !head.request && c.holdAnswer(side, &head, hb[:end], data, ts) {
			fieldsDone(fields, head.fields)
			return nil
		}
		if head.lenient {
			c.sum.Anomalies |= AnomHTTPNonconforming
			c.lenient = true
			c.hsAnomaly(AnomHTTPNonconforming)
		}
		if head.request {
			c.onRequest(side, &head, ts)
		} else {
			c.onResponse(side, &head, ts)
		}
		fieldsDone(fields, head.fields)
	}
	return data
}

// fieldsPool holds the fields slices of the heads being handled: a head's
// fields are needed only while it is handled (what outlives it is
// copied), so the slice goes back for the next head.
var fieldsPool = sync.Pool{New: func() any { f := make([]httpField, 0, 16); return &f }}

// takeFields lends a head a fields slice.
func takeFields() *[]httpField { return fieldsPool.Get().(*[]httpField) }

// fieldsDone gives a head's fields slice back once the head has been
// handled, keeping room grown for a longer head up to maxPooledFields.
func fieldsDone(p *[]httpField, f []httpField) {
	clear(f) // f is *p's array, or a bigger one the head needed, or nil
	if cap(f) > cap(*p) && cap(f) <= maxPooledFields {
		*p = f[:0]
	}
	fieldsPool.Put(p)
}

// maxPooledFields bounds the fields slices kept for the heads to come.
const maxPooledFields = 64

// skipLongHead passes over the rest of a head longer than MaxHTTPHeader,
// looking for its blank line with a few bits of state, and returns the bytes
// after it. The head is then handled from its lines that fit (Upgrade and
// the like may be past the cut); when not even its start line fits, or a
// byte no head may hold shows that the head ended unseen, the bytes after
// it are searched for WebSocket frames as after a gap.
func (c *Conn) skipLongHead(side int, data []byte, ts time.Time) []byte {
	h := &c.half[side]
	for i, b := range data {
		switch {
		case b == '\n' && h.nl > 0:
			h.over += i + 1
			return c.endLongHead(side, data[i+1:], ts, true)
		case b == '\n':
			h.nl = 1
		case b == '\r' && h.nl == 1:
			h.nl = 2
		case b < 0x20 && b != '\t' && b != '\r' || b == 0x7f:
			// Not in any head (RFC 9110 §5.5): what follows is something
			// else, starting a frame header's length before this byte.
			j := max(0, i-(MaxHeaderLen-1))
			h.over += j
			return c.endLongHead(side, data[j:], ts, false)
		default:
			h.nl = 0
		}
	}
	h.over += len(data)
	return nil
}

// endLongHead handles a head that was over the limit once its end is found
// (ended) or guessed, and returns the bytes after it for the side's new mode.
func (c *Conn) endLongHead(side int, rest []byte, ts time.Time, ended bool) []byte {
	h := &c.half[side]
	head, ok := partialHead(h.buf)
	kept := len(h.buf)
	h.long, h.buf = false, nil
	over := h.over
	h.over, h.nl = 0, 0
	if !ok || !ended {
		if !c.startSniff(side, nil, true) {
			c.failHTTP(side)
			return nil
		}
		c.rare(c.dirOf(side)).SkippedBytes += uint64(kept + over)
		if c.clientSide >= 0 && side != int(c.clientSide) {
			// The server's answer is lost in its head: the client's
			// bytes after its request are searched for frames too.
			c.resyncClient(side, ts)
		}
		if len(rest) > 0 {
			c.feedSniff(side, rest, ts)
		}
		return nil
	}
	c.cut = true
	if head.request {
		c.onRequest(side, &head, ts)
		if !c.hasHS() && int(c.clientSide) == side && h.mode == modeHTTP && h.body == bodyNone {
			// Its Upgrade field may be past the cut: the client's next
			// bytes wait for the answer, as after an upgrade request.
			c.exchange().cutReq = &head
			h.mode = modeAwait
		}
	} else {
		c.onResponse(side, &head, ts)
	}
	c.cut = false
	c.rare(c.dirOf(side)).SkippedBytes += uint64(over)
	return rest
}

// resyncClient searches the client's bytes held after its request for
// frames, as after a gap, when the server's answer (from serverSide) could
// not be read.
func (c *Conn) resyncClient(serverSide int, ts time.Time) {
	side := 1 - serverSide
	client := &c.half[side]
	if client.mode != modeAwait {
		return
	}
	pending := client.httpBuf()
	client.dropBuf()
	client.mode = modeSniff
	c.newSniff(client, 1, 1, true)
	c.rare(c.dirOf(side)).Resyncs++
	if len(pending) > 0 {
		c.feedSniff(side, pending, ts)
	}
}

// afterUpgradeBody moves a client side whose upgrade request's body has
// ended on: awaiting the answer, or decoding frames if the switch came
// before the body's end. A refused upgrade leaves it speaking HTTP.
func (c *Conn) afterUpgradeBody(side int) {
	h := &c.half[side]
	if !h.upBody {
		return
	}
	h.upBody = false
	switch {
	case c.upgrading:
		h.mode = modeAwait
	case c.ws:
		h.mode = modeWS
	}
}

// cutFields returns the anomalies a cut head shows only because its
// fields past the cut are unknown.
func cutFields(head *httpHead, request bool) Anomalies {
	var a Anomalies
	if !head.has("Connection") {
		a |= AnomMissingConnectionUpgrade
	}
	if request {
		if !head.has("Sec-WebSocket-Key") {
			a |= AnomKeyMissing
		}
		if !head.has("Sec-WebSocket-Version") {
			a |= AnomVersionNot13
		}
	} else if !head.has("Sec-WebSocket-Accept") {
		a |= AnomAcceptMissing
	}
	return a
}

// failHTTP gives up on a side that does not speak HTTP/1.x. A connection that
// never asked for an upgrade is of no interest at all.
func (c *Conn) failHTTP(side int) {
	c.ignore(side)
	if !c.hasHS() && !c.ws {
		c.ignore(1 - side)
	}
}

func (c *Conn) onRequest(side int, head *httpHead, ts time.Time) {
	if c.clientSide < 0 {
		c.clientSide = int8(side)
	} else if int(c.clientSide) != side {
		c.failHTTP(side) // requests from both ends: not a client/server exchange we know
		return
	}
	h := &c.half[side]
	ex := c.exchange()
	if len(ex.reqs) < 64 {
		ex.reqs = append(ex.reqs, methodName(head.method))
	}
	if c.cfg.EndAll {
		if len(ex.log) < MaxRequestsKept {
			ex.log = append(ex.log, HTTPRequest{TS: ts, Method: strings.Clone(head.method),
				Host: strings.Clone(head.get("Host")), URI: strings.Clone(head.uri)})
		} else {
			ex.more++
		}
	}
	if isUpgradeRequest(head) && !c.hasHS() {
		c.hs = &Handshake{TLS: c.TLS()}
		c.hs.fromRequest(head, ts)
		if c.cut {
			c.hs.Anomalies &^= cutFields(head, true)
		}
		if c.headCut {
			c.hs.Anomalies |= AnomHTTPHeaderTooLong
		}
		if c.lenient {
			c.hs.Anomalies |= AnomHTTPNonconforming
		}
		c.upgrading = true
		if body, n := requestBody(head); body == bodyChunked || body == bodyLength && n > 0 {
			// A body on the upgrade request: RFC 9112 §6 frames it, and
			// node's parser, nginx and tshark pass over it before the
			// switch (Go's servers read it as frames). Passed over and
			// counted, then the side awaits the answer.
			c.hs.Anomalies |= AnomUpgradeRequestBody
			c.sum.Anomalies |= AnomUpgradeRequestBody
			h.body, h.bodyLen, h.upBody = body, n, true
			h.chunks = chunkSkipper{}
			return
		}
		h.mode = modeAwait
		return
	}
	h.body, h.bodyLen = requestBody(head)
	if h.body == bodyChunked {
		h.chunks = chunkSkipper{}
	}
}

func (c *Conn) onResponse(side int, head *httpHead, ts time.Time) {
	if c.clientSide < 0 {
		c.clientSide = int8(1 - side)
	} else if int(c.clientSide) == side {
		c.failHTTP(side)
		return
	}
	h := &c.half[side]
	if head.status/100 == 1 && head.status != 101 {
		return // interim response: the request is still pending
	}
	ex := c.exchange()
	if (len(ex.reqs) == 0 || ex.cutReq != nil) && !c.hasHS() && head.status == 101 && (head.hasToken("Upgrade", "websocket") || c.cut && !head.has("Upgrade")) {
		// The request was lost or cut short (a snap length, a lost
		// segment, a head over the limit) but the server switched:
		// believe the server.
		c.hs = &Handshake{Anomalies: AnomRequestIncomplete, TLS: c.TLS()}
		if req := ex.cutReq; req != nil {
			c.hs.fromRequest(req, ts)
			c.hs.Anomalies &^= cutFields(req, true)
		} else if c.half[1-side].mode == modeHTTP {
			if req, ok := partialHead(c.half[1-side].httpBuf()); ok && req.request {
				c.hs.fromRequest(&req, ts)
			}
		}
		c.hs.Anomalies |= AnomRequestIncomplete
		if c.reqBad {
			c.hs.Anomalies |= AnomHTTPMalformed
		}
		if c.lenient {
			c.hs.Anomalies |= AnomHTTPNonconforming
		}
		if c.headCut {
			c.hs.Anomalies |= AnomHTTPHeaderTooLong
		}
		ex.cutReq = nil
		ex.reqs = append(ex.reqs[:0], "GET")
		c.upgrading = true
		client := &c.half[1-side]
		if client.mode == modeHTTP {
			client.dropBuf() // part of the request: no frames
			client.mode = modeAwait
		}
	}
	if len(ex.reqs) > 0 && !c.upgrading && !c.hasHS() && head.status == 101 && head.hasToken("Upgrade", "websocket") {
		// A request that did not ask for websocket, answered by a switch
		// to it: the server's word decides what its client and it speak
		// next (tshark follows it too). The request's fields are gone:
		// its method is what the queue kept.
		c.hs = &Handshake{Method: ex.reqs[0], Anomalies: AnomUpgradeNotRequested, TLS: c.TLS()}
		if c.lenient {
			c.hs.Anomalies |= AnomHTTPNonconforming
		}
		if c.headCut {
			c.hs.Anomalies |= AnomHTTPHeaderTooLong
		}
		ex.reqs = ex.reqs[:1]
		c.upgrading = true
		if client := &c.half[1-side]; client.mode == modeHTTP && client.body == bodyNone && !client.long {
			client.dropBuf() // a head not yet whole: sent before the switch, no frames
			client.mode = modeAwait
		}
	}
	if len(ex.reqs) == 0 {
		c.hsAnomaly(AnomUnexpectedResponse)
		c.failHTTP(side)
		return
	}
	method := ex.reqs[0]
	// Shifted down, not resliced: the queue keeps its room for reuse.
	n := copy(ex.reqs, ex.reqs[1:])
	ex.reqs[n] = ""
	ex.reqs = ex.reqs[:n]
	if ex.answered < len(ex.log) {
		ex.log[ex.answered].Status, ex.log[ex.answered].RespTS = head.status, ts
	}
	ex.answered++
	if !(c.upgrading && len(ex.reqs) == 0) {
		h.body, h.bodyLen = responseBody(head, method)
		if h.body == bodyChunked {
			h.chunks = chunkSkipper{}
		}
		if client := &c.half[1-side]; ex.cutReq != nil || client.mode == modeAwait && !c.upgrading {
			// The cut request was no upgrade, or the bytes held after a
			// request were not answered by a switch: the client's bytes
			// held since are HTTP again.
			ex.cutReq = nil
			if client.mode == modeAwait {
				pending := client.httpBuf()
				client.dropBuf()
				client.mode = modeHTTP
				if len(pending) > 0 {
					c.Feed(1-side, pending, ts)
				}
			}
		}
		return
	}
	// The answer to the upgrade request.
	c.upgrading = false
	c.hs.fromResponse(head, ts)
	if c.cut {
		c.hs.Anomalies &^= cutFields(head, false)
	}
	if c.hs.Anomalies&AnomUpgradeNotRequested != 0 {
		c.hs.Anomalies &^= AnomAcceptMismatch // the request's key is not known
	}
	if c.hs.Anomalies&AnomRequestIncomplete != 0 && c.hs.Key == "" {
		c.hs.Anomalies &^= AnomAcceptMismatch // the request, or its key, lost or past its cut
	}
	// A cut 101 whose Upgrade field is past the cut answers the upgrade
	// request: the client asked for websocket only.
	toWS := head.hasToken("Upgrade", "websocket") || c.cut && !head.has("Upgrade")
	if head.status == 101 && !toWS {
		c.hs.Anomalies |= AnomUpgradeNotWebSocket
	}
	c.hs.Anomalies |= ex.hold.anomaly()
	c.sink.Handshake(c, c.hs)
	malformed := c.hs.Anomalies&AnomHTTPMalformed != 0
	c.keepHandshake()
	client := &c.half[1-side]
	pending := client.httpBuf()
	client.dropBuf()
	if head.status == 101 {
		if (!malformed || c.reqBad) && toWS {
			c.ws = true
			c.dropExchange() // no request is pending
			h.mode = modeWS
			switch client.mode {
			case modeAwait:
				client.mode = modeWS
			case modeIgnore:
				// Over the pending limit, the client's bytes were dropped
				// mid-stream: find its frame boundaries again.
				client.mode = modeSniff
				c.newSniff(client, 1, 1, true)
				c.rare(ClientToServer).Resyncs++
			case modeHTTP:
				if client.upBody {
					// The switch came before the request's body ended: this
					// server did not wait for it, and reads what follows
					// as frames; their boundaries are searched for.
					client.upBody, client.body = false, bodyNone
					client.mode = modeSniff
					c.newSniff(client, 1, 1, true)
					c.rare(ClientToServer).Resyncs++
				}
			}
			// (modeSniff: a gap hit the client's bytes; the search goes on.)
			client.closeHTTP()
			if len(pending) > 0 {
				c.feedFrames(1-side, pending, ts)
			}
			return
		}
		// Switched to some other protocol, or named none (RFC 6455 §4.1
		// has a client fail the connection then): both sides are searched
		// for frames, as after a gap, and what is none is counted.
		for _, sd := range [2]int{side, 1 - side} {
			if !c.startSniff(sd, nil, true) {
				c.ignore(sd)
			} else {
				c.half[sd].sniff.bounded = true // not all the other protocol's bytes
			}
		}
		client.closeHTTP()
		if len(pending) > 0 {
			c.feed(1-side, pending, ts)
		}
		return
	}
	// Refused: the connection goes on as HTTP.
	h.body, h.bodyLen = responseBody(head, method)
	if h.body == bodyChunked {
		h.chunks = chunkSkipper{}
	}
	client.mode = modeHTTP
	if len(pending) > 0 {
		c.Feed(1-side, pending, ts)
	}
}
