// Command memgen writes the inputs of bench/memory.sh: a capture of many
// open WebSocket connections, and a large NSS key log. They are generated
// (the same every run) rather than committed.
//
//	go run ./bench/memgen -conns 100000 -o bench/data/open-100k.pcap
//	go run ./bench/memgen -keylog 1000000 -append testdata/pcaps/gen__wss-go-tls12-aes128gcm.keys -o bench/data/keys-1m.txt
//	go run ./bench/memgen -bound pending -o bench/data/bound-pending.pcap
//	go run ./bench/memgen -syns 1000000 -o bench/data/syns-1000000.pcap
//	go run ./bench/memgen -bomb 1024 -o bench/data/bomb-1024.pcap
//	go run ./bench/memgen -bound tls-early -keys bench/data/tls-early.keys -o bench/data/tls-early.pcap
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

func main() {
	conns := flag.Int("conns", 0, "write a capture of `N` open connections")
	keylog := flag.Int("keylog", 0, "write a key log of `N` CLIENT_RANDOM lines")
	appendKeys := flag.String("append", "", "with -keylog: append this key log `FILE` (the keys of a capture to decrypt)")
	bound := flag.String("bound", "", "write a capture that hits the buffering `LIMIT`: pending, pending-total, sniff, sniff-total, heads, h2-pending, h2-pending-total, reorder, reorder-total or tls-early (with -keys)")
	boundN := flag.Int("n", 0, "with -bound: `N` connections rather than the case's")
	bomb := flag.Int("bomb", 0, "write a capture of one permessage-deflate message that inflates to `N` MiB of zeros (a decompression bomb)")
	syns := flag.Int("syns", 0, "write a capture of `N` bare SYNs from distinct sources (a SYN flood)")
	zconns := flag.Int("zconns", 0, "write a capture of `N` open permessage-deflate connections, each after one compressed message that inflates to 32 KiB from each side")
	claim := flag.Int("claim", 0, "with -conns: the length the unfinished fragment's header claims, when more than -frag: the frame's payload is still coming at the end")
	fragLen := flag.Int("frag", 1000, "with -conns: bytes of the unfinished server message each connection holds at the end (0: none, the connection is idle)")
	out := flag.String("o", "", "output `FILE`")
	keysOut := flag.String("keys", "", "with -bound tls-early: write the key log of its early secrets to `FILE`")
	flag.Parse()
	modes := 0
	for _, set := range []bool{*conns > 0, *zconns > 0, *keylog > 0, *bound != "", *syns > 0, *bomb > 0} {
		if set {
			modes++
		}
	}
	if *out == "" || modes != 1 {
		fmt.Fprintln(os.Stderr, "usage: memgen (-conns N | -zconns N | -keylog N [-append FILE] | -bound LIMIT | -syns N | -bomb N) -o FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	switch {
	case *conns > 0:
		err = openConns(w, *conns, *fragLen, *claim)
	case *zconns > 0:
		err = compressedConns(w, *zconns)
	case *bound != "":
		err = bounds(w, *bound, *boundN, *keysOut)
	case *syns > 0:
		err = synFlood(w, *syns)
	case *bomb > 0:
		err = deflateBomb(w, *bomb)
	default:
		err = keyLog(w, *keylog, *appendKeys)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "memgen:", err)
	os.Exit(1)
}

// openConns writes n connections, one after the other, that each stay
// open: the three-way handshake, the upgrade, a 64 B text frame from the
// client, and the first 1000 B fragment of a message from the server that
// never ends (fragLen bytes; none when 0). At the end of the capture all n
// are open, each with a message being assembled, or idle.
func openConns(w *bufio.Writer, n, fragLen, claim int) error {
	small := make([]byte, 64)
	frag := make([]byte, max(fragLen, 64))
	for i := range frag {
		frag[i] = 'a' + byte(i%26)
	}
	copy(small, frag)
	return eachConn(w, n, func(i int, c *synth.Conv) {
		c.Send(true, []byte(synth.UpgradeRequest+"\r\n"))
		c.Send(false, []byte(synth.UpgradeResponse+"\r\n"))
		key := [4]byte{}
		binary.BigEndian.PutUint32(key[:], uint32(i)*2654435761)
		masked := append([]byte(nil), small...)
		wsparse.Unmask(key, 0, masked)
		c.Send(true, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: key, Length: 64}), masked...))
		if fragLen > 0 {
			c.Send(false, append(wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: uint64(max(fragLen, claim))}), frag[:fragLen]...))
		}
	})
}

// eachConn writes n connections, one after the other, 10 µs apart, from
// clients 10.x.y.z to 192.0.2.2:80: the three-way handshake, then what
// send sends on connection i. Each connection's packets are written as
// they are built.
func eachConn(w *bufio.Writer, n int, send func(i int, c *synth.Conv)) error {
	server := netip.MustParseAddrPort("192.0.2.2:80")
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	for i := range n {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		c := synth.New(client.String(), server.String())
		c.Step = time.Microsecond
		c.Wait(time.Duration(i) * 10 * time.Microsecond)
		c.Open()
		send(i, c)
		for _, p := range c.Packets {
			ci := gopacket.CaptureInfo{Timestamp: p.TS, CaptureLength: len(p.Data), Length: len(p.Data)}
			if err := pw.WritePacket(ci, p.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

// compressedConns writes n connections, one after the other, that each
// stay open after a permessage-deflate upgrade (context takeover) and one
// compressed message each way that inflates to 32 KiB of text (about
// 100 bytes on the wire): the window each direction's inflater keeps for
// the next message is full. At the end of the capture all n are open.
func compressedConns(w *bufio.Writer, n int) error {
	text := make([]byte, 32<<10)
	for i := range text {
		text[i] = 'a' + byte(i*7%26)
	}
	var zb bytes.Buffer
	zw, _ := flate.NewWriter(&zb, flate.BestCompression)
	zw.Write(text)
	zw.Flush()
	msg := bytes.TrimSuffix(zb.Bytes(), []byte{0, 0, 0xff, 0xff})
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	return eachConn(w, n, func(i int, c *synth.Conv) {
		c.Send(true, []byte(synth.UpgradeRequest+ext+"\r\n"))
		c.Send(false, []byte(synth.UpgradeResponse+ext+"\r\n"))
		key := [4]byte{}
		binary.BigEndian.PutUint32(key[:], uint32(i)*2654435761)
		masked := append([]byte(nil), msg...)
		wsparse.Unmask(key, 0, masked)
		c.Send(true, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Masked: true, MaskKey: key, Length: uint64(len(msg))}), masked...))
		c.Send(false, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpText, Length: uint64(len(msg))}), msg...))
	})
}

// synFlood writes n bare SYNs from distinct sources (10.x.y.z) to one
// server, 1 µs apart, as raw IPv4 (LINKTYPE_RAW): the capture of
// cmd/wsdump/hostile_test.go's SYN flood, a million of them by default in
// bench/memory.sh (never answered, each is a half-open connection).
func synFlood(w *bufio.Writer, n int) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(262144, layers.LinkTypeRaw); err != nil {
		return err
	}
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range n {
		src := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		d := synth.RawTCP4(src, [4]byte{192, 0, 2, 2}, uint16(1024+i%60000), 80, 1, 0, 0x02, nil)
		if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d); err != nil {
			return err
		}
		ts = ts.Add(time.Microsecond)
	}
	return nil
}

// deflateBomb writes an upgraded connection (permessage-deflate) on which
// the server sends one compressed message of n MiB of zeros (about 1.3 kB
// per MiB, as DEFLATE does not do better than about 1:1000), then a close:
// the bomb of cmd/wsdump/hostile_test.go, 1 GiB in bench/memory.sh.
func deflateBomb(w *bufio.Writer, n int) error {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range n {
		fw.Write(zeros)
	}
	fw.Flush()
	bomb := bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(true, []byte(synth.UpgradeRequest+synth.DeflateOffer+"\r\n"))
	c.Send(false, []byte(synth.UpgradeResponse+synth.DeflateOffer+"\r\n"))
	c.Send(false, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, RSV: 4, Opcode: wsparse.OpBinary, Length: uint64(len(bomb))}), bomb...))
	c.Send(false, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpClose, Length: 2}), 3, 0xe8))
	return synth.WritePcap(w, 0, c.Packets...)
}

// keyLog writes n CLIENT_RANDOM lines with random client randoms and
// master secrets (176 bytes each), then the lines of the file add.
func keyLog(w *bufio.Writer, n int, add string) error {
	rng := rand.New(rand.NewPCG(1, 2))
	var cr [32]byte
	var ms [48]byte
	line := make([]byte, 0, 200)
	for range n {
		for i := 0; i < len(cr); i += 8 {
			binary.LittleEndian.PutUint64(cr[i:], rng.Uint64())
		}
		for i := 0; i < len(ms); i += 8 {
			binary.LittleEndian.PutUint64(ms[i:], rng.Uint64())
		}
		line = append(line[:0], "CLIENT_RANDOM "...)
		line = hex.AppendEncode(line, cr[:])
		line = append(line, ' ')
		line = hex.AppendEncode(line, ms[:])
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	if add != "" {
		b, err := os.ReadFile(add)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return nil
}

// bounds writes a capture whose connections all hit one buffering limit
// at the same time (their segments interleaved), at its default:
//
//   - pending: 64 connections whose client sends an upgrade request and
//     then 1.5 MiB that the server never answers (--max-pending, 1 MiB);
//   - pending-total: 600 connections like those, each sending 1 000 000
//     bytes (under --max-pending; 600 MB in all, over
//     --max-pending-total);
//   - sniff: 64 connections without a handshake, each side sending 384 KiB
//     of random bytes (--max-sniff, 256 KiB searched);
//   - heads: 64 connections whose client and server each send 60 000
//     bytes of an HTTP head that never ends (under --max-http-header,
//     64 KiB a side);
//   - h2-pending: 64 h2c connections whose client opens a WebSocket stream
//     (RFC 8441) and sends 960 000 bytes of DATA on it that the server
//     never answers (under --max-pending, 1 MiB a connection);
//   - sniff-total, h2-pending-total: sniff and h2-pending with 640
//     connections (--max-sniff-total, 64 MiB; --max-pending-total,
//     128 MiB);
//   - reorder: 12 connections that lose their first data segment and then
//     send 10 MiB (--max-reorder, 8 MiB; 96 MiB in all, under the total);
//   - reorder-total: 32 connections that lose their first data segment and
//     then send 6 MiB each (under --max-reorder; 192 MiB in all, over
//     --max-reorder-total, 128 MiB).
func bounds(w *bufio.Writer, name string, n int, keysOut string) error {
	type plan struct {
		n      int
		build  func(c *synth.Conv, rng *rand.Rand)
		server string
	}
	random := func(rng *rand.Rand, n int) []byte {
		b := make([]byte, n)
		for i := 0; i < n; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b
	}
	lose := func(size int) func(c *synth.Conv, rng *rand.Rand) {
		return func(c *synth.Conv, rng *rand.Rand) {
			c.Open()
			c.DropNext = 1
			c.Send(true, random(rng, size))
		}
	}
	plans := map[string]plan{
		"pending": {64, func(c *synth.Conv, rng *rand.Rand) {
			c.Open()
			c.Send(true, []byte(synth.UpgradeRequest+"\r\n"))
			c.Send(true, random(rng, 3<<19))
		}, "192.0.2.2:80"},
		"sniff": {64, func(c *synth.Conv, rng *rand.Rand) {
			c.Open()
			for range 3 << 7 { // 384 KiB each way, in turns
				c.Segment(true, random(rng, 1024))
				c.Segment(false, random(rng, 1024))
			}
		}, "192.0.2.2:9000"},
		"pending-total": {600, func(c *synth.Conv, rng *rand.Rand) {
			c.Open()
			c.Send(true, []byte(synth.UpgradeRequest+"\r\n"))
			c.Send(true, random(rng, 1000000))
		}, "192.0.2.2:80"},
		"heads": {64, func(c *synth.Conv, rng *rand.Rand) {
			c.Open()
			c.Send(true, unfinishedHead("GET / HTTP/1.1\r\nHost: example.com\r\n"))
			c.Send(false, unfinishedHead("HTTP/1.1 200 OK\r\n"))
		}, "192.0.2.2:80"},
		"h2-pending": {64, func(c *synth.Conv, rng *rand.Rand) {
			h := synth.NewH2()
			c.Open()
			c.Send(true, h.Preface())
			c.Send(false, h.ConnectProtocol())
			c.Send(true, h.Headers(true, 1, false, synth.ExtendedConnect("/chat")...))
			for range 15 { // 15 * 64 000 bytes, under --max-pending
				c.Send(true, h.Data(true, 1, false, random(rng, 64000)))
			}
		}, "192.0.2.2:80"},
		"reorder":       {12, lose(10 << 20), "192.0.2.2:9000"},
		"reorder-total": {32, lose(6 << 20), "192.0.2.2:9000"},
	}
	// tls-early: TLS 1.3 clients each sending 250 000 bytes of 0-RTT
	// early data (under the 256 KiB a connection holds) that no server
	// answers: each holds it all until the end.
	var keyLines strings.Builder
	plans["tls-early"] = plan{1280, func(c *synth.Conv, rng *rand.Rand) {
		var cr [32]byte
		copy(cr[:], random(rng, 32))
		secret := random(rng, 32)
		keyLines.WriteString(synth.TLSEarlyKeyLine(cr, secret))
		c.Open()
		c.Send(true, synth.TLSEarly(cr, secret, random(rng, 250000), 16000))
	}, "192.0.2.2:443"}
	plans["sniff-total"] = plan{640, plans["sniff"].build, plans["sniff"].server}
	plans["h2-pending-total"] = plan{640, plans["h2-pending"].build, plans["h2-pending"].server}
	p, ok := plans[name]
	if n > 0 {
		p.n = n
	}
	if !ok {
		return fmt.Errorf("-bound %q: want pending, pending-total, sniff, sniff-total, heads, h2-pending, h2-pending-total, reorder, reorder-total or tls-early", name)
	}
	rng := rand.New(rand.NewPCG(16, 15))
	server := netip.MustParseAddrPort(p.server)
	convs := make([]*synth.Conv, p.n)
	for i := range convs {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(2000+i))
		c := synth.New(client.String(), server.String())
		c.Step = time.Microsecond
		p.build(c, rng)
		convs[i] = c
	}
	if keysOut != "" {
		if err := os.WriteFile(keysOut, []byte(keyLines.String()), 0o644); err != nil {
			return err
		}
	}
	// One packet of each connection in turn, so that all of them hold
	// their buffers at once; times keep the order of writing.
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for k := 0; ; k++ {
		wrote := false
		for _, c := range convs {
			if k >= len(c.Packets) {
				continue
			}
			d := c.Packets[k].Data
			ts = ts.Add(time.Microsecond)
			if err := pw.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d); err != nil {
				return err
			}
			wrote = true
		}
		if !wrote {
			return nil
		}
	}
}

// unfinishedHead is an HTTP head of start and header lines, 60 000 bytes,
// without the blank line that would end it.
func unfinishedHead(start string) []byte {
	b := []byte(start)
	for i := 0; len(b) < 60000-64; i++ {
		b = fmt.Appendf(b, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 40))
	}
	return b
}
