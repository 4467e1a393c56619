package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTLSStoppedShown: a wss connection whose decryption stopped partway
// says so in the table's end row and in the conns view's close cell, the
// reason escaped (it may carry bytes of the wire); one whose decryption
// went on after a failure (resynced past lost bytes) says nothing more.
func TestTLSStoppedShown(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  *wsparse.TLSInfo
		want string // "" : no "tls decryption stopped"
	}{
		{"renegotiation", &wsparse.TLSInfo{Stopped: true, Error: "side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00): its records after its ChangeCipherSpec are counted, not decrypted"},
			"tls decryption stopped: side 0: renegotiation 1 to keys not known,"},
		{"wire bytes escaped", &wsparse.TLSInfo{Stopped: true, Error: "side 1: \x1b[31m\u202e\nred"}, `tls decryption stopped: side 1: \x1b[31m\u202e\nred,`},
		// The first failure was passed over; the stop came later: the
		// stop is shown (until session 39 the first failure was).
		{"stop after a failure passed over", &wsparse.TLSInfo{Stopped: true, Error: "side 1: record 9 cut by lost bytes: 40 bytes of plaintext lost, decryption goes on",
			StopError: "side 0: renegotiation 1 to keys not known (key log has no CLIENT_RANDOM line for client random 00): its records after its ChangeCipherSpec are counted, not decrypted"},
			"tls decryption stopped: side 0: renegotiation 1 to keys not known,"},
		{"goes on", &wsparse.TLSInfo{Error: "side 0: 70 bytes lost, records lost: 1 (40 bytes of plaintext), decryption goes on"}, ""},
		{"plain", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tb := newTable(&out, Options{Preview: 400})
			s := &wsparse.Summary{End: wsparse.EndFINWithoutClose, TLS: tc.tls}
			s.Stats[0].LostBytes = 42
			tb.End(&wsparse.Conn{ID: 1}, s)
			if err := tb.Close(); err != nil {
				t.Fatal(err)
			}
			row := out.String()
			if tc.want == "" && strings.Contains(row, "tls decryption") || tc.want != "" && !strings.Contains(row, tc.want) {
				t.Errorf("end row %q, want %q", row, tc.want)
			}
			if strings.ContainsAny(row, "\x1b\u202e") || strings.Count(row, "\n") != 2 {
				t.Errorf("end row %q: control bytes unescaped", row)
			}

			c := &health.Conn{Status: 101}
			c.Close.End, c.Close.TCPFin = wsparse.EndFINWithoutClose, [2]bool{true, true}
			if tc.tls != nil {
				c.Close.TLSStopped = tc.tls.StopText()
			}
			got := CloseText(c)
			if want := strings.TrimSuffix(tc.want, ","); want == "" && strings.Contains(got, "tls decryption") || want != "" && !strings.HasSuffix(got, ", "+want) {
				t.Errorf("CloseText %q, want it to end %q", got, want)
			}
			if strings.ContainsAny(got, "\x1b\u202e\n") {
				t.Errorf("CloseText %q: control bytes unescaped", got)
			}
		})
	}
}
