package wsparse

// Open messages and inflate windows at rest: the bytes of a message whose
// last frame ended and whose next has not come are not needed until it
// does, or until the message is reported cut at the connection's end; a
// permessage-deflate window (32 KiB once whole) only when the direction's
// next compressed message comes. Held in memory, they are what most of an
// open connection costs: 100 000 connections each in the middle of a
// 1 000-byte fragmented message held 100 MB of them, more than everything
// else the decoder keeps per connection together, and 20 000 connections
// after a compressed message each way 1.3 GB of windows. Past
// Config.SpillAbove bytes of them held in the process, one that comes to
// rest goes to a temporary file instead, and comes back when its
// connection sends again (or is dropped when it ends). Nothing reported
// changes: the bytes read back are the bytes written.

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

const (
	// spillMax is the largest message spilled: a bigger one stays in
	// memory, so that a message's frames never read back more than this
	// each (a 20 MB message in 256 KiB fragments would otherwise be read
	// and written again for every fragment).
	spillMax = 64 << 10
	// Slots in the file are powers of two from spillMinBits to
	// spillMaxBits; a freed slot is reused by a message of its size class,
	// so the file is at most twice what is spilled at once. A slot holds
	// a message's length (4 bytes) and its bytes, or a window's bytes (the
	// inflater keeps their length).
	spillMinBits = 6
	spillMaxBits = 17 // spillMax and its length
	spillClasses = spillMaxBits - spillMinBits + 1
	// spillLimit is the size of file spillRef can point into.
	spillLimit = 1 << (28 + spillMinBits) // 16 GiB
	// A message is spilled at the end of a frame that brought at least
	// 1/spillRatio of its bytes and of spillCost (a write and a read's
	// calls): what goes through the file stays a bounded multiple of the
	// bytes decoded. Without it, a message of up to spillMax followed by
	// frames of one byte, or by pings, was written and read back whole
	// at every one of them.
	spillRatio = 16
	spillCost  = 512
)

// spillRef is where an open message's bytes are in the spill file: its
// slot's offset in units of the smallest slot, and its size class plus
// one; 0: they are not. Four bytes, in the open message's padding.
type spillRef uint32

func (r spillRef) class() int { return int(r&15) - 1 }
func (r spillRef) off() int64 { return int64(r>>4) << spillMinBits }

// spillStore is the process's spill file, shared by every decoder (each
// -j worker's) and made at the first message spilled.
type spillStore struct {
	// held is the bytes (buffer capacity) of messages at rest in
	// memory, process-wide: what SpillAbove bounds.
	held atomic.Int64

	mu      sync.Mutex
	f       *os.File // nil until the first spill
	failed  bool     // making or writing the file failed: nothing more is spilled
	readErr error    // the first read that failed: a message lost its bytes (SpillError)
	end     int64
	free    [spillClasses][]int64
	buf     []byte // a slot's bytes, written or read
	spilled int64  // messages and windows written, for tests
	written int64  // bytes written, for tests
	// chunks holds the chunks of the open messages that have some
	// (half.chunked): kept here, not in each message's state, which
	// every open message has.
	chunks map[*msgState]*msgChunks
}

// chunksOf returns the chunks of m, made at the first.
func (s *spillStore) chunksOf(m *msgState) *msgChunks {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chunks[m]
	if ch == nil {
		if s.chunks == nil {
			s.chunks = map[*msgState]*msgChunks{}
		}
		ch = new(msgChunks)
		s.chunks[m] = ch
	}
	return ch
}

// takeChunks returns the chunks of m and forgets them.
func (s *spillStore) takeChunks(m *msgState) *msgChunks {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chunks[m]
	delete(s.chunks, m)
	return ch
}

var spills spillStore

// SpillError returns the first failure to read back a message or a
// window from the spill file (the message was reported with data_kept 0
// and message_truncated; the window counts as lost, as after a gap), or
// nil. A failure to make or write the file only
// stops spilling: the messages stay in memory.
func SpillError() error {
	spills.mu.Lock()
	defer spills.mu.Unlock()
	return spills.readErr
}

// Spilled returns how many messages and windows were written to the
// spill file so far, process-wide (for tests and benchmarks).
func Spilled() int64 {
	spills.mu.Lock()
	defer spills.mu.Unlock()
	return spills.spilled
}

// spillClass returns the size class of a slot of n bytes (n <=
// 1<<spillMaxBits).
func spillClass(n int) int {
	return max(bits.Len(uint(n-1)), spillMinBits) - spillMinBits
}

// write stores b (1 <= len(b) <= spillMax), after its length if prefix
// (the reader does not keep it), and returns where, or 0.
func (s *spillStore) write(b []byte, prefix bool) spillRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed {
		return 0
	}
	if s.f == nil {
		f, err := os.CreateTemp("", "wsdump-spill-*")
		if err != nil {
			s.failed = true
			return 0
		}
		// Gone from the directory at once: the file goes with the
		// process, however it ends.
		os.Remove(f.Name())
		s.f = f
	}
	s.buf = s.buf[:0]
	if prefix {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(len(b)))
	}
	s.buf = append(s.buf, b...)
	cl := spillClass(len(s.buf))
	size := int64(1) << (cl + spillMinBits)
	var off int64
	if fl := s.free[cl]; len(fl) > 0 {
		off, s.free[cl] = fl[len(fl)-1], fl[:len(fl)-1]
	} else if s.end+size <= spillLimit {
		off = s.end
		s.end += size
	} else {
		return 0 // 16 GiB spilled: the rest stays in memory
	}
	if _, err := s.f.WriteAt(s.buf, off); err != nil {
		s.failed = true // disk full: the rest stays in memory
		s.free[cl] = append(s.free[cl], off)
		return 0
	}
	s.spilled++
	s.written += int64(len(s.buf))
	return spillRef(off>>spillMinBits<<4) | spillRef(cl+1)
}

// read returns ref's n bytes (n < 0: written with their length) in a
// pooled buffer, and frees its slot.
func (s *spillStore) read(ref spillRef, n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, off := ref.class(), ref.off()
	s.free[cl] = append(s.free[cl], off)
	s.buf = slices.Grow(s.buf[:0], 1<<(cl+spillMinBits))[:1<<(cl+spillMinBits)]
	got, err := s.f.ReadAt(s.buf, off)
	if err == io.EOF {
		err = nil // the file's last slot, written up to its bytes' end
	}
	if err == nil {
		b := s.buf[:got]
		if n < 0 && len(b) >= 4 {
			n, b = int(binary.LittleEndian.Uint32(b)), b[4:]
		}
		if n >= 0 && n <= len(b) {
			return append(getBuf(n), b[:n]...), nil
		}
		err = io.ErrUnexpectedEOF
	}
	err = fmt.Errorf("reading back a message from the temporary file: %w", err)
	if s.readErr == nil {
		s.readErr = err
	}
	return nil, err
}

// drop frees ref's slot unread.
func (s *spillStore) drop(ref spillRef) {
	s.mu.Lock()
	s.free[ref.class()] = append(s.free[ref.class()], ref.off())
	s.mu.Unlock()
}

// park is called when b, a pooled buffer, comes to rest after a step
// (a frame, a feed, a message) that brought brought bytes: it is written
// to the spill file if that keeps the bytes at rest in memory under
// SpillAbove and the step brought 1/spillRatio of b (the caller gives b
// back and keeps the ref), else it stays, counted in spills.held (0).
func (c *Conn) park(b []byte, prefix bool, brought uint64) spillRef {
	n := int64(cap(b))
	if above := c.cfg.SpillAbove; above > 0 && len(b) <= spillMax && uint64(len(b)+spillCost) <= spillRatio*brought &&
		spills.held.Load()+n > int64(above) {
		if ref := spills.write(b, prefix); ref != 0 {
			return ref
		}
	}
	spills.held.Add(n)
	return 0
}

// unpark undoes park before the bytes are used again: b, if counted, is
// no longer at rest; the bytes at ref (n of them, -1: written with their
// length) are read back into a pooled buffer, or dropped unless read.
func unpark(b []byte, counted bool, ref spillRef, n int, read bool) ([]byte, error) {
	if counted {
		spills.held.Add(-int64(cap(b)))
	}
	if ref == 0 {
		return nil, nil
	}
	if !read {
		spills.drop(ref)
		return nil, nil
	}
	return spills.read(ref, n)
}

// rest is called when a side's frame of decoded bytes has ended: an
// open message whose bytes are in a pooled buffer comes to rest (park).
func (c *Conn) rest(h *half, decoded int) {
	if h.msgState == nil || !h.msgOpen || !h.msgPooled || h.atRest || len(h.msg.Data) == 0 {
		return
	}
	if h.msgLen() > spillMax && c.restChunks(h) {
		return
	}
	if h.msg.spill = c.park(h.msg.Data, true, uint64(decoded)); h.msg.spill != 0 {
		putBuf(h.msg.Data)
		h.msg.Data, h.msgPooled = nil, false
		return
	}
	h.atRest = true
}

// msgChunks is where the first bytes of an open message over spillMax
// are in the spill file: in slots of up to spillMax bytes each, in order.
type msgChunks struct {
	refs []spillRef
	n    int // their bytes
}

// chunkMin is the fewest bytes of a message over spillMax written as a
// chunk: fewer (a big message followed by 1-byte fragments) stay in
// memory, at most this many a side.
const chunkMin = 4 << 10

// msgLen returns the bytes kept of a side's open message: in the spill
// file and in memory.
func (h *half) msgLen() int {
	if h.chunked {
		return spills.chunksOf(h.msgState).n + len(h.msg.Data)
	}
	return len(h.msg.Data)
}

// restChunks is rest for a message over spillMax: a message that size
// is not written and read back whole at each of its frames (a 20 MB
// message in 256 KiB fragments), but the bytes it holds in memory, those
// since its last chunk, are written after its chunks when there are
// chunkMin of them, and read back once, when the message is needed whole
// (unchunk). 400 connections each in the middle of a 1.5 MB message held
// 653 MB. It reports whether the bytes went to the file.
func (c *Conn) restChunks(h *half) bool {
	b := h.msg.Data
	if above := c.cfg.SpillAbove; above <= 0 || len(b) < chunkMin || spills.held.Load()+int64(cap(b)) <= int64(above) {
		return false
	}
	ch := spills.chunksOf(h.msgState)
	h.chunked = true
	for len(b) > 0 {
		n := min(len(b), spillMax)
		ref := spills.write(b[:n], true)
		if ref == 0 {
			break // the file cannot be written: the rest stays in memory
		}
		ch.refs = append(ch.refs, ref)
		ch.n += n
		b = b[n:]
	}
	if len(b) == len(h.msg.Data) {
		return false
	}
	tail := h.msg.Data
	h.msg.Data = nil
	if len(b) > 0 {
		h.msg.Data = append(getBuf(len(b)), b...)
	}
	putBuf(tail)
	h.msgPooled = h.msg.Data != nil
	return len(b) == 0
}

// unchunk reads back the chunks of a side's open message, before its
// bytes are needed whole: they and the bytes in memory after them make
// its Data again.
func (c *Conn) unchunk(h *half) {
	if h.msgState == nil || !h.chunked {
		return
	}
	ch := spills.takeChunks(h.msgState)
	h.chunked = false
	buf := getBuf(ch.n + len(h.msg.Data))
	for i, ref := range ch.refs {
		b, err := spills.read(ref, -1)
		if err != nil {
			// Lost: reported cut, with what was kept (nothing), as wakeUp.
			for _, r := range ch.refs[i+1:] {
				spills.drop(r)
			}
			putBuf(buf)
			if h.msgPooled {
				putBuf(h.msg.Data)
			}
			h.msg.Data, h.msgPooled = nil, false
			h.msg.Anomalies |= AnomMessageTruncated
			h.msgCut = true
			return
		}
		buf = append(buf, b...)
		putBuf(b)
	}
	buf = append(buf, h.msg.Data...)
	if h.msgPooled {
		putBuf(h.msg.Data)
	}
	h.msg.Data, h.msgPooled = buf, true
}

// dropChunks frees the slots of a side's open message's chunks unread.
func (h *half) dropChunks() {
	if h.msgState != nil && h.chunked {
		for _, r := range spills.takeChunks(h.msgState).refs {
			spills.drop(r)
		}
		h.chunked = false
	}
}

// wake is called before a side's open message is used again (more bytes,
// or its report): its bytes are read back if they were spilled. Without
// read, they are dropped (the connection is freed).
func (c *Conn) wake(h *half, read bool) {
	if h.atRest || h.msgState != nil && h.msg.spill != 0 {
		c.wakeUp(h, read)
	}
}

// wakeUp is wake's work (h.msgState is not nil: a message at rest is open).
func (c *Conn) wakeUp(h *half, read bool) {
	ref := h.msg.spill
	h.msg.spill = 0
	b, err := unpark(h.msg.Data, h.atRest, ref, -1, read)
	h.atRest = false
	switch {
	case err != nil:
		// Lost: reported cut, with what was kept (nothing); SpillError
		// makes the run fail.
		h.msg.Anomalies |= AnomMessageTruncated
		h.msgCut = true
	case b != nil:
		h.msg.Data, h.msgPooled = b, true
	}
}

// restWindow is called when a compressed message of a side has been
// reported: the window its next message inflates against (32 KiB once
// whole) comes to rest, like an open message (rest). 20 000 connections
// open after a compressed message each way held 1.3 GB of windows.
//
// As for a message (spillRatio), the window is spilled only after a
// message that inflated enough: 2 000 empty compressed messages wrote and
// read a 32 KiB window each.
func (c *Conn) restWindow(z *inflater, inflated uint64) {
	if z.atRest || z.spill != 0 || z.noCtx || z.streaming() || len(z.window) == 0 {
		return
	}
	if z.spill = c.park(z.window, false, inflated); z.spill != 0 {
		z.spillN = int32(len(z.window))
		putBuf(z.window)
		z.window = nil
		return
	}
	z.atRest = true
}

// wake is called before the window is used or changed: read back if it
// was spilled (unless read is false: it is dropped).
func (z *inflater) wake(read bool) {
	if !z.atRest && z.spill == 0 {
		return
	}
	ref, n := z.spill, int(z.spillN)
	z.spill, z.spillN = 0, 0
	b, err := unpark(z.window, z.atRest, ref, n, read)
	z.atRest = false
	switch {
	case err != nil:
		// Lost: what refers back into it fails as after a gap
		// (inflate_context_unknown); SpillError makes the run fail.
		z.lost, z.ring = true, false
	case b != nil:
		z.window = b
	}
}

// restFrame is called when a feed of fed bytes of a side has been
// decoded: a frame whose payload is still coming keeps the bytes so far at
// rest until the next feed, like an open message (rest, spillRatio: a
// payload is not written and read whole for every byte that comes).
// 100 000 connections each in the middle of a 1 000-byte frame held 1 KiB
// each.
func (c *Conn) restFrame(h *half, fed int) {
	if h.frameState == nil || !h.inPayload || h.payAtRest || h.paySpill != 0 || len(h.payload) == 0 {
		return
	}
	if h.paySpill = c.park(h.payload, true, uint64(fed)); h.paySpill != 0 {
		h.payload = release(h.payload)
		return
	}
	h.payAtRest = true
}

// wakeFrame is wake for a frame's payload at rest: read back before more
// bytes come or the frame is reported, or dropped (read false).
func (c *Conn) wakeFrame(h *half, read bool) {
	if h.frameState == nil || !h.payAtRest && h.paySpill == 0 {
		return
	}
	ref := h.paySpill
	h.paySpill = 0
	b, err := unpark(h.payload, h.payAtRest, ref, -1, read)
	h.payAtRest = false
	switch {
	case err != nil:
		// Lost: the frame keeps what follows only (payload_truncated);
		// SpillError makes the run fail.
		h.cur.Anomalies |= AnomPayloadTruncated
		h.holed = true
	case b != nil:
		h.payload = b
	}
}
