package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// explainEmpty says on stderr why a view printed nothing, when it asked
// for connections by number (--conn): a number the capture does not have
// ("no connection 9; the capture has 1-6"), or a connection that never
// spoke WebSocket ("connection 1 is HTTP, not WebSocket: GET /stomp/info
// -> 200"). It costs a second reading of the capture, so it is done only
// when the output is empty, and not for standard input (read once).
func explainEmpty(ctx context.Context, in *inputFlags, names []string, stdin io.Reader, stderr io.Writer, conns []int) {
	if len(conns) == 0 || len(names) == 1 && names[0] == "-" {
		return
	}
	name := inputsName(names)
	cs := &census{seen: map[int]string{}}
	src, err := in.openInputs(ctx, names, stdin, io.Discard)
	if err != nil {
		return
	}
	defer src.Close()
	keys, err := in.loadKeys(io.Discard)
	if err != nil {
		return
	}
	asm := pipeline.New(cs, in.options(wsparse.Config{EndAll: true}, keys), 1)
	feed(src, asm, name, keys, func(time.Time) {})
	asm.Finish()
	for _, line := range cs.explain(conns) {
		fmt.Fprintln(stderr, "wsdump: "+line)
	}
}

// census notes what each connection of a capture was.
type census struct {
	seen map[int]string // connection -> what it was ("" WebSocket)
}

func (c *census) Handshake(conn *wsparse.Conn, h *wsparse.Handshake) {
	if h.Upgraded() {
		c.seen[conn.ID] = ""
	} else if _, ok := c.seen[conn.ID]; !ok {
		c.seen[conn.ID] = "an upgrade refused: " + request(h.Method, h.URI, h.Status)
	}
}
func (c *census) Frame(conn *wsparse.Conn, f *wsparse.Frame)     { c.seen[conn.ID] = "" }
func (c *census) Message(conn *wsparse.Conn, m *wsparse.Message) { c.seen[conn.ID] = "" }
func (c *census) TLSConn(conn *wsparse.Conn, server netip.AddrPort, i *wsparse.TLSInfo) {
	what := "TLS to " + server.String() + ", not decrypted"
	if i.Error != "" {
		what += " (" + i.Error + ")"
	}
	c.seen[conn.ID] = what
}

func (c *census) End(conn *wsparse.Conn, s *wsparse.Summary) {
	if _, ok := c.seen[conn.ID]; ok {
		return
	}
	if s.End != wsparse.EndNotWebSocket {
		c.seen[conn.ID] = ""
		return
	}
	switch {
	case len(s.Requests) > 0:
		var reqs []string
		for _, r := range s.Requests {
			reqs = append(reqs, request(r.Method, r.URI, r.Status))
		}
		if s.MoreRequests > 0 {
			reqs = append(reqs, "and "+strconv.Itoa(s.MoreRequests)+" more")
		}
		c.seen[conn.ID] = "HTTP, not WebSocket: " + strings.Join(reqs, ", ")
	case s.Connect == wsparse.ConnectRefused:
		c.seen[conn.ID] = "a TCP connect refused (RST), not WebSocket"
	case s.Connect == wsparse.ConnectUnanswered:
		c.seen[conn.ID] = "a TCP connect never answered, not WebSocket"
	case s.Connect == wsparse.ConnectEmpty:
		c.seen[conn.ID] = "a TCP connection that carried no data, not WebSocket"
	default:
		c.seen[conn.ID] = "not WebSocket (no upgrade request, no frames)"
	}
}

func request(method, uri string, status int) string {
	s := report.Escape([]byte(method), 20, true) + " " + report.Escape([]byte(uri), 120, true) + " -> "
	if status == 0 {
		return s + "no response"
	}
	return s + strconv.Itoa(status)
}

// explain gives a line for each asked connection that shows nothing.
func (c *census) explain(conns []int) []string {
	ids := make([]int, 0, len(c.seen))
	for id := range c.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var lines []string
	for _, n := range conns {
		what, ok := c.seen[n]
		switch {
		case !ok && len(ids) == 0:
			lines = append(lines, fmt.Sprintf("no connection %d; the capture has no TCP connection", n))
		case !ok:
			lines = append(lines, fmt.Sprintf("no connection %d; the capture has %s", n, idRange(ids)))
		case what != "":
			lines = append(lines, fmt.Sprintf("connection %d is %s", n, what))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, "no record matched the filters")
	}
	return lines
}

// idRange writes sorted connection numbers as ranges: "1-6", "1-3, 5".
func idRange(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(ids[i])+"-"+strconv.Itoa(ids[j]))
		} else {
			parts = append(parts, strconv.Itoa(ids[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// countingExporter counts the records that reach an exporter (behind the
// filters): none, and explainEmpty says why.
type countingExporter struct {
	report.Exporter
	n int
}
