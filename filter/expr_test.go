package filter

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// exprRecords are one record of each kind, through the environment
// builders of a filter of spec.
func exprRecords(t *testing.T, spec Spec) map[string]Env {
	t.Helper()
	t0 := time.Date(2024, 1, 19, 18, 20, 23, 0, time.UTC)
	f := New(nil, spec)
	f.SetOrigin(t0)
	c := &wsparse.Conn{ID: 3, Addr: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := &wsparse.Handshake{TS: t0, Method: "GET", URI: "/ws/stomp", Host: "example.com", Status: 101, Subprotocol: "v12.stomp"}
	big := &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpBinary, TS: t0.Add(time.Second), Frames: 2, Len: 70000, Data: []byte{0, 1, 2}, Index: 4}
	stomp := &wsparse.Message{Dir: wsparse.ServerToClient, Opcode: wsparse.OpText, TS: t0.Add(2 * time.Second), Frames: 1, Len: 40,
		Data: []byte("ERROR\nmessage:bad destination\n\n\x00"), Index: 5}
	app := &appproto.App{Protocol: "stomp", Type: "ERROR", Key: "-", Fields: []appproto.Field{{Key: "message", Value: "bad destination"}, {Key: "destination", Value: "/topic/a"}}}
	closeFr := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpClose, Masked: true, Length: 2}, Dir: wsparse.ClientToServer,
		TS: t0.Add(3 * time.Second), Index: 7, Payload: []byte{0x03, 0xe9}, CloseCode: 1001, HasCloseCode: true}
	textFr := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 13}, Dir: wsparse.ServerToClient,
		TS: t0.Add(4 * time.Second), Index: 8, Payload: []byte("an error here"), Anomalies: wsparse.AnomServerMasked}
	hf := FieldsOf(h)
	return map[string]Env{
		"handshake": f.HandshakeEnv(c, h),
		"big":       f.MessageEnv(c, big, &hf, nil),
		"stomp":     f.MessageEnv(c, stomp, &hf, app),
		"close":     f.FrameEnv(c, closeFr, &hf),
		"text":      f.FrameEnv(c, textFr, nil),
		"conn": f.SummaryEnv(c, &wsparse.Summary{First: t0, Last: t0.Add(5 * time.Second), Handshake: h, End: wsparse.EndClean},
			&Health{Heartbeat: HeartbeatHealth{Missed: 2, Kinds: noKinds}}),
	}
}

// TestExprEnvironment: the examples and the absent-field rule, on
// one record of each kind; the same with the environments the expression's
// own filter makes, which hold only the fields it reads.
func TestExprEnvironment(t *testing.T) {
	recs := exprRecords(t, Spec{})
	for _, c := range []struct {
		expr string
		want string // the records it selects, sorted
	}{
		{`opcode == 2 && len > 64 * 1024`, "big"},                              // binary messages over 64 KiB
		{`close_code != 1000`, "close"},                                        // absent close_code: false, even for !=
		{`close_code == nil && type == "frame"`, "text"},                       // absence asked for
		{`anomalies != []`, "text"},                                            // anything with an anomaly
		{`"server_frame_masked" in anomalies`, "text"},                         // one anomaly by name
		{`app.type == "ERROR"`, "stomp"},                                       // STOMP ERROR frames
		{`app.destination startsWith "/topic"`, "stomp"},                       // STOMP headers by name
		{`conn.heartbeat.missed > 0`, "conn"},                                  // health: conn records only
		{`conn == 3 && type == "handshake"`, "handshake"},                      // conn alone is the number
		{`text contains "error"`, "text"},                                      // payload as UTF-8
		{`text matches "^ERROR\n"`, "stomp"},                                   // regular expression
		{`dir in ["c2s"]`, "close"},                                            // in
		{`!(len > 100)`, "close,conn,handshake,stomp,text"},                    // ! of a false comparison on an absent len
		{`uri == "/ws/stomp" && dir == "s2c"`, "big,stomp"},                    // the handshake's fields on its messages
		{`status == 101`, "conn,handshake"},                                    // handshake fields
		{`time >= 3 && time < 4.5`, "close,text"},                              // seconds after the first packet
		{`masked && opcode_name == "close"`, "close"},                          // booleans and names
		{`index > 4 or (fin and not masked and len < 20)`, "close,stomp,text"}, // tshark's word operators
	} {
		t.Run(c.expr, func(t *testing.T) {
			x, err := CompileExpr(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			for _, recs := range []map[string]Env{recs, exprRecords(t, Spec{Expr: x})} {
				var got []string
				for _, k := range []string{"big", "close", "conn", "handshake", "stomp", "text"} {
					if x.Match(recs[k]) {
						got = append(got, k)
					}
				}
				if g := strings.Join(got, ","); g != c.want {
					t.Errorf("selects %q, want %q (%d fields in the text frame's environment)", g, c.want, len(recs["text"]))
				}
			}
		})
	}
}

// TestExprErrors: compile errors point at the column; Wireshark's field
// names get wsdump's.
func TestExprErrors(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`websocket.payload contains "error"`, `column 1: "websocket.payload" is a Wireshark field; wsdump's is text (e.g. text contains "error")`},
		{`len > 5 && websocket.opcode == 2`, `column 12: "websocket.opcode" is a Wireshark field; wsdump's is opcode`},
		{`opcode == 2 && lenght > 5`, `column 16: unknown name lenght`},
		{`len >> 3`, `column 6: unexpected token`},
		{`dir == "c2s" &&`, `column 15: unexpected token EOF`},
		{`text contains 5`, `column 6:`},
		{`type == "frame" && tcp.port == 80`, `column 20: "tcp.port" is a Wireshark field`},
		{`len(anomalies) > 0`, `anomalies != [] tests for anomalies`},
		{`dir eq "c2s"`, `column 5: "eq" is Wireshark's; wsdump's is ==`},
		{`text ~ "err"`, `column 6: "~" is Wireshark's; wsdump's is matches`},
		{`websocket`, `column 1: "websocket" is a Wireshark protocol; wsdump's records say type == "frame"`},
		// A conn.* name the health does not have: an error that lists
		// them, where it selected nothing.
		{`conn.hearbeat.missed > 0`, `column 6: conn.* has no field "hearbeat"; the connection's health is conn.heartbeat.count, conn.heartbeat.missed,`},
		{`conn.ping.lost > 0`, `column 11: conn.* has no field "lost"`},
	} {
		_, err := CompileExpr(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.expr, err, c.want)
		}
	}
	// A Wireshark-like name inside a string is text, not a field.
	if _, err := CompileExpr(`text contains "frame.len"`); err != nil {
		t.Errorf("a string literal taken for a field: %v", err)
	}
}

func TestExprLookup(t *testing.T) {
	recs := exprRecords(t, Spec{})
	for _, c := range []struct {
		rec, name string
		want      any
	}{
		{"stomp", "app.type", "ERROR"},
		{"stomp", "app.message", "bad destination"},
		{"close", "close_code", 1001},
		{"close", "app.type", nil},
		{"text", "close_code", nil},
		{"conn", "conn.heartbeat.missed", 2},
		{"conn", "conn", 3},
		{"conn", "c2s.frames", 0},
		{"close", "mask_key", "00000000"},
	} {
		if got := recs[c.rec].Lookup(c.name); got != c.want {
			t.Errorf("%s %s = %#v, want %#v", c.rec, c.name, got, c.want)
		}
	}
}

// BenchmarkExprMatch: the cost of -Y per record, environment included.
func BenchmarkExprMatch(b *testing.B) {
	t := &testing.T{}
	recs := exprRecords(t, Spec{})
	x, err := CompileExpr(`opcode == 2 && len > 64 * 1024 || app.type == "ERROR" || text contains "error"`)
	if err != nil {
		b.Fatal(err)
	}
	env := recs["text"]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		x.Match(env)
	}
}

// TestEnvHoldsWhatIsRead: an environment made for an expression, or for
// -e fields (Only), holds what they read, conn.* from the connection's
// health included, and not a frame's text when nothing reads it.
func TestEnvHoldsWhatIsRead(t *testing.T) {
	c := &wsparse.Conn{ID: 3, Addr: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	fr := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 13}, Dir: wsparse.ServerToClient, Payload: []byte("an error here")}
	health := func(int) *Health { return &Health{Heartbeat: HeartbeatHealth{Missed: 2, Kinds: noKinds}} }
	x, err := CompileExpr(`conn.heartbeat.missed > 1 && opcode == 1`)
	if err != nil {
		t.Fatal(err)
	}
	env := New(nil, Spec{Expr: x, ConnHealth: health}).FrameEnv(c, fr, nil)
	if !x.Match(env) {
		t.Errorf("%s: no match on %v", x.Source, env)
	}
	if _, ok := env["text"]; ok {
		t.Errorf("%s: the environment holds text, which it does not read", x.Source)
	}
	f := New(nil, Spec{ConnHealth: health})
	f.Only([]string{"conn.heartbeat.missed", "src", "app.type"})
	env = f.FrameEnv(c, fr, nil)
	if got := env.Lookup("conn.heartbeat.missed"); got != 2 {
		t.Errorf("Only: conn.heartbeat.missed is %v, want 2", got)
	}
	if got := env.Lookup("src"); got != "10.0.0.2:80" {
		t.Errorf("Only: src is %v", got)
	}
	if _, ok := env["text"]; ok {
		t.Error("Only: the environment holds text, which no field reads")
	}
}

// TestExprEnvWhole: an expression that reads the environment as a whole
// ($env) gets every field from its own filter, the payload's text
// included, as with an environment of every field.
func TestExprEnvWhole(t *testing.T) {
	c := &wsparse.Conn{ID: 3, Addr: [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	fr := &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Length: 13}, Dir: wsparse.ServerToClient, Payload: []byte("an error here")}
	for _, src := range []string{`$env.text contains "error"`, `"text" in $env`, `$env["src"] == "10.0.0.2:80"`} {
		x, err := CompileExpr(src)
		if err != nil {
			t.Fatal(err)
		}
		if env := New(nil, Spec{Expr: x}).FrameEnv(c, fr, nil); !x.Match(env) {
			t.Errorf("%s: no match on the filter's own environment %v", src, env)
		}
	}
}

// TestExprEnvWholeApps: $env.app is a message's application message, as
// app is: the filter tries each of them when the expression reads $env.
func TestExprEnvWholeApps(t *testing.T) {
	c := &wsparse.Conn{ID: 3}
	m := &wsparse.Message{Opcode: wsparse.OpText, Data: []byte("ERROR\n\n\x00")}
	apps := []appproto.App{{Protocol: "stomp", Type: "ERROR"}}
	for _, src := range []string{`app.type == "ERROR"`, `$env.app.type == "ERROR"`, `$env["app"] != nil`} {
		x, err := CompileExpr(src)
		if err != nil {
			t.Fatal(err)
		}
		if !New(nil, Spec{Expr: x}).messageMatches(c, m, nil, apps) {
			t.Errorf("%s: a STOMP ERROR message does not match", src)
		}
	}
}
