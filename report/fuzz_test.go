package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsdump/wsdump/appproto"
)

// terminalSafe reports the first rune of s that must not reach a terminal
// raw (a control byte, a terminal escape, a bidirectional override), or -1;
// utf8.RuneError when s is not valid UTF-8. (An encoded U+FFFD, as a JSON
// string's lone surrogate decodes, is printable.)
func terminalSafe(s string) rune {
	if !utf8.ValidString(s) {
		return utf8.RuneError
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unsafeRune(r) {
			return r
		}
	}
	return -1
}

// FuzzFollowText: whatever the payload (and whether it was decoded as
// SockJS or STOMP), follow's lines are valid UTF-8 with nothing a terminal
// acts on, and no line holds a line break.
func FuzzFollowText(f *testing.F) {
	f.Add([]byte("[\"SEND\\ndestination:ping\\n\\n\\u0000\"]"), true, true)
	f.Add([]byte("CONNECTED\nversion:1.2\n\n\x00\n"), false, true)
	f.Add([]byte("{\"a\":[1,{\"b\":\"\\u001b[31m\"}]}"), false, true)
	f.Add([]byte("[\"\\u202eevil\\u0007\",\"x\\ud800\"]"), true, false)
	f.Add([]byte("\x1b]0;title\x07\r\n\xff\xfe"), false, false)
	f.Fuzz(func(t *testing.T, p []byte, sockjs, stomp bool) {
		var apps []appproto.App
		if sockjs {
			apps = append(apps, appproto.App{Protocol: appproto.SockJS, Type: "a"})
		}
		if stomp {
			apps = append(apps, appproto.App{Protocol: appproto.STOMP})
		}
		for _, pretty := range []bool{false, true} {
			for _, whole := range []bool{false, true} {
				for _, l := range FollowText(p, apps, pretty, whole) {
					if r := terminalSafe(l); r >= 0 || strings.ContainsAny(l, "\n\r") {
						t.Fatalf("pretty %v whole %v: line %q holds %U", pretty, whole, l, r)
					}
				}
			}
		}
	})
}

// FuzzFieldValue: a -T fields value never holds a tab, a line break or
// anything a terminal acts on, and a list's items stay apart.
func FuzzFieldValue(f *testing.F) {
	f.Add("plain", "a,b")
	f.Add("tab\there\nnewline\\n", "\x1b[2J")
	f.Add("\u202e\u0085\xff", "=cmd|' /C calc'!A0")
	f.Fuzz(func(t *testing.T, s, item string) {
		for _, v := range []any{s, []string{s, item}} {
			out := FieldValue(v)
			if r := terminalSafe(out); r >= 0 || strings.ContainsAny(out, "\t\n\r") {
				t.Fatalf("%q -> %q holds %U", v, out, r)
			}
		}
		if got := strings.Count(FieldValue([]string{s, item}), ","); got != 1 {
			t.Fatalf("%q, %q -> %q: %d commas, want 1", s, item, FieldValue([]string{s, item}), got)
		}
	})
}
