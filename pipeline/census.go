package pipeline

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// NewCensus returns a sink that notes what each connection was, to say
// why a view that asked for connections by number (--conn) printed
// nothing: a number the capture does not have ("no connection 9; the
// capture has 1-6"), or a connection that never spoke WebSocket
// ("connection 1 is HTTP, not WebSocket: GET /stomp/info -> 200").
func NewCensus() *Census { return &Census{seen: map[int]string{}} }

// Put notes what each connection was; TLS connections say why they
// showed nothing.
func (c *Census) Put(r *record.Record) {
	if r.Kind == record.TLS {
		c.TLSConn(r.Conn, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(c, r)
}

// Census notes what each connection of a capture was.
type Census struct {
	seen map[int]string // connection -> what it was ("" WebSocket)
}

func (c *Census) Handshake(conn *wsparse.Conn, h *wsparse.Handshake) {
	if h.Upgraded() {
		c.seen[conn.ID] = ""
	} else if _, ok := c.seen[conn.ID]; !ok {
		c.seen[conn.ID] = "an upgrade refused: " + request(h.Method, h.URI, h.Status)
	}
}
func (c *Census) Frame(conn *wsparse.Conn, f *wsparse.Frame)     { c.seen[conn.ID] = "" }
func (c *Census) Message(conn *wsparse.Conn, m *wsparse.Message) { c.seen[conn.ID] = "" }
func (c *Census) TLSConn(conn *wsparse.Conn, server netip.AddrPort, i *wsparse.TLSInfo) {
	what := "TLS to " + server.String() + ", not decrypted"
	if i.Error != "" {
		what += " (" + i.Error + ")"
	}
	c.seen[conn.ID] = what
}

func (c *Census) End(conn *wsparse.Conn, s *wsparse.Summary) {
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
	case s.Connect == wsparse.ConnectClosed:
		c.seen[conn.ID] = "a TCP connection the server closed (FIN) before any data, not WebSocket"
	case s.Connect == wsparse.ConnectReset:
		c.seen[conn.ID] = "a TCP connection the server reset (RST) before any data, not WebSocket"
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

// Explain gives a line for each asked connection that shows nothing.
func (c *Census) Explain(conns []int) []string {
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

// CountingExporter counts the records that reach an exporter (behind the
// filters): when none did, the caller may say why (Census).
type CountingExporter struct {
	report.Exporter
	N int
}

// Put counts the records the exporter is given (not the heartbeats, which
// are no output of their own) and passes them on.
func (e *CountingExporter) Put(r *record.Record) {
	switch r.Kind {
	case record.Beat, record.Negotiated:
	default:
		e.N++
	}
	e.Exporter.Put(r)
}
