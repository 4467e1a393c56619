package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// nestedWS is a WebSocket connection from port, each packet inside depth
// IP-in-IP tunnels.
func nestedWS(port string, depth int) []synth.Packet {
	pkts := synth.New("10.0.0.1:"+port, "10.0.0.2:80").Open().Upgrade().Frame(true, wsparse.OpText, []byte("hi")).
		Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(false).Fin(true).Packets
	wrap := func(f []byte) []byte {
		for range depth {
			f = synth.Tunnels[0].Wrap(f) // ip in ip
		}
		return f
	}
	return synth.Wrapped(pkts, 0, wrap)
}

// TestTooDeepTunnelsSaid: a connection inside more tunnels than are
// opened (4) is not decoded, and stderr says so and how many packets.
// Until a hostile review they were counted as "not TCP", said only when
// the capture had no WebSocket at all, as "(UDP and others: WebSockets
// over HTTP/3, RFC 9220, are not decoded)", and not at all beside a
// WebSocket that was decoded: a conversation lost without a word.
func TestTooDeepTunnelsSaid(t *testing.T) {
	dir := t.TempDir()
	deep, both := filepath.Join(dir, "deep.pcap"), filepath.Join(dir, "both.pcap")
	writePackets(t, deep, nestedWS("40001", 5))
	writePackets(t, both, synth.ByTime(nestedWS("40001", 5), nestedWS("40002", 4)))
	const said = "wsdump: 10 IP packets inside more than 4 tunnels (IP in IP, GRE, VXLAN, GENEVE, MPLS...) were not opened: any TCP in them, WebSocket or not, is not decoded\n"
	for _, c := range []struct {
		args  []string
		want  []string
		never string
	}{
		{[]string{"-r", deep}, []string{"wsdump: no WebSocket in 10 packets: 0 TCP connections, 10 IP packets inside more than 4 tunnels, not opened\n", said}, "HTTP/3"},
		{[]string{"conns", "-r", deep}, []string{said}, "HTTP/3"},
		{[]string{"-r", both, "--format", "jsonl"}, []string{said}, "no WebSocket"},
		{[]string{"conns", "-r", both, "-j", "2"}, []string{said}, "no WebSocket"},
	} {
		out, errs, _ := runWsdump(t, nil, c.args...)
		for _, w := range c.want {
			if strings.Count(errs, w) != 1 {
				t.Errorf("wsdump %s: stderr %q, want once %q", strings.Join(c.args, " "), errs, w)
			}
		}
		if strings.Contains(errs, c.never) {
			t.Errorf("wsdump %s: stderr %q says %q", strings.Join(c.args, " "), errs, c.never)
		}
		if c.args[1] == both && !strings.Contains(out, "40002") {
			t.Errorf("wsdump %s: the connection 4 tunnels deep is not shown:\n%s", strings.Join(c.args, " "), out)
		}
	}
}
