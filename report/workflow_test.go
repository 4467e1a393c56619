package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

func sample(t *testing.T, opts Options) string {
	t.Helper()
	var out bytes.Buffer
	e, err := New(&out, opts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:51000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	e.SetOrigin(t0)
	wsOf(e).Handshake(c, &wsparse.Handshake{TS: t0.Add(time.Millisecond), Method: "GET", URI: "/", Key: "k", Accept: "a", Status: 101})
	wsOf(e).Frame(c, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}, Length: 6},
		Dir: wsparse.ClientToServer, TS: t0.Add(2 * time.Millisecond), Index: 1, Payload: []byte("a,\"b\"\n"), Anomalies: wsparse.AnomRSVWithoutExt})
	wsOf(e).Frame(c, &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: 2},
		Dir: wsparse.ServerToClient, TS: t0.Add(3 * time.Millisecond), Index: 1, Payload: []byte{0, 1}})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestColor(t *testing.T) {
	plain := sample(t, Options{})
	if strings.Contains(plain, "\x1b") {
		t.Errorf("colour without Color:\n%s", plain)
	}
	col := sample(t, Options{Color: true})
	for _, want := range []string{ColorC2S + "c2s" + ColorReset, ColorS2C + "s2c" + ColorReset, ColorAnomaly + "!rsv_without_extension" + ColorReset} {
		if !strings.Contains(col, want) {
			t.Errorf("no %q in\n%q", want, col)
		}
	}
	// Without the escapes, the same table.
	strip := strings.NewReplacer(ColorC2S, "", ColorS2C, "", ColorAnomaly, "", ColorReset, "")
	if strip.Replace(col) != plain {
		t.Errorf("colour changed the layout:\n%s\n%s", col, plain)
	}
}

func TestStableJSONL(t *testing.T) {
	out := sample(t, Options{Format: "jsonl", Stable: true})
	for _, want := range []string{`"ts":"1970-01-01T00:00:00.002000000Z"`, `"client":"10.0.0.1:1"`, `"server":"10.0.0.2:80"`,
		`"mask_key":"********"`, `"key":"<key>"`, `"accept":"<accept>"`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "51000") || strings.Contains(out, "01020304") {
		t.Errorf("volatile values kept:\n%s", out)
	}
	tbl := sample(t, Options{Stable: true})
	if !strings.Contains(tbl, "********") || strings.Contains(tbl, "01020304") {
		t.Errorf("table mask:\n%s", tbl)
	}
}
