package report

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// BenchmarkRecords formats, in each format, what most traffic is: an
// unfragmented masked text frame of a small JSON message and the message
// with its application decoding, written to io.Discard. Bytes are the
// payload's.
func BenchmarkRecords(b *testing.B) {
	payload := []byte(`{"type":"chat","seq":17,"from":"heidi","to":"dave","text":"incididunt dolor ipsum aliqua"}`)
	t0 := time.Date(2026, 11, 26, 9, 31, 50, 308195000, time.UTC)
	c := wsparse.NewView(1, [2]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:41104"), netip.MustParseAddrPort("[::1]:47110")})
	f := &wsparse.Frame{Dir: wsparse.ClientToServer, TS: t0, Index: 2, MessageOpcode: wsparse.OpText, Payload: payload,
		Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: [4]byte{0x1d, 0x05, 0xa6, 0x3d},
			Length: uint64(len(payload)), Size: 6}}
	m := &wsparse.Message{Dir: wsparse.ClientToServer, TS: t0, Index: 2, Opcode: wsparse.OpText, Frames: 1,
		Len: uint64(len(payload)), Data: payload}
	s := appproto.New(nil, appproto.ModeAuto)
	apps := s.Message(m)
	if len(apps) != 1 {
		b.Fatalf("apps: %+v", apps)
	}
	for _, opts := range []Options{{Format: "jsonl"}, {Format: "table"}, {Format: "table", Messages: true}, {Format: "csv"}} {
		name := opts.Format
		if opts.Messages {
			name += "-messages"
		}
		b.Run(name, func(b *testing.B) {
			exp, err := New(io.Discard, opts)
			if err != nil {
				b.Fatal(err)
			}
			exp.SetOrigin(t0)
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				exp.Put(&record.Record{Kind: record.Frame, Conn: c, Frame: f})
				exp.Put(&record.Record{Kind: record.Message, Conn: c, Message: m, Apps: apps, Decoded: true})
			}
			exp.Close()
		})
	}
}

// TestAddrField: addresses are written as AddrPort.String writes them.
func TestAddrField(t *testing.T) {
	for _, s := range []string{"127.0.0.1:41104", "[::1]:80", "[::ffff:10.0.0.1]:443", "[fe80::1%eth0]:8080", "[2001:db8::1]:0"} {
		a := netip.MustParseAddrPort(s)
		if got, want := string(addrField(nil, "src", a)), string(strField(nil, "src", a.String())); got != want {
			t.Errorf("%s: got %s, want %s", s, got, want)
		}
	}
	if got, want := string(addrField(nil, "src", netip.AddrPort{})), string(strField(nil, "src", netip.AddrPort{}.String())); got != want {
		t.Errorf("zero: got %s, want %s", got, want)
	}
}

// TestAppendTS: appendTS writes what AppendFormat writes, for times from
// 1970 to 9999 (its own digits) and outside them (AppendFormat's), in any
// location, around month, leap-year and century ends.
func TestAppendTS(t *testing.T) {
	check := func(tm time.Time) {
		t.Helper()
		if got, want := string(appendTS([]byte("x"), tm)), "x"+tm.UTC().Format(tsLayout); got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
	loc := time.FixedZone("x", -7*3600)
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 999999999), time.Unix(maxFastTS-1, 999999999), time.Unix(maxFastTS, 0),
		time.Date(2000, 2, 29, 23, 59, 59, 1, time.UTC), time.Date(2100, 3, 1, 0, 0, 0, 0, loc), time.Date(1972, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 26, 9, 31, 50, 308195000, loc), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} {
		check(tm)
	}
	for day := int64(0); day < maxFastTS/86400; day += 1 + day/20000 {
		check(time.Unix(day*86400+day%86400, day*7919%1e9).In(loc))
	}
}
