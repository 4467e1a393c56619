// Command gorilla runs a gorilla/websocket server and client against each
// other on one address and writes the manifest of the data messages sent.
//
//	gorilla -addr 127.0.0.1:PORT -manifest OUT.messages.tsv [-compress]
//
// -big: write buffers of 256 KiB on both ends, so messages over 256 KiB go
// out as 256 KiB fragments; the session plays bigScript (150 messages each
// way, mostly small, every 30th a random binary message of 260-600 KiB).
//
// -compress: EnableCompression on Dialer and Upgrader (gorilla only does
// permessage-deflate with no context takeover both ways) and
// EnableWriteCompression(true) on both conns; the session plays
// compressedScript instead (compressible records, every data message
// compressed except one sent with EnableWriteCompression(false)). The
// manifest lists the uncompressed payloads.
//
// Session: client sends its messages (one fragmented with NextWriter), the
// server pings the client and answers with its own messages (one fragmented
// so that gorilla ends it with an empty final continuation frame), the client
// pings with a payload, then closes with code 1000 and no reason; gorilla's
// default close handler answers with the code and no reason.
package main

import (
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsdump/wsdump/testdata/gen/internal/gen"
)

type msg struct {
	op         int
	parts      [][]byte // more than one part: written through NextWriter
	noCompress bool     // sent with EnableWriteCompression(false)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen and dial address")
	manifestPath := flag.String("manifest", "/dev/null", "manifest output")
	compress := flag.Bool("compress", false, "negotiate permessage-deflate and compress writes")
	big := flag.Bool("big", false, "256 KiB write buffers and the session of large fragmented messages")
	flag.Parse()
	log.SetPrefix("gorilla: ")
	time.AfterFunc(20*time.Second, func() { log.Fatal("timeout") })

	c2s, s2c := uncompressedScript()
	if *compress {
		c2s, s2c = compressedScript()
	}
	bufSize := 1024
	if *big {
		c2s, s2c = bigScript()
		bufSize = 256 << 10
	}
	var m gen.Manifest
	send := func(c *websocket.Conn, dir string, x msg) error {
		var all []byte
		for _, p := range x.parts {
			all = append(all, p...)
		}
		m.Add(dir, x.op, all)
		if x.noCompress {
			c.EnableWriteCompression(false)
			defer c.EnableWriteCompression(true)
		}
		if len(x.parts) == 1 {
			return c.WriteMessage(x.op, x.parts[0])
		}
		w, err := c.NextWriter(x.op)
		if err != nil {
			return err
		}
		for _, p := range x.parts {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return w.Close()
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	serverDone := make(chan error, 1)
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: bufSize, EnableCompression: *compress}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := up.Upgrade(w, req, nil)
		if err != nil {
			serverDone <- err
			return
		}
		defer c.Close()
		c.EnableWriteCompression(*compress)
		c.SetReadLimit(1 << 24)
		serverDone <- func() error {
			for range c2s {
				if _, _, err := c.ReadMessage(); err != nil {
					return err
				}
			}
			if err := c.WriteControl(websocket.PingMessage, []byte("gorilla server ping"), time.Now().Add(time.Second)); err != nil {
				return err
			}
			for _, x := range s2c {
				if err := send(c, "s2c", x); err != nil {
					return err
				}
			}
			_, _, err := c.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return errors.New("server: expected close 1000, got " + err.Error())
			}
			return nil
		}()
	}))

	d := websocket.Dialer{ReadBufferSize: 4096, WriteBufferSize: bufSize, EnableCompression: *compress}
	c, _, err := d.Dial("ws://"+*addr+"/gorilla", nil)
	if err != nil {
		log.Fatal(err)
	}
	c.EnableWriteCompression(*compress)
	c.SetReadLimit(1 << 24)
	pong := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pong <- s; return nil })
	received := make(chan int, 1)
	readErr := make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			if n == len(s2c) {
				received <- n
			}
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for _, x := range c2s {
		if err := send(c, "c2s", x); err != nil {
			log.Fatal(err)
		}
	}
	<-received
	if err := c.WriteControl(websocket.PingMessage, []byte("gorilla client ping"), time.Now().Add(time.Second)); err != nil {
		log.Fatal(err)
	}
	if p := <-pong; p != "gorilla client ping" {
		log.Fatalf("pong payload %q", p)
	}
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		log.Fatal(err)
	}
	if err := <-readErr; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		log.Fatal("client: expected close 1000, got ", err)
	}
	c.Close()
	if err := <-serverDone; err != nil {
		log.Fatal(err)
	}
	if err := m.Write(*manifestPath); err != nil {
		log.Fatal(err)
	}
}

// compressedScript: compressible JSON-ish text and binary records of 0 B to
// 100 KB (every one compressed, each with a fresh deflate context), exact
// repeats (which do not shrink without context takeover), NextWriter
// messages, random bytes, and one message with write compression off.
func compressedScript() (c2s, s2c []msg) {
	r := gen.NewRand(0x676f72696c6c617a) // "gorillaz"
	T, B := websocket.TextMessage, websocket.BinaryMessage
	t := func(n int) msg { return msg{op: T, parts: [][]byte{r.JSONText(n)}} }
	b := func(n int) msg { return msg{op: B, parts: [][]byte{r.StructBinary(n)}} }
	rep := r.JSONText(3000)
	c2s = []msg{
		t(0), t(1), b(0), t(125), t(126), b(500), t(1000), t(1024),
		{op: T, parts: [][]byte{rep}}, t(5000), {op: T, parts: [][]byte{rep}},
		{op: T, parts: [][]byte{r.JSONText(2000)}, noCompress: true},
		{op: T, parts: [][]byte{r.JSONText(1000), r.JSONText(1500), r.JSONText(500)}},
		{op: B, parts: [][]byte{r.Binary(70000)}}, // random: compressed is larger than the input
		t(20000), b(40000), t(65536), t(100000),
		{op: T, parts: [][]byte{[]byte("client done")}},
	}
	s2c = []msg{
		b(1), t(3), t(127), b(2000), t(4000),
		{op: B, parts: [][]byte{r.StructBinary(10), r.StructBinary(5000)}},
		t(30000), b(65535), t(90000), b(300),
		{op: T, parts: [][]byte{[]byte("done")}},
	}
	return c2s, s2c
}

// uncompressedScript is the session of the uncompressed capture.
func uncompressedScript() (c2s, s2c []msg) {
	r := gen.NewRand(0x676f72696c6c61) // "gorilla"
	c2s = []msg{
		{op: websocket.TextMessage, parts: [][]byte{r.Text(0)}},
		{op: websocket.TextMessage, parts: [][]byte{[]byte("hello from the gorilla client")}},
		{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(126)}},
		// client write buffer is 1024 bytes: NextWriter flushes a frame each
		// time it fills, so this goes out as 1024+1024+952.
		{op: websocket.TextMessage, parts: [][]byte{r.Text(1000), r.Text(1500), r.Text(500)}},
		{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(70000)}},
	}
	s2c = []msg{
		{op: websocket.TextMessage, parts: [][]byte{r.Text(1)}},
		{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(125)}},
		{op: websocket.TextMessage, parts: [][]byte{r.Text(65535)}},
		// server: a Write larger than twice the write buffer is sent as a
		// frame at once; Close then sends an empty FIN continuation frame.
		{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(10), r.Binary(5000)}},
		{op: websocket.TextMessage, parts: [][]byte{[]byte("done")}},
	}
	return c2s, s2c
}

// bigScript is the session of the -big capture: 150 messages each way, each
// message's kind and size drawn from the seeded generator. Every 30th is a
// random binary message of 260-600 KiB, written in 64 KiB pieces through
// NextWriter (so that gorilla flushes a 256 KiB frame each time its write
// buffer fills, and ends with the rest); the others are text or binary of
// 1 B to 20 KB.
func bigScript() (c2s, s2c []msg) {
	r := gen.NewRand(0x676f72696c6c6162) // "gorillab"
	script := func() []msg {
		var out []msg
		for i := 0; i < 150; i++ {
			kind := r.Uint64() % 100
			switch {
			case i%30 == 7:
				data := r.Binary(260<<10 + int(r.Uint64()%(340<<10)))
				var parts [][]byte
				for len(data) > 0 {
					n := min(len(data), 64<<10)
					parts = append(parts, data[:n])
					data = data[n:]
				}
				out = append(out, msg{op: websocket.BinaryMessage, parts: parts})
			case kind < 20:
				out = append(out, msg{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(2000 + int(r.Uint64()%18000))}})
			case kind < 50:
				out = append(out, msg{op: websocket.BinaryMessage, parts: [][]byte{r.Binary(1 + int(r.Uint64()%1500))}})
			default:
				out = append(out, msg{op: websocket.TextMessage, parts: [][]byte{r.Text(1 + int(r.Uint64()%1500))}})
			}
		}
		return out
	}
	c2s = script()
	s2c = script()
	return c2s, s2c
}
