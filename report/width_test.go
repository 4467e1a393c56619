package report

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// tableLines renders a handshake, a long text frame and its message, and
// a TLS connection, with opts.
func tableLines(t *testing.T, opts Options) []string {
	t.Helper()
	var b bytes.Buffer
	exp, err := New(&b, opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41104"), netip.MustParseAddrPort("127.0.0.1:8080")})
	exp.SetOrigin(t0)
	payload := []byte(strings.Repeat(`{"type":"chat","text":"hello world"} `, 10))
	wsOf(exp).Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Host: "example.test", URI: "/socket/with/a/long/path?token=abcdef", Status: 101})
	wsOf(exp).Frame(c, &wsparse.Frame{Dir: wsparse.ClientToServer, TS: t0, Index: 1, MessageOpcode: wsparse.OpText, Payload: payload,
		Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(payload)), Size: 8}})
	wsOf(exp).Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, TS: t0, Index: 1, Opcode: wsparse.OpText, Frames: 3,
		Len: uint64(len(payload)), Data: payload, Anomalies: wsparse.Anomalies(1)})
	if err := exp.Close(); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// TestTableFitsWidth: with a width the frame and message tables fit it,
// the preview growing with it; columns that do not apply go first (MASK,
// RSV, FIN) in a narrow terminal. Without one the widths are fixed.
func TestTableFitsWidth(t *testing.T) {
	fixed := tableLines(t, Options{})
	for _, messages := range []bool{false, true} {
		prev := 0
		for _, w := range []int{60, 80, 120, 200} {
			lines := tableLines(t, Options{Width: w, Messages: messages})
			longest := 0
			for _, l := range lines {
				if n := twwidth.Width(l); n > w {
					t.Errorf("messages=%v width %d: line of %d columns: %q", messages, w, n, l)
				} else {
					longest = max(longest, n)
				}
			}
			if longest < w-2 {
				t.Errorf("messages=%v width %d: the longest line is %d columns: the preview does not use the width", messages, w, longest)
			}
			if longest <= prev {
				t.Errorf("messages=%v width %d: no wider than at the previous width (%d)", messages, w, prev)
			}
			prev = longest
			head := strings.Fields(lines[0])
			if w <= 80 && strings.Contains(lines[0], "MASK") {
				t.Errorf("width %d keeps MASK: %q", w, lines[0])
			}
			if !messages && w >= 120 && len(head) != 9 {
				t.Errorf("width %d: columns %v", w, head)
			}
		}
	}
	if !strings.Contains(fixed[0], "MASK") || tableLines(t, Options{})[2] != fixed[2] {
		t.Errorf("fixed widths changed: %q", fixed)
	}
}

// TestMessagesHeader: the messages view has columns of its own: FRAMES
// (a count, not "1fr"), no FIN, RSV or MASK.
func TestMessagesHeader(t *testing.T) {
	lines := tableLines(t, Options{Messages: true})
	if got, want := strings.Join(strings.Fields(lines[0]), " "), "TIME CONN DIR OPCODE FRAMES LEN PAYLOAD"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if f := strings.Fields(lines[2]); len(f) < 6 || f[4] != "3" {
		t.Errorf("message row %q: FRAMES is not 3", lines[2])
	}
}

// TestTLSReasonWhole: why a wss connection could not be decrypted is not
// cut by the preview.
func TestTLSReasonWhole(t *testing.T) {
	var b bytes.Buffer
	exp, _ := New(&b, Options{})
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41104"), netip.MustParseAddrPort("127.0.0.1:443")})
	reason := "no key for client random 760dfc118a47420865562705a67004642bc16acd20b75e601a37a71aff661287"
	exp.Put(&record.Record{Kind: record.TLS, Conn: c, TLS: &record.TLSConn{Client: c.Client(), Server: c.Server(), Info: &wsparse.TLSInfo{Version: "TLS 1.3", SNI: "a-rather-long-server-name.example.test",
		ALPN: "http/1.1", Error: reason}}})
	exp.Close()
	if !strings.Contains(b.String(), reason) {
		t.Errorf("reason cut:\n%s", b.String())
	}
}

// TestConnsFit: the conns table fitted to a width keeps CONN, URL, CLOSE
// and HEARTBEAT on the row's first line, drops PROTO and the endpoints
// first and folds HEARTBEAT at "; "; with room for everything it is the
// table tablewriter writes.
func TestConnsFit(t *testing.T) {
	row := []string{"2", "0.082", "53.1s", "127.0.0.1:33580", "127.0.0.1:47300", "127.0.0.1:47300/stomp/723/1rghqlbv/websocket", "-",
		"12/12/349", "14/14/1767", "client 1000 (normal closure), clean",
		"stomp SEND ping 10.0s ok; stomp heart-beat c2s 10.0s ok; sockjs h 2 beats; stomp heart-beat s2c 10.0s ok"}
	render := func(width int) string {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		fitConns(w, connsHeader, [][]string{row, row}, connsFit, "; ", width)
		w.Flush()
		return b.String()
	}
	for _, width := range []int{60, 80, 120, 200} {
		out := render(width)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for _, l := range lines {
			if n := twwidth.Width(l); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, l)
			}
		}
		for _, col := range []string{"CONN", "URL", "CLOSE", "HEARTBEAT"} {
			if !strings.Contains(lines[0], col) {
				t.Errorf("width %d: no %s in %q", width, col, lines[0])
			}
		}
		if strings.Contains(lines[0], "PROTO") && width < 200 {
			t.Errorf("width %d: PROTO kept: %q", width, lines[0])
		}
		if !strings.HasPrefix(lines[1], "2 ") || !strings.Contains(lines[1], "stomp SEND ping 10.0s ok;") {
			t.Errorf("width %d: the row's first line has no heartbeat: %q", width, lines[1])
		}
		if !strings.Contains(out, "stomp heart-beat s2c 10.0s ok") {
			t.Errorf("width %d: heartbeat text lost:\n%s", width, out)
		}
	}
	// Room for everything: the same bytes as the fixed table.
	var fixed bytes.Buffer
	out := &trimWriter{w: bufio.NewWriter(&fixed)}
	tb := newConnsTable(out)
	tb.Header(connsHeader)
	tb.Append(row)
	tb.Append(row)
	tb.Render()
	out.w.Flush()
	if got := render(1000); got != fixed.String() {
		t.Errorf("fitted at 1000 columns:\n%s\nfixed:\n%s", got, fixed.String())
	}
}
