package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// hostile is text a terminal would act on: an ESC sequence, BEL, CR, a
// bidirectional override, a C1 CSI and invalid UTF-8.
const hostile = "red\x1b[31mX\x1b]0;title\x07bell\x07cr\rback\u202eevil\u0085c1\xff"

// TestCellEscapingRule: the one rule for a terminal cell. A backslash the
// application sent stays one backslash (a JSON `\n` is not shown `\\n`);
// every byte a terminal would act on is escaped.
func TestCellEscapingRule(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`["CONNECT\nlogin:a"]`, `["CONNECT\nlogin:a"]`},
		{`C:\dir\file`, `C:\dir\file`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{hostile, `red\x1b[31mX\x1b]0;title\x07bell\x07cr\rback\u202eevil\u0085c1\xff`},
	} {
		if got := Escape([]byte(c.in), 1000, true); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// CSV's escaped payloads must stay reversible: there a backslash is doubled.
	if enc, got := csvPayload(nil, []byte(`a\nb`+"\n"), true); enc != "escaped" || string(got) != `a\\nb\n` {
		t.Errorf("csv: %s %q", enc, got)
	}
}

// TestTableCellsNoDoubledBackslash: the table's payload cell of a SockJS
// frame shows the JSON as sent.
func TestTableCellsNoDoubledBackslash(t *testing.T) {
	payload := []byte(`["CONNECT\nlogin:guest\n\n\u0000"]` + hostile)
	for _, messages := range []bool{false, true} {
		out := renderOne(t, Options{Messages: messages, Preview: 200}, payload)
		if !strings.Contains(out, `["CONNECT\nlogin:guest\n\n\u0000"]red\x1b[31m`) {
			t.Errorf("messages=%v: %s", messages, out)
		}
		assertNoRawControls(t, out)
	}
}

func renderOne(t *testing.T, opts Options, payload []byte) string {
	t.Helper()
	var b bytes.Buffer
	exp, err := New(&b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41104"), netip.MustParseAddrPort("127.0.0.1:8080")})
	exp.SetOrigin(t0)
	f := &wsparse.Frame{Dir: wsparse.ClientToServer, TS: t0, Index: 1, MessageOpcode: wsparse.OpText, Payload: payload,
		Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: uint64(len(payload)), Size: 2}}
	m := &wsparse.Message{Dir: wsparse.ClientToServer, TS: t0, Index: 1, Opcode: wsparse.OpText, Frames: 1,
		Len: uint64(len(payload)), Data: payload}
	exp.Put(&record.Record{Kind: record.Frame, Conn: c, Frame: f})
	exp.Put(&record.Record{Kind: record.Message, Conn: c, Message: m})
	if err := exp.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func assertNoRawControls(t *testing.T, out string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0xfffd {
			t.Errorf("raw %U reaches the terminal in %q", r, out)
			return
		}
	}
}

// TestFollowTextUnwrapsSockJSSTOMP: a STOMP frame in a SockJS array is
// shown as DevTools shows it: command, headers, blank line, body (JSON
// indented), no doubled backslash, no NUL; hostile bytes escaped.
func TestFollowTextUnwrapsSockJSSTOMP(t *testing.T) {
	wire := []byte(`a["MESSAGE\ndestination:/topic/a\ncontent-type:application/json\n\n{\"n\":1,\"path\":\"C:\\\\x\"}\u0000\n","SEND\ndestination:/q\n\n` +
		`bad\u001b[2Jbody\u202e\u0007\r\u0000"]`)
	m := &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, Frames: 1, Len: uint64(len(wire)), Data: wire}
	hs := &wsparse.Handshake{Method: "GET", URI: "/stomp/1/abc/websocket", Status: 101}
	apps := appproto.New(hs, appproto.ModeAuto).Message(m)
	got := strings.Join(FollowText(wire, apps, true, true), "\n")
	want := strings.Join([]string{
		"MESSAGE",
		"destination:/topic/a",
		"content-type:application/json",
		"",
		"{",
		`  "n": 1,`,
		`  "path": "C:\\x"`,
		"}",
		"(STOMP heart-beat)",
		"",
		"SEND",
		"destination:/q",
		"",
		`bad\x1b[2Jbody\u202e\x07\r`,
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s\n(apps %+v)", got, want, apps)
	}
	assertNoRawControls(t, got)
	// Plain text: lines as sent, a backslash as sent, hostile bytes escaped.
	got = strings.Join(FollowText([]byte("line one \\n stays\n"+hostile), nil, true, true), "\n")
	if want := "line one \\n stays\n" + `red\x1b[31mX\x1b]0;title\x07bell\x07cr\rback\u202eevil\u0085c1\xff`; got != want {
		t.Errorf("plain text: got %q, want %q", got, want)
	}
}
