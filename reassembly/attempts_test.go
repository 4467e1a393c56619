package reassembly

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// endSink keeps the End summaries.
type endSink struct{ ends []string }

func (*endSink) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (*endSink) Frame(*wsparse.Conn, *wsparse.Frame)         {}
func (*endSink) Message(*wsparse.Conn, *wsparse.Message)     {}
func (e *endSink) End(c *wsparse.Conn, s *wsparse.Summary) {
	line := fmt.Sprintf("%d %s %s connect=%q first=%s last=%s", c.ID, c.Client(), s.End, s.Connect, s.First.Format("05.000"), s.Last.Format("05.000"))
	for _, r := range s.Requests {
		line += fmt.Sprintf(" %s %s%s %d at %s", r.Method, r.Host, r.URI, r.Status, r.TS.Format("05.000"))
	}
	e.ends = append(e.ends, line)
}

// TestEndAllAttempts: with Config.EndAll, connections that never showed
// WebSocket end with a summary: a connect refused (SYN, RST), one never
// answered (a SYN sent three times), a SockJS /info request, and one
// connected but silent; a WebSocket connection ends as always. Without
// EndAll only the WebSocket connection has records. Every -j the same.
func TestEndAllAttempts(t *testing.T) {
	var pkts []synth.Packet
	refused := synth.New("10.0.0.1:40001", "10.0.0.2:8080").Syn().Rst(false)
	unanswered := synth.New("10.0.0.1:40002", "10.0.0.2:8080").Wait(time.Second).Syn().Wait(time.Second).Syn().Wait(2 * time.Second).Syn()
	info := synth.New("10.0.0.1:40003", "10.0.0.2:8080").Wait(5*time.Second).Open().
		Send(true, []byte("GET /stomp/info?t=1 HTTP/1.1\r\nHost: app:8080\r\n\r\n")).
		Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")).Fin(true).Fin(false)
	silent := synth.New("10.0.0.1:40004", "10.0.0.2:8080").Wait(6 * time.Second).Open().Fin(true).Fin(false)
	ws := synth.New("10.0.0.1:40005", "10.0.0.2:8080").Wait(7 * time.Second).Open().Upgrade().Fin(true).Fin(false)
	// No SYN first, no connect: a lone FIN unanswered, a lone RST, a FIN
	// answered by RST (a scan's probes, arkime_synthetic's).
	fin := synth.New("10.0.0.1:40006", "10.0.0.2:8080").Wait(8 * time.Second).Fin(true)
	rst := synth.New("10.0.0.1:40007", "10.0.0.2:8080").Wait(9 * time.Second).Rst(true)
	finRst := synth.New("10.0.0.1:40008", "10.0.0.2:8080").Wait(10 * time.Second).Fin(true).Rst(false)
	for _, c := range []*synth.Conv{refused, unanswered, info, silent, ws, fin, rst, finRst} {
		pkts = append(pkts, c.Packets...)
	}
	slices.SortStableFunc(pkts, func(a, b synth.Packet) int { return a.TS.Compare(b.TS) })
	want := []string{
		`1 10.0.0.1:40001 not_websocket connect="refused" first=09.000 last=09.001`,
		`2 10.0.0.1:40002 not_websocket connect="unanswered" first=10.000 last=13.002`,
		`3 10.0.0.1:40003 not_websocket connect="" first=14.003 last=14.006 GET app:8080/stomp/info?t=1 200 at 14.003`,
		`4 10.0.0.1:40004 not_websocket connect="empty" first=15.000 last=15.004`,
		`5 10.0.0.1:40005 fin_without_close connect="" first=16.003 last=16.006`, // ends at the later FIN (Summary.Last)
		`6 10.0.0.1:40006 not_websocket connect="" first=17.000 last=17.000`,
		`7 10.0.0.1:40007 not_websocket connect="" first=18.000 last=18.000`,
		`8 10.0.0.1:40008 not_websocket connect="" first=19.000 last=19.001`,
	}
	for _, jobs := range []int{1, 2} {
		e := &endSink{}
		var d decoder = New(record.Adapt(e), Options{Decoder: wsparse.Config{EndAll: true}})
		if jobs > 1 {
			d = NewParallel(record.Adapt(e), Options{Decoder: wsparse.Config{EndAll: true}}, jobs)
		}
		for _, p := range pkts {
			d.Packet(1, p.Data, p.TS, len(p.Data))
		}
		d.Finish()
		slices.Sort(e.ends) // by number: refused and unanswered ones end at the end of the input
		if !slices.Equal(e.ends, want) {
			t.Errorf("-j %d: ends\n%s\nwant\n%s", jobs, join(e.ends), join(want))
		}
	}
	e := &endSink{}
	d := New(record.Adapt(e), Options{})
	for _, p := range pkts {
		d.Packet(1, p.Data, p.TS, len(p.Data))
	}
	d.Finish()
	if len(e.ends) != 1 || e.ends[0][:1] != "5" {
		t.Errorf("without EndAll: ends %q, want only the WebSocket's", e.ends)
	}
}

func join(s []string) string {
	out := ""
	for _, l := range s {
		out += "  " + l + "\n"
	}
	return out
}
