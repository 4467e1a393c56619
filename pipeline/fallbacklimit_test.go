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
// past the bound fbjoin holds are counted by the joiner (fbjoin's
// TestSessionsPastLimitCounted) and carried by withJoiner into the
// assembler's Stats, which the limit notice on stderr reads: here for
// the main view and conns, with -j 1 and 2.
// The bound is lowered to 2 (fallbackSessions) so that 4 sessions pass
// it, rather than 65 538. The sessions' connections are open to the end of
// the capture: none can be retired to make room.
func TestFallbackSessionsPastBoundNoticed(t *testing.T) {
	old := fallbackSessions
	fallbackSessions = 2
	t.Cleanup(func() { fallbackSessions = old })
	file := sessionsCapture(t, "a[\"hello\"]", false)
	// Sessions c and d: an o frame and an a frame each (4 messages, 1 + 10
	// bytes each: the newline ends a frame), and their 4 requests.
	const want = "wsdump: 4 SockJS / Engine.IO messages (22 bytes) and 4 HTTP requests of fallback sessions past the 2 held at once were not decoded\n"
	for _, jobs := range []int{1, 2} {
		var out, errs bytes.Buffer
		o := &ViewOptions{Out: &out, Format: "jsonl", Time: "rel", Preview: 64,
			Input: Input{Err: &errs, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
		if err := RunView(o); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errs.String(), want) {
			t.Errorf("-j %d: stderr %q, want %q", jobs, errs.String(), want)
		}
		if n := strings.Count(out.String(), `"type":"conn"`); n != 2 {
			t.Errorf("-j %d: %d conn records, want the 2 sessions held:\n%s", jobs, n, out.String())
		}
		out.Reset()
		errs.Reset()
		c := &ConnsOptions{Out: &out, Format: "jsonl", Time: "rel", Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second,
			Input: Input{Err: &errs, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
		if err := RunConns(c); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errs.String(), want) {
			t.Errorf("conns -j %d: stderr %q, want %q", jobs, errs.String(), want)
		}
	}
}

// sessionsCapture writes 4 SockJS sessions, a to d, one per connection,
// each an o frame and then last (a SockJS frame); ended (FIN) or open to
// the end of the capture.
func sessionsCapture(t *testing.T, last string, ended bool) string {
	var pkts []synth.Packet
	for i, sid := range []string{"a", "b", "c", "d"} {
		c := synth.New("10.0.0.1:"+string(rune('5'+i))+"000", "10.0.0.2:80").At(time.Duration(i) * time.Second).Open()
		c.Send(true, []byte("POST /s/1/"+sid+"/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
		c.Send(true, []byte("POST /s/1/"+sid+"/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
		c.Send(false, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s\n", len(last)+1, last)))
		if ended {
			c.Fin(true).Fin(false)
		}
		pkts = append(pkts, c.Packets...)
	}
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

// TestFallbackSessionsRetiredAtBound: past the bound, sessions whose
// connections ended make room (fbjoin's TestFinishedRetiredAtBound,
// TestIdleEndedEarly): closed ones (c frame) are retired, the others ended
// early and said on stderr; every session is decoded, the same with -j 1
// and 2 (the joiner comes after the merge).
func TestFallbackSessionsRetiredAtBound(t *testing.T) {
	old := fallbackSessions
	fallbackSessions = 2
	t.Cleanup(func() { fallbackSessions = old })
	for _, tc := range []struct{ last, end, notice string }{
		{`c[3000,"Go away!"]`, `"end":"clean"`, ""},
		{`a["hello"]`, `"end":"open"`, "wsdump: 2 SockJS / Engine.IO sessions ended early to stay under the 2 held at once"},
	} {
		file := sessionsCapture(t, tc.last, true)
		var outs [2]string
		for _, jobs := range []int{1, 2} {
			var out, errs bytes.Buffer
			o := &ViewOptions{Out: &out, Format: "jsonl", Time: "rel", Preview: 64,
				Input: Input{Err: &errs, Reads: []string{file}, Jobs: jobs, MaxPayload: 16 << 20, MaxMessage: 16 << 20}}
			if err := RunView(o); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(errs.String(), "not decoded") || !strings.Contains(errs.String(), tc.notice) {
				t.Errorf("%s -j %d: stderr %q, want %q and nothing dropped", tc.last, jobs, errs.String(), tc.notice)
			}
			if n, ends := strings.Count(out.String(), `"type":"conn"`), strings.Count(out.String(), tc.end); n != 4 || ends != 4 {
				t.Errorf("%s -j %d: %d conn records, %d %s; want the 4 sessions:\n%s", tc.last, jobs, n, ends, tc.end, out.String())
			}
			outs[jobs-1] = out.String()
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: -j 1 and -j 2 differ:\n%s\n---\n%s", tc.last, outs[0], outs[1])
		}
	}
}
