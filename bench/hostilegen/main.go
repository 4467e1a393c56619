// Command hostilegen writes the hostile captures of session 31's hunt for
// CPU superlinear in the input, memory that grows with attacker-chosen
// counts and bytes that vanish without an anomaly: go run ./bench/hostilegen
// -case NAME -k K -o FILE, K the scale (run 1, 4 and 16 and compare
// /usr/bin/time -f "%e %U %S %M" of wsdump -r FILE --format jsonl). The
// cases are the switch's; bench/README.md section 21 gives their figures.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

func upgrade(c *synth.Conv, uri, reqExtra, respExtra string) *synth.Conv {
	c.Send(true, []byte("GET "+uri+" HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+reqExtra+"\r\n"))
	c.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+respExtra+"\r\n"))
	return c
}

func conn(i int) *synth.Conv {
	return synth.New(fmt.Sprintf("10.%d.%d.%d:40000", (i>>16)&255, (i>>8)&255, i&255), "192.0.2.9:80").Open()
}

func main() {
	name := flag.String("case", "", "case")
	k := flag.Int("k", 1, "scale")
	out := flag.String("o", "", "output")
	flag.Parse()
	n := *k
	var convs []*synth.Conv
	one := func(c *synth.Conv) { convs = append(convs, c) }
	switch *name {
	case "headers": // many short headers, 20 connections
		for i := 0; i < 20; i++ {
			var b strings.Builder
			for j := 0; j < 250*n; j++ {
				fmt.Fprintf(&b, "X-%d: v\r\n", j)
			}
			one(upgrade(conn(i), "/x", b.String(), "").Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "samehdr": // the same header repeated (joined values?)
		for i := 0; i < 20; i++ {
			h := strings.Repeat("Sec-WebSocket-Protocol: a\r\n", 250*n)
			one(upgrade(conn(i), "/x", h, "").Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "fold": // obs-fold continuation lines
		for i := 0; i < 20; i++ {
			h := "X-F: a\r\n" + strings.Repeat(" b\r\n", 800*n)
			one(upgrade(conn(i), "/x", h, "").Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "longline": // one long header line
		for i := 0; i < 20; i++ {
			h := "X-L: " + strings.Repeat("a", 3000*n) + "\r\n"
			one(upgrade(conn(i), "/x", h, "").Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "ext": // permessage-deflate offers and a response with many parameters
		for i := 0; i < 20; i++ {
			off := "Sec-WebSocket-Extensions: " + strings.TrimSuffix(strings.Repeat("permessage-deflate; client_max_window_bits; server_no_context_takeover, ", 40*n), ", ") + "\r\n"
			resp := "Sec-WebSocket-Extensions: permessage-deflate" + strings.Repeat("; client_no_context_takeover", 100*n) + "\r\n"
			one(upgrade(conn(i), "/x", off, resp).Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "extparams": // many params in one offer, many separators
		for i := 0; i < 20; i++ {
			off := "Sec-WebSocket-Extensions: permessage-deflate" + strings.Repeat(";x=\"a,b\"", 300*n) + "\r\n"
			one(upgrade(conn(i), "/x", off, "Sec-WebSocket-Extensions: permessage-deflate\r\n").Frame(true, wsparse.OpText, []byte("hi")))
		}
	case "stomp": // STOMP frames with thousands of headers
		c := upgrade(conn(0), "/stomp", "Sec-WebSocket-Protocol: v12.stomp\r\n", "Sec-WebSocket-Protocol: v12.stomp\r\n")
		for m := 0; m < 10; m++ {
			var b strings.Builder
			b.WriteString("SEND\ndestination:/q\n")
			for j := 0; j < 2000*n; j++ {
				fmt.Fprintf(&b, "h%d:v\n", j%50)
			}
			b.WriteString("\nbody\x00")
			c.Frame(true, wsparse.OpText, []byte(b.String()))
		}
		one(c)
	case "stompmany": // many tiny STOMP frames in one message
		c := upgrade(conn(0), "/stomp", "Sec-WebSocket-Protocol: v12.stomp\r\n", "Sec-WebSocket-Protocol: v12.stomp\r\n")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte(strings.Repeat("MESSAGE\ndestination:/q\n\nx\x00", 2000*n)))
		}
		one(c)
	case "sionest": // deep nesting in Socket.IO
		c := upgrade(conn(0), "/socket.io/?EIO=4&transport=websocket", "", "")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte("42[\"ev\","+strings.Repeat("[", 5000*n)+strings.Repeat("]", 5000*n)+"]"))
			c.Frame(false, wsparse.OpText, []byte("42[\"ev\","+strings.Repeat("{\"a\":", 3000*n)+"1"+strings.Repeat("}", 3000*n)+"]"))
		}
		one(c)
	case "sioarr": // huge arrays of tiny values
		c := upgrade(conn(0), "/socket.io/?EIO=4&transport=websocket", "", "")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte("42[\"ev\",["+strings.TrimSuffix(strings.Repeat("1,", 10000*n), ",")+"]]"))
			c.Frame(false, wsparse.OpText, []byte("42[\"ev\",{"+strings.TrimSuffix(strings.Repeat("\"k\":1,", 5000*n), ",")+"}]"))
		}
		one(c)
	case "siobin": // binary attachments announced, many placeholders
		c := upgrade(conn(0), "/socket.io/?EIO=4&transport=websocket", "", "")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte(fmt.Sprintf("45%d-[\"ev\",%s{\"_placeholder\":true,\"num\":0}]", 1000*n, strings.Repeat("{\"_placeholder\":true,\"num\":1},", 1000*n))))
			for j := 0; j < 100; j++ {
				c.Frame(false, wsparse.OpBinary, []byte("x"))
			}
		}
		one(c)
	case "sockjs": // SockJS a[...] with many tiny frames
		c := upgrade(conn(0), "/sockjs/123/abc/websocket", "", "")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte("a["+strings.TrimSuffix(strings.Repeat("\"x\",", 10000*n), ",")+"]"))
		}
		one(c)
	case "sockjsstomp": // SockJS carrying STOMP in many tiny frames
		c := upgrade(conn(0), "/stomp/123/abc/websocket", "Sec-WebSocket-Protocol: v12.stomp\r\n", "")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte("a["+strings.TrimSuffix(strings.Repeat("\"MESSAGE\\ndestination:/q\\n\\nx\\u0000\",", 3000*n), ",")+"]"))
		}
		one(c)
	case "mqtt": // MQTT: many tiny PUBLISH packets in one message
		c := upgrade(conn(0), "/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n", "Sec-WebSocket-Protocol: mqtt\r\n")
		pub := []byte{0x30, 5, 0, 1, 't', 'h', 'i'}
		for m := 0; m < 10; m++ {
			var b []byte
			for j := 0; j < 10000*n; j++ {
				b = append(b, pub...)
			}
			c.Frame(false, wsparse.OpBinary, b)
		}
		one(c)
	case "mqttping": // one message of n MiB of 2-byte PINGREQ packets
		c := upgrade(conn(0), "/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n", "Sec-WebSocket-Protocol: mqtt\r\n")
		var b []byte
		for j := 0; j < n<<19; j++ {
			b = append(b, 0xc0, 0)
		}
		c.Frame(true, wsparse.OpBinary, b)
		one(c)
	case "stompeol": // one message of n MiB of STOMP heart-beat newlines
		c := upgrade(conn(0), "/stomp", "Sec-WebSocket-Protocol: v12.stomp\r\n", "Sec-WebSocket-Protocol: v12.stomp\r\n")
		c.Frame(true, wsparse.OpText, []byte(strings.Repeat("\n", n<<20)))
		one(c)
	case "stompnul": // one message of n MiB of empty STOMP frames
		c := upgrade(conn(0), "/stomp", "Sec-WebSocket-Protocol: v12.stomp\r\n", "Sec-WebSocket-Protocol: v12.stomp\r\n")
		c.Frame(true, wsparse.OpText, []byte(strings.Repeat("A\n\n\x00", n<<18)))
		one(c)
	case "rpcbatch": // one JSON-RPC batch of n*100k tiny requests
		c := upgrade(conn(0), "/rpc", "", "")
		c.Frame(true, wsparse.OpText, []byte("["+strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"a","id":1},`, n<<15), ",")+"]"))
		one(c)
	case "sockjsempty": // SockJS a[...] of n*256k empty strings carrying STOMP
		c := upgrade(conn(0), "/stomp/123/abc/websocket", "Sec-WebSocket-Protocol: v12.stomp\r\n", "")
		c.Frame(false, wsparse.OpText, []byte("a["+strings.TrimSuffix(strings.Repeat("\"\\n\",", n<<18), ",")+"]"))
		one(c)
	case "eionoop": // Engine.IO polling payload of n*512k noop packets
		c := conn(0)
		body := strings.TrimSuffix(strings.Repeat("6\x1e", n<<18), "\x1e")
		c.Send(true, []byte("GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: h\r\n\r\n"))
		c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
		one(c)
	case "fbjunk": // a fallback poll answered, then junk from the server that is no HTTP head
		c := conn(0)
		c.Send(true, []byte("POST /sockjs/1/s/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
		c.Send(false, []byte(strings.Repeat("junk", 20000*n)))
		c.Send(true, []byte("POST /sockjs/1/s/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		one(c)
	case "h2contflood": // one header block that never ends: n MiB of CONTINUATION frames
		h := synth.NewH2()
		cl, sv := h.Preface(), h.ConnectProtocol()
		kv := synth.ExtendedConnect("/s")
		for j := 0; j < 20; j++ {
			kv = append(kv, fmt.Sprintf("x-%d", j), strings.Repeat("v", 40))
		}
		blk := h.Block(true, kv...)
		cl = append(cl, 0, 0, byte(len(blk)), 1, 0, 0, 0, 0, 1) // HEADERS, no END_HEADERS
		cl = append(cl, blk...)
		frag := []byte{0x10, 0x05, 'x', '-', 'a', 'b', 'c', 0x7f, 0x81, 0x07} // a literal field, never indexed
		frag = append(frag, []byte(strings.Repeat("v", 1000))...)
		for j := 0; j < n<<10; j++ {
			cl = append(cl, byte(len(frag)>>16), byte(len(frag)>>8), byte(len(frag)), 9, 0, 0, 0, 0, 1)
			cl = append(cl, frag...)
		}
		c := conn(0)
		c.Send(false, sv)
		c.Send(true, cl)
		one(c)
	case "mqtt5": // MQTT 5 CONNECT then PUBLISH with many user properties
		c := upgrade(conn(0), "/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n", "Sec-WebSocket-Protocol: mqtt\r\n")
		cn := []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 0, 0, 1, 'c'}
		c.Frame(true, wsparse.OpBinary, append([]byte{0x10, byte(len(cn))}, cn...))
		for m := 0; m < 10; m++ {
			var props []byte
			for j := 0; j < 3000*n; j++ {
				props = append(props, 0x26, 0, 1, 'k', 0, 1, 'v')
			}
			body := []byte{0, 1, 't'}
			body = append(body, varint(len(props))...)
			body = append(body, props...)
			body = append(body, "hi"...)
			c.Frame(false, wsparse.OpBinary, append(append([]byte{0x30}, varint(len(body))...), body...))
		}
		one(c)
	case "graphql":
		c := upgrade(conn(0), "/graphql", "Sec-WebSocket-Protocol: graphql-transport-ws\r\n", "Sec-WebSocket-Protocol: graphql-transport-ws\r\n")
		for m := 0; m < 10; m++ {
			c.Frame(false, wsparse.OpText, []byte(`{"type":"next","id":"1","payload":{"data":`+strings.Repeat(`{"a":[`, 2000*n)+"1"+strings.Repeat("]}", 2000*n)+`}}`))
			c.Frame(false, wsparse.OpText, []byte(`{"type":"next","id":"`+strings.Repeat("i", 20000*n)+`","payload":{"errors":[`+strings.TrimSuffix(strings.Repeat(`{"message":"x"},`, 2000*n), ",")+`]}}`))
		}
		one(c)
	case "graphqlids": // many distinct operation ids never completed
		c := upgrade(conn(0), "/graphql", "Sec-WebSocket-Protocol: graphql-transport-ws\r\n", "Sec-WebSocket-Protocol: graphql-transport-ws\r\n")
		for m := 0; m < 5000*n; m++ {
			c.Frame(true, wsparse.OpText, []byte(fmt.Sprintf(`{"type":"subscribe","id":"%d","payload":{"query":"subscription{x}"}}`, m)))
		}
		one(c)
	case "h2cont": // CONTINUATION flood of one-byte fragments
		h := synth.NewH2()
		cl, sv := h.Preface(), h.ConnectProtocol()
		for s := 0; s < 10; s++ {
			kv := synth.ExtendedConnect("/s")
			for j := 0; j < 200*n; j++ {
				kv = append(kv, fmt.Sprintf("x-%d", j), "v")
			}
			cl = append(cl, h.HeadersSplit(true, uint32(2*s+1), false, 1, kv...)...)
		}
		c := conn(0)
		c.Send(false, sv)
		c.Send(true, cl)
		one(c)
	case "h2streams": // many streams opened and left
		h := synth.NewH2()
		cl, sv := h.Preface(), h.ConnectProtocol()
		for s := 0; s < 1000*n; s++ {
			cl = append(cl, h.Headers(true, uint32(2*s+1), false, synth.ExtendedConnect("/s")...)...)
			cl = append(cl, h.Data(true, uint32(2*s+1), false, synth.WSFrame(true, wsparse.OpText, []byte("hi")))...)
		}
		c := conn(0)
		c.Send(false, sv)
		c.Send(true, cl)
		one(c)
	case "h2streamsdone": // many streams opened, answered, reset
		h := synth.NewH2()
		cl, sv := h.Preface(), h.ConnectProtocol()
		c := conn(0)
		c.Send(false, sv)
		c.Send(true, cl)
		for s := 0; s < 1000*n; s++ {
			id := uint32(2*s + 1)
			c.Send(true, append(h.Headers(true, id, false, synth.ExtendedConnect("/s")...), h.Data(true, id, false, synth.WSFrame(true, wsparse.OpText, []byte("hi")))...))
			c.Send(false, h.Headers(false, id, false, ":status", "200"))
			c.Send(true, h.RST(true, id, 8))
		}
		one(c)
	case "h2hpack": // HPACK dynamic table churn: every field new
		h := synth.NewH2()
		cl, sv := h.Preface(), h.ConnectProtocol()
		for s := 0; s < 200*n; s++ {
			kv := synth.ExtendedConnect("/s")
			for j := 0; j < 50; j++ {
				kv = append(kv, fmt.Sprintf("x-%d-%d", s, j), strings.Repeat("v", 40))
			}
			cl = append(cl, h.Headers(true, uint32(2*s+1), true, kv...)...)
		}
		c := conn(0)
		c.Send(false, sv)
		c.Send(true, cl)
		one(c)
	case "hosts": // many connections with distinct Host headers, idle
		for i := 0; i < 2000*n; i++ {
			c := conn(i)
			c.Send(true, []byte(fmt.Sprintf("GET /x HTTP/1.1\r\nHost: host-%d-%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", i, strings.Repeat("h", 200))))
			one(c)
		}
	case "eiopoll": // Engine.IO polling payload with many tiny packets
		c := conn(0)
		for r := 0; r < 5; r++ {
			body := strings.TrimSuffix(strings.Repeat("4x\x1e", 20000*n), "\x1e")
			c.Send(true, []byte("GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: h\r\n\r\n"))
			c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
		}
		one(c)
	case "eiopoll3": // Engine.IO v3 length-prefixed polling payload
		c := conn(0)
		for r := 0; r < 5; r++ {
			body := strings.Repeat("2:4x", 20000*n)
			c.Send(true, []byte("GET /socket.io/?EIO=3&transport=polling&sid=abc HTTP/1.1\r\nHost: h\r\n\r\n"))
			c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
		}
		one(c)
	case "sockjsxhr": // SockJS xhr polling with a huge a[...]
		c := conn(0)
		for r := 0; r < 5; r++ {
			body := "a[" + strings.TrimSuffix(strings.Repeat("\"x\",", 20000*n), ",") + "]\n"
			c.Send(true, []byte("POST /sockjs/1/s/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
			c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
		}
		one(c)
	case "fbsessions": // many SockJS sessions that never complete, one per connection
		for i := 0; i < 2000*n; i++ {
			c := conn(i)
			c.Send(true, []byte(fmt.Sprintf("POST /sockjs/1/s%d/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", i)))
			c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
			one(c)
		}
	case "fbclosed", "fbidle": // 20 000·K short SockJS sessions, one after the other: opened, closed (c frame; fbidle: not), connection ended
		for i := 0; i < 20000*n; i++ {
			c := conn(i).At(time.Duration(i) * 10 * time.Millisecond)
			c.Send(true, []byte(fmt.Sprintf("POST /sockjs/1/s%d/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", i)))
			c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
			body := `a["x"]` + "\n"
			if *name == "fbclosed" {
				body = `c[3000,"Go away!"]` + "\n"
			}
			c.Send(true, []byte(fmt.Sprintf("POST /sockjs/1/s%d/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", i)))
			c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)))
			c.Fin(true).Fin(false)
			one(c)
		}
	case "fbproxy": // 20 000·K short SockJS sessions, one after the other, on one keep-alive connection (a proxy's) that never ends
		c := conn(0)
		for i := 0; i < 20000*n; i++ {
			c.At(time.Duration(i) * 10 * time.Millisecond)
			c.Send(true, []byte(fmt.Sprintf("POST /sockjs/1/s%d/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", i)))
			c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
			c.Send(true, []byte(fmt.Sprintf("POST /sockjs/1/s%d/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", i)))
			c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\na[\"x\"]\n"))
		}
		one(c)
	case "eiohandshake": // 20 000·K short Engine.IO sessions, one after the other: the handshake poll on a connection of its own, ended, then a poll naming the sid on another, ended
		for i := 0; i < 20000*n; i++ {
			sid := fmt.Sprintf("s%d", i)
			c := conn(2 * i).At(time.Duration(i) * 10 * time.Millisecond)
			c.Send(true, []byte("GET /socket.io/?EIO=4&transport=polling&t=x HTTP/1.1\r\nHost: h\r\n\r\n"))
			open := `0{"sid":"` + sid + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`
			c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(open), open)))
			c.Fin(true).Fin(false)
			one(c)
			d := conn(2*i + 1).At(time.Duration(i)*10*time.Millisecond + time.Millisecond)
			d.Send(true, []byte("GET /socket.io/?EIO=4&transport=polling&t=y&sid="+sid+" HTTP/1.1\r\nHost: h\r\n\r\n"))
			d.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\n6"))
			d.Fin(true).Fin(false)
			one(d)
		}
	case "chunked": // chunked body of many one-byte chunks with extensions
		c := conn(0)
		var b strings.Builder
		for j := 0; j < 20000*n; j++ {
			b.WriteString("1;a=b\r\nx\r\n")
		}
		b.WriteString("0\r\n\r\n")
		c.Send(true, []byte("POST /sockjs/1/s/xhr_send HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"+b.String()))
		c.Send(false, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
		one(c)
	case "pipelined": // many pipelined requests
		c := conn(0)
		c.Send(true, []byte(strings.Repeat("GET /sockjs/1/s/xhr HTTP/1.1\r\nHost: h\r\n\r\n", 5000*n)))
		c.Send(false, []byte(strings.Repeat("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nh\n", 5000*n)))
		one(c)
	case "tinyframes": // one WebSocket message of many one-byte fragments
		c := upgrade(conn(0), "/x", "", "")
		var b []byte
		b = append(b, wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpText, Length: 1})...)
		b = append(b, 'a')
		for j := 0; j < 50000*n; j++ {
			b = append(b, wsparse.AppendHeader(nil, wsparse.Header{Opcode: wsparse.OpContinuation, Length: 1})...)
			b = append(b, 'a')
		}
		b = append(b, wsparse.AppendHeader(nil, wsparse.Header{Fin: true, Opcode: wsparse.OpContinuation, Length: 1})...)
		b = append(b, 'a')
		c.Send(false, b)
		one(c)
	default:
		fmt.Fprintln(os.Stderr, "unknown case")
		os.Exit(2)
	}
	var pkts []synth.Packet
	for _, c := range convs {
		pkts = append(pkts, c.Packets...)
	}
	f, err := os.Create(*out)
	if err != nil {
		panic(err)
	}
	if err := synth.WritePcap(f, 0, pkts...); err != nil {
		panic(err)
	}
	f.Close()
}

// varint is MQTT's variable byte integer: base 128, least significant
// group first, as Go's unsigned varint.
func varint(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) }
