package health

import (
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// FuzzTracker feeds arbitrary record sequences: each record is four bytes
// (kind and connection, direction and opcode, time step, payload byte),
// in any order a broken decoder or an application decoder might produce
// them, including records for connections never opened or already ended.
// The report and both writers must cope.
func FuzzTracker(f *testing.F) {
	f.Add([]byte{0x00, 0, 1, 0, 0x11, 9, 5, 'a', 0x11, 0x1a, 5, 'a', 0x31, 0, 3, 0, 0x40, 0, 1, 0})
	f.Add([]byte{0x00, 0, 0, 0, 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0x03, 0, 0xff, 0, 0x13, 8, 1, 1, 0x33, 0, 0xff, 7})
	f.Add([]byte{0x05, 1, 10, 0, 0x05, 1, 10, 0, 0x05, 1, 250, 0, 0x06, 0, 0, 0, 0x25, 0, 10, 0x41})
	f.Fuzz(func(t *testing.T, in []byte) {
		o := Options{HeartbeatText: regexp.MustCompile(`p[io]ng`)}
		if len(in)%2 == 1 {
			o.HeartbeatInterval = time.Duration(in[0]) * time.Millisecond
			o.StormAttempts = int(in[0] % 4)
		}
		tr := New(nil, o)
		conns := map[int]*wsparse.Conn{}
		conn := func(id int) *wsparse.Conn {
			if conns[id] == nil {
				client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(id%3 + 1)}), uint16(40000+id))
				conns[id] = wsparse.NewConn(id, client, netip.MustParseAddrPort("10.0.0.9:80"), wsparse.Config{}, nil)
			}
			return conns[id]
		}
		ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for ; len(in) >= 4; in = in[4:] {
			kind, id := in[0]>>4, int(in[0]&0xf)
			dir := wsparse.Dir(in[1] >> 7)
			op := wsparse.Opcode(in[1] & 0xf)
			step := time.Duration(int8(in[2])) * 10 * time.Millisecond // negative too: clocks go back
			ts = ts.Add(step)
			payload := []byte{in[3]}
			switch kind % 8 {
			case 0:
				tr.Handshake(conn(id), &wsparse.Handshake{RequestTS: ts, TS: ts.Add(step), URI: "/s/" + string(rune('a'+in[3]%4)) + "/ws?x", Status: 100 + int(in[3])})
			case 1:
				tr.Frame(conn(id), &wsparse.Frame{Header: wsparse.Header{Fin: true, Opcode: op}, Dir: dir, TS: ts, Payload: payload})
			case 2:
				data := []byte("ping")
				if in[3]&1 != 0 {
					data = payload
				}
				tr.Message(conn(id), &wsparse.Message{Dir: dir, TS: ts, Opcode: wsparse.OpText, Data: data, Len: uint64(len(data))})
			case 3:
				s := &wsparse.Summary{First: ts.Add(-step), Last: ts, End: []wsparse.End{wsparse.EndClean, wsparse.EndOpen, wsparse.EndRSTWithoutClose, wsparse.EndNotUpgraded}[in[3]%4],
					Initiator: dir, Anomalies: wsparse.Anomalies(in[3]) << 10}
				if in[3]&4 != 0 {
					s.Handshake = &wsparse.Handshake{RequestTS: ts, Status: 101}
				}
				s.Close[dir] = wsparse.CloseInfo{Sent: in[3]&8 != 0, TS: ts, Code: uint16(in[3]) + 995, HasCode: in[3]&16 != 0}
				s.TCPEndTS[1-dir] = ts.Add(step)
				tr.End(conn(id), s)
			case 4:
				tr.Beat(Beat{Conn: id, Dir: dir, TS: ts, Kind: []string{"stomp", "sockjs", "engineio-ping", KindApp}[in[3]%4],
					Proto: "text", Key: string(rune('a' + in[3]%2))})
			case 5:
				tr.Negotiated(Negotiated{Conn: id, Dir: dir, Kind: "stomp", Interval: step, Timeout: time.Duration(in[3]) * time.Millisecond})
			default:
				tr.Beat(Beat{Conn: id, Dir: dir, TS: ts, Kind: KindWSPing})
			}
		}
		r := tr.Report()
		// The table and the JSON lines are rendered by report
		// (WriteConnsTable, WriteHealthJSONL), fuzzed in cmd/wsdump's
		// FuzzPipeline.
		for _, c := range r.Conns {
			_ = Glance(c)
			_ = CloseText(c)
		}
	})
}
