package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnsApplicationEnd: the user's loop against a broker that refuses
// its STOMP CONNECT (SockJS /info, then a WebSocket whose CONNECT gets an
// ERROR frame, a SockJS close and a clean WebSocket Close, twice, 3 s
// apart), then one that accepts it. The refused sessions are errors of
// the reconnect group, and their CLOSE says why; they were ok, a clean
// close being all conns looked at, and the group had no retries (no
// backoff), on one worker and on two.
func TestConnsApplicationEnd(t *testing.T) {
	var pkts []synth.Packet
	port := 41000
	conv := func(at time.Duration) *synth.Conv {
		port++
		return synth.New(fmt.Sprintf("10.0.0.1:%d", port), "10.0.0.2:8080").At(at).Open()
	}
	for i := range 3 {
		at := time.Duration(i) * 3 * time.Second
		info := conv(at).Send(true, []byte("GET /stomp/info?t=1 HTTP/1.1\r\nHost: h\r\n\r\n")).
			Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"websocket\":true}")).Fin(true).Fin(false)
		ws := conv(at + 20*time.Millisecond).UpgradeURI(fmt.Sprintf("/stomp/12%d/session%d/websocket", i, i))
		ws.Frame(false, wsparse.OpText, []byte("o"))
		ws.Frame(true, wsparse.OpText, []byte(`["CONNECT\naccept-version:1.1,1.0\nheart-beat:10000,10000\n\n\u0000"]`))
		if i < 2 {
			ws.Frame(false, wsparse.OpText, []byte(`a["ERROR\nmessage:Bad CONNECT\n\nAccess refused for user 'guest'\u0000"]`))
			ws.Frame(false, wsparse.OpText, []byte(`c[1000,"Normal closure"]`))
		} else {
			ws.Frame(false, wsparse.OpText, []byte(`a["CONNECTED\nversion:1.1\nheart-beat:10000,10000\n\n\u0000"]`)).Wait(time.Second)
		}
		ws.Frame(false, wsparse.OpClose, []byte{3, 232}).Frame(true, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
		pkts = append(pkts, info.Packets...)
		pkts = append(pkts, ws.Packets...)
	}
	file := writeCapture(t, pkts)
	var outs [2]string
	for _, jobs := range []int{1, 2} {
		out, _ := connsJSONL(t, file, jobs)
		outs[jobs-1] = out
		for _, want := range []string{
			`"app":{"ts":"2024-05-06T07:08:09.027000000Z","text":"STOMP ERROR \"Bad CONNECT\"","failed":true},"summary":"server 1000 (normal closure), clean, after STOMP ERROR \"Bad CONNECT\""`,
			`"errors":2,`, `"backoff":"fixed","backoff_interval":2.974000`,
			`{"conn":2,"via":[1],"start_ts":"2024-05-06T07:08:09.003000000Z","end_ts":"2024-05-06T07:08:09.029000000Z","status":101,"outcome":"error"`,
			`{"conn":4,"via":[3],"start_ts":"2024-05-06T07:08:12.003000000Z","end_ts":"2024-05-06T07:08:12.029000000Z","status":101,"outcome":"error"`,
			`{"conn":6,"via":[5],"start_ts":"2024-05-06T07:08:15.003000000Z","end_ts":"2024-05-06T07:08:16.028000000Z","status":101,"outcome":"ok"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("-j %d: no %s", jobs, want)
			}
		}
		if n := strings.Count(out, `"app":`); n != 2 {
			t.Errorf("-j %d: %d connections with an application's end, want 2", jobs, n)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("-j 1 and -j 2 differ:\n%s\n---\n%s", outs[0], outs[1])
	} else if t.Failed() {
		t.Log(outs[0])
	}
}
