package health

import (
	"cmp"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestPackStats: every field of wsparse.DirStats comes back from
// packStats (a field added there and not here fails).
func TestPackStats(t *testing.T) {
	var st [2]wsparse.DirStats
	n := 0
	for d := range st {
		v := reflect.ValueOf(&st[d]).Elem()
		for i := range v.NumField() {
			n++
			switch f := v.Field(i); f.Kind() {
			case reflect.Int:
				f.SetInt(int64(n) << (3 * n % 60))
				if n%5 == 0 {
					f.SetInt(-f.Int())
				}
			case reflect.Uint64:
				f.SetUint(uint64(n)<<(4*n%64) | 1)
			default:
				t.Fatalf("DirStats.%s is a %s: packStats does not know it", v.Type().Field(i).Name, f.Kind())
			}
		}
	}
	var got [2]wsparse.DirStats
	unpackStats(&got, string(packStats(nil, &st)))
	if got != st {
		t.Errorf("packed and unpacked\n%+v\nnot\n%+v", got, st)
	}
	var zero [2]wsparse.DirStats
	if b := packStats(nil, &zero); len(b) != 2*reflect.TypeFor[wsparse.DirStats]().NumField() {
		t.Errorf("zero counts packed in %d bytes", len(b))
	}
}

// TestCompactResults: a connection kept compact until Report (its head,
// its end) has the result it had when the result was made at its first
// record; heads that do not fit (a long URI, a time out of range or in
// another location, a status past 16 bits) are results at once.
func TestCompactResults(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	long := "/" + strings.Repeat("a", 70000)
	cases := []struct {
		name   string
		uri    string
		status int
		req    time.Time
		noHS   bool // midstream: no handshake
		twice  bool // End twice
		client string
	}{
		{name: "plain", uri: "/echo/123/abcd/websocket?sid=x", status: 101, req: at(0)},
		{name: "twice", uri: "/x", status: 101, req: at(0), twice: true},
		{name: "midstream", noHS: true, req: at(0)},
		{name: "long URI", uri: long, status: 101, req: at(0)},
		{name: "zone", uri: "/x", status: 101, req: at(0).In(zone)},
		{name: "local", uri: "/x", status: 101, req: at(0).Local()},
		{name: "year 2300", uri: "/x", status: 101, req: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "year 1", uri: "/x", status: 101, req: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		{name: "monotonic", uri: "/x", status: 101, req: time.Now()},
		{name: "status", uri: "/x", status: 1 << 20, req: at(0)},
		{name: "IPv4", uri: "/x", status: 101, req: at(0), client: "10.1.2.3:5000"},
		{name: "IPv4 in IPv6", uri: "/x", status: 101, req: at(0), client: "[::ffff:10.1.2.3]:5000"},
		{name: "IPv6", uri: "/x", status: 101, req: at(0), client: "[2001:db8::1]:5000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]*Conn
			for k, early := range []bool{false, true} {
				tr := New(nil, Options{})
				client := cmp.Or(tc.client, "[fe80::1%eth0]:5000") // a zone: a result at once
				c := wsparse.NewConn(7, netip.MustParseAddrPort(client), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
				var hs *wsparse.Handshake
				if !tc.noHS {
					hs = &wsparse.Handshake{RequestTS: tc.req, TS: tc.req.Add(time.Millisecond), Method: "GET", URI: tc.uri, Host: "h",
						Status: tc.status, Subprotocol: "p", Extensions: "permessage-deflate"}
					tr.Handshake(c, hs)
				}
				if early {
					tr.Report() // the results now: End sets them
				}
				s := &wsparse.Summary{First: tc.req, Last: tc.req.Add(time.Second), Handshake: hs, End: wsparse.EndClean, Initiator: wsparse.ServerToClient,
					Anomalies: wsparse.AnomDataAfterClose, StreamEnd: "end_stream", Fallback: &wsparse.FallbackSummary{Transport: "polling", Conns: []int{3, 7}, Requests: 4}}
				s.TCPFin[1], s.TCPRst[0] = true, true
				s.TCPEndTS[1] = tc.req.Add(2 * time.Second)
				s.Stats[0] = wsparse.DirStats{Frames: 3, Messages: 2, PayloadBytes: 640, WireBytes: 660, InflatedBytes: 9}
				s.Close[1] = wsparse.CloseInfo{TS: tc.req.Add(time.Second), Code: 1000, HasCode: true, Reason: "bye", Sent: true}
				tr.End(c, s)
				if tc.twice {
					s2 := *s
					s2.Close, s2.Initiator, s2.Fallback, s2.Last = [2]wsparse.CloseInfo{}, wsparse.ClientToServer, nil, tc.req.Add(3*time.Second)
					s2.End, s2.Anomalies = wsparse.EndOpen, 0
					tr.End(c, &s2)
				}
				r := tr.Report()
				if len(r.Conns) != 1 {
					t.Fatalf("%d connections", len(r.Conns))
				}
				got[k] = r.Conns[0]
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("kept compact:\n%+v\nmade at once:\n%+v", got[0], got[1])
			}
			c := got[0]
			if c.Client.String() != cmp.Or(tc.client, "[fe80::1%eth0]:5000") || c.Server.String() != "10.0.0.2:80" {
				t.Errorf("addresses %s %s", c.Client, c.Server)
			}
			if !tc.noHS && (c.URI != tc.uri || c.Status != tc.status || c.Start != tc.req || c.Extensions != "permessage-deflate") {
				t.Errorf("connection %+v", c)
			}
			init, end, last := "server", wsparse.EndClean, tc.req.Add(2*time.Second)
			if tc.twice {
				init, end, last = "client", wsparse.EndOpen, tc.req.Add(3*time.Second)
			}
			cl := c.Close
			if !c.Ended || c.Midstream != tc.noHS || cl.Initiator != init || cl.End != end || cl.Clean != false || !cl.DataAfterClose != tc.twice ||
				cl.Frames[1] == nil || cl.Frames[1].Reason != "bye" || cl.Frames[1].Name == "" || cl.Frames[0] != nil || cl.StreamEnd != "end_stream" ||
				cl.TCPFin != [2]bool{false, true} || cl.TCPRst != [2]bool{true, false} || c.Transport != "polling" || len(c.HTTPConns) != 2 ||
				c.HTTPRequests != 4 || c.Stats[0].InflatedBytes != 9 || c.Stats[0].Frames != 3 || !c.End.Equal(last) {
				t.Errorf("connection %+v, close %+v", c, cl)
			}
		})
	}
}

// TestPackedEnd: an end packed into the head (packEnd: no Close frame,
// no fallback session, no stream end) gives the result the end gave
// when the result was made at once, alone or with ends before or after
// it that do not pack, with or without a handshake, and with traffic
// counts too big to pack.
func TestPackedEnd(t *testing.T) {
	open := func(last int) *wsparse.Summary {
		s := &wsparse.Summary{First: at(0), Last: at(last), End: wsparse.EndOpen, Anomalies: wsparse.AnomDataAfterClose | wsparse.AnomH2StreamReset}
		s.TCPFin[0], s.TCPRst[1] = true, true
		s.TCPEndTS = [2]time.Time{at(last), at(last - 1)} // the server's end first (TCPFirst)
		s.Stats[1] = wsparse.DirStats{Frames: 7, Messages: 5, PayloadBytes: 1000, WireBytes: 1010, LostBytes: 1 << 40, Resyncs: -3, Urgent: 3}
		return s
	}
	closed := func(last int) *wsparse.Summary {
		s := open(last)
		s.End, s.Initiator, s.Anomalies = wsparse.EndCloseUnanswered, wsparse.ServerToClient, 0
		s.Close[1] = wsparse.CloseInfo{TS: at(last), Code: 1001, HasCode: true, Reason: "away", Sent: true}
		return s
	}
	fallback := func(last int) *wsparse.Summary {
		s := open(last)
		s.End, s.Fallback = wsparse.EndFINWithoutClose, &wsparse.FallbackSummary{Transport: "xhr", Conns: []int{4}, Requests: 2}
		return s
	}
	huge := func(last int) *wsparse.Summary {
		s := open(last)
		for d := range s.Stats {
			s.Stats[d] = wsparse.DirStats{Frames: -1 << 62, Messages: 1 << 62, ControlFrames: -1, PayloadBytes: ^uint64(0), WireBytes: ^uint64(0),
				LostBytes: ^uint64(0), SkippedBytes: ^uint64(0), Resyncs: 1 << 62, Conflicts: 1 << 62, Urgent: 1 << 62, CompressedMessages: 1 << 62,
				CompressedBytes: ^uint64(0), InflatedBytes: ^uint64(0)}
		}
		return s
	}
	clean := func(last int) *wsparse.Summary {
		s := open(last)
		s.End, s.Anomalies = wsparse.EndClean, 0
		return s
	}
	cases := []struct {
		name string
		noHS bool
		hsAt int // the handshake after this many ends (0: before them)
		ends []*wsparse.Summary
	}{
		{name: "open", ends: []*wsparse.Summary{open(5)}},
		{name: "clean kind", ends: []*wsparse.Summary{clean(5)}},
		{name: "midstream", noHS: true, ends: []*wsparse.Summary{open(5)}},
		{name: "open then closed", ends: []*wsparse.Summary{open(5), closed(6)}},
		{name: "midstream then closed", noHS: true, ends: []*wsparse.Summary{open(5), closed(6)}},
		{name: "closed then open", ends: []*wsparse.Summary{closed(5), open(6)}},
		{name: "fallback then open", ends: []*wsparse.Summary{fallback(5), open(6)}},
		{name: "open twice", noHS: true, ends: []*wsparse.Summary{open(5), open(7)}},
		{name: "huge counts", ends: []*wsparse.Summary{huge(5)}},
		{name: "huge then open", ends: []*wsparse.Summary{huge(5), open(6)}},
		{name: "handshake after the end", hsAt: 1, ends: []*wsparse.Summary{open(5)}},
		{name: "handshake between ends", hsAt: 1, ends: []*wsparse.Summary{open(5), open(6)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]*Conn
			for k, early := range []bool{false, true} {
				tr := New(nil, Options{})
				c := wsparse.NewConn(7, netip.MustParseAddrPort("10.0.0.1:5000"), netip.MustParseAddrPort("10.0.0.2:80"), wsparse.Config{}, nil)
				var hs *wsparse.Handshake
				if !tc.noHS {
					hs = &wsparse.Handshake{RequestTS: at(0), TS: at(1), Method: "GET", URI: "/x?sid=s", Host: "h", Status: 101, Extensions: "e"}
				}
				tr.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpText, Fin: true}, Dir: wsparse.ClientToServer, TS: at(2)})
				if early {
					tr.Report() // the result now: End sets it
				}
				for i, s := range tc.ends {
					if hs != nil && i == tc.hsAt {
						tr.Handshake(c, hs)
					}
					s.Handshake = hs
					if hs != nil && i < tc.hsAt {
						s.Handshake = nil
					}
					tr.End(c, s)
				}
				if hs != nil && tc.hsAt == len(tc.ends) {
					tr.Handshake(c, hs)
				}
				r := tr.Report()
				if len(r.Conns) != 1 {
					t.Fatalf("%d connections", len(r.Conns))
				}
				got[k] = r.Conns[0]
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("kept compact:\n%+v\nmade at once:\n%+v", got[0], got[1])
			}
			last := tc.ends[len(tc.ends)-1]
			if c := got[0]; !c.Ended || c.Stats != last.Stats || c.Close.End != last.End || c.Anomalies != last.Anomalies || c.Midstream != (tc.noHS || tc.hsAt > 0) ||
				c.Close.TCPFirst != last.TCPFirst() {
				t.Errorf("connection %+v", c)
			}
		})
	}
}
