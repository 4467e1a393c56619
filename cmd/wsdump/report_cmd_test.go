package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

var updateReportPNG = flag.Bool("update-report-png", false, "rewrite docs/report-seed.png from the headless Chromium run of TestReportChromium")

// seedPcap is the showcase: STOMP over SockJS, a 10 s SEND ping from two
// timers, 5 refused reconnects (the user's stack, recorded).
const seedPcap = "../../testdata/pcaps/gen__seed-sockjs-stomp-twotimers.pcap"

// reportHTML runs wsdump report on a capture and parses the file.
func reportHTML(t *testing.T, file string, args ...string) (*html.Node, string) {
	t.Helper()
	out, errs, code := runWsdump(t, nil, append([]string{"report", "-r", file, "-o", "-"}, args...)...)
	if code != 0 {
		t.Fatalf("wsdump report: exit %d: %s", code, errs)
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return doc, out
}

// elements returns the elements with tag and class ("" for any) under n.
func elements(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag && (class == "" || attr(n, "class") == class) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// byID returns the element with the id.
func byID(t *testing.T, doc *html.Node, tag, id string) *html.Node {
	t.Helper()
	for _, n := range elements(doc, tag, "") {
		if attr(n, "id") == id {
			return n
		}
	}
	t.Fatalf("no <%s id=%q>", tag, id)
	return nil
}

// jsonlConn and jsonlGroup are what wsdump conns --format jsonl says of
// a connection and a reconnect group.
type jsonlConn struct {
	Conn  int `json:"conn"`
	Close struct {
		Summary string `json:"summary"`
	} `json:"close"`
	Heartbeat struct {
		Glance string `json:"glance"`
		Series []struct {
			Kind       string `json:"kind"`
			Count      int    `json:"count"`
			Missed     int    `json:"missed"`
			Unmeasured int    `json:"unmeasured"`
			Timers     int    `json:"timers"`
		} `json:"series"`
	} `json:"heartbeat"`
}

type jsonlGroup struct {
	Refused  int `json:"refused"`
	Timeline []struct {
		Conn     int    `json:"conn"`
		Via      []int  `json:"via"`
		Outcome  string `json:"outcome"`
		InFlight bool   `json:"in_flight"`
	} `json:"timeline"`
}

func readConnsJSONL(t *testing.T, file string) ([]jsonlConn, []jsonlGroup) {
	t.Helper()
	out, errs, code := runWsdump(t, nil, "conns", "-r", file, "--format", "jsonl")
	if code != 0 {
		t.Fatalf("wsdump conns: exit %d: %s", code, errs)
	}
	var conns []jsonlConn
	var groups []jsonlGroup
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var typ struct{ Type string }
		if err := json.Unmarshal([]byte(line), &typ); err != nil {
			t.Fatal(err)
		}
		var err error
		switch typ.Type {
		case "conn":
			conns = append(conns, jsonlConn{})
			err = json.Unmarshal([]byte(line), &conns[len(conns)-1])
		case "client_group":
			groups = append(groups, jsonlGroup{})
			err = json.Unmarshal([]byte(line), &groups[len(groups)-1])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return conns, groups
}

// The report of the seed capture draws what wsdump conns finds: a bar per
// connection, coloured by its reconnect attempt's outcome, a cross per
// refused connect and a diamond per /info request on the group's lane,
// every beat of every heartbeat series (the two timers of the SEND ping
// in two colours), a cross per missed beat, and the conns table's cells.
func TestReportSeed(t *testing.T) {
	doc, out := reportHTML(t, seedPcap)
	conns, groups := readConnsJSONL(t, seedPcap)
	t.Logf("report of %s: %d bytes", filepath.Base(seedPcap), len(out))
	if len(out) > 100<<10 {
		t.Errorf("report of %d bytes, want at most 100 KiB for this capture", len(out))
	}
	// Self-contained and scriptless: nothing fetched, nothing run.
	for _, tag := range []string{"script", "link", "img", "iframe", "object", "embed"} {
		if n := elements(doc, tag, ""); len(n) > 0 {
			t.Errorf("%d <%s> elements, want none", len(n), tag)
		}
	}
	if strings.Contains(out, "http://") && strings.Contains(strings.ReplaceAll(out, `xmlns="http://www.w3.org/2000/svg"`, ""), "http://") ||
		strings.Contains(out, "https://") || strings.Contains(out, "url(") {
		t.Errorf("the report refers to something outside it")
	}

	timeline := byID(t, doc, "svg", "timeline")
	bars := elements(timeline, "rect", "conn")
	if len(bars) != len(conns) {
		t.Errorf("%d connection bars, want one per connection: %d", len(bars), len(conns))
	}
	outcome := map[int]string{}
	refused, info := 0, 0
	for _, g := range groups {
		refused += g.Refused
		for _, a := range g.Timeline {
			outcome[a.Conn] = a.Outcome
			info += len(a.Via)
		}
	}
	for _, b := range bars {
		id, _ := strconv.Atoi(attr(b, "data-conn"))
		if got, want := attr(b, "data-outcome"), outcome[id]; got != want {
			t.Errorf("bar of connection %d: outcome %q, want %q", id, got, want)
		}
	}
	if n := len(elements(timeline, "path", "mark refused")); n != refused || refused != 5 {
		t.Errorf("%d refused marks, want the group's %d (5)", n, refused)
	}
	if n := len(elements(timeline, "path", "mark info")); n != info || info != 2 {
		t.Errorf("%d /info marks, want %d (2)", n, info)
	}
	if n := len(elements(timeline, "rect", "outage")); n != 1 {
		t.Errorf("%d outages shaded, want 1", n)
	}

	hb := byID(t, doc, "svg", "heartbeats")
	beats := map[string]int{}
	fills := map[string]map[string]bool{}
	for _, c := range elements(hb, "circle", "beat") {
		id := attr(c, "data-conn")
		beats[id]++
		if fills[id] == nil {
			fills[id] = map[string]bool{}
		}
		fills[id][attr(c, "fill")] = true
	}
	series, missed, timers := 0, 0, 0
	for _, c := range conns {
		want := 0
		for _, s := range c.Heartbeat.Series {
			want += s.Count - s.Unmeasured
			missed += s.Missed
			series++
			timers = max(timers, s.Timers)
		}
		if got := beats[strconv.Itoa(c.Conn)]; got != want {
			t.Errorf("connection %d: %d beats drawn, want %d", c.Conn, got, want)
		}
	}
	if n := len(elements(hb, "line", "span")); n != series {
		t.Errorf("%d heartbeat rows, want one per series: %d", n, series)
	}
	if n := len(elements(hb, "path", "missed")); n != missed || missed == 0 {
		t.Errorf("%d missed beats marked, want %d (more than 0)", n, missed)
	}
	if timers != 2 || len(fills["9"]) < 2 {
		t.Errorf("connection 9: beats in %d colours, want the two timers (%d) told apart", len(fills["9"]), timers)
	}

	rows := elements(byID(t, doc, "table", "conns"), "tr", "")[1:]
	if len(rows) != len(conns) {
		t.Fatalf("%d table rows, want %d", len(rows), len(conns))
	}
	for i, r := range rows {
		cells := elements(r, "td", "")
		if len(cells) != 11 {
			t.Fatalf("row %d: %d cells, want 11", i, len(cells))
		}
		c := conns[i]
		if got := textOf(cells[0]); got != strconv.Itoa(c.Conn) {
			t.Errorf("row %d: CONN %q, want %d", i, got, c.Conn)
		}
		if got := textOf(cells[9]); got != c.Close.Summary {
			t.Errorf("row %d: CLOSE %q, want %q", i, got, c.Close.Summary)
		}
		if got := textOf(cells[10]); got != c.Heartbeat.Glance {
			t.Errorf("row %d: HEARTBEAT %q, want %q", i, got, c.Heartbeat.Glance)
		}
	}
}

// hostileText is in the URL and the Close reason of a connection,
// hostileBeat in its messages (an application heartbeat's key, at most 32
// bytes): markup, quotes, control bytes.
const (
	hostileText = "<script>alert(1)</script>\"'&<!--\x1b[31m\x07</td></svg>"
	hostileBeat = "<script>x</script>\"'&<!--" // keys are printable
)

// hostileReportCapture writes a connection whose URL, heartbeat messages
// and Close reason carry hostileText.
func hostileReportCapture(t *testing.T) string {
	t.Helper()
	uri := "/ws?q=" + strings.NewReplacer(" ", "%20").Replace(hostileText)
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open().UpgradeURI(uri)
	for i := range 8 {
		c.At(time.Duration(i+1)*time.Second).Frame(true, wsparse.OpText, []byte(hostileBeat))
	}
	reason := append([]byte{0x0f, 0xa0}, hostileText...) // 4000
	c.At(10*time.Second).Frame(false, wsparse.OpClose, reason).Frame(true, wsparse.OpClose, reason[:2]).Fin(false).Fin(true)
	return writeSynth(t, 65535, c)
}

// Text from the traffic cannot run or break the report: it shows as
// written (control bytes escaped as the tables escape them) inside the
// elements it belongs to.
func TestReportHostileText(t *testing.T) {
	f := hostileReportCapture(t)
	doc, out := reportHTML(t, f)
	if n := elements(doc, "script", ""); len(n) > 0 {
		t.Fatalf("%d <script> elements in the report", len(n))
	}
	for i := 0; i < len(out); i++ {
		if b := out[i]; b < 0x20 && b != '\n' && b != '\t' {
			t.Fatalf("control byte %#x in the report at %d: %q", b, i, out[max(0, i-40):i+1])
		}
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("the report holds <script> unescaped")
	}
	rows := elements(byID(t, doc, "table", "conns"), "tr", "")[1:]
	if len(rows) != 1 {
		t.Fatalf("%d connection rows, want 1", len(rows))
	}
	cells := elements(rows[0], "td", "")
	if len(cells) != 11 {
		t.Fatalf("%d cells, want 11: the markup broke", len(cells))
	}
	for _, col := range []int{5, 9} { // URL, CLOSE
		if got := textOf(cells[col]); !strings.Contains(got, "<script>alert(1)</script>") {
			t.Errorf("cell %d is %q, want the text from the traffic", col, got)
		}
	}
	if got := textOf(cells[10]); !strings.Contains(got, hostileBeat) {
		t.Errorf("HEARTBEAT is %q, want the message %q", got, hostileBeat)
	}
	if got := textOf(cells[5]); !strings.Contains(got, `\x1b[31m\x07`) {
		t.Errorf("URL is %q, want its control bytes escaped as in conns", got)
	}
	// The connection's bar and its heartbeat series: one each, the text in
	// their tooltips.
	bars := elements(byID(t, doc, "svg", "timeline"), "rect", "conn")
	if len(bars) != 1 || !strings.Contains(textOf(bars[0]), "<script>alert(1)</script>") {
		t.Errorf("timeline: %d bars, want 1 with the URL in its title", len(bars))
	}
	if n := len(elements(byID(t, doc, "svg", "heartbeats"), "circle", "beat")); n != 8 {
		t.Errorf("%d beats drawn, want 8", n)
	}
}

// chromium finds Debian's chromium (or another name for it); with none,
// the test skips, but fails under CI=true, where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI=true: .ci/run installs Debian's chromium)")
	}
	t.Skip("chromium is not installed: the report's screenshot test needs headless Chromium (Debian: apt-get install chromium)")
	return ""
}

// The report of the seed capture, rendered by headless Chromium, is a
// real picture: the window's size, many colours, much drawn, and the
// timeline's bars (the red of the connection that ended in error, the
// green of the one that closed cleanly) among it. -update-report-png
// writes the screenshot to docs/report-seed.png for the README.
func TestReportChromium(t *testing.T) {
	bin := chromium(t)
	t.Parallel()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if _, errs, code := runWsdump(t, nil, "report", "-r", seedPcap, "-o", page); code != 0 {
		t.Fatalf("wsdump report: exit %d: %s", code, errs)
	}
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Headless Chromium here dies by SIGSEGV now and then when started
	// beside the suite's busiest tests (about one full suite run in four,
	// before it drew anything): a crash of the browser, not of the page,
	// is tried again, twice at most, each time with a profile of its own.
	for try := 1; ; try++ {
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
			"--disable-extensions", "--disable-background-networking", "--disable-component-update",
			"--user-data-dir="+filepath.Join(dir, fmt.Sprintf("profile%d", try)), "--screenshot="+shot, "--window-size=1400,1000", "file://"+page)
		cmd.WaitDelay = 10 * time.Second // chromium's helpers may hold the output open after it is killed
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ProcessState.Sys().(syscall.WaitStatus).Signaled() && ctx.Err() == nil && try < 3 {
			t.Logf("%s crashed (%v), try %d of 3", bin, err, try)
			continue
		}
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != 1400 || b.Dy() != 1000 {
		t.Errorf("screenshot of %dx%d, want 1400x1000", b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]int{}
	inked := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint32{r >> 8, g >> 8, bl >> 8}
			colours[c]++
			if c != [3]uint32{255, 255, 255} {
				inked++
			}
		}
	}
	red, green := colours[[3]uint32{0xd6, 0x27, 0x28}], colours[[3]uint32{0x2c, 0xa0, 0x2c}]
	t.Logf("screenshot %dx%d, %d bytes: %d colours, %.1f %% not white, %d px error red, %d px ok green",
		b.Dx(), b.Dy(), len(data), len(colours), 100*float64(inked)/float64(b.Dx()*b.Dy()), red, green)
	if len(colours) < 32 || inked < b.Dx()*b.Dy()/20 {
		t.Errorf("screenshot has %d colours and %d pixels not white: blank?", len(colours), inked)
	}
	if red < 1000 || green < 1000 {
		t.Errorf("timeline bars: %d px of the error red, %d of the ok green, want 1000 each", red, green)
	}
	if *updateReportPNG {
		if err := os.WriteFile("../../docs/report-seed.png", data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// report takes the input flags: with the key log, the wss connection is
// drawn and its messages counted; without, there is none.
func TestReportKeylog(t *testing.T) {
	const wss = "../../testdata/pcaps/gen__wss-go-tls13"
	for _, tc := range []struct {
		args []string
		bars int
	}{{nil, 0}, {[]string{"--keylog", wss + ".keys", "-j", "1"}, 1}} {
		doc, out := reportHTML(t, wss+".pcap", tc.args...)
		bars := 0
		for _, svg := range elements(doc, "svg", "") {
			bars += len(elements(svg, "rect", "conn"))
		}
		if bars != tc.bars {
			t.Errorf("%v: %d connection bars, want %d", tc.args, bars, tc.bars)
		}
		if tc.bars > 0 && !strings.Contains(out, "5 messages client to server, 5 server to client") {
			t.Errorf("%v: the messages are not counted", tc.args)
		}
	}
}
