package reassembly

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
)

// tlsSink keeps the TLS records: client->server error.
type tlsSink struct{ lines []string }

func (l *tlsSink) Put(r *record.Record) {
	if r.Kind == record.TLS {
		l.lines = append(l.lines, fmt.Sprintf("%s->%s %s", r.TLS.Client, r.TLS.Server, r.TLS.Info.Error))
	}
}

func tlsRecords(t *testing.T, name string, pkts []synth.Packet, want string) {
	t.Helper()
	for _, jobs := range []int{1, 2} {
		l := &tlsSink{}
		decodeAll(l, pkts, Options{}, jobs)
		if got := strings.Join(l.lines, "\n"); got != want {
			t.Errorf("%s, -j %d:\n got %s\nwant %s", name, jobs, got, want)
		}
	}
}

// TestMidSessionTLSClient: a TLS session captured after its handshake
// shows no hello to tell the client; the ports do, and the record says when
// they only guess. Each capture starts with the server's records. Until
// session 36 two ports from 1024 on made the first side seen (here the
// server) the client, unsaid.
func TestMidSessionTLSClient(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{0x17, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0xa5}, n)...)
	}
	const late = "no TLS handshake seen: capture starts after it"
	for _, tc := range []struct{ client, server, want string }{
		{"192.0.2.1:40000", "192.0.2.2:443", late},                                                // well-known
		{"192.0.2.1:40000", "192.0.2.2:8443", late},                                               // a TLS server's port
		{"192.0.2.1:1500", "192.0.2.2:8443", late},                                                // (registered too)
		{"192.0.2.1:50000", "192.0.2.2:8080", late + "; client guessed: port 50000 is ephemeral"}, // registered against ephemeral
		{"192.0.2.1:9000", "192.0.2.2:3000", late + "; client guessed: port 3000 is the lower"},   // both registered
	} {
		c := synth.New(tc.client, tc.server)
		c.Send(false, rec(300))
		c.Send(true, rec(40))
		c.Send(false, rec(70))
		tlsRecords(t, tc.client+" "+tc.server, c.Packets, tc.client+"->"+tc.server+" "+tc.want)
	}
	// Both ephemeral: the ports say nothing, the first side seen (the
	// server here) is taken for the client, and said.
	c := synth.New("192.0.2.1:40000", "192.0.2.2:50000")
	c.Send(false, rec(300))
	c.Send(true, rec(40))
	tlsRecords(t, "both ephemeral", c.Packets, "192.0.2.2:50000->192.0.2.1:40000 "+late+"; client guessed: the first side seen")
}
