package appproto

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// A hand-written JSON scanner for the hot paths. Most WebSocket traffic is
// small JSON objects, and encoding/json's Valid, Compact and Decoder cost
// more than everything else the decoders do with them. The scanner accepts
// exactly what json.Valid accepts (the differential tests hold it to
// that): the grammar of RFC 8259, any bytes but control characters in
// strings (invalid UTF-8 included), at most maxJSONDepth nested arrays and
// objects.

// maxJSONDepth is encoding/json's nesting limit: json.Valid rejects deeper
// input.
const maxJSONDepth = 10000

// jsonSpan is a range of the scanned bytes.
type jsonSpan struct{ start, end int }

func (s jsonSpan) of(b []byte) []byte { return b[s.start:s.end] }

// jsonMember is one member of a scanned object: the key as sent, quotes
// included, and the raw value without the space around it. A plain key
// (plainASCII inside its quotes: no escape, no byte past ASCII) is its
// own Go string; a compact value has no space outside its strings (is
// its own compact form: what isCompact would say, found in the pass that
// validates it).
type jsonMember struct {
	key, value jsonSpan
	plain      bool
	compact    bool
}

// jsonValid is json.Valid without its allocations.
func jsonValid(b []byte) bool {
	var spaced bool
	i := validValue(b, skipSpace(b, 0), 0, &spaced)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// memberBuf holds the members parseJSON finds: in small, or past its
// size in a spare buffer (spareMembers), kept for the next parseJSON with
// the same memberBuf until release gives it back. A large object thus
// does not grow a new slice (doubling, copying) for every message: a spare
// buffer grows once to the largest object seen and is reused by all
// sessions and workers.
type memberBuf struct {
	small [16]jsonMember
	big   *[]jsonMember
}

// spareMembers holds the large member buffers between messages: at most
// maxSpares of them, with room for maxSpareMembers members in all (4 MiB).
// Not a sync.Pool: that one empties at every garbage collection, which
// large objects cause often, and hands a buffer back only to the P that
// put it.
var spareMembers struct {
	sync.Mutex
	bufs []*[]jsonMember
	held int // members they have room for
}

const (
	maxSpares       = 8
	maxSpareMembers = 1 << 17
)

// grow returns members, which is full, in a larger buffer: a spare one
// with room, else a new one twice the size.
func (mb *memberBuf) grow(members []jsonMember) []jsonMember {
	var p *[]jsonMember
	sp := &spareMembers
	sp.Lock()
	for i, q := range sp.bufs {
		if cap(*q) > len(members) {
			p = q
			sp.held -= cap(*q)
			sp.bufs = append(sp.bufs[:i], sp.bufs[i+1:]...)
			break
		}
	}
	sp.Unlock()
	if p == nil {
		p = new([]jsonMember)
		*p = make([]jsonMember, 0, max(64, 2*cap(members)))
	}
	*p = append((*p)[:0], members...)
	mb.release() // the one outgrown, once copied
	mb.big = p
	return *p
}

// release gives the large buffer, if any, to spareMembers, in place of
// smaller ones when there is no room: the members parseJSON returned must
// not be used after.
func (mb *memberBuf) release() {
	p := mb.big
	if p == nil {
		return
	}
	mb.big = nil
	sp := &spareMembers
	sp.Lock()
	defer sp.Unlock()
	for len(sp.bufs) > 0 && (len(sp.bufs) >= maxSpares || sp.held+cap(*p) > maxSpareMembers) {
		i := 0 // the smallest
		for j, q := range sp.bufs {
			if cap(*q) < cap(*sp.bufs[i]) {
				i = j
			}
		}
		if cap(*sp.bufs[i]) >= cap(*p) {
			return
		}
		sp.held -= cap(*sp.bufs[i])
		sp.bufs = append(sp.bufs[:i], sp.bufs[i+1:]...)
	}
	if sp.held+cap(*p) <= maxSpareMembers {
		sp.bufs = append(sp.bufs, p)
		sp.held += cap(*p)
	}
}

// parseJSON reports whether b is one valid JSON value, with optional space
// around it, as json.Valid does. When b is a valid object, it also returns
// its top-level members (duplicates included, in order), held in mb until
// the next parseJSON or mb.release; when b is invalid, the members mean
// nothing.
func parseJSON(b []byte, mb *memberBuf) ([]jsonMember, bool) {
	members := mb.small[:0]
	if mb.big != nil {
		members = (*mb.big)[:0]
	}
	i := skipSpace(b, 0)
	var spaced bool
	if i < len(b) && b[i] == '{' {
		i, members = validObject(b, i, 0, members, mb, &spaced)
	} else {
		i = validValue(b, i, 0, &spaced)
	}
	return members, i >= 0 && skipSpace(b, i) == len(b)
}

// validValue returns the index after the valid JSON value at b[i], or -1.
// depth is the number of arrays and objects around it. It sets *spaced
// when the value holds space outside its strings.
func validValue(b []byte, i, depth int, spaced *bool) int {
	if j := validScalar(b, i); j != -2 {
		return j
	}
	if b[i] == '{' {
		i, _ = validObject(b, i, depth, nil, nil, spaced)
		return i
	}
	return validArray(b, i, depth, spaced)
}

// validScalar is validValue for a string, number or literal at b[i] (no
// space in any): -2 for an object or an array, which it leaves to
// validValue. Members and elements call it first, so that a scalar skips
// validValue's call and validObject's flag work.
func validScalar(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case '0' <= c && c <= '9' || c == '-':
		return validNumber(b, i)
	case c == '"':
		return validString(b, i)
	case c == '{' || c == '[':
		return -2
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	}
	return -1
}

// validObject is validValue for the object at b[i]; with mb, it appends
// the object's members to members, growing it with mb.
func validObject(b []byte, i, depth int, members []jsonMember, mb *memberBuf, spaced *bool) (int, []jsonMember) {
	if depth >= maxJSONDepth {
		return -1, members
	}
	i = skipSpaceIn(b, i+1, spaced)
	if i < len(b) && b[i] == '}' {
		return i + 1, members
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1, members
		}
		var key jsonSpan
		plain := false
		if mb != nil {
			key.start = i
			key.end, plain = validKey(b, i)
		} else {
			key = jsonSpan{i, validString(b, i)}
		}
		if key.end < 0 {
			return -1, members
		}
		i = skipSpaceIn(b, key.end, spaced)
		if i >= len(b) || b[i] != ':' {
			return -1, members
		}
		value := jsonSpan{start: skipSpaceIn(b, i+1, spaced)}
		if mb != nil {
			inner := false
			if value.end = validScalar(b, value.start); value.end == -2 {
				// an object or array: its own space, apart from the
				// space around it (*spaced lends itself: a flag of this
				// frame's would move to the heap, the functions being
				// recursive)
				outer := *spaced
				*spaced = false
				value.end = validValue(b, value.start, depth+1, spaced)
				inner = *spaced
				*spaced = outer || inner
			}
			if value.end < 0 {
				return -1, members
			}
			if len(members) == cap(members) {
				members = mb.grow(members)
			}
			members = append(members, jsonMember{key, value, plain, !inner})
		} else {
			if value.end = validScalar(b, value.start); value.end == -2 {
				value.end = validValue(b, value.start, depth+1, spaced)
			}
			if value.end < 0 {
				return -1, members
			}
		}
		i = skipSpaceIn(b, value.end, spaced)
		if i >= len(b) {
			return -1, members
		}
		switch b[i] {
		case '}':
			return i + 1, members
		case ',':
			i = skipSpaceIn(b, i+1, spaced)
		default:
			return -1, members
		}
	}
}

// validArray is validValue for the array at b[i].
func validArray(b []byte, i, depth int, spaced *bool) int {
	if depth >= maxJSONDepth {
		return -1
	}
	i = skipSpaceIn(b, i+1, spaced)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		j := validScalar(b, i)
		if j == -2 {
			j = validValue(b, i, depth+1, spaced)
		}
		if i = j; i < 0 {
			return -1
		}
		i = skipSpaceIn(b, i, spaced)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i = skipSpaceIn(b, i+1, spaced)
		default:
			return -1
		}
	}
}

// The string scans read eight bytes at a time as a little-endian uint64
// and find the first byte that needs a look (stopWord); the byte itself
// is then looked at as before. Each of the tests in stopWord may also
// flag bytes after a true hit (a borrow runs upward) but never one
// before: the lowest flag is always a true stop.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// stopWord flags (with 0x80) the bytes of w, eight of a string's bytes,
// that end a run of plain ones: a quote, a backslash or a control
// character (< 0x20); with ascii, also any byte past ASCII. Without
// ascii, the bytes past ASCII are unflagged by &^ w (w - 0x20 sets the
// top bit of those from 0xa0 up).
func stopWord(w uint64, ascii bool) uint64 {
	q := w ^ ('"' * ones)
	s := w ^ ('\\' * ones)
	t := (q - ones) &^ q
	t |= (s - ones) &^ s
	t |= w - 0x20*ones
	if ascii {
		return (t | w) & highs // w's own high bits: the bytes past ASCII
	}
	return t &^ w & highs
}

// validString returns the index after the valid JSON string at b[i], or -1.
func validString(b []byte, i int) int {
	for i++; ; i++ {
		// i: the next byte to look at; to the first one stopWord flags
		if i+8 <= len(b) {
			t := stopWord(binary.LittleEndian.Uint64(b[i:]), false)
			if t == 0 {
				i += 7
				continue
			}
			i += bits.TrailingZeros64(t) >> 3
		} else {
			for i < len(b) && stringPlain[b[i]] {
				i++
			}
			if i >= len(b) {
				return -1
			}
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
}

// stringPlain marks the bytes that stand for themselves in a JSON string:
// all but control characters, the quote and the backslash.
var stringPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// keyPlain marks the bytes of a plain key (plainASCII): printable ASCII
// but the quote and the backslash.
var keyPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// validKey is validString for an object's key, and reports whether the
// key is plain, in the same pass for a plain key (the others are scanned
// again by validString).
func validKey(b []byte, i int) (int, bool) {
	j := i + 1
	for ; j+8 <= len(b); j += 8 {
		if t := stopWord(binary.LittleEndian.Uint64(b[j:]), true); t != 0 {
			j += bits.TrailingZeros64(t) >> 3
			break
		}
	}
	for j < len(b) && keyPlain[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return j + 1, true
	}
	return validString(b, i), false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validNumber returns the index after the valid JSON number at b[i], or -1.
func validNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// validLiteral returns the index after lit at b[i], or -1.
func validLiteral(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// skipSpaceIn is skipSpace inside a value: it sets *spaced when it skips
// any.
func skipSpaceIn(b []byte, i int, spaced *bool) int {
	if i < len(b) && isJSONSpace(b[i]) {
		*spaced = true
		return skipSpace(b, i+1)
	}
	return i
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isCompact reports whether the valid JSON b has no space outside its
// strings: whether it is its own compact form.
func isCompact(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			i = skipString(b, i) - 1
		case isJSONSpace(c):
			return false
		}
	}
	return true
}

// appendCompact appends the valid JSON b without the space outside its
// strings, which is all json.Compact changes in valid JSON. With limit >= 0
// it appends only the first limit bytes of that.
func appendCompact(dst, b []byte, limit int) []byte {
	room := len(b)
	if limit >= 0 {
		room = limit
	}
	for i := 0; i < len(b) && room > 0; {
		if isJSONSpace(b[i]) {
			i++
			continue
		}
		end := min(len(b), i+room)
		if b[i] == '"' {
			end = min(end, skipString(b[:end], i))
		} else {
			j := i + 1
			for j < end && b[j] != '"' && !isJSONSpace(b[j]) {
				j++
			}
			end = j
		}
		dst = append(dst, b[i:end]...)
		room -= end - i
		i = end
	}
	return dst
}

// compactValid is compactJSON for valid JSON (or none).
func compactValid(b []byte) string {
	if isCompact(b) {
		return string(b)
	}
	var buf [256]byte
	return string(appendCompact(buf[:0], b, -1))
}

// previewBytes is enough bytes of a text for the first previewLen+1 runes,
// all preview looks at.
const previewBytes = 4 * (previewLen + 1)

// appendPreviewJSON appends preview(compactJSON(b)), compacting no more of
// b than the preview shows.
func appendPreviewJSON(dst, b []byte) []byte {
	if !jsonValid(b) {
		return appendPreview(dst, b)
	}
	return appendPreviewValid(dst, b)
}

// appendPreviewValid is appendPreviewJSON for valid JSON.
func appendPreviewValid(dst, b []byte) []byte {
	var buf [previewBytes + 64]byte
	return appendPreview(dst, appendCompact(buf[:0], b, previewBytes))
}

// previewJSON is preview(compactJSON(b)).
func previewJSON(b []byte) string {
	var buf [previewBytes + 8]byte
	return string(appendPreviewJSON(buf[:0], b))
}
