package pipeline

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// kinds writes each record as a line: its kind, connection, and what
// tells it apart.
func kinds(lines *[]string) record.Sink {
	return record.Func(func(r *record.Record) {
		s := fmt.Sprintf("%s %d", r.Kind, r.Conn.ID)
		switch r.Kind {
		case record.Message:
			s += fmt.Sprintf(" %q decoded=%v", r.Message.Data, r.Decoded)
			for _, a := range r.Apps {
				s += " app=" + a.Protocol
			}
		case record.Beat:
			s += fmt.Sprintf(" conn=%d %v %s", r.Beat.Conn, r.Beat.Dir, r.Beat.Kind)
		case record.Negotiated:
			s += fmt.Sprintf(" conn=%d %v %s %v", r.Negotiated.Conn, r.Negotiated.Dir, r.Negotiated.Kind, r.Negotiated.Interval)
		}
		*lines = append(*lines, s)
	})
}

// engineIO is an Engine.IO conversation on connection 2 (connection 1
// a plain WebSocket before it): an open packet with its ping interval, a
// ping, its pong, an event.
func engineIO() []synth.Packet {
	plain := synth.New("10.0.0.1:40000", "10.0.0.2:80").Open().Upgrade().
		Frame(true, wsparse.OpText, []byte("hello")).Fin(true).Fin(false)
	eio := synth.New("10.0.0.3:40001", "10.0.0.2:80").At(500000).Open().UpgradeURI("/socket.io/?EIO=4&transport=websocket").
		Frame(false, wsparse.OpText, []byte(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`)).
		Frame(false, wsparse.OpText, []byte("2")).
		Frame(true, wsparse.OpText, []byte("3")).
		Frame(true, wsparse.OpText, []byte(`42["chat","hi"]`)).
		Fin(true).Fin(false)
	return append(plain.Packets, eio.Packets...)
}

func runApps(t *testing.T, app AppOptions, jobs int) []string {
	t.Helper()
	var lines []string
	asm := NewApps(kinds(&lines), app, reassembly.Options{}, jobs)
	for _, p := range engineIO() {
		asm.Packet(1, p.Data, p.TS, len(p.Data))
	}
	asm.Finish()
	return lines
}

// TestAppStage: the application decoding stage gives each message its
// application messages and puts the heartbeats it finds (Beat) just
// before their message, the negotiated keepalive (Negotiated) before the
// connection's end, with the connection's number, the same on one
// goroutine and on the -j workers (where the merge renumbers them).
func TestAppStage(t *testing.T) {
	app := AppOptions{Mode: appproto.ModeAuto, Apps: true, Beats: true}
	one := runApps(t, app, 1)
	got := strings.Join(filterKinds(one), "\n")
	for _, want := range []string{
		"beat 2 conn=2 s2c engineio\nmessage 2 \"2\" decoded=true app=engineio",
		"beat 2 conn=2 c2s engineio\nmessage 2 \"3\" decoded=true app=engineio",
		"message 2 \"42[\\\"chat\\\",\\\"hi\\\"]\" decoded=true app=socketio",
		"negotiated 2 conn=2 c2s engineio 25s\nnegotiated 2 conn=2 s2c engineio 25s\nend 2",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("-j 1: no\n%s\nin\n%s", want, got)
		}
	}
	if two := runApps(t, app, 2); !reflect.DeepEqual(one, two) {
		t.Errorf("-j 2 differs from -j 1:\n%s\n---\n%s", strings.Join(two, "\n"), strings.Join(one, "\n"))
	}
	// Without Beats and Apps asked for, neither comes.
	for _, jobs := range []int{1, 2} {
		for _, l := range runApps(t, AppOptions{Mode: appproto.ModeAuto}, jobs) {
			if strings.HasPrefix(l, "beat") || strings.HasPrefix(l, "negotiated") || strings.Contains(l, "decoded=true") {
				t.Errorf("-j %d, nothing asked for: %s", jobs, l)
			}
		}
	}
}

// filterKinds keeps the lines of messages, beats, keepalives and ends.
func filterKinds(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "frame") && !strings.HasPrefix(l, "handshake") {
			out = append(out, l)
		}
	}
	return out
}

// TestAppStageEvicted: with connections ended early and going on
// (MaxConnections 1, four Engine.IO connections at once), the -j workers
// give the records, heartbeats and keepalives of one goroutine, each
// heartbeat and keepalive with its record's connection number.
func TestAppStageEvicted(t *testing.T) {
	var pkts []synth.Packet
	for i := 0; i < 4; i++ {
		c := synth.New(fmt.Sprintf("10.0.0.%d:40001", 3+i), "10.0.0.2:80").Open().UpgradeURI("/socket.io/?EIO=4&transport=websocket").
			Frame(false, wsparse.OpText, []byte(`0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`))
		for j := 0; j < 5; j++ {
			c.Wait(time.Second).Frame(false, wsparse.OpText, []byte("2")).Frame(true, wsparse.OpText, []byte("3"))
		}
		pkts = append(pkts, c.Fin(true).Fin(false).Packets...)
	}
	sort.SliceStable(pkts, func(a, b int) bool { return pkts[a].TS.Before(pkts[b].TS) })
	var one []string
	for _, jobs := range []int{1, 2, 3} {
		var lines []string
		asm := NewApps(kinds(&lines), AppOptions{Mode: appproto.ModeAuto, Apps: true, Beats: true}, reassembly.Options{MaxConnections: 1}, jobs)
		for _, p := range pkts {
			asm.Packet(1, p.Data, p.TS, len(p.Data))
		}
		asm.Finish()
		if st := asm.Stats(); st.Evicted == 0 {
			t.Fatalf("-j %d: no connection ended early", jobs)
		}
		beats := 0
		for _, l := range lines {
			if f := strings.Fields(l); f[0] == "beat" || f[0] == "negotiated" {
				beats++
				if f[2] != "conn="+f[1] {
					t.Errorf("-j %d: %s", jobs, l)
				}
			}
		}
		if beats == 0 {
			t.Errorf("-j %d: no heartbeats", jobs)
		}
		if jobs == 1 {
			one = lines
		} else if !reflect.DeepEqual(lines, one) {
			t.Errorf("-j %d differs from -j 1:\n%s\n---\n%s", jobs, strings.Join(lines, "\n"), strings.Join(one, "\n"))
		}
	}
}

// TestAppSessionsHeld: the application decoding stage holds a session
// of its own only for connections whose handshake or messages chose a
// protocol: a plain upgrade's is made at its first message, and while its
// messages are of no protocol it shares one with every connection that
// looked at as many (it sniffs the next as before, up to its limit). It
// held one for every upgraded connection (32 bytes each, 3 MB for 100 000
// open connections).
func TestAppSessionsHeld(t *testing.T) {
	var lines []string
	d := newAppDecoder(kinds(&lines), AppOptions{Apps: true, Beats: true})
	const n = 100
	plain := &wsparse.Handshake{Method: "GET", URI: "/chat", Status: 101}
	eio := &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=4&transport=websocket", Status: 101}
	conns := make([]*wsparse.Conn, n)
	for i := range conns {
		conns[i] = wsparse.NewView(i+1, [2]netip.AddrPort{})
		hs := plain
		if i == 0 {
			hs = eio
		}
		d.Put(&record.Record{Kind: record.Handshake, Conn: conns[i], Handshake: hs})
	}
	held := func() int {
		own := map[*appproto.Session]bool{}
		for _, s := range d.sessions {
			own[s] = true
		}
		return len(own)
	}
	t.Logf("after the handshakes: %d sessions held for %d upgraded connections, one Engine.IO", held(), n)
	if held() != 1 || d.sessions[conns[0]] == nil {
		t.Errorf("after the handshakes: %d sessions held for %d upgraded connections, one Engine.IO", held(), n)
	}
	msg := func(c *wsparse.Conn, data string) string {
		d.Put(&record.Record{Kind: record.Message, Conn: c, Message: &wsparse.Message{Opcode: wsparse.OpText, Len: uint64(len(data)), Data: []byte(data)}})
		return lines[len(lines)-1]
	}
	for _, c := range conns[1:] {
		msg(c, "no protocol")
	}
	t.Logf("after a message of no protocol each: %d sessions held", held())
	if held() != 2 {
		t.Errorf("after a message of no protocol each: %d sessions held, want 2", held())
	}
	// The next message is sniffed: JSON on one, not on the others.
	if l := msg(conns[1], `{"a":1}`); !strings.Contains(l, "app=json") {
		t.Errorf("a plain upgrade's second message was not sniffed: %s", l)
	}
	if l := msg(conns[2], `still none`); strings.Contains(l, "app=") {
		t.Errorf("%s", l)
	}
	if l := msg(conns[3], `{"b":2}`); !strings.Contains(l, "app=json") {
		t.Errorf("a plain upgrade's second message was not sniffed: %s", l)
	}
	// Up to 8 messages are sniffed (appproto's sniffLimit).
	for range 6 {
		msg(conns[2], "none")
	}
	if l := msg(conns[2], `{"c":3}`); strings.Contains(l, "app=") {
		t.Errorf("a ninth message was sniffed: %s", l)
	}
	if l := msg(conns[4], `{"d":4}`); !strings.Contains(l, "app=json") {
		t.Errorf("%s", l)
	}
}

// TestAppFinalSessionNotCopied: a connection whose messages chose no
// protocol shares a session, copied for a message that may change it; past
// the sniff limit none can, and its messages allocate no copy (the
// review of session 20: 2 allocations a message, 1 without the copy).
func TestAppFinalSessionNotCopied(t *testing.T) {
	d := newAppDecoder(record.Func(func(*record.Record) {}), AppOptions{Apps: true, Beats: true})
	c := wsparse.NewView(1, [2]netip.AddrPort{})
	d.Put(&record.Record{Kind: record.Handshake, Conn: c, Handshake: &wsparse.Handshake{Method: "GET", URI: "/chat", Status: 101}})
	data := []byte("no protocol here")
	m := &wsparse.Message{Opcode: wsparse.OpText, Len: uint64(len(data)), Data: data}
	r := &record.Record{Kind: record.Message, Conn: c, Message: m}
	for range 20 { // past the sniff limit
		d.Put(r)
	}
	n := testing.AllocsPerRun(500, func() {
		r.Kind, r.Message, r.Apps, r.Decoded = record.Message, m, nil, false
		d.Put(r)
	})
	t.Logf("a message past the sniff limit: %.1f allocations", n)
	if n > 1 {
		t.Errorf("a message past the sniff limit: %.1f allocations, want at most 1, the shape of its text (the shared session was copied)", n)
	}
}

// TestAppSharedSessionsApart: connections whose messages chose no protocol
// share a session (TestAppSessionsHeld); decoded interleaved, in 300
// random scripts of 6 connections (plain, Engine.IO and no handshake;
// STOMP, SockJS, Engine.IO, GraphQL, JSON and unknown messages, some past
// the sniff limit), each connection's records are those it gives alone
// (written by session 20's review; fails when a shared session is not
// copied for a message that may change it).
func TestAppSharedSessionsApart(t *testing.T) {
	bodies := []string{"none", "x", `{"a":1}`, "CONNECTED\nversion:1.2\n\n\x00", "SEND\ndestination:/q\n\nhi\x00",
		`{"type":"connection_ack"}`, "o", `a["x"]`, "h", `0{"sid":"abc","pingInterval":25000,"pingTimeout":5000}`, "2", "3", "42[\"ev\",1]", "[1,2]", "plain"}
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 300 {
		const nc = 6
		type msg struct {
			c    int
			data string
			dir  wsparse.Dir
		}
		var script []msg
		hs := make([]*wsparse.Handshake, nc)
		for i := range nc {
			switch rng.IntN(3) {
			case 0:
				hs[i] = &wsparse.Handshake{Method: "GET", URI: "/chat", Status: 101}
			case 1:
				hs[i] = &wsparse.Handshake{Method: "GET", URI: "/socket.io/?EIO=3&transport=websocket", Status: 101}
			}
		}
		for range 60 {
			script = append(script, msg{rng.IntN(nc), bodies[rng.IntN(len(bodies))], wsparse.Dir(rng.IntN(2))})
		}
		run := func(only int) map[int][]string {
			out := map[int][]string{}
			sink := record.Func(func(r *record.Record) {
				s := fmt.Sprintf("%s", r.Kind)
				for _, a := range r.Apps {
					s += " " + a.Protocol + "/" + a.Type + "/" + a.Key
				}
				if r.Kind == record.Beat {
					s += " " + r.Beat.Kind
				}
				if r.Kind == record.Negotiated {
					s += fmt.Sprintf(" %s %v", r.Negotiated.Kind, r.Negotiated.Interval)
				}
				out[r.Conn.ID] = append(out[r.Conn.ID], s)
			})
			d := newAppDecoder(sink, AppOptions{Apps: true, Beats: true})
			conns := make([]*wsparse.Conn, nc)
			for i := range nc {
				conns[i] = wsparse.NewView(i+1, [2]netip.AddrPort{})
				if (only < 0 || only == i) && hs[i] != nil {
					d.Put(&record.Record{Kind: record.Handshake, Conn: conns[i], Handshake: hs[i]})
				}
			}
			for _, m := range script {
				if only >= 0 && only != m.c {
					continue
				}
				d.Put(&record.Record{Kind: record.Message, Conn: conns[m.c], Message: &wsparse.Message{Dir: m.dir, Opcode: wsparse.OpText, Len: uint64(len(m.data)), Data: []byte(m.data)}})
			}
			for i := range nc {
				if only < 0 || only == i {
					d.Put(&record.Record{Kind: record.End, Conn: conns[i], Summary: &wsparse.Summary{}})
				}
			}
			return out
		}
		all := run(-1)
		for i := range nc {
			alone := run(i)
			if !reflect.DeepEqual(all[i+1], alone[i+1]) {
				t.Fatalf("iter %d conn %d: interleaved %q\nalone %q", iter, i+1, all[i+1], alone[i+1])
			}
		}
	}
}

// TestAppStageProtocolBeats: with ProtocolBeats (lint), the stage puts
// the protocols' heartbeats (STOMP EOLs, SockJS "h") and keepalives, not
// the application messages that may be beats (health.KindApp): the
// user's STOMP SEND ping every 10 s is no beat then, and is without it.
func TestAppStageProtocolBeats(t *testing.T) {
	c := sockJSStomp("10.0.0.1:40030", "10000,10000")
	for range 4 {
		c.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte(`["SEND\ndestination:ping\n\n\u0000"]`))
		c.Frame(false, wsparse.OpText, []byte(`a["\n"]`))
		c.Frame(false, wsparse.OpText, []byte("h"))
	}
	c.Fin(true).Fin(false)
	for _, jobs := range []int{1, 2} {
		var got [2]map[string]int
		for i, only := range []bool{false, true} {
			var lines []string
			asm := NewApps(kinds(&lines), AppOptions{Mode: appproto.ModeAuto, Beats: true, ProtocolBeats: only}, reassembly.Options{}, jobs)
			for _, p := range c.Packets {
				asm.Packet(1, p.Data, p.TS, len(p.Data))
			}
			asm.Finish()
			got[i] = map[string]int{}
			for _, l := range lines {
				if f := strings.Fields(l); f[0] == "beat" || f[0] == "negotiated" {
					got[i][f[0]+" "+f[len(f)-1]]++
				}
			}
		}
		if got[0]["beat "+health.KindApp] < 4 || got[1]["beat "+health.KindApp] != 0 {
			t.Errorf("-j %d: application beats %d without ProtocolBeats (want the 4 SEND ping at least), %d with it (want none)",
				jobs, got[0]["beat "+health.KindApp], got[1]["beat "+health.KindApp])
		}
		delete(got[0], "beat "+health.KindApp)
		if want := map[string]int{"beat stomp": 4, "beat sockjs": 4, "beat stomp-frame": 5, "negotiated 10s": 2}; !reflect.DeepEqual(got[0], want) || !reflect.DeepEqual(got[1], want) {
			t.Errorf("-j %d: protocol beats %v without ProtocolBeats, %v with it; want %v", jobs, got[0], got[1], want)
		}
	}
}

// TestAppEngineIOBeatKeys: the stage says which Engine.IO beats are
// pings (Beat.Key), so that health knows the side that asks though the
// capture lost its first ping: on the committed captures of real
// Engine.IO servers, the server pings in v4, the client in v3 (the
// protocol's "Heartbeat"), the other side pongs.
func TestAppEngineIOBeatKeys(t *testing.T) {
	for _, tc := range []struct {
		file   string
		pinger wsparse.Dir
	}{
		{"gen__engineio-upgrade", wsparse.ServerToClient},
		{"gen__engineio-v3-upgrade", wsparse.ClientToServer},
	} {
		in := Input{Err: io.Discard, Jobs: 1}
		src, _, feed, err := in.openKeyed([]string{"../testdata/pcaps/" + tc.file + ".pcap"})
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		asm := NewApps(record.Func(func(r *record.Record) {
			if r.Kind == record.Beat && r.Beat.Kind == appproto.EngineIO {
				n[r.Beat.Dir.String()+" "+r.Beat.Key]++
			}
		}), AppOptions{Mode: appproto.ModeAuto, Beats: true}, reassembly.Options{}, 1)
		if err := Feed(src, asm, feed); err != nil {
			t.Fatal(err)
		}
		asm.Finish()
		src.Close()
		pings, pongs := tc.pinger.String()+" ping", (1-tc.pinger).String()+" pong"
		if n[pings] == 0 || n[pongs] == 0 || len(n) != 2 {
			t.Errorf("%s: Engine.IO beats %v, want %q and %q only", tc.file, n, pings, pongs)
		}
	}
}

// TestAppStageProtocolShapes: with ProtocolShapes too (lint), the stage
// puts the application messages that may be beats of STOMP, Socket.IO
// and SockJS (the user's STOMP SEND ping every 10 s), not those of a
// plain WebSocket's texts and JSON (a "ping" text, {"type":"ping"}),
// which conns alone looks for: lint's cost on plain traffic stays a look
// at each message's protocols.
func TestAppStageProtocolShapes(t *testing.T) {
	stomp := sockJSStomp("10.0.0.1:40031", "0,0")
	plain := synth.New("10.0.0.3:40032", "10.0.0.2:8080").Open().UpgradeURI("/ws")
	for range 4 {
		stomp.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte(`["SEND\ndestination:ping\n\n\u0000"]`))
		plain.Wait(10*time.Second).Frame(true, wsparse.OpText, []byte("ping"))
		plain.Frame(true, wsparse.OpText, []byte(`{"type":"ping"}`))
	}
	stomp.Fin(true).Fin(false)
	plain.Fin(true).Fin(false)
	for _, jobs := range []int{1, 2} {
		for _, shapes := range []bool{false, true} {
			var lines []string
			asm := NewApps(kinds(&lines), AppOptions{Mode: appproto.ModeAuto, Beats: true, ProtocolBeats: true, ProtocolShapes: shapes}, reassembly.Options{}, jobs)
			for _, c := range []*synth.Conv{stomp, plain} {
				for _, p := range c.Packets {
					asm.Packet(1, p.Data, p.TS, len(p.Data))
				}
			}
			asm.Finish()
			app := map[string]int{} // by connection
			for _, l := range lines {
				if f := strings.Fields(l); f[0] == "beat" && f[len(f)-1] == health.KindApp {
					app[f[1]]++
				}
			}
			// The 4 SEND ping and the STOMP frames before them on 1; none on 2.
			if shapes && (app["1"] < 4 || len(app) != 1) || !shapes && len(app) != 0 {
				t.Errorf("-j %d ProtocolShapes %v: application beats by connection %v", jobs, shapes, app)
			}
		}
	}
}
