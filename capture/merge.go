package capture

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Merge reads several sources as one capture in timestamp order, as
// mergecap does: a k-way merge on the packet timestamps of each source's
// next packet. It streams: it holds one packet (and the source's read
// buffer) per source, however long the files are.
//
//   - Packets with equal timestamps come in source order (the first
//     source's first), so rotated files of one capture given in name order
//     are read in their original order.
//   - A source's own packets are never reordered: a packet earlier than the
//     one before it in the same file (clock steps, multi-queue captures)
//     comes when it reaches the head of its file, as in mergecap. Within
//     one file, Merge reads exactly what reading that file alone reads.
//   - A source that fails (a truncated last record, a gzip error, an
//     unsupported link type found by the caller) is reported to onError
//     with its name and dropped; the others go on. Next then returns
//     io.EOF only if no source failed, else a *MergeError naming them
//     after the last packet of the others.
//
// Link types may differ between sources: each packet carries its own.
// Close closes every source. names[i] names srcs[i] in errors.
func Merge(srcs []Source, names []string, onError func(name string, err error)) Source {
	m := &merger{srcs: srcs, names: names, onError: onError, last: -1,
		nSecrets: make([]int, len(srcs))}
	return m
}

// Input is one input of MergeInputs: its name and how to open it; peek
// is true when only the first packet will be read (a small read buffer
// will do).
type Input struct {
	Name string
	Open func(peek bool) (Source, error)
}

// MergeInputs is Merge over inputs opened when needed, for rotations of
// many files: each input is opened once to read its first packet's time
// and closed again; it is opened for good when the merge reaches that
// time, and closed at its end. Files whose times do not overlap (tcpdump
// -G, -C) are then open one or two at a time, whatever their number, so
// memory (a read buffer per open file) and file descriptors stay bounded
// by the files that overlap in time. An input that cannot be opened is
// reported to onError and dropped, as a source that fails.
func MergeInputs(inputs []Input, onError func(name string, err error)) Source {
	m := &merger{srcs: make([]Source, len(inputs)), onError: onError, last: -1,
		nSecrets: make([]int, len(inputs))}
	for _, in := range inputs {
		m.names = append(m.names, in.Name)
		m.opens = append(m.opens, in.Open)
	}
	return m
}

// MergeError is what a merged read ends with when some sources failed.
type MergeError struct {
	Names []string // the sources that failed, in the order they failed
	Errs  []error
}

func (e *MergeError) Error() string {
	if len(e.Errs) == 1 {
		return e.Errs[0].Error()
	}
	return fmt.Sprintf("%d inputs could not be read to the end: %s", len(e.Errs), strings.Join(e.Names, ", "))
}

func (e *MergeError) Unwrap() []error { return e.Errs }

type mergeHead struct {
	p       Packet
	key     int64 // p.Timestamp in Unix nanoseconds, compared often (mergeKey: saturated past 1678-2262)
	src     int
	pending bool // the input is not open yet: p.Timestamp is its first packet's
}

// less orders heads by time, then by source: equal times come in source
// order (a pending input's first packet has its place too).
func (a *mergeHead) less(b *mergeHead) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.key == math.MaxInt64 || a.key == math.MinInt64 {
		if c := a.p.Timestamp.Compare(b.p.Timestamp); c != 0 {
			return c < 0
		}
	}
	return a.src < b.src
}

// mergeKey is t's key: Unix nanoseconds, within years 1678-2262 where
// they hold; beyond (pcapng times reach years 1 to 9999), math.MaxInt64 or
// math.MinInt64, and less compares the times. UnixNano wrapped there:
// a file of 2300 merged before one of 2024, one of 1019 after.
func mergeKey(t time.Time) int64 {
	switch s := t.Unix(); {
	case s >= math.MaxInt64/1_000_000_000:
		return math.MaxInt64
	case s <= math.MinInt64/1_000_000_000:
		return math.MinInt64
	}
	return t.UnixNano()
}

// mergeHeap is a binary min-heap of the sources' next packets, by hand
// rather than container/heap, whose interface boxes every packet pushed
// and popped (two allocations per packet).
type mergeHeap []mergeHead

func (h *mergeHeap) push(x mergeHead) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].less(&s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *mergeHeap) pop() mergeHead {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, min := 2*i+1, 2*i+2, i
		if l < n && s[l].less(&s[min]) {
			min = l
		}
		if r < n && s[r].less(&s[min]) {
			min = r
		}
		if min == i {
			break
		}
		s[i], s[min] = s[min], s[i]
		i = min
	}
	*h = s
	return top
}

type merger struct {
	srcs     []Source // nil: not open yet, or done
	opens    []func(bool) (Source, error)
	names    []string
	onError  func(string, error)
	h        mergeHeap
	started  bool
	last     int // the source whose packet Next returned last: advanced on the next call
	secrets  []Secrets
	nSecrets []int // secrets taken from each source so far
	failed   MergeError
}

// Input names the input of the packet Next returned last.
func (m *merger) Input() string {
	if m.last < 0 || m.last >= len(m.names) {
		return ""
	}
	return m.names[m.last]
}

// advance reads source i's next packet into the heap; a source at its
// end is closed at once (with MergeInputs: its file and buffers freed).
func (m *merger) advance(i int) {
	p, err := m.srcs[i].Next()
	m.takeSecrets(i)
	if err == nil {
		m.h.push(mergeHead{p: p, key: mergeKey(p.Timestamp), src: i})
		return
	}
	if m.opens != nil {
		m.srcs[i].Close()
		m.srcs[i] = nil
	}
	if err != io.EOF {
		m.fail(i, err)
	}
}

func (m *merger) fail(i int, err error) {
	m.failed.Names = append(m.failed.Names, m.names[i])
	m.failed.Errs = append(m.failed.Errs, err)
	if m.onError != nil {
		m.onError(m.names[i], err)
	}
}

// peek opens input i to read its first packet's time, and closes it.
func (m *merger) peek(i int) {
	src, err := m.opens[i](true)
	if err != nil {
		m.fail(i, err)
		return
	}
	p, err := src.Next()
	src.Close()
	switch {
	case err == io.EOF: // no packet: nothing to merge
	case err != nil:
		m.fail(i, err)
	default:
		m.h.push(mergeHead{p: Packet{Timestamp: p.Timestamp}, key: mergeKey(p.Timestamp), src: i, pending: true})
	}
}

// takeSecrets appends the decryption secrets source i read since the last
// look: a pcapng DSB comes before the packets it decrypts, so before this
// source's next packet is handed out.
func (m *merger) takeSecrets(i int) {
	if s := m.srcs[i].Secrets(); len(s) > m.nSecrets[i] {
		m.secrets = append(m.secrets, s[m.nSecrets[i]:]...)
		m.nSecrets[i] = len(s)
	}
}

func (m *merger) Next() (Packet, error) {
	if !m.started {
		m.started = true
		for i := range m.srcs {
			if m.opens != nil {
				m.peek(i)
			} else {
				m.advance(i)
			}
		}
	} else if m.last >= 0 {
		// Only now may the last packet's buffer be reused.
		m.advance(m.last)
		m.last = -1
	}
	for len(m.h) > 0 && m.h[0].pending {
		// The merge has reached an input's first packet: open it.
		i := m.h.pop().src
		src, err := m.opens[i](false)
		if err != nil {
			m.fail(i, err)
			continue
		}
		m.srcs[i] = src
		m.advance(i)
	}
	if len(m.h) == 0 {
		if len(m.failed.Errs) > 0 {
			return Packet{}, &m.failed
		}
		return Packet{}, io.EOF
	}
	head := m.h.pop()
	m.last = head.src
	head.p.Input = head.src
	return head.p, nil
}

// Secrets returns the decryption secrets of every source read so far.
func (m *merger) Secrets() []Secrets { return m.secrets }

func (m *merger) Close() error {
	var errs []error
	for i, s := range m.srcs {
		if s != nil {
			errs = append(errs, s.Close())
			m.srcs[i] = nil
		}
	}
	return errors.Join(errs...)
}
