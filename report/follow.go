package report

import (
	"bytes"
	"encoding/json"
	"strings"

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
	stomp, sockjs := false, false
	for i := range apps {
		switch apps[i].Protocol {
		case appproto.STOMP:
			stomp = true
		case appproto.SockJS:
			sockjs = sockjs || apps[i].Type == "a"
		}
	}
	var out []string
	if whole && sockjs {
		if elems, ok := sockJSArray(p); ok {
			for i, e := range elems {
				if i > 0 {
					out = append(out, "")
				}
				if looksSTOMP([]byte(e), stomp) {
					out = stompLines(out, []byte(e), pretty)
				} else {
					out = textLines(out, []byte(e), pretty)
				}
			}
			return out
		}
	}
	if whole && looksSTOMP(p, stomp) {
		return stompLines(out, p, pretty)
	}
	return textLines(out, p, pretty && whole)
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
func stompLines(out []string, p []byte, pretty bool) []string {
	first := true
	for len(p) > 0 {
		if p[0] == '\n' {
			out = append(out, "(STOMP heart-beat)")
			p = p[1:]
			continue
		}
		if bytes.HasPrefix(p, []byte("\r\n")) {
			out = append(out, "(STOMP heart-beat)")
			p = p[2:]
			continue
		}
		if !first {
			out = append(out, "")
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
		out = textLines(out, head, false)
		if len(body) > 0 {
			out = append(out, "")
			out = textLines(out, body, pretty)
		}
	}
	return out
}

// textLines appends p line by line, each escaped; a whole JSON document is
// indented first when pretty is set.
func textLines(out []string, p []byte, pretty bool) []string {
	if pretty && len(p) > 1 && (p[0] == '{' || p[0] == '[') && json.Valid(p) {
		var buf bytes.Buffer
		if json.Indent(&buf, p, "", "  ") == nil {
			p = buf.Bytes()
		}
	}
	if len(p) == 0 {
		return out
	}
	for _, line := range strings.Split(string(p), "\n") {
		out = append(out, Escape([]byte(line), 1<<30, true))
	}
	return out
}
