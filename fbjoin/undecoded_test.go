package fbjoin

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/httpfb"
	"github.com/wsdump/wsdump/wsparse"
)

type sumRec struct {
	rec
	sums []wsparse.Summary
}

func (r *sumRec) End(c *wsparse.Conn, s *wsparse.Summary) { r.sums = append(r.sums, *s) }

// TestUndecodedCounted: the bytes a session's requests did not decode (a
// body over 1 MiB, broken framing) are its skipped bytes, on the side that
// sent them: the anomaly said they were counted, and no count held them.
func TestUndecodedCounted(t *testing.T) {
	r := &sumRec{}
	j := newWS(r)
	c1, c2 := conn(1), conn(2)
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.SockJS, httpfb.XHRPolling, "o", 0))
	q := req("S", httpfb.SockJS, httpfb.XHRPolling, "POST", 0, 0)
	q.Fallback.Request.Anomalies = httpfb.AnomTruncated
	q.Fallback.Request.UndecodedBytes = 1 << 20
	j.Message(c1, q)
	q = req("S", httpfb.SockJS, httpfb.XHRSend, "POST", 1, 1)
	q.Fallback.Request.Anomalies = httpfb.AnomFraming
	q.Fallback.Request.UndecodedBytes, q.Fallback.Request.UndecodedC2S = 7, 7
	j.Message(c2, q)
	j.End(c1, &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.End(c2, &wsparse.Summary{End: wsparse.EndNotWebSocket})
	j.Finish()
	if len(r.sums) != 1 {
		t.Fatalf("%d summaries, want the session's", len(r.sums))
	}
	st := r.sums[0].Stats
	if st[wsparse.ClientToServer].SkippedBytes != 7 || st[wsparse.ServerToClient].SkippedBytes != 1<<20 {
		t.Errorf("skipped bytes c2s %d, s2c %d; want 7, %d", st[wsparse.ClientToServer].SkippedBytes, st[wsparse.ServerToClient].SkippedBytes, 1<<20)
	}
}

// TestConnCountsJoined: what a session's TCP connection lost or passed
// over, and its anomalies, are the session's: the connection's End was
// swallowed with them.
func TestConnCountsJoined(t *testing.T) {
	r := &sumRec{}
	j := newWS(r)
	c1 := conn(1)
	j.Message(c1, msg(wsparse.ServerToClient, "S", httpfb.SockJS, httpfb.XHRPolling, "o", 0))
	j.Message(c1, req("S", httpfb.SockJS, httpfb.XHRPolling, "POST", 0, 0))
	var end wsparse.Summary
	end.End, end.Anomalies = wsparse.EndNotWebSocket, wsparse.AnomFallbackFraming
	end.Stats[wsparse.ClientToServer].LostBytes = 3
	end.Stats[wsparse.ServerToClient].SkippedBytes = 80000
	j.End(c1, &end)
	j.Finish()
	if len(r.sums) != 1 {
		t.Fatalf("%d summaries, want the session's", len(r.sums))
	}
	got := r.sums[0]
	if got.Stats[wsparse.ClientToServer].LostBytes != 3 || got.Stats[wsparse.ServerToClient].SkippedBytes != 80000 || got.Anomalies&wsparse.AnomFallbackFraming == 0 {
		t.Errorf("session: lost c2s %d, skipped s2c %d, anomalies %s; want 3, 80000, fallback_framing",
			got.Stats[wsparse.ClientToServer].LostBytes, got.Stats[wsparse.ServerToClient].SkippedBytes, got.Anomalies)
	}
}

// TestJoinOnlyEndDropped: an HTTP connection's End reported only for the
// joiner (Summary.JoinOnly: it lost bytes, and Config.EndAll was unset)
// reaches no view when no session takes it, whether the joiner held it (a
// handshake poll whose session was never confirmed) or not: it was a lone
// not_websocket row in the table, where the connection had no record
// before.
func TestJoinOnlyEndDropped(t *testing.T) {
	for _, joinOnly := range []bool{false, true} {
		r := &sumRec{}
		j := newWS(r)
		var end wsparse.Summary
		end.End, end.JoinOnly = wsparse.EndNotWebSocket, joinOnly
		end.Stats[wsparse.ClientToServer].LostBytes = 38
		j.End(conn(7), &end)
		j.Finish()
		if want := map[bool]int{false: 1, true: 0}[joinOnly]; len(r.sums) != want {
			t.Errorf("JoinOnly %v: %d Ends passed on, want %d", joinOnly, len(r.sums), want)
		}
	}
}

// TestSessionsPastLimitCounted: the messages of the sessions past
// MaxSessions, when none can be retired (every session held has its
// Engine.IO WebSocket open), are not decoded, and counted (Dropped, which
// the limit notice on stderr says): they were dropped with no trace at all.
func TestSessionsPastLimitCounted(t *testing.T) {
	r := &rec{}
	j := newWS(r)
	j.maxSessions = 2
	eio(j, conn(1), conn(2), "A", 0)
	eio(j, conn(3), conn(4), "B", 1)
	for i, s := range []string{"C", "D"} {
		c := conn(i + 5)
		m := msg(wsparse.ServerToClient, s, httpfb.SockJS, httpfb.XHRPolling, "a[\"hello\"]", i)
		m.WireLen = 100
		j.Message(c, m)
		j.Message(c, req(s, httpfb.SockJS, httpfb.XHRPolling, "POST", i, i))
	}
	j.Finish()
	// The request records are no messages: counted apart (they were
	// counted as 2 more messages).
	if d := j.Dropped(); d != (Dropped{Messages: 2, Bytes: 200, Requests: 2}) {
		t.Errorf("dropped %+v, want the 2 messages of C and D, 200 bytes, and their 2 requests", d)
	}
	if got := strings.Count(strings.Join(r.out, "\n"), " end "); got != 2 {
		t.Errorf("%d sessions ended, want 2:\n%s", got, strings.Join(r.out, "\n"))
	}
}
