package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
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
