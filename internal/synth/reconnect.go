package synth

import (
	"slices"
	"strconv"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// SockJSReconnect writes the reconnect loop of a SockJS client (10.0.0.1)
// whose server (10.0.0.2:8080) dies and comes back: at 0 a GET
// /stomp/info and a WebSocket /stomp/123/abcdefgh/websocket that the
// server resets at 10 s; then refused connects (SYN answered by RST), the
// i-th at 10 s + i × every; then, at 10 s + after, /info again and a
// WebSocket closed cleanly by the client. Packets are in time order.
func SockJSReconnect(refused int, every, after time.Duration) []Packet {
	const server = "10.0.0.2:8080"
	client := func(port int) string { return "10.0.0.1:" + strconv.Itoa(port) }
	info := func(port int, at time.Duration) *Conv {
		return New(client(port), server).At(at).Open().
			Send(true, []byte("GET /stomp/info?t=1 HTTP/1.1\r\nHost: h\r\n\r\n")).
			Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"websocket\":true}")).
			Fin(true).Fin(false)
	}
	ws := func(port int, at time.Duration) *Conv {
		return New(client(port), server).At(at).Open().UpgradeURI("/stomp/123/abcdefgh/websocket").
			Frame(false, wsparse.OpText, []byte("o")).
			Frame(true, wsparse.OpText, []byte(`["CONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n\u0000"]`))
	}
	convs := []*Conv{info(40000, 0), ws(40001, 10*time.Millisecond).At(10 * time.Second).Rst(false)}
	for i := 1; i <= refused; i++ {
		convs = append(convs, New(client(40001+i), server).At(10*time.Second+time.Duration(i)*every).Syn().Rst(false))
	}
	back := 10*time.Second + after
	convs = append(convs, info(41000, back),
		ws(41001, back+10*time.Millisecond).Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true))
	var pkts []Packet
	for _, c := range convs {
		pkts = append(pkts, c.Packets...)
	}
	slices.SortStableFunc(pkts, func(a, b Packet) int { return a.TS.Compare(b.TS) })
	return pkts
}

// WithRefusedLoop returns pkts (a capture's, in time order) with another
// client's loop beside them: 10.0.0.1 refused 4 times by 10.0.0.2:8080
// (SYN answered by RST), 3 s apart from 1 s after pkts' first packet, in
// time order. A group of bare connects a filter on the capture's own
// server must leave out.
func WithRefusedLoop(pkts []Packet) []Packet {
	out := slices.Clone(pkts)
	var shift time.Duration
	if len(pkts) > 0 {
		shift = pkts[0].TS.Sub(Start)
	}
	for i := range 4 {
		c := New("10.0.0.1:"+strconv.Itoa(50000+i), "10.0.0.2:8080").At(time.Second + time.Duration(i)*3*time.Second).Syn().Rst(false)
		for _, p := range c.Packets {
			out = append(out, Packet{TS: p.TS.Add(shift), Data: p.Data})
		}
	}
	slices.SortStableFunc(out, func(a, b Packet) int { return a.TS.Compare(b.TS) })
	return out
}
