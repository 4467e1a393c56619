// Command late plays a session whose server sends one message whose
// segments the network loses several times (late-retransmit.sh drops
// them with iptables while the server retransmits, backing off), so that
// its retransmission reaches the client seconds after the segments that
// follow it. The server writes the manifest of the data messages (both
// ways, in order) and the times it sent its own.
//
//	late -serve ADDR -manifest OUT.messages.tsv -times OUT.times.tsv -unblock 'CMD ARGS'
//	late -dial ADDR
//
// Session: the client sends 3 messages; the server sends 5, then the
// marked one (its payload starts "LATE-MARK", which the drop rule
// matches), then 4 more, 20 ms apart (they reach the client before the marked
// one's retransmission), runs -unblock 4 s after the marked one, waits,
// sends 3 more and closes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wsdump/wsdump/testdata/gen/internal/gen"
)

func main() {
	serve := flag.String("serve", "", "listen address")
	dial := flag.String("dial", "", "server address")
	manifest := flag.String("manifest", "", "manifest to write (server)")
	times := flag.String("times", "", "send times to write (server)")
	unblock := flag.String("unblock", "", "command run 4 s after the marked message (server)")
	flag.Parse()
	if *dial != "" {
		client(*dial)
		return
	}
	server(*serve, *manifest, *times, *unblock)
}

func client(addr string) {
	var c *websocket.Conn
	var err error
	for range 50 {
		if c, _, err = websocket.DefaultDialer.Dial("ws://"+addr+"/late", nil); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		log.Fatal(err)
	}
	r := gen.NewRand(37)
	for i := range 3 {
		if err := c.WriteMessage(websocket.TextMessage, r.Text(20+i)); err != nil {
			log.Fatal(err)
		}
	}
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return // the server's close
		}
	}
}

func server(addr, manifest, times, unblock string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	var m gen.Manifest
	var tl bytes.Buffer
	tl.WriteString("n\tlen\tsent_unix\tnote\n")
	up := websocket.Upgrader{}
	http.HandleFunc("/late", func(w http.ResponseWriter, req *http.Request) {
		defer close(done)
		c, err := up.Upgrade(w, req, nil)
		if err != nil {
			log.Fatal(err)
		}
		for range 3 {
			op, p, err := c.ReadMessage()
			if err != nil {
				log.Fatal(err)
			}
			m.Add("c2s", op, p)
		}
		r := gen.NewRand(38)
		n := 0
		send := func(p []byte, note string) {
			if err := c.WriteMessage(websocket.TextMessage, p); err != nil {
				log.Fatal(err)
			}
			n++
			m.Add("s2c", websocket.TextMessage, p)
			fmt.Fprintf(&tl, "%d\t%d\t%.6f\t%s\n", n, len(p), float64(time.Now().UnixNano())/1e9, note)
		}
		for i := range 5 {
			send(r.Text(40+i), "")
			time.Sleep(50 * time.Millisecond)
		}
		send(append([]byte("LATE-MARK "), r.Text(300)...), "marked: dropped until unblocked")
		for i := range 4 {
			time.Sleep(20 * time.Millisecond) // segments of their own
			send(r.Text(30+i), "after the marked one")
		}
		time.Sleep(4 * time.Second)
		if unblock != "" {
			f := strings.Fields(unblock)
			if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
				log.Fatalf("%s: %v %s", unblock, err, out)
			}
			fmt.Fprintf(&tl, "-\t-\t%.6f\tunblocked\n", float64(time.Now().UnixNano())/1e9)
		}
		time.Sleep(6 * time.Second)
		for i := range 3 {
			send(r.Text(20+i), "")
			time.Sleep(50 * time.Millisecond)
		}
		c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		c.ReadMessage()
		c.Close()
	})
	go http.Serve(ln, nil)
	<-done
	time.Sleep(200 * time.Millisecond)
	if err := m.Write(manifest); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(times, tl.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
