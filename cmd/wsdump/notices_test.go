package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestLimitNoticesEveryCommand: the notices of what a capture ran into
// that no record shows (here: a link type its packets do not match, so
// nothing is decoded) reach stderr from every command that reads a
// capture, not only the main view; lint and diff, which read several
// captures each on its own, name the capture. Before, conns said nothing
// but an empty table and lint "no findings".
func TestLimitNoticesEveryCommand(t *testing.T) {
	p, path := newRawPcap(t, 1) // Ethernet, but the packets are raw IP
	for _, pk := range conv(false).Packets {
		p.packet(pk.Data[14:], len(pk.Data)-14)
	}
	p.close(t)
	const notice = "none of the 5 packets carries IPv4 or IPv6 as its link type says: wrong link type?"
	dir := t.TempDir()
	for _, c := range []struct {
		args  []string
		named bool
	}{
		{[]string{"-r", path}, false},
		{[]string{"conns", "-r", path}, false},
		{[]string{"conns", "--format", "jsonl", "-r", path}, false},
		{[]string{"report", "-o", filepath.Join(dir, "r.html"), "-r", path}, false},
		{[]string{"lint", path}, true},
		{[]string{"diff", path, path}, true},
		{[]string{"follow", "-r", path}, true},
		{[]string{"export", "-o", filepath.Join(dir, "x"), "-r", path}, true},
	} {
		_, errs, _ := runWsdump(t, nil, c.args...)
		want := "wsdump: " + notice
		if c.named {
			want = "wsdump: " + path + ": " + notice
		}
		// Once: diff F F said it twice, for A and for B.
		if n := strings.Count(errs, notice); n != 1 || !strings.Contains(errs, want) {
			t.Errorf("wsdump %s: stderr %q, want %q", strings.Join(c.args, " "), errs, want)
		}
	}
}

// TestTLSNotDecryptedSaid: a wss capture read without its key log
// printed an empty conns table, lint "no findings" and diff "no
// differences", nothing on stderr. The commands that show only WebSockets
// now say on stderr that a TLS connection was not decrypted, and why;
// lint lists it (WS309, info). With the keys, none of it.
func TestTLSNotDecryptedSaid(t *testing.T) {
	const f, keys = "../../testdata/pcaps/gen__wss-go-tls13.pcap", "../../testdata/pcaps/gen__wss-go-tls13.keys"
	const notice = "wsdump: 1 TLS connection was not decrypted, so its WebSockets, if any, are not in this report (connection 1, to 127.0.0.1:47700: no key for client random 10c9a643"
	html := filepath.Join(t.TempDir(), "r.html")
	for _, c := range []struct {
		args      []string
		out, errs string // what they must hold ("" for nothing of it)
	}{
		{args: []string{"conns", "-r", f}, errs: notice},
		{args: []string{"conns", "--format", "jsonl", "-r", f}, errs: notice},
		{args: []string{"report", "-o", html, "-r", f}, errs: notice},
		{args: []string{"diff", f, f}, errs: "wsdump: " + f + ": 1 TLS connection was not decrypted, so its WebSockets, if any, are not compared (connection 1"},
		{args: []string{"follow", "-r", f}, errs: "wsdump: " + f + ": 1 TLS connection was not decrypted, so its WebSockets, if any, are not shown (connection 1"},
		{args: []string{"export", "-o", filepath.Join(t.TempDir(), "x"), "-r", f}, errs: "are not exported (connection 1"},
		{args: []string{"-T", "fields", "-e", "opcode", "-r", f}, errs: "wsdump: 1 TLS connection was not decrypted, so its WebSockets, if any, are not shown (connection 1"},
		{args: []string{"--format", "parquet", "-o", filepath.Join(t.TempDir(), "pq"), "-r", f}, errs: "are not in the datasets (connection 1"},
		{args: []string{"lint", "--fail-on", "none", f}, out: "WS309 tls-not-decrypted  0.002494  conn 1 connection  TLS to 127.0.0.1:47700: no key for client random 10c9a643"},
	} {
		out, errs, _ := runWsdump(t, nil, c.args...)
		if c.errs != "" && strings.Count(errs, c.errs) != 1 || c.out != "" && !strings.Contains(out, c.out) {
			t.Errorf("wsdump %s:\nstdout %q\nstderr %q\nwant %q / %q", strings.Join(c.args, " "), out, errs, c.out, c.errs)
		}
		withKeys := append([]string{"--keylog", keys}, c.args...)
		if !strings.HasPrefix(c.args[0], "-") {
			withKeys = append([]string{c.args[0], "--keylog", keys}, c.args[1:]...)
		}
		out, errs, _ = runWsdump(t, nil, withKeys...)
		if strings.Contains(errs, "not decrypted") || strings.Contains(out, "WS309") {
			t.Errorf("wsdump %s: said not decrypted:\nstdout %q\nstderr %q", strings.Join(withKeys, " "), out, errs)
		}
	}
}

// TestNoWebSocketSaid: a capture with no WebSocket in it gave an empty
// output (an empty conns table, no transcript) and nothing on stderr, as
// if it had not been read. Now a line says what it held; not when a filter asked for less
// (the --conn census says why), nor when there was a record.
func TestNoWebSocketSaid(t *testing.T) {
	p, udp := newRawPcap(t, 101) // raw IP
	pk := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5000, 443, 1, 0, 0x18, []byte("quic"))
	pk[9] = 17 // UDP
	p.packet(pk, len(pk))
	p.packet(synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5001, 80, 1, 0, 0x18, []byte("GET / HTTP/1.1\r\n\r\n")), 58)
	p.close(t)
	for _, c := range []struct {
		args []string
		want string // "" for no such line
	}{
		{[]string{"-r", udp}, "wsdump: no WebSocket in 2 packets: 1 TCP connection, 1 IP packet not TCP (UDP and others: WebSockets over HTTP/3, RFC 9220, are not decoded)\n"},
		{[]string{"-r", udp, "--format", "jsonl"}, "wsdump: no WebSocket in 2 packets: 1 TCP connection, 1 IP packet not TCP"},
		{[]string{"-r", udp, "--dir", "c2s"}, ""},
		{[]string{"-r", "../../testdata/pcaps/gen__ws-node-basic.pcap"}, ""},
		// The commands that show only WebSockets say it too; those that
		// read captures each on its own name it.
		{[]string{"conns", "-r", udp}, "wsdump: no WebSocket in 2 packets: 1 TCP connection, 1 IP packet not TCP"},
		{[]string{"report", "-o", filepath.Join(t.TempDir(), "r.html"), "-r", udp}, "wsdump: no WebSocket in 2 packets"},
		{[]string{"follow", "-r", udp}, "wsdump: " + udp + ": no WebSocket in 2 packets: 1 TCP connection"},
		{[]string{"export", "-o", filepath.Join(t.TempDir(), "x"), "-r", udp}, "wsdump: " + udp + ": no WebSocket in 2 packets"},
		{[]string{"lint", udp}, "wsdump: " + udp + ": no WebSocket in 2 packets"},
		{[]string{"lint", "../../testdata/pcaps/gen__wss-go-tls13.pcap"}, ""},
		{[]string{"conns", "-r", "../../testdata/pcaps/gen__health-reconnect.pcap"}, ""},
		{[]string{"follow", "-r", "../../testdata/pcaps/gen__sockjs-xhr-polling.pcap"}, ""},
		// A TLS connection not decrypted may hold a WebSocket: its own
		// notice says so, not this one.
		{[]string{"conns", "-r", "../../testdata/pcaps/gen__wss-go-tls13.pcap"}, ""},
		{[]string{"follow", "-r", "../../testdata/pcaps/gen__wss-go-tls13.pcap"}, ""},
	} {
		_, errs, _ := runWsdump(t, nil, c.args...)
		if c.want == "" && strings.Contains(errs, "no WebSocket") || !strings.Contains(errs, c.want) {
			t.Errorf("wsdump %s: stderr %q, want %q", strings.Join(c.args, " "), errs, c.want)
		}
	}
}

// TestPerFileNoticesNamed: with --per-file each file's notices name it,
// as its connections are numbered on their own ("connection 1" of which
// file?); they named none. Those that named it already (follow's) are
// not named twice.
func TestPerFileNoticesNamed(t *testing.T) {
	const tls, redis = "../../testdata/pcaps/gen__wss-go-tls13.pcap", "../../testdata/pcaps/nonws__redis.pcap"
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-T", "fields", "-e", "conn"}, []string{"wsdump: " + tls + ": 1 TLS connection was not decrypted", "wsdump: " + redis + ": no WebSocket in 1657 packets"}},
		{[]string{"--format", "jsonl", "-j", "3"}, []string{"wsdump: " + redis + ": no WebSocket in 1657 packets"}},
		{[]string{"conns"}, []string{"wsdump: " + tls + ": 1 TLS connection was not decrypted"}},
		{[]string{"follow"}, []string{"wsdump: " + tls + ": 1 TLS connection was not decrypted"}},
	} {
		args := append(c.args, "--per-file", "-r", tls, "-r", redis)
		_, errs, _ := runWsdump(t, nil, args...)
		for _, w := range c.want {
			if strings.Count(errs, w) != 1 {
				t.Errorf("wsdump %s: stderr %q, want %q once", strings.Join(args, " "), errs, w)
			}
		}
		if strings.Contains(errs, tls+": "+tls) {
			t.Errorf("wsdump %s: named twice: %q", strings.Join(args, " "), errs)
		}
	}
}

// TestTLSDecryptedNotSaid: a TLS connection that was decrypted but
// carried no WebSocket (an HTTPS fallback session's, HTTP/2 without a
// WebSocket stream) has a tls record too, decrypted: no notice counts it.
// TestTLSNotDecryptedSaid's capture has no such connection, so a counter
// of every tls record passed it.
func TestTLSDecryptedNotSaid(t *testing.T) {
	for _, name := range []string{"gen__sockjs-xhr-streaming-tls", "gen__h2-browser"} {
		f, keys := "../../testdata/pcaps/"+name+".pcap", "../../testdata/pcaps/"+name+".keys"
		for _, args := range [][]string{
			{"conns", "--keylog", keys, "-r", f},
			{"follow", "--keylog", keys, "-r", f},
			{"-T", "fields", "-e", "conn", "--keylog", keys, "-r", f},
		} {
			_, errs, _ := runWsdump(t, nil, args...)
			if strings.Contains(errs, "not decrypted") {
				t.Errorf("wsdump %s: stderr %q", strings.Join(args, " "), errs)
			}
		}
	}
}

// TestFragmentsAndMalformedSaid: IP fragments not reassembled (here, a
// datagram whose last fragment never came), fragments overlapping with
// other bytes, and packets whose TCP header does not parse were counted
// and said nowhere: their bytes showed as lost with no cause.
func TestFragmentsAndMalformedSaid(t *testing.T) {
	p, f := newRawPcap(t, 101) // raw IP
	frag := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5000, 80, 1, 0, 0x18, []byte("first part.."))
	frag[6] |= 0x20 // more fragments
	p.packet(frag, len(frag))
	other := slices.Clone(frag)
	other[len(other)-1] = '!'
	p.packet(other, len(other))
	bad := synth.RawTCP4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 5001, 80, 1, 0, 0x18, nil)[:30] // 10 bytes of a 20-byte TCP header
	bad[2], bad[3] = 0, 30                                                                           // total length
	p.packet(bad, len(bad))
	p.close(t)
	_, errs, _ := runWsdump(t, nil, "-r", f)
	for _, want := range []string{
		"wsdump: 2 IP fragments of 2 not reassembled (their datagram incomplete at the end or 30 s after its first, past 4 MiB held, cut by the snap length, or malformed): any TCP bytes in them, a tunnel's too, count as lost on their connections\n",
		"wsdump: 1 IP fragment overlapped earlier fragments of its datagram with other bytes: the first copy was kept\n",
		"wsdump: 1 packet skipped, with an IP or TCP header that does not parse: the bytes it carried count as lost on its connection where a later segment of the same side (data or FIN) shows the gap\n",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q, want %q", errs, want)
		}
	}
}
