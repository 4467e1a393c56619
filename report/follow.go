package report

import (
	"bytes"
	"encoding/json"

	"github.com/wsdump/wsdump/appproto"
)

// FollowText returns the lines the follow view prints for a text message,
// each escaped for a terminal (Escape: control bytes, terminal escapes,
// bidirectional controls and invalid UTF-8; a backslash stays one
// backslash). The text is shown as the application sent it, nested
// protocols unwrapped as DevTools' Messages panel shows them: a SockJS
// array gives each of its strings (the JSON string decoded, so a STOMP
// frame's newlines are line breaks, not `\n`), and a STOMP frame, in a
// SockJS string or alone, gives its command, its headers, a blank line and
// its body (without the NUL that ends it; EOL heart-beats as a line of
// their own). JSON documents (a whole message, a STOMP body) are indented
// when pretty is set. whole is false for a message cut by --max-bytes:
// it is shown as it is.
func FollowText(p []byte, apps []appproto.App, pretty, whole bool) []string {
	var l lines
	l.followText(p, apps, pretty, whole)
	out := make([]string, len(l.ends))
	start := 0
	for i, end := range l.ends {
		out[i] = string(l.b[start:end])
		start = end + 1
	}
	return out
}

// lines are FollowText's lines, each followed by a newline in b, ending at
// ends: the Transcript writes b as it is, and reuses both for the next
// message, where a string per line (and the line's copies on the way) made
// ~4 KB of garbage for a 1 000 B message: at the end of the input, where
// every open connection's message so far is shown at once, that garbage
// raised the peak of 100 000 open connections by ~25 MiB (issue 16).
type lines struct {
	b    []byte
	ends []int
}

func (l *lines) reset() { l.b, l.ends = l.b[:0], l.ends[:0] }

// end ends the line appended so far.
func (l *lines) end() {
	l.ends = append(l.ends, len(l.b))
	l.b = append(l.b, '\n')
}

func (l *lines) add(s string) {
	l.b = append(l.b, s...)
	l.end()
}

func (l *lines) followText(p []byte, apps []appproto.App, pretty, whole bool) {
	stomp, sockjs := false, false
	for i := range apps {
		switch apps[i].Protocol {
		case appproto.STOMP:
			stomp = true
		case appproto.SockJS:
			sockjs = sockjs || apps[i].Type == "a"
		}
	}
	if whole && sockjs {
		if elems, ok := sockJSArray(p); ok {
			for i, e := range elems {
				if i > 0 {
					l.add("")
				}
				if looksSTOMP([]byte(e), stomp) {
					l.stompLines([]byte(e), pretty)
				} else {
					l.textLines([]byte(e), pretty)
				}
			}
			return
		}
	}
	if whole && looksSTOMP(p, stomp) {
		l.stompLines(p, pretty)
		return
	}
	l.textLines(p, pretty && whole)
}

var stompCommands = map[string]bool{"CONNECT": true, "STOMP": true, "CONNECTED": true, "SEND": true, "SUBSCRIBE": true,
	"UNSUBSCRIBE": true, "ACK": true, "NACK": true, "BEGIN": true, "COMMIT": true, "ABORT": true, "DISCONNECT": true,
	"MESSAGE": true, "RECEIPT": true, "ERROR": true}

// looksSTOMP reports whether p is STOMP frames: a command line and a NUL,
// or, on a connection that speaks STOMP (decoded says so), EOL heart-beats.
func looksSTOMP(p []byte, decoded bool) bool {
	rest := bytes.TrimLeft(p, "\r\n")
	if len(rest) == 0 {
		return decoded && len(p) > 0
	}
	cmd, _, ok := bytes.Cut(rest, []byte("\n"))
	return ok && stompCommands[string(bytes.TrimSuffix(cmd, []byte("\r")))] && bytes.IndexByte(rest, 0) >= 0
}

// sockJSArray decodes a SockJS array frame: the server's a["...",...] or
// the client's ["...",...].
func sockJSArray(p []byte) ([]string, bool) {
	p = bytes.TrimPrefix(p, []byte("a"))
	var elems []string
	if len(p) == 0 || p[0] != '[' || json.Unmarshal(p, &elems) != nil {
		return nil, false
	}
	return elems, true
}

// stompLines appends the STOMP frames of p: command, headers, blank line,
// body; a frame's end is its NUL, and the EOLs between frames are
// heart-beats.
func (l *lines) stompLines(p []byte, pretty bool) {
	first := true
	for len(p) > 0 {
		if p[0] == '\n' {
			l.add("(STOMP heart-beat)")
			p = p[1:]
			continue
		}
		if bytes.HasPrefix(p, []byte("\r\n")) {
			l.add("(STOMP heart-beat)")
			p = p[2:]
			continue
		}
		if !first {
			l.add("")
		}
		first = false
		frame := p
		p = nil
		if i := bytes.IndexByte(frame, 0); i >= 0 {
			frame, p = frame[:i], frame[i+1:]
		}
		head, body, ok := bytes.Cut(frame, []byte("\n\n"))
		if !ok {
			head, body, _ = bytes.Cut(frame, []byte("\r\n\r\n"))
		}
		l.textLines(head, false)
		if len(body) > 0 {
			l.add("")
			l.textLines(body, pretty)
		}
	}
}

// textLines appends p line by line, each escaped; a whole JSON document is
// indented first when pretty is set.
func (l *lines) textLines(p []byte, pretty bool) {
	if pretty && len(p) > 1 && (p[0] == '{' || p[0] == '[') && json.Valid(p) {
		var buf bytes.Buffer
		if json.Indent(&buf, p, "", "  ") == nil {
			p = buf.Bytes()
		}
	}
	if len(p) == 0 {
		return
	}
	for {
		line, rest, more := bytes.Cut(p, []byte("\n"))
		l.b = appendEscaped(l.b, line, 1<<30, true)
		l.end()
		if !more {
			return
		}
		p = rest
	}
}
