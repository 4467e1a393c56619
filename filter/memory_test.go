package filter

import (
	"runtime"
	"testing"

	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestFilterKeepsLittlePerOpenConn (issue 16): a filter holds what it
// knows of each open connection until the connection ends, for as many
// connections as are open at once (100 000 in bench/memory.sh). An
// expression that reads no connection field keeps nothing; one that reads
// the handshake's host keeps its fields, not a copy of the handshake. It
// kept ~450 bytes a connection for both (-Y 'opcode == 1' on 100 000 open
// connections: 357 MiB peak RSS, jsonl 281).
func TestFilterKeepsLittlePerOpenConn(t *testing.T) {
	const n = 4000
	conns, hs := synth.Views(n), synth.Handshakes(n)
	frame := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 5}, Payload: []byte("hello")}
	for _, c := range []struct {
		expr string
		max  float64 // bytes kept per open connection
	}{
		{`opcode == 1`, 8},
		{`host contains "example" && opcode == 1`, 80},
	} {
		x, err := CompileExpr(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		f := New(discard{}, Spec{Expr: x})
		per := prof.HeapLeftPer(n, func() {
			for i, conn := range conns {
				f.Handshake(conn, hs[i])
				fr := *frame
				fr.TS = hs[i].TS
				f.Frame(conn, &fr)
			}
		})
		runtime.KeepAlive(f)
		t.Logf("-Y %s: %.0f bytes kept per open connection", c.expr, per)
		if per > c.max {
			t.Errorf("-Y %s: %.0f bytes kept per open connection, want at most %.0f", c.expr, per, c.max)
		}
	}
	runtime.KeepAlive(conns)
	runtime.KeepAlive(hs)
}

// discard is a record.Sink that drops every record.
type discard struct{}

func (discard) Put(*record.Record) {}

// TestHandshakeTable: connections with the same handshake text share an
// entry, held until the last of them lets it go; the same text cut
// otherwise is not shared; freed numbers are reused.
func TestHandshakeTable(t *testing.T) {
	var tb HandshakeTable
	h := &wsparse.Handshake{Host: "example.com", URI: "/ws", Subprotocol: "v12.stomp"}
	a, b := tb.Add(h), tb.Add(&wsparse.Handshake{Host: "example.com", URI: "/ws", Subprotocol: "v12.stomp"})
	if a != b || tb.Len() != 1 {
		t.Fatalf("same text: numbers %d and %d, %d entries; want one shared", a, b, tb.Len())
	}
	cut := tb.Add(&wsparse.Handshake{Host: "example.com/", URI: "ws", Subprotocol: "v12.stomp"})
	if cut == a {
		t.Fatal("the same text cut otherwise shares the entry")
	}
	if g := tb.Get(cut); g.Host() != "example.com/" || g.URI() != "ws" || g.Subprotocol() != "v12.stomp" {
		t.Errorf("cut otherwise: %q %q %q", g.Host(), g.URI(), g.Subprotocol())
	}
	tb.Release(a)
	if g := tb.Get(b); g.Host() != "example.com" || g.URI() != "/ws" || g.Subprotocol() != "v12.stomp" || tb.Len() != 2 {
		t.Fatalf("after one release: %q %q %q, %d entries", g.Host(), g.URI(), g.Subprotocol(), tb.Len())
	}
	tb.Release(b)
	tb.Release(cut)
	if tb.Len() != 0 || len(tb.byText) != 0 {
		t.Fatalf("all released: %d entries, %d texts", tb.Len(), len(tb.byText))
	}
	if n := tb.Add(&wsparse.Handshake{Host: "other", URI: "/"}); n != cut && n != a {
		t.Errorf("a freed number is not reused: %d", n)
	}
	if tb.Get(0) != nil {
		t.Error("number 0 has fields")
	}
}
