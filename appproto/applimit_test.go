package appproto

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestAppsPerMessageBounded: a message that carries many application
// messages keeps at most MaxApps Apps, the last marked app_limit and
// counting the rest, whatever the protocol: one of 16 MiB of STOMP
// heart-beats held an App of ~200 bytes per byte (4 MiB: 2.2 GB peak RSS).
// The stream goes on decoding the next message.
func TestAppsPerMessageBounded(t *testing.T) {
	const n = 3 * MaxApps
	cases := []struct {
		mode, data, next string
		binary           bool
	}{
		{mode: STOMP, data: strings.Repeat("\n", n), next: "SEND\ndestination:/q\n\nhi\x00"},
		{mode: STOMP, data: strings.Repeat("ACK\nid:1\n\n\x00", n), next: "SEND\ndestination:/q\n\nhi\x00"},
		{mode: MQTT, data: strings.Repeat("\xc0\x00", n), next: "\x30\x05\x00\x01thi", binary: true},
		{mode: JSONRPC, data: "[" + strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"a","id":1},`, n), ",") + "]",
			next: `{"jsonrpc":"2.0","method":"b","id":2}`},
		// a STOMP frame per string, one App for the client's [...] frame
		{mode: SockJS, data: `["CONNECT\naccept-version:1.2\n\n\u0000",` +
			strings.TrimSuffix(strings.Repeat(`"ACK\nid:1\n\n\u0000",`, n-1), ",") + "]",
			next: `["SEND\ndestination:/q\n\nhi\u0000"]`},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			s := New(nil, c.mode)
			msg := func(data string) []App {
				m := &wsparse.Message{Opcode: wsparse.OpText, Frames: 1, Data: []byte(data), Len: uint64(len(data))}
				if c.binary {
					m.Opcode = wsparse.OpBinary
				}
				return s.Message(m)
			}
			apps := msg(c.data)
			total := n
			if c.mode == SockJS {
				total++ // the [...] frame
			}
			checkAppLimit(t, apps, total)
			if next := msg(c.next); len(next) == 0 || len(next[len(next)-1].Anomalies) != 0 {
				t.Errorf("the next message gave %+v", next)
			}
		})
	}
}

// TestAppsPerMessageBoundedInner: a SockJS string that itself carries more
// than MaxApps STOMP messages is cut by its inner session; what the inner
// app_limit App counted is added to the outer one's count, not taken as
// one application message.
func TestAppsPerMessageBoundedInner(t *testing.T) {
	const n = 3 * MaxApps
	s := New(nil, SockJS)
	data := `["CONNECT\naccept-version:1.2\n\n\u0000","` + strings.Repeat(`\n`, n) + `"]`
	apps := s.Message(&wsparse.Message{Opcode: wsparse.OpText, Frames: 1, Data: []byte(data), Len: uint64(len(data))})
	checkAppLimit(t, apps, 1+1+n) // the [...] frame, CONNECT, the heart-beats
}

// checkAppLimit: apps, from a message of total application messages, are
// MaxApps, the last an app_limit App that counts the ones not kept.
func checkAppLimit(t *testing.T, apps []App, total int) {
	t.Helper()
	if len(apps) != MaxApps {
		t.Fatalf("%d Apps from a message of %d, want %d", len(apps), total, MaxApps)
	}
	last := apps[MaxApps-1]
	want := strconv.Itoa(total - (MaxApps - 1))
	if len(last.Anomalies) != 1 || last.Anomalies[0] != "app_limit" || len(last.Fields) != 1 || last.Fields[0].Value != want {
		t.Errorf("last App %+v, want app_limit with not_kept %s", last, want)
	}
}
