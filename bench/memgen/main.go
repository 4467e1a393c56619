// Command memgen writes the inputs of bench/memory.sh: a capture of many
// open WebSocket connections, and a large NSS key log. They are generated
// (the same every run) rather than committed.
//
//	go run ./bench/memgen -conns 100000 -o bench/data/open-100k.pcap
//	go run ./bench/memgen -keylog 1000000 -append testdata/pcaps/gen__wss-go-tls12-aes128gcm.keys -o bench/data/keys-1m.txt
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
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
	out := flag.String("o", "", "output `FILE`")
	flag.Parse()
	if *out == "" || (*conns > 0) == (*keylog > 0) {
		fmt.Fprintln(os.Stderr, "usage: memgen (-conns N | -keylog N [-append FILE]) -o FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if *conns > 0 {
		err = openConns(w, *conns)
	} else {
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
// never ends. At the end of the capture all n are open, each with a
// message being assembled.
func openConns(w *bufio.Writer, n int) error {
	server := netip.MustParseAddrPort("192.0.2.2:80")
	small := make([]byte, 64)
	frag := make([]byte, 1000)
	for i := range frag {
		frag[i] = 'a' + byte(i%26)
	}
	copy(small, frag)
	// Each connection's packets are written as they are built.
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
		c.Send(true, []byte(synth.UpgradeRequest+"\r\n"))
		c.Send(false, []byte(synth.UpgradeResponse+"\r\n"))
		key := [4]byte{}
		binary.BigEndian.PutUint32(key[:], uint32(i)*2654435761)
		masked := append([]byte(nil), small...)
		wsparse.Unmask(key, 0, masked)
		c.Send(true, append(wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: key, Length: 64}), masked...))
		c.Send(false, append(wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: 1000}), frag...))
		for _, p := range c.Packets {
			ci := gopacket.CaptureInfo{Timestamp: p.TS, CaptureLength: len(p.Data), Length: len(p.Data)}
			if err := pw.WritePacket(ci, p.Data); err != nil {
				return err
			}
		}
	}
	return nil
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
