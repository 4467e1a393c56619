package reassembly

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// A 101 captured before its request waits for it only when the client
// side was seen (its SYN here): a capture filtered to the servers' packets
// (src port 80) has no client side, and its 101s are believed at once,
// their records in time order among the other connections' as before
// session 35 (held to each connection's end, they came grouped by
// connection).
func TestAnswerBeforeRequestSides(t *testing.T) {
	first := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	first.Send(false, []byte(synth.UpgradeResponse+"\r\n")).Send(true, []byte(synth.UpgradeRequest+"\r\n"))
	first.Frame(true, wsparse.OpText, []byte("from the client")).Frame(false, wsparse.OpText, []byte("from the server"))
	var pkts []synth.Packet
	pkts = append(pkts, first.Packets...)
	for i := range 2 {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 40002+i), "192.0.2.2:80").At(time.Second + time.Duration(i)*500*time.Microsecond).Open()
		c.Upgrade().Frame(false, wsparse.OpText, []byte(fmt.Sprintf("server %d", i))).Frame(true, wsparse.OpText, []byte("client"))
		c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("server %d again", i)))
		for _, p := range c.Packets {
			if fromServer(t, p) {
				pkts = append(pkts, p)
			}
		}
	}
	pkts = synth.ByTime(pkts)
	for _, jobs := range []int{1, 2} {
		l, _ := run(pkts, Options{}, jobs)
		got := strings.Join(l.lines, "\n")
		wantReadAfterRequest(t, jobs, got)
		// The two filtered connections' records in time order.
		var order []string
		for _, line := range l.lines {
			if f := strings.Fields(line); f[1] != "1" && (f[3] == "handshake" || f[3] == "message") {
				order = append(order, f[1]+" "+f[3])
			}
		}
		if want := "2 handshake|3 handshake|2 message|3 message|2 message|3 message"; strings.Join(order, "|") != want {
			t.Errorf("-j %d: records of the filtered connections %s, want %s\n%s", jobs, strings.Join(order, "|"), want, got)
		}
	}
}

// wantReadAfterRequest checks the records of connection 1 (192.0.2.1:40001),
// whose 101 came before its request: the handshake flagged, one message
// each way.
func wantReadAfterRequest(t *testing.T, jobs int, got string) {
	t.Helper()
	for _, want := range []string{
		"conn 1 192.0.2.1:40001->192.0.2.2:80 handshake 101 [answer_before_request]",
		`conn 1 192.0.2.1:40001->192.0.2.2:80 message c2s "from the client" []`,
		`conn 1 192.0.2.1:40001->192.0.2.2:80 message s2c "from the server" []`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("-j %d: no %q in\n%s", jobs, want, got)
		}
	}
}

// fromServer says whether a synthetic packet was sent from port 80.
func fromServer(t *testing.T, p synth.Packet) bool {
	t.Helper()
	tcp, ok := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default).Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Fatal("no TCP in a synthetic packet")
	}
	return tcp.SrcPort == 80
}

// TestAnswerBeforeRequestEvicted: a connection whose 101 waits for its
// request is a WebSocket one to eviction (--max-connections): parked with
// its decoder, not ended. As "other" payload it went first, was ended with
// its 101 believed as it stood, and its request and frames came after as
// a connection of their own. (The request comes within the second the
// 101 waits: until session 37 it came 2 s after, when a 101 waited as long
// as both sides were silent.)
func TestAnswerBeforeRequestEvicted(t *testing.T) {
	held := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	held.Send(false, []byte(synth.UpgradeResponse+"\r\n"))
	pkts := slices.Clone(held.Packets)
	for i := range 12 {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 41000+i), "192.0.2.2:80").At(300*time.Millisecond + time.Duration(i)*time.Millisecond).Open()
		c.Upgrade().Frame(true, wsparse.OpText, []byte("crowd"))
		pkts = append(pkts, c.Packets...)
	}
	held.At(600*time.Millisecond).Send(true, []byte(synth.UpgradeRequest+"\r\n"))
	held.Frame(true, wsparse.OpText, []byte("from the client")).Frame(false, wsparse.OpText, []byte("from the server"))
	pkts = append(pkts, held.Packets[len(held.Packets)-3:]...)
	pkts = synth.ByTime(pkts)
	for _, jobs := range []int{1, 2} {
		l, st := run(pkts, Options{MaxConnections: 10}, jobs)
		got := strings.Join(l.lines, "\n")
		wantReadAfterRequest(t, jobs, got)
		if st.Evicted == 0 || st.Connections != 13 {
			t.Errorf("-j %d: %d evicted, %d connections; want some, 13", jobs, st.Evicted, st.Connections)
		}
	}
}
