package wsparse

import (
	"bytes"
	"github.com/wsdump/wsdump/httpfb"
	"strconv"
	"strings"
	"unsafe"
)

// httpHead is a parsed HTTP/1.x request or response head.
type httpHead struct {
	request bool
	method  string // request
	uri     string // request
	proto   string // "HTTP/1.1"
	status  int    // response
	reason  string // response
	fields  []httpField
	// lenient: the head breaks RFC 9112 syntax in a way that was read
	// past (tabs or extra spaces in the request line, a space in the
	// target, a field line without a colon).
	lenient bool
}

type httpField struct{ name, value string }

// get returns the values of every field called name (case-insensitive),
// joined with ", " as RFC 9110 §5.3 allows for list-valued fields.
// One field's value is returned as it lies; several are joined in one
// allocation (a value joined onto the ones before at each field copied
// them again: bytes quadratic in the fields).
func (h *httpHead) get(name string) string {
	var v string
	n, size := 0, 0
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			if n == 0 {
				v = f.value
			}
			n++
			size += len(f.value)
		}
	}
	if n < 2 {
		return v
	}
	var b strings.Builder
	b.Grow(size + 2*(n-1))
	sep := ""
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			b.WriteString(sep)
			b.WriteString(f.value)
			sep = ", "
		}
	}
	return b.String()
}

// has reports whether a field called name is present.
func (h *httpHead) has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// hasToken reports whether the comma-separated list in field name contains
// token, case-insensitively (Connection: keep-alive, Upgrade).
func (h *httpHead) hasToken(name, token string) bool {
	for _, f := range h.fields {
		if !strings.EqualFold(f.name, name) {
			continue
		}
		for v := f.value; ; {
			t, rest, more := strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
			if !more {
				break
			}
			v = rest
		}
	}
	return false
}

var httpMethods = [...]string{"GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}

// httpStarts are the openings of a status line and of a request line with
// a known method.
var httpStarts = func() (s [len(httpMethods) + 1]string) {
	s[0] = "HTTP/1."
	for i, m := range httpMethods {
		s[i+1] = m + " "
	}
	return s
}()

// httpStart classifies the first bytes of a stream: 1 when they begin an
// HTTP request or response, 0 when more bytes are needed to tell, -1 when
// they cannot be HTTP/1.x. Empty lines before the start line are allowed
// (RFC 9112 §2.2). A request line that does not open with a known method
// and a space (a lowercase method, a tab) counts when the whole line ends
// in an HTTP version, as a lenient server reads it.
func httpStart(b []byte) int {
	e := leadingEmpty(b)
	if e > maxLeadingEmpty {
		return -1
	}
	b = b[e:]
	undecided := false
	for _, c := range httpStarts {
		n := min(len(b), len(c))
		if string(b[:n]) != c[:n] {
			continue
		}
		if n == len(c) {
			return 1
		}
		undecided = true
	}
	if undecided || len(b) == 0 {
		return 0
	}
	return lenientRequestLine(b)
}

// maxLeadingEmpty bounds the CR and LF bytes passed over before a start
// line; maxLenientLine the bytes of a request line read before deciding
// whether it is one when it does not open like one.
const (
	maxLeadingEmpty = 64
	maxLenientLine  = 8 << 10
)

// leadingEmpty returns how many CR and LF bytes open b.
func leadingEmpty(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == '\r' || b[n] == '\n') {
		n++
	}
	return n
}

// lenientRequestLine tells whether b opens with a request line that a
// strict reading rejects: a method token, blanks, and a line ending in
// HTTP/1.x, nothing but printable bytes and tabs.
func lenientRequestLine(b []byte) int {
	i := 0
	for i < len(b) && i <= 16 && isTokenLetter(b[i]) {
		i++
	}
	switch {
	case i == 0 || i > 16:
		return -1
	case i == len(b):
		return 0
	case b[i] != ' ' && b[i] != '\t':
		return -1
	}
	for j := i; j < len(b) && j < maxLenientLine; j++ {
		switch c := b[j]; {
		case c == '\n':
			line := strings.TrimRight(string(b[:j]), " \t\r")
			f := strings.FieldsFunc(line, isBlank)
			if len(f) >= 3 && (f[len(f)-1] == "HTTP/1.1" || f[len(f)-1] == "HTTP/1.0") {
				return 1
			}
			return -1
		case c < 0x20 && c != '\t' && c != '\r' || c == 0x7f:
			return -1
		}
	}
	if len(b) >= maxLenientLine {
		return -1
	}
	return 0
}

func isTokenLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// headEnd returns the length of the head (through the blank line) at the
// start of b, or -1 when the blank line has not arrived. Bare LF line ends
// are accepted, as most servers do (RFC 9112 §2.2).
func headEnd(b []byte, from int) int {
	from = max(0, from-3)
	for {
		i := bytes.IndexByte(b[from:], '\n')
		if i < 0 {
			return -1
		}
		i += from
		// The line ending at i is empty when the byte before it (after an
		// optional CR) is the previous LF.
		j := i - 1
		if j >= 0 && b[j] == '\r' {
			j--
		}
		if j >= 0 && b[j] == '\n' {
			return i + 1
		}
		from = i + 1
	}
}

// parseHead parses an HTTP/1.x head. ok is false when the start line is not
// a request or status line. Syntax that a lenient server reads past is
// read past here too, and marked (lenient). Every name and value is a
// piece of b, not a copy: b must not change while the head is in use, and
// whatever outlives the call that handles the head is copied (the
// handshake's strings, the methods queued); its lines are walked in
// place.
func parseHead(b []byte) (h httpHead, ok bool) { return parseHeadInto(b, nil) }

// parseHeadInto is parseHead with the fields appended to fields[:0]: a
// caller's array holds the fields of a head that has room in it.
func parseHeadInto(b []byte, fields []httpField) (h httpHead, ok bool) {
	b = b[min(leadingEmpty(b), maxLeadingEmpty):] // RFC 9112 §2.2
	b = bytes.TrimRight(b, "\r\n")
	nl := bytes.IndexByte(b, '\n')
	first := b
	if nl >= 0 {
		first = b[:nl]
	}
	first = bytes.TrimSuffix(first, []byte{'\r'})
	// Reject what is no start line before copying anything.
	if bytes.HasPrefix(first, []byte("HTTP/")) {
		_, rest, _ := bytes.Cut(first, []byte{' '})
		code, _, _ := bytes.Cut(rest, []byte{' '})
		if len(code) != 3 || !isStatusCode(code) {
			return h, false
		}
	} else if !requestLine(first) {
		return h, false
	}
	s := unsafe.String(unsafe.SliceData(b), len(b)) // b is not empty: it holds a start line
	line, rest := s, ""
	if nl >= 0 {
		line, rest = s[:nl], s[nl+1:]
	}
	start := strings.TrimSuffix(line, "\r")
	if strings.HasPrefix(start, "HTTP/") {
		proto, rest, _ := strings.Cut(start, " ")
		code, reason, _ := strings.Cut(rest, " ")
		st, _ := strconv.Atoi(code)
		h.proto, h.status, h.reason = proto, st, reason
	} else {
		// method SP request-target SP HTTP-version (RFC 9112 §3); blanks
		// other than single spaces, and spaces inside the target, are
		// read as a lenient server reads them.
		h.request = true
		h.method, h.uri, h.proto, h.lenient = splitRequestLine(start)
	}
	n := 0
	if nl >= 0 {
		n = strings.Count(rest, "\n") + 1
	}
	if h.fields = fields[:0]; cap(fields) < n {
		h.fields = make([]httpField, 0, n)
	}
	var fold []byte // the value of the last field while lines fold into it
	folding := false
	endFold := func() {
		if folding {
			h.fields[len(h.fields)-1].value = string(fold)
			folding = false
		}
	}
	for nl >= 0 {
		nl = strings.IndexByte(rest, '\n')
		l := rest
		if nl >= 0 {
			l, rest = rest[:nl], rest[nl+1:]
		}
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(h.fields) > 0 {
			// Obsolete line folding (RFC 9112 §5.2): join with a space,
			// in one buffer (joining each line onto the value so far
			// copied it again: bytes quadratic in the lines).
			if !folding {
				fold = append(fold[:0], h.fields[len(h.fields)-1].value...)
				folding = true
			}
			fold = append(append(fold, ' '), strings.TrimSpace(l)...)
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if !found {
			// Not a field line: passed over, as lenient servers do.
			h.lenient = true
			continue
		}
		endFold()
		h.fields = append(h.fields, httpField{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	endFold()
	return h, true
}

// isStatusCode tells whether code (three bytes) is what strconv.Atoi reads
// as a number: optional sign, then digits.
func isStatusCode(code []byte) bool {
	d := code
	if d[0] == '+' || d[0] == '-' {
		d = d[1:]
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// requestLine tells whether line has at least three blank-separated words,
// the last one opening with HTTP/.
func requestLine(line []byte) bool {
	words, last := 0, -1
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' || line[i] == '\t' {
			continue
		}
		words++
		last = i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
	}
	return words >= 3 && bytes.HasPrefix(line[last:], []byte("HTTP/"))
}

// splitRequestLine splits a request line that requestLine accepts into
// its method, target (the words between, joined with single spaces) and
// version; lenient when the line is not exactly method SP target SP
// version.
func splitRequestLine(line string) (method, uri, proto string, lenient bool) {
	t := strings.TrimRight(line, " \t")
	i := strings.LastIndexAny(t, " \t")
	proto, t = t[i+1:], strings.TrimRight(t[:i], " \t")
	lead := strings.TrimLeft(t, " \t")
	j := strings.IndexAny(lead, " \t")
	method = lead[:j]
	uri = strings.TrimLeft(lead[j:], " \t")
	if strings.ContainsAny(uri, " \t") {
		// Blanks in the target: its words are joined with single spaces.
		lenient = true
		uri = strings.Join(strings.FieldsFunc(uri, isBlank), " ")
	}
	// Three words and two blanks: exactly one space between each.
	lenient = lenient || len(method)+len(uri)+len(proto)+2 != len(line) ||
		line[len(method)] != ' ' || line[len(line)-len(proto)-1] != ' '
	return
}

// bodyKind describes how the body after a head is delimited (RFC 9112 §6.3).
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLength
	bodyChunked
	bodyUntilClose
)

// requestBody returns how a request's body is delimited.
func requestBody(h *httpHead) (bodyKind, int64) {
	if h.hasToken("Transfer-Encoding", "chunked") {
		return bodyChunked, 0
	}
	if cl := h.get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return bodyUntilClose, 0
		}
		return bodyLength, n
	}
	return bodyNone, 0
}

// responseBody returns how a response's body is delimited, given the method
// of the request it answers.
func responseBody(h *httpHead, method string) (bodyKind, int64) {
	if method == "HEAD" || h.status/100 == 1 || h.status == 204 || h.status == 304 {
		return bodyNone, 0
	}
	if h.hasToken("Transfer-Encoding", "chunked") {
		return bodyChunked, 0
	}
	if cl := h.get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return bodyUntilClose, 0
		}
		return bodyLength, n
	}
	return bodyUntilClose, 0
}

// chunkSkipper skips a chunked body (RFC 9112 §7.1) fed in pieces: the
// fallback decoder's chunk reader, its data dropped.
type chunkSkipper struct{ httpfb.Chunks }

// skip consumes what it can of b and returns the rest. done reports the end
// of the body; broken a malformed chunk.
func (c *chunkSkipper) skip(b []byte) (rest []byte, done, broken bool) {
	for {
		n, data, done, broken := c.Next(b)
		b = b[n:]
		if data == nil { // the body ended, broke, or b is used up
			return b, done, broken
		}
	}
}

// partialHead parses the complete lines of a head whose end was lost.
func partialHead(b []byte) (httpHead, bool) {
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return httpHead{}, false
	}
	return parseHead(append(b[:i+1:i+1], '\r', '\n'))
}
