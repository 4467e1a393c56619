package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
)

// TestFallbackSessionsPastBoundNoticed: the messages of SockJS sessions
// past the bound fbjoin holds, when none can be retired (every session
// held has its Engine.IO WebSocket open), are counted by the joiner
// (fbjoin's TestSessionsPastLimitCounted) and carried by withJoiner into
// the assembler's Stats, which the limit notice on stderr reads: here for
// the main view and conns, with -j 1 and 2.
// The bound is lowered to 2 (fallbackSessions) so that 2 sessions pass
// it, rather than 65 538.
func TestFallbackSessionsPastBoundNoticed(t *testing.T) {
	old := fallbackSessions
	fallbackSessions = 2
	t.Cleanup(func() { fallbackSessions = old })
	var pkts []synth.Packet
	for i, sid := range []string{"a", "b"} {
		c := synth.New("10.0.0.3:"+string(rune('5'+i))+"000", "10.0.0.2:80").At(time.Duration(i) * time.Second).Open()
		c.Send(true, []byte("GET /socket.io/?EIO=4&transport=polling&t=x"+sid+" HTTP/1.1\r\nHost: h\r\n\r\n"))
		open := `0{"sid":"` + sid + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}`
		c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(open), open)))
		ws := synth.New("10.0.0.3:"+string(rune('5'+i))+"001", "10.0.0.2:80").At(time.Duration(i)*time.Second + time.Millisecond).Open()
		ws.Send(true, []byte("GET /socket.io/?EIO=4&transport=websocket&sid="+sid+" HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))
		ws.Send(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
		pkts = append(pkts, c.Packets...)
		pkts = append(pkts, ws.Packets...)
	}
	// Then sessions c and d (a and b are the WebSockets' sids).
	later := sessionsPackets("a[\"hello\"]", false, 5*time.Second)
	file := writeCapture(t, append(pkts, later[len(later)/2:]...))
	// Sessions c and d: an o frame and an a frame each (4 messages, 1 + 10
	// bytes each: the newline ends a frame), and their 4 requests.
	const want = "wsdump: 4 SockJS / Engine.IO messages (22 bytes) and 4 HTTP requests of fallback sessions past the 2 held at once were not decoded\n"
	for _, jobs := range []int{1, 2} {
		out, errs := viewJSONL(t, file, jobs)
		if !strings.Contains(errs, want) || strings.Contains(errs, "ended early") {
			t.Errorf("-j %d: stderr %q, want %q and none ended early", jobs, errs, want)
		}
		if n := strings.Count(out, `"type":"conn"`); n != 2 {
			t.Errorf("-j %d: %d conn records, want the 2 sessions held:\n%s", jobs, n, out)
		}
		if _, errs := connsJSONL(t, file, jobs); !strings.Contains(errs, want) {
			t.Errorf("conns -j %d: stderr %q, want %q", jobs, errs, want)
		}
	}
}

// sessionsCapture writes 4 SockJS sessions, a to d, one per connection,
// each an o frame and then last (a SockJS frame); ended (FIN) or open to
// the end of the capture.
func sessionsCapture(t *testing.T, last string, ended bool) string {
	return writeCapture(t, sessionsPackets(last, ended, 0))
}

// sessionsPackets are sessionsCapture's packets, from the capture's start
// plus at.
func sessionsPackets(last string, ended bool, at time.Duration) []synth.Packet {
	var pkts []synth.Packet
	for i, sid := range []string{"a", "b", "c", "d"} {
		c := synth.New("10.0.0.1:"+string(rune('5'+i))+"000", "10.0.0.2:80").At(at + time.Duration(i)*time.Second).Open()
		c.Send(true, []byte("POST /s/1/"+sid+"/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
		c.Send(true, []byte("POST /s/1/"+sid+"/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s\n", len(last)+1, last)))
		if ended {
			c.Fin(true).Fin(false)
		}
		pkts = append(pkts, c.Packets...)
	}
	return pkts
}

func writeCapture(t *testing.T, pkts []synth.Packet) string {
	file := filepath.Join(t.TempDir(), "sessions.pcap")
	var b bytes.Buffer
	if err := synth.WritePcap(&b, 0, pkts...); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestFallbackSessionsRetiredAtBound: past the bound, sessions make room
// (fbjoin's TestFinishedRetiredAtBound, TestIdleEndedEarly,
// TestBusyRetired), whether their connections ended or not: closed ones
// (c frame) are retired, the others ended early and said on stderr; every
// session is decoded, the same with -j 1 and 2 (the joiner comes after the
// merge).
func TestFallbackSessionsRetiredAtBound(t *testing.T) {
	old := fallbackSessions
	fallbackSessions = 2
	t.Cleanup(func() { fallbackSessions = old })
	for _, tc := range []struct {
		last, end, notice string
		ended             bool
	}{
		{`c[3000,"Go away!"]`, `"end":"clean"`, "", true},
		{`a["hello"]`, `"end":"open"`, "wsdump: 2 SockJS / Engine.IO sessions ended early to stay under the 2 held at once", true},
		// Connections open to the end (a proxy's keep-alive ones): the
		// sessions least recently active go.
		{`a["hello"]`, `"end":"open"`, "wsdump: 2 SockJS / Engine.IO sessions ended early to stay under the 2 held at once", false},
		{`c[3000,"Go away!"]`, `"end":"clean"`, "", false},
	} {
		file := sessionsCapture(t, tc.last, tc.ended)
		var outs [2]string
		for _, jobs := range []int{1, 2} {
			out, errs := viewJSONL(t, file, jobs)
			if strings.Contains(errs, "not decoded") || !strings.Contains(errs, tc.notice) {
				t.Errorf("%s (ended %v) -j %d: stderr %q, want %q and nothing dropped", tc.last, tc.ended, jobs, errs, tc.notice)
			}
			if n, ends := strings.Count(out, `"type":"conn"`), strings.Count(out, tc.end); n != 4 || ends != 4 {
				t.Errorf("%s (ended %v) -j %d: %d conn records, %d %s; want the 4 sessions:\n%s", tc.last, tc.ended, jobs, n, ends, tc.end, out)
			}
			outs[jobs-1] = out
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: -j 1 and -j 2 differ:\n%s\n---\n%s", tc.last, outs[0], outs[1])
		}
	}
}

// viewJSONL runs the main view on file as --format jsonl with jobs
// workers and returns its output and stderr.
func viewJSONL(t *testing.T, file string, jobs int) (out, errs string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := RunView(&ViewOptions{Out: &o, Format: "jsonl", Time: "rel", Preview: 64,
		Input: Input{Err: &e, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}

// connsJSONL runs conns on file as --format jsonl with jobs workers and
// returns its output and stderr.
func connsJSONL(t *testing.T, file string, jobs int) (out, errs string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := RunConns(&ConnsOptions{Out: &o, Format: "jsonl", Time: "rel", HealthFlags: HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second},
		Input: Input{Err: &e, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}
