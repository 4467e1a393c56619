package report

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestFieldsExporterKeepsLittlePerOpenConn (issue 16): -T fields keeps a
// connection's handshake fields from its handshake to its end only when
// a -e field reads them (host, uri, subprotocol), and then those, not a
// copy of the handshake. It kept a copy for every open connection
// (-T fields -e opcode -e len on 100 000 open connections: 348 MiB peak
// RSS, jsonl 281).
func TestFieldsExporterKeepsLittlePerOpenConn(t *testing.T) {
	const n = 4000
	conns, hs := synth.Views(n), synth.Handshakes(n)
	for _, c := range []struct {
		fields []string
		max    float64 // bytes kept per open connection
	}{
		{[]string{"opcode", "len"}, 8},
		{[]string{"host", "opcode"}, 60},
	} {
		e := NewFieldsExporter(io.Discard, c.fields, false, false)
		per := prof.HeapLeftPer(n, func() {
			for i, conn := range conns {
				e.Handshake(conn, hs[i])
				e.Frame(conn, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 5}, TS: hs[i].TS, Payload: []byte("hello")})
			}
		})
		runtime.KeepAlive(e)
		name := "-e " + strings.Join(c.fields, " -e ")
		t.Logf("%s: %.0f bytes kept per open connection", name, per)
		if per > c.max {
			t.Errorf("%s: %.0f bytes kept per open connection, want at most %.0f", name, per, c.max)
		}
	}
	runtime.KeepAlive(conns)
	runtime.KeepAlive(hs)
}
