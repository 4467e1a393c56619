package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestJSONLConnTextFollowsConn: the connection text a frame or message
// record takes from jsonl's cache (number, stream, src, dst, dir) is what
// the record's connection says at that record, whatever the cache could
// be keyed by wrongly: two connections with the same ports, a 4-tuple
// reused by a later connection, HTTP/2 streams sharing their connection's
// addresses, a view whose client side is named again, a view renumbered
// (the same Conn, another number), the same number with other addresses,
// numbers sharing a cache slot, the same number and addresses in another
// encapsulation (a connection that went on in another tenant); with and without --stable (whose client
// numbers must keep the order of first sight). Each line is checked
// against the values formatted independently.
func TestJSONLConnTextFollowsConn(t *testing.T) {
	ap := netip.MustParseAddrPort
	a1, a2, a3 := ap("10.0.0.1:5000"), ap("10.0.0.2:5000"), ap("[2001:db8::1]:5000")
	srv, srv2 := ap("10.0.0.9:80"), ap("10.0.0.9:8080")
	// Two numbers in the same slot of the cache.
	slot := func(id int) uint64 { return uint64(id) * 0x9e3779b97f4a7c15 >> 56 }
	sameSlot := func(id int) int {
		n := id + 1
		for slot(n) != slot(id) {
			n++
		}
		return n
	}
	x := 7
	y, z, w := sameSlot(x), sameSlot(sameSlot(x)), sameSlot(6)

	type step struct {
		c    *wsparse.Conn
		id   int // set c.ID first (renumbered), when not 0
		side int // SetClientSide(side-2) first, when not 0
		dir  wsparse.Dir
	}
	c1 := wsparse.NewView(1, [2]netip.AddrPort{a1, srv})
	c2 := wsparse.NewView(2, [2]netip.AddrPort{a2, srv}) // the same ports as c1
	c3 := wsparse.NewView(3, [2]netip.AddrPort{a1, srv}) // c1's 4-tuple reused
	s1 := wsparse.NewView(wsparse.StreamID(4, 1), [2]netip.AddrPort{a3, srv2})
	s3 := wsparse.NewView(wsparse.StreamID(4, 3), [2]netip.AddrPort{a3, srv2})
	s0 := wsparse.NewView(4, [2]netip.AddrPort{a3, srv2})
	flip := wsparse.NewView(5, [2]netip.AddrPort{a2, srv2})
	re := wsparse.NewView(6, [2]netip.AddrPort{a1, srv2})
	same6 := wsparse.NewView(6, [2]netip.AddrPort{a2, srv2}) // number 6 again, another client
	same6b := wsparse.NewView(6, [2]netip.AddrPort{a1, srv}) // and another server
	cx := wsparse.NewView(x, [2]netip.AddrPort{a1, srv})
	cy := wsparse.NewView(y, [2]netip.AddrPort{a2, srv})
	cz := wsparse.NewView(z, [2]netip.AddrPort{a1, srv}) // cx's 4-tuple in cx's slot
	v10 := wsparse.NewView(8, [2]netip.AddrPort{a1, srv})
	v10.SetEncapID(wsparse.EncapID("vlan:10"))
	v20 := wsparse.NewView(8, [2]netip.AddrPort{a1, srv}) // v10 in VLAN 20
	v20.SetEncapID(wsparse.EncapID("vlan:20"))
	plain8 := wsparse.NewView(8, [2]netip.AddrPort{a1, srv}) // and plain
	steps := []step{
		{c: c1}, {c: c1, dir: 1}, {c: c2}, {c: c1}, {c: c2, dir: 1}, {c: c3}, {c: c1}, {c: c3, dir: 1},
		{c: s1}, {c: s3}, {c: s0}, {c: s1, dir: 1}, {c: s0}, {c: s3},
		{c: flip}, {c: flip, side: 3}, {c: flip}, {c: flip, side: 2, dir: 1}, {c: flip, side: 1}, {c: flip},
		{c: re}, {c: re, id: 9}, {c: re}, {c: re, id: w}, {c: re}, {c: re, id: 6}, {c: same6}, {c: re}, {c: same6, dir: 1},
		{c: same6b}, {c: re}, {c: same6b},
		{c: cx}, {c: cy}, {c: cx, dir: 1}, {c: cy}, {c: cz}, {c: cx}, {c: cz, dir: 1},
		{c: v10}, {c: v20}, {c: v10, dir: 1}, {c: plain8}, {c: v20},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 { // and the same in random order
		s := steps[r.IntN(len(steps))]
		s.dir = wsparse.Dir(r.IntN(2))
		steps = append(steps, s)
	}

	for _, stable := range []bool{false, true} {
		var out bytes.Buffer
		j := newJSONL(&out)
		j.st = NewStabilizer(stable)
		ref := NewStabilizer(stable)
		type want struct {
			Type     string `json:"type"`
			Conn     int    `json:"conn"`
			Stream   uint32 `json:"stream"`
			Src, Dst string
			Dir      string `json:"dir"`
			Encap    string `json:"encap"`
		}
		var wants []want
		ts := time.Unix(1700000000, 0)
		for i, s := range steps {
			if s.id != 0 {
				s.c.ID = s.id
			}
			if s.side != 0 {
				s.c.SetClientSide(s.side - 2)
			}
			conn, stream := wsparse.SplitID(s.c.ID)
			p := []byte{byte(i)}
			if i%2 == 0 {
				// Only a record that shows the client numbers it.
				src, dst := ref.Client(s.c.Client()).String(), s.c.Server().String()
				if s.dir == wsparse.ServerToClient {
					src, dst = dst, src
				}
				j.Frame(s.c, &wsparse.Frame{TS: ts, Dir: s.dir, Header: wsparse.Header{Fin: true, Opcode: wsparse.OpBinary, Length: 1}, Payload: p})
				wants = append(wants, want{"frame", conn, stream, src, dst, s.dir.String(), s.c.Encap()})
			} else {
				j.MessageApps(s.c, &wsparse.Message{TS: ts, Dir: s.dir, Opcode: wsparse.OpBinary, Frames: 1, Len: 1, Data: p}, nil)
				wants = append(wants, want{Type: "message", Conn: conn, Stream: stream, Dir: s.dir.String(), Encap: s.c.Encap()})
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(wants) {
			t.Fatalf("stable %v: %d lines, want %d", stable, len(lines), len(wants))
		}
		for i, line := range lines {
			var got want
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("%v in %q", err, line)
			}
			if got != wants[i] {
				t.Errorf("stable %v, record %d: %q, want %+v", stable, i, line, wants[i])
			}
			if wants[i].Stream == 0 && strings.Contains(line, `"stream"`) {
				t.Errorf("record %d: a stream in %q", i, line)
			}
		}
		// The cache was used, not just right: most records repeat a
		// connection as it was.
		if j.connHits < len(steps)/2 {
			t.Errorf("stable %v: %d of %d records found their connection's text made", stable, j.connHits, len(steps))
		}
	}
}

// TestJSONLTimeTextMatches: the time jsonl writes with the second's text
// reused is appendQuotedTS's, for times within a second, across seconds,
// going back, before 1970 and past 9999, and the zero time.
func TestJSONLTimeTextMatches(t *testing.T) {
	var p tsText
	r := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 12, 5, 14, 56, 30, 0, time.UTC)
	times := []time.Time{{}, time.Unix(-1, 999999999), time.Unix(0, 0), time.Unix(maxFastTS-1, 5), time.Unix(maxFastTS, 5),
		base, base.Add(999999999), base.Add(1e9), base.Add(-1), base.Add(-1e9), base.In(time.FixedZone("x", 3600))}
	for range 5000 {
		times = append(times, base.Add(time.Duration(r.Int64N(4e9)-2e9)))
		if r.IntN(10) == 0 {
			times = append(times, time.Unix(r.Int64N(2*maxFastTS)-maxFastTS/2, r.Int64N(1e9)))
		}
	}
	for _, tm := range times {
		got := string(p.appendQuotedTS([]byte("x"), tm))
		want := string(appendQuotedTS([]byte("x"), tm))
		if got != want {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	}
}
