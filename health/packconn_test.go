package health

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestPackConn: a result comes back from packConn the same, every field
// set, its slices nil or empty as they were, its times in UTC or local.
func TestPackConn(t *testing.T) {
	local := time.Unix(1767322800, 123456789)
	full := &Conn{ID: 7, Client: netip.MustParseAddrPort("[2001:db8::1]:40000"), Server: netip.MustParseAddrPort("10.0.0.2:443"),
		Host: "example.test", URI: "/sock/123/abcd/websocket?x=1", Path: "/own", Session: "s1", Transport: "xhr-streaming",
		HTTPConns: []int{3, 4, 9}, HTTPRequests: 12, Status: 101, Midstream: true, Subprotocol: "v12.stomp",
		Extensions: "permessage-deflate; client_max_window_bits", Start: at(0), End: at(90000),
		Close: Close{End: wsparse.EndCloseUnanswered, Clean: true, Initiator: "client", DataAfterClose: true, StreamEnd: "RST_STREAM CANCEL", TLSStopped: "a stop",
			TCPFin: [2]bool{true, false}, TCPRst: [2]bool{false, true}, TCPFirst: [2]bool{false, true},
			Frames: [2]*CloseFrame{{TS: at(89000), Code: 4001, HasCode: true, Name: "own name", Reason: "bye"}, {TS: local, Name: "x"}}},
		Ping: [2]PingStats{{Pings: 5, Answered: 4, Unanswered: 1, UnansweredTail: 1, UnansweredSince: at(700), OverdueTail: 1, Mismatched: 2, Unsolicited: 3,
			RTTMin: time.Millisecond, RTTMedian: 2 * time.Millisecond, RTTP95: 3 * time.Millisecond, RTTMax: 4 * time.Millisecond},
			{Pings: 1 << 40, RTTMin: -time.Second}},
		Heartbeats: []*Series{
			{Kind: KindApp, Proto: "json", Key: "type=tick", Dir: wsparse.ServerToClient, Count: 40, Unmeasured: 2, First: at(10), Last: local,
				Interval: time.Second, IntervalSource: "observed", Timeout: 5 * time.Second, Mean: time.Second, Jitter: time.Microsecond,
				MaxGap: 3 * time.Second, MaxGapAt: at(5000), Missed: 2, Gaps: []Gap{{From: at(5000), To: at(8000), Missed: 2}, {From: at(9000), To: at(90000), Missed: 80, Trailing: true}},
				GapsTruncated: true, Timers: 2, TimerOffsets: []time.Duration{300 * time.Millisecond}, Extra: 1},
			{Kind: "engineio-ping", IntervalSource: "a source", Gaps: []Gap{}, TimerOffsets: []time.Duration{}},
		},
		Anomalies: wsparse.AnomDataAfterClose | 1<<40, Ended: true,
		// Every flag of the packed result at once (the last three share its
		// varint with the TCP ends): an order of flags that differs from
		// packConn's list of bools shows here.
		SteppedBack: -3 * time.Second, Input: 2, Encap: "vlan 100",
		Stats: [2]wsparse.DirStats{{Frames: 3, Urgent: 2, Conflicts: 1}, {Urgent: 1 << 40, LostBytes: 9}}}
	full.Close.App = &AppEnd{TS: at(88000), Dir: wsparse.ServerToClient, Text: `STOMP ERROR "x"`, Failed: true}
	for _, v := range []reflect.Value{reflect.ValueOf(*full), reflect.ValueOf(full.Close)} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Errorf("%s.%s not set in the full result: its round trip is not checked", v.Type().Name(), v.Type().Field(i).Name)
			}
		}
	}
	for _, c := range []*Conn{full, {ID: 1}, {ID: 2, Start: local, HTTPConns: []int{}, Heartbeats: []*Series{}}} {
		b, ok := packConn(nil, c)
		if !ok {
			t.Fatalf("connection %d does not pack", c.ID)
		}
		if got := unpackConn(c.ID, string(b)); !reflect.DeepEqual(got, c) {
			t.Errorf("connection %d: got\n%+v\nwant\n%+v", c.ID, got, c)
		}
	}
	// A time in another location does not pack.
	if _, ok := packConn(nil, &Conn{ID: 3, Start: at(0).In(time.FixedZone("X", 3600))}); ok {
		t.Errorf("a time in another location packed")
	}
}

// TestReportEach: a report made by ReportEach reads as Report's, one
// connection at a time, and Keep and Release work on it.
func TestReportEach(t *testing.T) {
	const n = 300
	var trs [2]*Tracker
	for k := range trs {
		trs[k] = New(nil, Options{})
		trs[k].FinishAtEnd()
		playClosed(trs[k], n)
		playEnded(trs[k], 0)
	}
	want, r := trs[0].Report(), trs[1].ReportEach()
	if r.Conns != nil || r.Len() != n || !reflect.DeepEqual(r.Groups, want.Groups) {
		t.Fatalf("%d connections, %d groups", r.Len(), len(r.Groups))
	}
	for i := range r.Len() {
		if !reflect.DeepEqual(r.Conn(i), want.Conns[i]) {
			t.Fatalf("connection %d: got\n%+v\nwant\n%+v", i, r.Conn(i), want.Conns[i])
		}
	}
	odd := func(c *Conn) bool { return c.ID%2 == 1 }
	r.Keep(odd)
	want.Keep(odd)
	if r.Len() != n/2 || want.Len() != n/2 {
		t.Fatalf("%d, %d connections kept", r.Len(), want.Len())
	}
	for i := range r.Len() {
		if !reflect.DeepEqual(r.Conn(i), want.Conn(i)) {
			t.Fatalf("connection %d kept differs", i)
		}
		r.Release(i)
	}
}
