package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnsBatchedBeat: stompClient.send("ping") every 10 s over SockJS,
// the third ping's STOMP frame split over two SockJS messages and the
// fifth batched with another SEND in one array (as sockjs-client's
// sender batches what is sent while a request is out). Every ping is a
// beat: the batched one was missed ("1 missed (max gap 20.0s)").
func TestConnsBatchedBeat(t *testing.T) {
	c := sockJSStomp("10.0.0.1:40004", "0,0")
	for i := 1; i <= 8; i++ {
		c.Wait(10 * time.Second)
		switch i {
		case 3:
			c.Frame(true, wsparse.OpText, []byte(`["SEND\ndestination:ping\n"]`)).Wait(time.Millisecond)
			c.Frame(true, wsparse.OpText, []byte(`["\n\u0000"]`))
		case 5:
			c.Frame(true, wsparse.OpText, []byte(`["SEND\ndestination:ping\n\n\u0000","SEND\ndestination:/app/x\n\nhello\u0000"]`))
		default:
			c.Frame(true, wsparse.OpText, []byte(`["SEND\ndestination:ping\n\n\u0000"]`))
		}
	}
	c.Frame(true, wsparse.OpClose, []byte{3, 232}).Frame(false, wsparse.OpClose, []byte{3, 232}).Fin(false).Fin(true)
	out, _ := connsJSONL(t, writeCapture(t, c.Packets), 1)
	if want := `"glance":"stomp SEND ping 10.0s ok","series":[{"kind":"app","proto":"stomp","key":"SEND ping","dir":"c2s","count":8,`; !strings.Contains(out, want) {
		t.Errorf("no %s in\n%s", want, out)
	}
}

// sockJSStomp opens a STOMP session over a SockJS WebSocket from client,
// both sides negotiating heart-beats hb ("10000,10000").
func sockJSStomp(client, hb string) *synth.Conv {
	c := synth.New(client, "10.0.0.2:8080").Open().UpgradeURI("/stomp/123/abcdefgh/websocket")
	c.Frame(false, wsparse.OpText, []byte("o"))
	c.Frame(true, wsparse.OpText, []byte(`["CONNECT\naccept-version:1.1,1.0\nheart-beat:`+hb+`\n\n\u0000"]`))
	c.Frame(false, wsparse.OpText, []byte(`a["CONNECTED\nversion:1.1\nheart-beat:`+hb+`\n\n\u0000"]`))
	return c
}
