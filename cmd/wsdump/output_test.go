package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// hostileConv is an upgraded connection whose Host header, URI, payloads
// and close reason carry an OSC 52 clipboard write, BEL, NUL, a bidi
// override and spreadsheet formulas.
func hostileConv() *synth.Conv {
	const osc52 = "\x1b]52;c;b3duZWQ=\x07"
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte("GET /=cmd"+osc52+"\u202e\x00 HTTP/1.1\r\nHost: =evil"+osc52+"\u202e\r\n"+
		strings.TrimPrefix(upgradeReq, "GET /x HTTP/1.1\r\nHost: h\r\n")+"\r\n"))
	c.Send(false, []byte(upgradeResp+"\r\n"))
	for _, p := range []string{"=1+2" + osc52, "+SUM(A1)", "-2+3", "@A1", "\tx\u202eexe.txt\x00"} {
		c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpText}, []byte(p)))
	}
	c.Send(false, frameBytes(wsparse.Header{Fin: true, Opcode: wsparse.OpClose}, []byte("\x03\xe8-"+osc52)))
	return c
}

// TestCSVHostile runs a hostile capture through --format csv: no cell may
// hold a raw control, bidi or C1 character, and no cell that holds
// traffic may begin like a formula.
func TestCSVHostile(t *testing.T) {
	path := writeSynth(t, 0, hostileConv())
	for _, view := range [][]string{nil, {"--messages"}} {
		out, errs, code := runWsdump(t, nil, append([]string{"-r", path, "--format", "csv"}, view...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		checkTerminalSafe(t, []byte(out))
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var payloads int
		for _, r := range rows[1:] {
			for i, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%v: %s cell %q of %q runs as a formula", view, rows[0][i], cell, r)
				}
			}
			if r[13] == "text" || r[13] == "escaped" {
				payloads++
			}
		}
		if !strings.Contains(out, `=evil\x1b]52;c;b3duZWQ=\x07\u202e/=cmd\x1b]52`) || !strings.Contains(out, `'=1+2\x1b]52`) ||
			!strings.Contains(out, `'-2+3`) || !strings.Contains(out, `,\tx\u202eexe.txt\x00,`) {
			t.Errorf("%v: escapes or prefixes missing:\n%s", view, out)
		}
		if payloads != 5 {
			t.Errorf("%v: %d text payloads, want 5:\n%s", view, payloads, out)
		}
	}
}
