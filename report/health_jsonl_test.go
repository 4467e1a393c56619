package report

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestHealthJSONL: the conn and client_group records of one connection
// with a ping, its pong, a text heartbeat and a clean close (moved from
// health's TestHealthPassThroughAndJSON with the writer).
func TestHealthJSONL(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := health.New(nil, health.Options{HeartbeatText: regexp.MustCompile("ping")})
	c := wsparse.NewConn(1, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
	hs := &wsparse.Handshake{RequestTS: at(0), TS: at(1), Method: "GET", URI: "/ws", Host: "example.test", Status: 101}
	tr.Handshake(c, hs)
	ctl := func(op wsparse.Opcode, d wsparse.Dir, ms int) {
		tr.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: op, Fin: true}, Dir: d, TS: at(ms), Payload: []byte("p")})
	}
	ctl(wsparse.OpPing, wsparse.ClientToServer, 10)
	ctl(wsparse.OpPong, wsparse.ServerToClient, 12)
	tr.Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, TS: at(20), Opcode: wsparse.OpText, Data: []byte("ping"), Len: 4, Frames: 1})
	cl := [2]wsparse.CloseInfo{{Sent: true, TS: at(25), Code: 1000, HasCode: true}, {Sent: true, TS: at(26), Code: 1000, HasCode: true}}
	for d := range cl {
		tr.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpClose, Fin: true}, Dir: wsparse.Dir(d), TS: cl[d].TS})
	}
	tr.End(c, &wsparse.Summary{First: at(0), Last: at(30), Handshake: hs, Close: cl, Initiator: wsparse.ClientToServer, End: wsparse.EndClean})

	var buf bytes.Buffer
	if err := WriteHealthJSONL(&buf, tr.Report(), health.Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var conn struct {
		Type  string
		Close struct {
			Clean     bool
			Initiator string
			Client    struct{ Code int }
		}
		Ping map[string]struct {
			Pings int
			RTT   struct{ Max float64 }
		}
		Heartbeat struct{ Glance string }
	}
	var group struct {
		Type     string
		Attempts int
	}
	if err := json.Unmarshal([]byte(lines[0]), &conn); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &group); err != nil {
		t.Fatal(err)
	}
	if conn.Type != "conn" || !conn.Close.Clean || conn.Close.Initiator != "client" || conn.Close.Client.Code != 1000 ||
		conn.Ping["c2s"].Pings != 1 || conn.Ping["c2s"].RTT.Max != 0.002 || conn.Heartbeat.Glance != "text c2s 1 beat; ws-ping 1 beat" {
		t.Errorf("conn record %s", lines[0])
	}
	if group.Type != "client_group" || group.Attempts != 1 {
		t.Errorf("group record %s", lines[1])
	}
}

// TestHealthJSONLAsEncoded: the conns view's records, appended field by
// field, are the bytes encoding/json wrote from the structs that named
// them (writeHealthJSONLRef), on reports whose every field is filled at
// random: odd strings (HTML, controls, U+2028, invalid UTF-8), zero and
// far times, nil and set pointers, empty and full lists, HTTP/2 streams.
func TestHealthJSONLAsEncoded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := filler{rng}
	for i := range 400 {
		rep := &health.Report{}
		for range rng.IntN(4) {
			c := &health.Conn{}
			f.fill(reflect.ValueOf(c).Elem())
			if rng.IntN(2) == 0 {
				c.ID = wsparse.StreamID(c.ID, uint32(rng.IntN(9)))
			}
			rep.Conns = append(rep.Conns, c)
		}
		for range rng.IntN(3) {
			g := &health.Group{}
			f.fill(reflect.ValueOf(g).Elem())
			if rng.IntN(2) == 0 {
				g.SetEncap(oddStrings[rng.IntN(len(oddStrings))]) // unexported: the filler does not reach it
			}
			for j := range g.Attempts {
				if rng.IntN(2) == 0 {
					g.Attempts[j].Conn = wsparse.StreamID(g.Attempts[j].Conn, 3)
				}
			}
			rep.Groups = append(rep.Groups, g)
		}
		for range rng.IntN(2) {
			h := &health.HTTP2Conn{}
			f.fill(reflect.ValueOf(h).Elem())
			rep.HTTP2 = append(rep.HTTP2, h)
		}
		o := health.Options{StormWindow: f.duration()}
		var got, want bytes.Buffer
		if err := WriteHealthJSONL(&got, rep, o); err != nil {
			t.Fatal(err)
		}
		if err := writeHealthJSONLRef(&want, rep, o); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
			for j := range min(len(g), len(w)) {
				if g[j] != w[j] {
					t.Fatalf("report %d, line %d:\n got %s\nwant %s", i, j, g[j], w[j])
				}
			}
			t.Fatalf("report %d: %d lines, want %d", i, len(g), len(w))
		}
	}
}

// filler sets fields to random values that reach every branch of the
// records' writer.
type filler struct{ rng *rand.Rand }

var oddStrings = []string{"", "", "a", "example.test", `<b>&amp;</b>`, "tab\there\nnl\r\b\f\x01\x1f\x7f", "\u2028\u2029",
	"bad \xff\xfe utf8", "é ☃ 𝄞", `"quoted" \back\`, "/p?sid=x&y=<z>", "\u202e\u0085"}

func (f filler) duration() time.Duration {
	switch f.rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return -time.Duration(f.rng.Int64N(1e12))
	}
	return time.Duration(f.rng.Int64N(1e13))
}

func (f filler) time() time.Time {
	switch f.rng.IntN(6) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(10000+f.rng.IntN(10), 1, 2, 3, 4, 5, 6, time.UTC)
	case 2:
		return time.Date(1969, 12, 31, 23, 59, 59, f.rng.IntN(1e9), time.FixedZone("X", 3600))
	}
	return time.Unix(1.7e9+f.rng.Int64N(1e8), f.rng.Int64N(1e9))
}

func (f filler) fill(v reflect.Value) {
	switch x := v.Addr().Interface().(type) {
	case *time.Time:
		*x = f.time()
		return
	case *time.Duration:
		*x = f.duration()
		return
	case *netip.AddrPort:
		*x = []netip.AddrPort{{}, netip.MustParseAddrPort("10.0.0.1:80"), netip.MustParseAddrPort("[fe80::1%eth0]:443")}[f.rng.IntN(3)]
		return
	case *netip.Addr:
		*x = []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::1")}[f.rng.IntN(3)]
		return
	case *wsparse.Dir:
		*x = wsparse.Dir(f.rng.IntN(2))
		return
	case *wsparse.Anomalies:
		if f.rng.IntN(2) == 0 {
			*x = wsparse.Anomalies(f.rng.Uint64())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(oddStrings[f.rng.IntN(len(oddStrings))])
	case reflect.Bool:
		v.SetBool(f.rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		if f.rng.IntN(3) > 0 {
			v.SetInt(f.rng.Int64N(1000))
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f.rng.IntN(3) > 0 {
			v.SetUint(f.rng.Uint64N(1 << min(v.Type().Bits()-1, 40)))
		}
	case reflect.Pointer:
		if f.rng.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			f.fill(p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		n := f.rng.IntN(4)
		if n == 0 {
			if f.rng.IntN(2) == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if e := s.Index(i); e.Kind() == reflect.Pointer { // a list holds no nil
				e.Set(reflect.New(e.Type().Elem()))
				f.fill(e.Elem())
			} else {
				f.fill(e)
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i))
		}
	}
}

// TestHealthJSONLAllocs: the conns view writes a connection's record
// with few allocations (its close and heartbeat texts), not
// encoding/json's (27 for an open connection, 65 for one that pinged):
// their garbage kept the collector running over the whole report of
// 100 000 connections.
func TestHealthJSONLAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race: sync.Pool drops items at random")
	}
	for _, tc := range []struct {
		name  string
		pings int
		max   float64
	}{{"open", 0, 2}, {"pinged", 4, 16}} {
		const n = 200
		tr := health.New(nil, health.Options{})
		for i := range n {
			c := wsparse.NewConn(i+1, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 5000), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second)
			hs := &wsparse.Handshake{RequestTS: t0, TS: t0.Add(time.Millisecond), Method: "GET", URI: "/ws?x=1", Host: "example.test", Status: 101}
			tr.Handshake(c, hs)
			for k := range tc.pings {
				tr.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPing, Fin: true}, Dir: wsparse.ClientToServer, TS: t0.Add(time.Duration(k) * time.Second), Payload: []byte("p")})
			}
			s := &wsparse.Summary{First: t0, Last: t0.Add(6 * time.Second), Handshake: hs, End: wsparse.EndOpen}
			if tc.pings > 0 {
				s.Close[0] = wsparse.CloseInfo{Sent: true, TS: t0.Add(5 * time.Second), Code: 1000, HasCode: true}
				s.End = wsparse.EndCloseUnanswered
			}
			s.Stats[0].Frames = 5
			tr.End(c, s)
		}
		rep := tr.Report()
		per := testing.AllocsPerRun(5, func() {
			if err := WriteHealthJSONL(io.Discard, rep, health.Options{}); err != nil {
				t.Fatal(err)
			}
		}) / n
		ref := testing.AllocsPerRun(5, func() { writeHealthJSONLRef(io.Discard, rep, health.Options{}) }) / n
		t.Logf("%s: %.1f allocations a connection (%.1f with encoding/json)", tc.name, per, ref)
		if per > tc.max {
			t.Errorf("%s: %.1f allocations a connection, want at most %.0f", tc.name, per, tc.max)
		}
	}
}
