package filter

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// recorder is a sink that lists what reaches it.
type recorder struct{ got []string }

func (r *recorder) Handshake(c *wsparse.Conn, h *wsparse.Handshake) { r.got = append(r.got, "hs") }
func (r *recorder) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	r.got = append(r.got, "f:"+f.Dir.String()+":"+f.Opcode.String()+":"+string(f.Payload))
}
func (r *recorder) Message(c *wsparse.Conn, m *wsparse.Message) {
	r.got = append(r.got, "m:"+m.Dir.String()+":"+string(m.Data))
}
func (r *recorder) End(c *wsparse.Conn, s *wsparse.Summary) { r.got = append(r.got, "end") }

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// feed plays a conversation: a handshake, a fragmented text message with
// a ping inside, a binary message, an unfragmented text, the end.
func feed(f *Filter) {
	c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	f.SetOrigin(t0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	f.Handshake(c, &wsparse.Handshake{TS: at(0), Host: "Example.com:80", URI: "/chat?room=1", Status: 101})
	frame := func(ms int, d wsparse.Dir, op, msgOp wsparse.Opcode, fin bool, p string) {
		f.Frame(c, &wsparse.Frame{Header: wsparse.Header{Fin: fin, Opcode: op}, Dir: d, TS: at(ms), MessageOpcode: msgOp, Payload: []byte(p)})
	}
	msg := func(ms int, d wsparse.Dir, op wsparse.Opcode, p string) {
		f.Message(c, &wsparse.Message{Dir: d, TS: at(ms), Opcode: op, Data: []byte(p)})
	}
	frame(1, wsparse.ClientToServer, wsparse.OpText, wsparse.OpText, false, "hel")
	frame(2, wsparse.ClientToServer, wsparse.OpPing, 0, true, "p")
	frame(3, wsparse.ClientToServer, wsparse.OpContinuation, wsparse.OpText, true, "lo")
	msg(3, wsparse.ClientToServer, wsparse.OpText, "hello")
	frame(4, wsparse.ServerToClient, wsparse.OpBinary, wsparse.OpBinary, true, "\x01hello")
	msg(4, wsparse.ServerToClient, wsparse.OpBinary, "\x01hello")
	frame(5, wsparse.ServerToClient, wsparse.OpText, wsparse.OpText, true, "bye")
	msg(5, wsparse.ServerToClient, wsparse.OpText, "bye")
	f.End(c, &wsparse.Summary{First: at(0), Last: at(5)})
}

func run(spec Spec) []string {
	r := &recorder{}
	feed(New(record.Adapt(r), spec))
	return r.got
}

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"all", Spec{}, "hs f:c2s:text:hel f:c2s:ping:p f:c2s:cont:lo m:c2s:hello f:s2c:binary:\x01hello m:s2c:\x01hello f:s2c:text:bye m:s2c:bye end"},
		{"grep holds fragments", Spec{Grep: regexp.MustCompile("hel+o")}, "hs f:c2s:text:hel f:c2s:cont:lo m:c2s:hello end"},
		{"opcode text keeps continuations", Spec{Opcodes: []wsparse.Opcode{wsparse.OpText}}, "hs f:c2s:text:hel f:c2s:cont:lo m:c2s:hello f:s2c:text:bye m:s2c:bye end"},
		{"dir", Spec{Dirs: []wsparse.Dir{wsparse.ServerToClient}}, "hs f:s2c:binary:\x01hello m:s2c:\x01hello f:s2c:text:bye m:s2c:bye end"},
		{"count frames", Spec{Count: 2}, "hs f:c2s:text:hel f:c2s:ping:p end"},
		{"count messages", Spec{Count: 1, CountMessages: true}, "hs f:c2s:text:hel f:c2s:ping:p f:c2s:cont:lo m:c2s:hello end"},
		{"since", Spec{Since: Bound{Set: true, Rel: 4 * time.Millisecond}}, "f:s2c:binary:\x01hello m:s2c:\x01hello f:s2c:text:bye m:s2c:bye end"},
		{"until abs", Spec{Until: Bound{Set: true, Abs: t0.Add(2 * time.Millisecond)}}, "hs f:c2s:text:hel f:c2s:ping:p end"},
		{"host glob, any case", Spec{Hosts: []string{"example.*"}}, "all"},
		{"host ip", Spec{Hosts: []string{"10.0.0.2"}}, "all"},
		{"host miss", Spec{Hosts: []string{"other"}}, ""},
		{"path glob without query", Spec{Paths: []string{"/chat"}}, "all"},
		{"path glob", Spec{Paths: []string{"/c*"}}, "all"},
		{"path miss", Spec{Paths: []string{"/api/*"}}, ""},
		{"conn miss", Spec{Conns: []int{2}}, ""},
	} {
		want := tc.want
		if want == "all" {
			want = "hs f:c2s:text:hel f:c2s:ping:p f:c2s:cont:lo m:c2s:hello f:s2c:binary:\x01hello m:s2c:\x01hello f:s2c:text:bye m:s2c:bye end"
		}
		got := ""
		for i, s := range run(tc.spec) {
			if i > 0 {
				got += " "
			}
			got += s
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	if b, err := ParseBound("1.5"); err != nil || b.Rel != 1500*time.Millisecond {
		t.Errorf("1.5: %+v %v", b, err)
	}
	if b, err := ParseBound("2024-01-19T18:20:23.5Z"); err != nil || b.Abs.IsZero() {
		t.Errorf("rfc3339: %+v %v", b, err)
	}
	for _, bad := range []string{"-1", "soon"} {
		if _, err := ParseBound(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for s, want := range map[string]wsparse.Opcode{"text": 1, "PING": 9, "cont": 0, "0xA": 10, "2": 2} {
		if got, err := ParseOpcode(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseOpcode("16"); err == nil {
		t.Error("16 accepted")
	}
}

// TestCountReadsOnToTheEnd: once Count is reached nothing more passes, but
// Done, which lets the caller stop reading, waits for the connections shown
// to end, so that their summaries are whole; a connection that showed
// nothing does not hold it.
func TestCountReadsOnToTheEnd(t *testing.T) {
	r := &recorder{}
	f := New(record.Adapt(r), Spec{Count: 1})
	a := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	b := wsparse.NewConn(2, netip.MustParseAddrPort("10.0.0.1:5001"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	f.SetOrigin(t0)
	f.Handshake(a, &wsparse.Handshake{TS: t0, Status: 101})
	f.Frame(a, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText}, TS: t0, Payload: []byte("one")})
	if f.Done() {
		t.Error("Done with connection 1 shown and open")
	}
	f.Frame(b, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText}, TS: t0, Payload: []byte("two")})
	f.End(b, &wsparse.Summary{First: t0, Last: t0})
	if f.Done() {
		t.Error("Done before connection 1 ended")
	}
	f.End(a, &wsparse.Summary{First: t0, Last: t0.Add(time.Second)})
	if !f.Done() {
		t.Error("not Done once connection 1 ended")
	}
	if got := strings.Join(r.got, " "); got != "hs f:c2s:text:one end" {
		t.Errorf("passed %q", got)
	}
}
