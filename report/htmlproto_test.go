package report

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestHTMLConnsProto: the HTML report's Connections table gives a SockJS
// or Engine.IO session over HTTP the PROTO that wsdump conns gives it
// (its carrier, TCP connections and requests): it showed "-", as for a
// WebSocket with no subprotocol, beside conns' "polling+websocket (3
// conns, 5 requests)" for the same session.
func TestHTMLConnsProto(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	conn := func(id int, mod func(*health.Conn)) *health.Conn {
		c := &health.Conn{ID: id, Client: netip.MustParseAddrPort("192.0.2.1:1000"), Server: netip.MustParseAddrPort("192.0.2.2:80"),
			Host: "h", URI: "/socket.io/?EIO=4&transport=polling", Status: 101, Start: t0, End: t0.Add(time.Second), Ended: true}
		c.Close.End = wsparse.EndClean
		mod(c)
		return c
	}
	r := &health.Report{Conns: []*health.Conn{
		conn(1, func(c *health.Conn) {
			c.Transport, c.HTTPConns, c.HTTPRequests = "polling+websocket", []int{1, 2, 3}, 5
		}),
		conn(2, func(c *health.Conn) {
			c.Subprotocol, c.Extensions = "v12.stomp", "permessage-deflate; client_max_window_bits"
		}),
		conn(3, func(*health.Conn) {}),
	}}
	doc, _ := parseReport(t, HTMLInput{Report: r})
	var got []string
	for _, tr := range htmlNodes(t, doc, "tr", "") {
		var cells []string
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.Data == "td" {
				cells = append(cells, htmlNodeText(c))
			}
		}
		if len(cells) > 7 && strings.HasPrefix(cells[1], "0.") {
			got = append(got, cells[0]+" "+cells[6])
		}
	}
	want := []string{"1 polling+websocket (3 conns, 5 requests)", "2 v12.stomp +permessage-deflate", "3 -"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Connections table PROTO %q, want %q (conns' cells)", got, want)
	}
	for i, c := range r.Conns {
		if p := connProto(c); p != strings.SplitN(want[i], " ", 2)[1] {
			t.Errorf("conns PROTO of %d %q", c.ID, p)
		}
	}
}
