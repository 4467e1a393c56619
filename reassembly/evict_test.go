package reassembly

import (
	"bytes"
	"compress/flate"
	"fmt"
	"github.com/wsdump/wsdump/tlsdec"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// phased builds n WebSocket connections from distinct client ports, step
// by step: each step is written for every connection before the next
// step starts (all open, all ask to upgrade, all are answered, ...), so
// that far more connections are open at once than --max-connections.
type phased struct {
	convs []*synth.Conv
	steps [][]synth.Packet
}

func newPhased(n int) *phased {
	p := &phased{}
	for i := 0; i < n; i++ {
		p.convs = append(p.convs, synth.New(fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250+1, 40000+i), "192.0.2.2:80"))
	}
	return p
}

// step writes f for every connection as one step.
func (p *phased) step(f func(i int, c *synth.Conv)) *phased {
	var pkts []synth.Packet
	for i, c := range p.convs {
		n := len(c.Packets)
		f(i, c)
		pkts = append(pkts, c.Packets[n:]...)
	}
	p.steps = append(p.steps, pkts)
	return p
}

// packets returns the steps in order, a millisecond apart.
func (p *phased) packets() []synth.Packet {
	var out []synth.Packet
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, s := range p.steps {
		for _, pk := range s {
			pk.TS = ts
			ts = ts.Add(time.Millisecond)
			out = append(out, pk)
		}
	}
	return out
}

const (
	testRequest  = "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	testResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
)

// crowd is n connections that all open, then all ask to upgrade, then are
// all answered, then each sends a frame each way, then all close.
func crowd(n int) []synth.Packet { return crowdFrom(n, false) }

// crowdFrom is crowd, each connection opening and asking at once when
// asking is set.
func crowdFrom(n int, asking bool) []synth.Packet {
	ask := func(i int, c *synth.Conv) { c.Send(true, []byte(testRequest+"\r\n")) }
	open := func(i int, c *synth.Conv) { c.Open() }
	if asking {
		open = func(i int, c *synth.Conv) { ask(i, c.Open()) }
		ask = func(int, *synth.Conv) {}
	}
	return newPhased(n).
		step(open).
		step(ask).
		step(func(i int, c *synth.Conv) { c.Send(false, []byte(testResponse+"\r\n")) }).
		step(func(i int, c *synth.Conv) {
			c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("c%d", i+1)))
			c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("s%d", i+1)))
		}).
		step(func(i int, c *synth.Conv) { c.Fin(true).Fin(false) }).
		packets()
}

// checkCrowd checks that every connection of crowd(n) was decoded whole,
// under its own number.
func checkCrowd(t *testing.T, l *logSink, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		pre := fmt.Sprintf("conn %d 10.0.%d.%d:%d->192.0.2.2:80 ", i, (i-1)/250, (i-1)%250+1, 40000+i-1)
		for _, want := range []string{"handshake 101 []", fmt.Sprintf("message c2s \"c%d\" []", i), fmt.Sprintf("message s2c \"s%d\" []", i), "end fin_without_close frames 1/1 []"} {
			if l.count(pre+want) != 1 {
				t.Errorf("conn %d: no %q", i, want)
			}
		}
	}
	if len(l.lines) != 6*n {
		t.Errorf("%d records, want %d", len(l.lines), 6*n)
	}
	if t.Failed() {
		t.Logf("records:\n%s", strings.Join(l.lines[:min(len(l.lines), 200)], "\n"))
	}
}

// TestEvictCrowd: 18 WebSocket connections open at once, --max-connections
// 10. They all open, all ask to upgrade, are all answered, then each
// sends a frame each way. Evicted ones are parked with their state and
// go on where they were: every frame is decoded under its connection's
// number (before: the frames were lost, numbers went past 18, the
// requests came out as "no response" and the answers as "101 without
// request" connections, more connections were ended than existed).
func TestEvictCrowd(t *testing.T) {
	const n = 18
	pkts := crowd(n)
	l, st := run(pkts, Options{MaxConnections: 10}, 1)
	checkCrowd(t, l, n)
	// Evicted: the half-open ones, while all were opening.
	if st.Connections != n || st.Evicted == 0 || st.Evicted > n || st.Parked == 0 || st.Resumed != 0 {
		t.Errorf("stats: %d connections, %d evicted, %d parked, %d resumed; want %d, 1 to %d, some, 0", st.Connections, st.Evicted, st.Parked, st.Resumed, n, n)
	}
}

// TestEvictJobsIdentical: under eviction, -j 2 and -j 3 give exactly the
// records of -j 1, and the same counts: the limit counts over all workers
// (it was divided among them, and each evicted on its own).
func TestEvictJobsIdentical(t *testing.T) {
	evictJobsIdentical(t)
}

// TestEvictJobsIdenticalUntracked is TestEvictJobsIdentical with the
// reader bounding the connections held by packets, not 4-tuples, however
// near the limit (it does so only far from it): it counts them, and the
// workers evict, at the packets an Assembler evicts at.
func TestEvictJobsIdenticalUntracked(t *testing.T) {
	defer func(w int) { trackWithin = w }(trackWithin)
	trackWithin = 0
	evictJobsIdentical(t)
}

func evictJobsIdentical(t *testing.T) {
	t.Helper()
	for _, tc := range []struct {
		name string
		pkts []synth.Packet
		max  int
	}{
		{"crowd", crowd(18), 10},
		{"crowd-past-parking", crowd(25), 10},
		{"crowd-past-tombs", crowd(60), 10},
		{"asking-crowd", crowdFrom(25, true), 10},
		{"syn-flood", synFlood(300, 10), 10},
	} {
		l1, st1 := run(tc.pkts, Options{MaxConnections: tc.max}, 1)
		for _, jobs := range []int{2, 3} {
			l, st := run(tc.pkts, Options{MaxConnections: tc.max}, jobs)
			if st.Connections != st1.Connections || st.Evicted != st1.Evicted || st.Parked != st1.Parked || st.Resumed != st1.Resumed {
				t.Errorf("%s -j %d: stats %+v, -j 1: %+v", tc.name, jobs, st, st1)
			}
			a, b := strings.Join(l1.lines, "\n"), strings.Join(l.lines, "\n")
			if a != b {
				i := 0
				for i < min(len(l1.lines), len(l.lines)) && l1.lines[i] == l.lines[i] {
					i++
				}
				t.Errorf("%s -j %d: records differ from -j 1 at record %d of %d/%d", tc.name, jobs, i+1, len(l1.lines), len(l.lines))
			}
		}
	}
}

// TestEvictPastParking: 25 WebSocket connections open at once,
// --max-connections 10: more are evicted than can be parked (10). Those
// ended early keep their numbers when they go on, and the end of what
// follows is marked connection_resumed; each connection ended early is
// counted once (more were counted than there were connections).
func TestEvictPastParking(t *testing.T) {
	const n = 25
	l, st := run(crowd(n), Options{MaxConnections: 10}, 1)
	if st.Connections != n || st.Evicted == 0 || st.Evicted > n || st.Resumed == 0 {
		t.Errorf("%d connections (want %d), %d evicted, %d resumed", st.Connections, n, st.Evicted, st.Resumed)
	}
	ends := map[int][]string{}
	for _, line := range l.lines {
		var id int
		fmt.Sscanf(line, "conn %d ", &id)
		if id < 1 || id > n {
			t.Fatalf("connection number %d of %d: %s", id, n, line)
		}
		if want := fmt.Sprintf("conn %d 10.0.%d.%d:%d->192.0.2.2:80 ", id, (id-1)/250, (id-1)%250+1, 40000+id-1); !strings.HasPrefix(line, want) {
			t.Errorf("connection %d has other addresses: %s", id, line)
		}
		if strings.Contains(line, " end ") {
			ends[id] = append(ends[id], line)
		}
	}
	resumed := 0
	for i := 1; i <= n; i++ {
		e := ends[i]
		switch {
		case len(e) == 0:
			t.Errorf("conn %d: no end", i)
		case len(e) > 1:
			resumed++
			if !strings.Contains(e[len(e)-1], "connection_resumed") {
				t.Errorf("conn %d went on after it was ended, unmarked: %s", i, e[len(e)-1])
			}
		}
	}
	if resumed == 0 || resumed > st.Evicted {
		t.Errorf("%d connections went on after their end, %d evicted", resumed, st.Evicted)
	}
}

// synFlood is an upgraded permessage-deflate connection (context
// takeover) that sends a compressed message, then syns bare SYNs from
// other hosts, then a second compressed message that only inflates with
// the first's window.
func synFlood(syns, _ int) []synth.Packet {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	msg := bytes.Repeat([]byte("the same words again and again "), 20)
	w.Write(msg)
	w.Flush()
	first := bytes.TrimSuffix(bytes.Clone(b.Bytes()), []byte{0, 0, 0xff, 0xff})
	b.Reset()
	w.Write(msg)
	w.Flush()
	second := bytes.TrimSuffix(bytes.Clone(b.Bytes()), []byte{0, 0, 0xff, 0xff})

	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte(testRequest+ext+"\r\n"))
	c.Send(false, []byte(testResponse+ext+"\r\n"))
	frame := func(p []byte) []byte {
		return append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Length: uint64(len(p))}), p...)
	}
	c.Send(false, frame(first))
	pkts := c.Packets
	ts := pkts[len(pkts)-1].TS
	for i := 0; i < syns; i++ {
		ts = ts.Add(time.Microsecond)
		s := synth.New(fmt.Sprintf("10.1.%d.%d:%d", i/250, i%250+1, 1024+i), "192.0.2.2:80")
		s.Open()
		p := s.Packets[0] // the SYN only
		p.TS = ts
		pkts = append(pkts, p)
	}
	n := len(c.Packets)
	c.Wait(time.Second)
	c.Send(false, frame(second))
	return append(pkts, c.Packets[n:]...)
}

// TestSYNFloodKeepsWebSocket: 300 bare SYNs with --max-connections 10 do
// not end an established compressed connection: its second message,
// which needs the first's window, is inflated on the same connection (it
// was ended, and the message came out on a new connection without
// handshake, inflate_context_unknown).
func TestSYNFloodKeepsWebSocket(t *testing.T) {
	l, st := run(synFlood(300, 10), Options{MaxConnections: 10}, 1)
	want := fmt.Sprintf("%q", bytes.Repeat([]byte("the same words again and again "), 20))
	if n := l.count("conn 1 192.0.2.1:40000->192.0.2.2:80 message s2c " + want + " []"); n != 2 {
		t.Errorf("%d messages inflated on connection 1, want 2:\n%s", n, strings.Join(l.lines, "\n"))
	}
	if l.count("inflate_context_unknown") != 0 || l.count("end") != 1 {
		t.Errorf("records:\n%s", strings.Join(l.lines, "\n"))
	}
	if st.Connections != 301 || st.Evicted > 300 || st.Parked != 0 {
		t.Errorf("stats: %d connections, %d evicted, %d parked", st.Connections, st.Evicted, st.Parked)
	}
}

// replicated is one conversation's packets copied n times, the copies
// running at once (synth.Replicate: client 10.0.i/250.i%250+1, port
// 20000+i), interleaved packet by packet: every copy's SYN comes before
// any SYN-ACK.
func replicated(pkts []synth.Packet, n int) []synth.Packet {
	return synth.Replicate(pkts, n, 20000, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
}

// numberedInOrder checks that connection i+1 is the copy with port 20000+i
// (its SYN was the (i+1)th: tshark's tcp.stream i), and that no record has
// another number.
func numberedInOrder(t *testing.T, l *logSink, n int) {
	t.Helper()
	bad := 0
	for _, line := range l.lines {
		var id int
		fmt.Sscanf(line, "conn %d ", &id)
		if want := fmt.Sprintf("conn %d 10.0.%d.%d:%d->", id, (id-1)/250, (id-1)%250+1, 20000+id-1); id < 1 || id > n || !strings.HasPrefix(line, want) {
			if bad++; bad <= 5 {
				t.Errorf("record not under its first-SYN number: %s", line)
			}
		}
	}
}

// sameRecords checks that -j 2 gives exactly the records and counts of -j 1.
func sameRecords(t *testing.T, pkts []synth.Packet, opts Options) (*logSink, Stats) {
	t.Helper()
	l1, st1 := run(pkts, opts, 1)
	l2, st2 := run(pkts, opts, 2)
	if st1.Connections != st2.Connections || st1.Evicted != st2.Evicted || st1.Parked != st2.Parked || st1.Resumed != st2.Resumed {
		t.Errorf("-j 2 stats %+v, -j 1: %+v", st2, st1)
	}
	if a, b := strings.Join(l1.lines, "\n"), strings.Join(l2.lines, "\n"); a != b {
		t.Errorf("-j 2 records differ from -j 1 (%d/%d records)", len(l2.lines), len(l1.lines))
	}
	return l1, st1
}

// TestEvictHalfOpenKeepsNumbers: 60 WebSocket connections open at once,
// packet by packet (all SYNs, then all SYN-ACKs, ...), --max-connections
// 50. The connections evicted while half-open go on at their SYN-ACK
// under their own number. Before, that SYN-ACK opened a new connection:
// numbers ran from 61 to 120 and 120 connections were "ended early" of 60.
func TestEvictHalfOpenKeepsNumbers(t *testing.T) {
	const n = 60
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().Upgrade()
	for i := 0; i < 3; i++ {
		c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf("c m%d", i)))
		c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("s m%d", i)))
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	c.Fin(true).Fin(false)
	l, st := sameRecords(t, replicated(c.Packets, n), Options{MaxConnections: 50})
	numberedInOrder(t, l, n)
	if st.Connections != n || st.Evicted == 0 || st.Evicted > n {
		t.Errorf("%d connections (want %d), %d evicted", st.Connections, n, st.Evicted)
	}
	for i := 1; i <= n; i++ {
		pre := fmt.Sprintf("conn %d ", i)
		if k := l.count(pre); k != 1+6+6+2+1 {
			t.Errorf("conn %d: %d records, want 16 (handshake, 6 frames and their messages, 2 closes, end)", i, k)
		}
		for _, m := range []string{`message c2s "c m2"`, `message s2c "s m2"`, "handshake 101 []"} {
			if l.count(pre) > 0 && !slices.ContainsFunc(l.lines, func(s string) bool { return strings.HasPrefix(s, pre) && strings.Contains(s, m) }) {
				t.Errorf("conn %d: no %s", i, m)
			}
		}
	}
	if t.Failed() {
		t.Logf("stats %+v; records:\n%s", st, strings.Join(l.lines[:min(len(l.lines), 40)], "\n"))
	}
}

// wssConv is testdata/pcaps/gen__wss-go-tls13.pcap (a gorilla/websocket
// client and server over TLS 1.3) and its key log.
func wssConv(t *testing.T) ([]synth.Packet, *tlsdec.KeyLog) {
	t.Helper()
	pkts, err := synth.ReadPcap("../testdata/pcaps/gen__wss-go-tls13.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/pcaps/gen__wss-go-tls13.keys")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := tlsdec.ParseKeyLog(f)
	if err != nil {
		t.Fatal(err)
	}
	return pkts, keys
}

// byConn returns each connection's records without "conn N addr->addr".
func byConn(l *logSink) map[int][]string {
	m := map[int][]string{}
	for _, line := range l.lines {
		var id int
		fmt.Sscanf(line, "conn %d ", &id)
		m[id] = append(m[id], strings.SplitN(line, " ", 4)[3])
	}
	return m
}

// TestEvictWSSParked: 18 copies of a wss conversation at once,
// --max-connections 10. A TLS connection ranks with WebSocket ones: it
// is parked with its TLS state and goes on decrypting, so every copy
// decodes as the single conversation does, the same with -j 1 and -j 2.
// Before, a TLS connection was "not WebSocket" until its decrypted
// upgrade, so it was evicted, and no copy was decrypted again (tls
// records with decrypted:false and no handshake, no message).
func TestEvictWSSParked(t *testing.T) {
	pkts, keys := wssConv(t)
	one, _ := run(pkts, Options{Keys: keys}, 1)
	want := byConn(one)[1] // the records of the conversation alone
	if len(want) < 10 || one.count("message") == 0 {
		t.Fatalf("the conversation alone: %d records", len(want))
	}
	const n = 18
	l, st := sameRecords(t, replicated(pkts, n), Options{Keys: keys, MaxConnections: 10})
	numberedInOrder(t, l, n)
	got := byConn(l)
	for i := 1; i <= n; i++ {
		if !slices.Equal(got[i], want) {
			t.Errorf("conn %d: %d records, not those of the conversation alone (%d): %q", i, len(got[i]), len(want), got[i][:min(3, len(got[i]))])
		}
	}
	if st.Parked == 0 || st.Resumed != 0 {
		t.Errorf("stats: %d parked, %d resumed; want some, 0", st.Parked, st.Resumed)
	}
}

// TestEvictWSSPastParking: 25 copies of a wss conversation at once,
// --max-connections 10: more TLS connections are evicted than can be
// parked. Each copy decodes as the conversation alone, or, if it was
// ended early and went on, what follows comes out as a tls record that
// says so (connection_resumed): a TLS session cannot be decrypted from
// its middle. Before, those copies' later bytes were sniffed as plain
// WebSocket and vanished, with no record.
func TestEvictWSSPastParking(t *testing.T) {
	pkts, keys := wssConv(t)
	one, _ := run(pkts, Options{Keys: keys}, 1)
	want := byConn(one)[1]
	const n = 25
	l, st := sameRecords(t, replicated(pkts, n), Options{Keys: keys, MaxConnections: 10})
	numberedInOrder(t, l, n)
	whole, marked := 0, 0
	for i, got := range byConn(l) {
		switch {
		case slices.Equal(got, want):
			whole++
		case slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "tls connection_resumed") }):
			marked++
		default:
			t.Errorf("conn %d: neither whole nor marked resumed: %q", i, got)
		}
	}
	if marked == 0 || marked > st.Resumed || whole+marked != n {
		t.Errorf("%d whole, %d marked resumed, stats %+v", whole, marked, st)
	}
	if t.Failed() {
		t.Logf("records:\n%s", strings.Join(l.lines[:min(len(l.lines), 60)], "\n"))
	}
}
