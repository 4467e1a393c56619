package main

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/reassembly"
)

// gen__ws-tunnels (testdata/gen/ws-tunnels.js, tunnels.sh): one real node
// ws connection in each of ten tunnels, captured on the underlay only, so
// every packet is encapsulated. VXLAN is the kernel's; the other tunnels
// are tunnel-relay.py's (TUN/TAP devices; this kernel has no driver for
// them), which writes the tunnel header while the kernel writes the outer
// IP and UDP headers.

// tunnelsExpect is gen__ws-tunnels.expect.json: what the generator knows
// of each connection.
type tunnelsExpect struct {
	Conns []struct {
		Tunnel   string `json:"tunnel"`
		Client   tunnelsEnd
		Server   tunnelsEnd
		Deflate  bool `json:"permessage_deflate"`
		Messages []struct {
			Dir    string `json:"dir"`
			Opcode int    `json:"opcode"`
			Len    int    `json:"len"`
			SHA256 string `json:"sha256"`
		} `json:"messages"`
		Close struct {
			By        string `json:"by"`
			Code      int    `json:"code"`
			Reason    string `json:"reason"`
			ReplyCode int    `json:"reply_code"`
		} `json:"close"`
	} `json:"conns"`
}

type tunnelsEnd struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
}

func (e tunnelsEnd) String() string {
	return netip.AddrPortFrom(netip.MustParseAddr(e.Address), e.Port).String()
}

// tunnelLayers is each tunnel's packets as tshark names their layers, up
// to the inner TCP (frame.protocols).
var tunnelLayers = map[string]string{
	"vxlan":  "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp",
	"vxlan6": "eth:ethertype:ipv6:udp:vxlan:eth:ethertype:ipv6:tcp",
	"gre":    "eth:ethertype:ip:gre:ip:tcp",
	"gretap": "eth:ethertype:ip:gre:eth:ethertype:ip:tcp",
	"geneve": "eth:ethertype:ip:udp:geneve:eth:ethertype:ip:tcp",
	"ipip":   "eth:ethertype:ip:ip:tcp",
	"sit":    "eth:ethertype:ip:ipv6:tcp",
	"ip6gre": "eth:ethertype:ipv6:gre:ip:tcp",
	"ip6ip6": "eth:ethertype:ipv6:ipv6:tcp",
	"erspan": "eth:ethertype:ip:gre:erspan:eth:ethertype:ip:tcp",
}

func tunnelsCapture(t *testing.T) (string, tunnelsExpect) {
	t.Helper()
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__ws-tunnels")
	var ex tunnelsExpect
	readExpect(t, base+".expect.json", &ex)
	if len(ex.Conns) != len(tunnelLayers) {
		t.Fatalf("expect.json: %d connections, want one per tunnel (%d)", len(ex.Conns), len(tunnelLayers))
	}
	return base + ".pcap", ex
}

// TestRecordedTunnelsPackets: every packet of the capture is a TCP segment
// of one of the ten connections, found inside its tunnel: none is counted
// as not IP, not TCP, malformed or a fragment.
func TestRecordedTunnelsPackets(t *testing.T) {
	t.Parallel()
	capFile, ex := tunnelsCapture(t)
	pkts, err := synth.ReadPcap(capFile)
	if err != nil {
		t.Fatal(err)
	}
	asm := reassembly.New(nopExporter{}, reassembly.Options{})
	for _, p := range pkts {
		asm.Packet(1, p.Data, p.TS, len(p.Data)) // link type 1: Ethernet
	}
	asm.Finish()
	st := asm.Stats()
	if st.Packets != uint64(len(pkts)) || st.NotIP != 0 || st.NotTCP != 0 || st.Malformed != 0 || st.Fragments != 0 || st.Cut != 0 {
		t.Errorf("%d packets: stats %+v, want every one a TCP segment", len(pkts), st)
	}
	if st.Connections != len(ex.Conns) {
		t.Errorf("%d TCP connections, want %d", st.Connections, len(ex.Conns))
	}
}

// TestRecordedTunnelsMatchManifest: per connection, wsdump's handshake,
// messages (opcode, length, SHA-256, in order per direction) and close
// frames are those the generator recorded for the connection in that
// tunnel (identified by its inner addresses).
func TestRecordedTunnelsMatchManifest(t *testing.T) {
	t.Parallel()
	capFile, ex := tunnelsCapture(t)
	out, errs, code := runShared(t, goldenArgs(capFile, "--format", "jsonl")...)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	// The fields of a jsonl record read here that jsonRecord leaves out.
	type tunnelRecord struct {
		jsonRecord
		Client      string `json:"client"`
		Extensions  string `json:"extensions"`
		CloseCode   int    `json:"close_code"`
		CloseReason string `json:"close_reason"`
	}
	type connRecs struct {
		hs     *tunnelRecord
		msgs   map[string][]string
		closes map[string][]string
	}
	conns := map[int]*connRecs{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r tunnelRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		c := conns[r.Conn]
		if c == nil {
			c = &connRecs{msgs: map[string][]string{}, closes: map[string][]string{}}
			conns[r.Conn] = c
		}
		switch r.Type {
		case "handshake":
			c.hs = &r
		case "message":
			data, sum := r.dataSHA256(t)
			c.msgs[r.Dir] = append(c.msgs[r.Dir], strconv.Itoa(r.Opcode)+" "+strconv.Itoa(len(data))+" "+sum)
		case "frame":
			if r.Opcode == 8 {
				c.closes[r.Dir] = append(c.closes[r.Dir], strconv.Itoa(r.CloseCode)+" "+r.CloseReason)
			}
		}
	}
	if len(conns) != len(ex.Conns) {
		t.Errorf("wsdump: %d connections, want %d", len(conns), len(ex.Conns))
	}
	matched := 0
	for i, e := range ex.Conns {
		c := conns[i+1] // one after the other: numbered in the generator's order
		t.Run(e.Tunnel, func(t *testing.T) {
			if c == nil || c.hs == nil {
				t.Fatalf("no connection %d with a handshake", i+1)
			}
			if c.hs.Status != 101 || c.hs.Client != e.Client.String() || c.hs.Server != e.Server.String() {
				t.Errorf("handshake %d %s -> %s, want 101 %s -> %s", c.hs.Status, c.hs.Client, c.hs.Server, e.Client, e.Server)
			}
			if deflate := strings.Contains(c.hs.Extensions, "permessage-deflate"); deflate != e.Deflate {
				t.Errorf("permessage-deflate %v (%q), want %v", deflate, c.hs.Extensions, e.Deflate)
			}
			want := map[string][]string{}
			for _, m := range e.Messages {
				want[m.Dir] = append(want[m.Dir], strconv.Itoa(m.Opcode)+" "+strconv.Itoa(m.Len)+" "+m.SHA256)
			}
			compareByDir(t, "message", c.msgs, want)
			matched += len(c.msgs["c2s"]) + len(c.msgs["s2c"])
			first, reply := "c2s", "s2c"
			if e.Close.By == "server" {
				first, reply = reply, first
			}
			compareByDir(t, "close", c.closes, map[string][]string{
				first: {strconv.Itoa(e.Close.Code) + " " + e.Close.Reason},
				reply: {strconv.Itoa(e.Close.ReplyCode) + " " + e.Close.Reason}, // ws echoes the reason
			})
		})
	}
	t.Logf("%d messages in %d connections matched", matched, len(ex.Conns))
}

// TestRecordedTunnelsAgreeWithTshark: tshark (which opens every one of
// these tunnels itself) finds each connection in the tunnel it was sent
// through, and its WebSocket frames per tcp.stream are wsdump's per
// connection, frame by frame (compareFrames, as TestAgreesWithTshark).
func TestRecordedTunnelsAgreeWithTshark(t *testing.T) {
	t.Parallel()
	capFile, ex := tunnelsCapture(t)
	tshark := needTshark(t)
	// The layers of every packet, by tcp.stream: each stream is in its
	// tunnel, and no packet is outside a stream.
	out := tsharkOutput(t, tshark, capFile, "-r", capFile, "-T", "fields", "-e", "tcp.stream", "-e", "frame.protocols")
	streams := map[int]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		n, err := strconv.Atoi(f[0])
		if err != nil || n < 0 || n >= len(ex.Conns) {
			t.Errorf("tshark: packet %q in no connection", line)
			continue
		}
		streams[n]++
		if tun := ex.Conns[n].Tunnel; !strings.HasPrefix(f[1], tunnelLayers[tun]) {
			t.Errorf("tshark: a packet of %s (tcp.stream %d) is %s, want %s", tun, n, f[1], tunnelLayers[tun])
		}
	}
	if len(streams) != len(ex.Conns) {
		t.Errorf("tshark: %d TCP streams, want %d", len(streams), len(ex.Conns))
	}

	want, err := runTshark(t, tshark, capFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runWsdumpFrames(t, capFile)
	if err != nil {
		t.Fatal(err)
	}
	perConn := func(frames []oracleFrame, base int) map[int]int {
		m := map[int]int{}
		for _, f := range frames {
			m[f.conn-base]++
		}
		return m
	}
	tsharkN, wsdumpN := perConn(want, 0), perConn(got, 1) // tcp.stream from 0, conn from 1
	for i, e := range ex.Conns {
		if tsharkN[i] == 0 || tsharkN[i] != wsdumpN[i] {
			t.Errorf("%s: tshark %d frames (tcp.stream %d), wsdump %d (conn %d)", e.Tunnel, tsharkN[i], i, wsdumpN[i], i+1)
		}
	}
	t.Logf("%d frames compared", compareFrames(t, want, got))
}
