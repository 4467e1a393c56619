// Command coder runs a coder/websocket server and client against each other
// and writes the manifest of the data messages (uncompressed payloads).
//
//	coder -addr 127.0.0.1:PORT -manifest OUT.messages.tsv [-compression MODE]
//
// MODE is disabled (default), takeover (CompressionContextTakeover on both
// ends) or nocontext (CompressionNoContextTakeover on both ends). With
// compression the session plays compressedScript: compressible JSON-ish and
// binary records; coder sends messages below its threshold (128 bytes with
// takeover, 512 without; for Conn.Writer: the first Write) uncompressed, a
// compressed Conn.Write as one frame, and a compressed Conn.Writer message as
// many small frames (one per flate output chunk) plus an empty FIN frame.
//
// Session: client sends its messages (one through Conn.Writer, which writes a
// frame per Write call and an empty FIN continuation frame on Close), the
// server answers with its own, the client pings (coder's ping payload is a
// counter, "1"), then closes with 1001 "going away"; the server echoes it.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/wsdump/wsdump/testdata/gen/internal/gen"
)

type msg struct {
	typ   websocket.MessageType
	parts [][]byte // more than one part: written through Conn.Writer
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen and dial address")
	manifestPath := flag.String("manifest", "/dev/null", "manifest output")
	compression := flag.String("compression", "disabled", "disabled, takeover or nocontext")
	flag.Parse()
	log.SetPrefix("coder: ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mode, ok := map[string]websocket.CompressionMode{
		"disabled":  websocket.CompressionDisabled,
		"takeover":  websocket.CompressionContextTakeover,
		"nocontext": websocket.CompressionNoContextTakeover,
	}[*compression]
	if !ok {
		log.Fatalf("unknown -compression %q", *compression)
	}

	c2s, s2c := uncompressedScript()
	if mode != websocket.CompressionDisabled {
		c2s, s2c = compressedScript()
	}
	var m gen.Manifest
	send := func(c *websocket.Conn, dir string, x msg) error {
		var all []byte
		for _, p := range x.parts {
			all = append(all, p...)
		}
		op := 1
		if x.typ == websocket.MessageBinary {
			op = 2
		}
		m.Add(dir, op, all)
		if len(x.parts) == 1 {
			return c.Write(ctx, x.typ, x.parts[0])
		}
		w, err := c.Writer(ctx, x.typ)
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
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := websocket.Accept(w, req, &websocket.AcceptOptions{CompressionMode: mode})
		if err != nil {
			serverDone <- err
			return
		}
		defer c.CloseNow()
		serverDone <- func() error {
			c.SetReadLimit(1 << 24)
			for range c2s {
				if _, _, err := c.Read(ctx); err != nil {
					return err
				}
			}
			for _, x := range s2c {
				if err := send(c, "s2c", x); err != nil {
					return err
				}
			}
			_, _, err := c.Read(ctx)
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				return errors.New("server: expected close 1001, got " + err.Error())
			}
			return nil
		}()
	}))

	c, _, err := websocket.Dial(ctx, "ws://"+*addr+"/coder", &websocket.DialOptions{CompressionMode: mode})
	if err != nil {
		log.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	for _, x := range c2s {
		if err := send(c, "c2s", x); err != nil {
			log.Fatal(err)
		}
	}
	for range s2c {
		if _, _, err := c.Read(ctx); err != nil {
			log.Fatal(err)
		}
	}
	c.CloseRead(ctx) // keep reading in the background so the pong is seen
	if err := c.Ping(ctx); err != nil {
		log.Fatal(err)
	}
	if err := c.Close(websocket.StatusGoingAway, "going away"); err != nil {
		log.Fatal(err)
	}
	if err := <-serverDone; err != nil {
		log.Fatal(err)
	}
	if err := m.Write(*manifestPath); err != nil {
		log.Fatal(err)
	}
}

// uncompressedScript is the session of the CompressionDisabled capture.
func uncompressedScript() (c2s, s2c []msg) {
	r := gen.NewRand(0x636f646572) // "coder"
	T, B := websocket.MessageText, websocket.MessageBinary
	c2s = []msg{
		{T, [][]byte{[]byte("hello from the coder client")}},
		{B, [][]byte{r.Binary(0)}},
		{T, [][]byte{r.Text(125)}},
		{B, [][]byte{r.Binary(126)}},
		{T, [][]byte{r.Text(7), r.Text(300), r.Text(2000)}},
		{B, [][]byte{r.Binary(66000)}},
	}
	s2c = []msg{
		{B, [][]byte{r.Binary(1)}},
		{T, [][]byte{r.Text(126)}},
		{B, [][]byte{r.Binary(40000)}},
		{B, [][]byte{r.Binary(64), r.Binary(64)}},
		{T, [][]byte{[]byte("done")}},
	}
	return c2s, s2c
}

// compressedScript: messages around coder's compression thresholds (128 with
// context takeover, 512 without), exact repeats, Conn.Writer messages whose
// first Write is below or above the threshold, incompressible random bytes.
func compressedScript() (c2s, s2c []msg) {
	r := gen.NewRand(0x636f6465722d7a) // "coder-z"
	T, B := websocket.MessageText, websocket.MessageBinary
	t := func(n int) msg { return msg{T, [][]byte{r.JSONText(n)}} }
	b := func(n int) msg { return msg{B, [][]byte{r.StructBinary(n)}} }
	rep := r.JSONText(4000)
	c2s = []msg{
		{T, [][]byte{[]byte("hello from the coder client")}},
		t(0), t(1), t(100), t(127), t(128), t(129), b(200), t(511), t(512), t(513),
		t(1000), b(3000), {T, [][]byte{rep}}, t(8000), {T, [][]byte{rep}},
		{T, [][]byte{r.JSONText(7), r.JSONText(3000)}},                     // first Write < threshold: uncompressed, 2 frames + empty FIN
		{T, [][]byte{r.JSONText(600), r.JSONText(5000), r.JSONText(5000)}}, // compressed, many frames
		{B, [][]byte{r.StructBinary(200), r.StructBinary(20000), nil, r.StructBinary(100)}},
		{B, [][]byte{r.Binary(66000)}}, // random: compressed frame > 64 KiB
		t(65535), t(100000), b(50000),
		{T, [][]byte{[]byte("client done")}},
	}
	brep := r.StructBinary(6000)
	s2c = []msg{
		b(0), t(2), b(127), t(128), b(300), t(512), t(600),
		{B, [][]byte{brep}}, t(2000), {B, [][]byte{brep}},
		{T, [][]byte{r.JSONText(1000), r.JSONText(30000)}},
		{B, [][]byte{r.StructBinary(64), r.StructBinary(64)}}, // first Write < 128: uncompressed
		t(10000), b(25000), {B, [][]byte{r.Binary(40000)}}, t(65536), t(90000),
		{T, [][]byte{r.JSONText(100), r.JSONText(200)}},
		{T, [][]byte{[]byte("done")}},
	}
	return c2s, s2c
}
