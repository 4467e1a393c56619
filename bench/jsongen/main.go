// Command jsongen writes a capture of large valid JSON messages for
// bench/decode.sh (issue 17): the shapes the node load capture lacks (its
// large messages are cut slices of JSON, not valid objects). Each of
// -conns connections carries, server to client, -objects objects of
// -members distinct members and as many whose keys come in pairs, one
// object of -big bytes ({"n":..,"items":[chat, ...]}), and -small small
// chat objects each way. The same bytes every run.
//
//	go run ./bench/jsongen -o bench/data/json-shapes.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

const chat = `{"type":"chat","seq":1042,"from":"heidi","to":"dave","text":"see you at the standup tomorrow, bring the notes","ts":1732600000123}`

// members is an object of n members "k<key(i)>":i.
func members(n int, key func(i int) int) []byte {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + strconv.Itoa(key(i)) + `":` + strconv.Itoa(i))
	}
	sb.WriteByte('}')
	return []byte(sb.String())
}

func main() {
	out := flag.String("o", "", "output pcap")
	conns := flag.Int("conns", 30, "connections")
	objects := flag.Int("objects", 20, "objects of each member shape per connection")
	nmem := flag.Int("members", 2000, "members per object")
	big := flag.Int("big", 1<<20, "bytes of the large object per connection")
	small := flag.Int("small", 100, "small messages each way per connection")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "jsongen: -o FILE")
		os.Exit(2)
	}
	distinct := members(*nmem, func(i int) int { return i })
	pairs := members(*nmem, func(i int) int { return i % max(1, *nmem/2) })
	var sb strings.Builder
	sb.WriteString(`{"n":1,"items":[`)
	for sb.Len() < *big {
		sb.WriteString(chat + ",")
	}
	sb.WriteString(chat + `]}`)
	large := []byte(sb.String())

	var pkts []synth.Packet
	for c := 0; c < *conns; c++ {
		cv := synth.New(fmt.Sprintf("10.0.0.1:%d", 20000+c), "10.0.0.2:80").Open().Upgrade()
		for i := 0; i < *small; i++ {
			cv.Frame(true, wsparse.OpText, []byte(chat))
			cv.Frame(false, wsparse.OpText, []byte(chat))
		}
		for i := 0; i < *objects; i++ {
			cv.Frame(false, wsparse.OpText, distinct)
			cv.Frame(false, wsparse.OpText, pairs)
		}
		cv.Frame(false, wsparse.OpText, large)
		cv.Fin(true).Fin(false)
		pkts = append(pkts, cv.Packets...)
	}
	f, err := os.Create(*out)
	if err == nil {
		w := bufio.NewWriterSize(f, 1<<20)
		err = synth.WritePcap(w, 0, pkts...)
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsongen:", err)
		os.Exit(1)
	}
}
