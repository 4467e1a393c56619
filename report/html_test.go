package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// htmlNodes parses a report and returns its elements with the given tag
// and class (class "" for any).
func htmlNodes(t *testing.T, doc *html.Node, tag, class string) []*html.Node {
	t.Helper()
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag && (class == "" || htmlAttr(n, "class") == class) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func htmlAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func parseReport(t *testing.T, in HTMLInput) (*html.Node, string) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, in); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, b.String()
}

// A capture far past what the report draws: the file stays small and
// says what it left out.
func TestHTMLBounds(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rep := &health.Report{}
	g := &health.Group{ClientIP: netip.MustParseAddr("192.0.2.1"), Host: "h", Path: "/x"}
	const conns = 3000
	for i := 1; i <= conns; i++ {
		c := &health.Conn{ID: i, Client: netip.MustParseAddrPort("192.0.2.1:1000"), Server: netip.MustParseAddrPort("192.0.2.2:80"),
			Host: "h", URI: "/x", Status: 101, Ended: true, Start: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i)*time.Second + 500*time.Millisecond)}
		c.Close.End = wsparse.EndClean
		c.Close.Clean = true
		if i == 1 {
			c.Heartbeats = []*health.Series{{Kind: health.KindWSPing, Count: 30000}}
		}
		rep.Conns = append(rep.Conns, c)
		g.Attempts = append(g.Attempts, health.Attempt{Conn: i, Start: c.Start, End: c.End, Status: 101, Outcome: health.OutcomeOK})
	}
	for i := 0; i < 3000; i++ { // refused connects
		g.Attempts = append(g.Attempts, health.Attempt{Conn: conns + 1 + i, Start: t0.Add(time.Duration(i) * time.Second), Outcome: health.OutcomeConnRefused})
	}
	rep.Groups = []*health.Group{g}
	beats := func(conn int, s *health.Series) ([]time.Time, []int) {
		ts := make([]time.Time, s.Count)
		for i := range ts {
			ts[i] = t0.Add(time.Duration(i) * 100 * time.Millisecond)
		}
		return ts, nil
	}
	act := NewActivity()
	c := &wsparse.Conn{ID: 1}
	for i := 0; i < 200000; i++ {
		act.Message(c, &wsparse.Message{Dir: wsparse.Dir(i & 1), TS: t0.Add(time.Duration(i) * 50 * time.Millisecond), Len: uint64(i % 1000)})
	}
	for i := 0; i < 10000; i++ {
		ts := t0.Add(time.Duration(i) * time.Second)
		act.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPing}, Dir: wsparse.ServerToClient, TS: ts, Payload: []byte{byte(i)}})
		act.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPong}, TS: ts.Add(time.Duration(i%50) * time.Millisecond), Payload: []byte{byte(i)}})
	}
	if n := len(act.RTTs); n != maxRTTPoints || act.RTTsDropped != 10000-maxRTTPoints {
		t.Errorf("%d round trips kept, %d dropped, want %d and %d", n, act.RTTsDropped, maxRTTPoints, 10000-maxRTTPoints)
	}
	if n := len(act.buckets); n > maxBuckets {
		t.Errorf("%d buckets kept, want at most %d", n, maxBuckets)
	}
	doc, out := parseReport(t, HTMLInput{Title: "big", Report: rep, Beats: beats, Activity: act})
	if n := len(htmlNodes(t, doc, "rect", "conn")); n != htmlMaxBars {
		t.Errorf("%d connection bars, want the cap %d", n, htmlMaxBars)
	}
	if n := len(htmlNodes(t, doc, "circle", "beat")); n != htmlMaxBeats {
		t.Errorf("%d beats drawn, want the cap %d", n, htmlMaxBeats)
	}
	if n := len(htmlNodes(t, doc, "path", "mark refused")); n != htmlMaxMarks {
		t.Errorf("%d refused marks, want the cap %d", n, htmlMaxMarks)
	}
	if n := len(htmlNodes(t, doc, "rect", "rate")); n > 2*(htmlBins+1) {
		t.Errorf("%d rate bars, want at most %d", n, 2*(htmlBins+1))
	}
	if n := len(htmlNodes(t, doc, "tr", "ok")); n != htmlMaxTableRows {
		t.Errorf("%d table rows, want the cap %d", n, htmlMaxTableRows)
	}
	if n := len(htmlNodes(t, doc, "circle", "rtt")); n != maxRTTPoints {
		t.Errorf("%d round trips drawn, want the cap %d", n, maxRTTPoints)
	}
	for _, note := range []string{"Timeline: 1000 of 3000 connections drawn.", "Heartbeats: the first 5000 beats drawn, 25000 more not.",
		"Timeline: the first 1000 refused connects and requests drawn.", "Connections table: the first 500 of 3000 rows.", "the first 2000 drawn, 8000 more not"} {
		if !strings.Contains(out, note) {
			t.Errorf("the report does not say %q", note)
		}
	}
	t.Logf("report of %d connections, %d beats, %d messages: %d bytes", conns, 30000, 200000, len(out))
	if len(out) > 2<<20 {
		t.Errorf("report of %d bytes, want at most 2 MiB", len(out))
	}
}

// TestHTMLHTTP2NotFollowed: the report lists the HTTP/2 connections wsdump
// did not wholly follow, and only those (no table for a capture with
// none, so its report is as it was), and says when more HTTP/2
// connections were past those kept.
func TestHTMLHTTP2NotFollowed(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	ends := func(h *health.HTTP2Conn) *health.HTTP2Conn {
		h.Client, h.Server = netip.MustParseAddrPort("192.0.2.1:1000"), netip.MustParseAddrPort("192.0.2.2:443")
		h.Start, h.End = t0, t0.Add(2*time.Second)
		return h
	}
	whole := ends(&health.HTTP2Conn{ID: 1, Streams: 3, Requests: 3})
	_, out := parseReport(t, HTMLInput{Report: &health.Report{HTTP2: []*health.HTTP2Conn{whole}}})
	if strings.Contains(out, `id="http2"`) || strings.Contains(out, "HTTP/2") {
		t.Errorf("an HTTP/2 connection followed to its end is in the report:\n%s", out)
	}
	both := ends(&health.HTTP2Conn{ID: 2, Streams: 1003, WebSockets: 1000, NotFollowed: 3, SkippedBytes: 24, LostBytes: 5,
		Anomalies: wsparse.AnomH2StreamsOverLimit | wsparse.AnomH2Malformed})
	doc, out := parseReport(t, HTMLInput{Report: &health.Report{HTTP2: []*health.HTTP2Conn{whole, both}, HTTP2More: 4}})
	var cells []string
	for _, td := range htmlNodes(t, doc, "td", "") {
		cells = append(cells, htmlNodeText(td))
	}
	row := strings.Join(cells, "|")
	if want := "2|0.000s|2.0s|192.0.2.1:1000|192.0.2.2:443|1003|1000|3 of 1003 streams (h2_streams_over_limit), framing (h2_malformed)|24|5|h2_malformed,h2_streams_over_limit"; row != want {
		t.Errorf("http2 row %q, want %q", row, want)
	}
	for _, w := range []string{"1 HTTP/2 connection not wholly followed", "4 more HTTP/2 connections past those kept: every one wholly followed."} {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in the report", w)
		}
	}
	// Those past every bound that were not wholly followed are said.
	_, out = parseReport(t, HTMLInput{Report: &health.Report{HTTP2: []*health.HTTP2Conn{whole, both}, HTTP2More: 4, HTTP2MoreNotFollowed: 2}})
	if w := "4 more HTTP/2 connections past those kept: 2 of them not wholly followed, not in the table."; !strings.Contains(out, w) {
		t.Errorf("no %q in the report", w)
	}
}

func htmlNodeText(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(htmlNodeText(c))
	}
	return b.String()
}
