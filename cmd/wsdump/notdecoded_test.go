package main

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
)

// Bytes that are not decoded must show on a record, in every view that
// reports their connection, the same for any -j.

// runJobs runs wsdump with -j 1 and -j 3, requires the same exit status,
// stderr and output, and returns the output.
func runJobs(t *testing.T, args ...string) string {
	t.Helper()
	out1, err1, code1 := runWsdump(t, nil, append(args, "-j", "1")...)
	out3, err3, code3 := runWsdump(t, nil, append(args, "-j", "3")...)
	if code1 != code3 || err1 != err3 || out1 != out3 {
		t.Fatalf("%q: -j 1 (exit %d, %d bytes, stderr %q) differs from -j 3 (exit %d, %d bytes, stderr %q)",
			args, code1, len(out1), err1, code3, len(out3), err3)
	}
	return out1
}

func wantIn(t *testing.T, view, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: no %q in:\n%.3000s", view, w, out)
		}
	}
}

// brokenFallback is a SockJS xhr poll after which both sides break HTTP
// framing (9 and 10 bytes of junk heads), then send 3 000 and 5 000 bytes
// more.
func brokenFallback(t *testing.T) string { return writeSynth(t, 0, brokenFallbackConv()) }

func brokenFallbackConv() *synth.Conv {
	c := synth.New("10.0.0.1:5000", "10.0.0.2:80").Open()
	c.Send(true, []byte("POST /s/1/a/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
	c.Send(false, []byte("JUNK1\r\n\r\n"))
	c.Send(true, []byte("JUNK22\r\n\r\n"))
	c.Send(false, []byte(strings.Repeat("s", 3000)))
	c.Send(true, []byte(strings.Repeat("c", 5000)))
	c.Fin(true).Fin(false)
	return c
}

// TestFallbackEndAfterCountedBytes: the bytes a session's connection
// carried after its last request (junk, counted in the session's
// skipped_bytes) came before the session's end: it ends with that
// connection (its later FIN), in jsonl and conns alike. Its last_ts stayed
// at its last message, 11 ms before the bytes it counted.
func TestFallbackEndAfterCountedBytes(t *testing.T) {
	c := brokenFallbackConv()
	f := writeSynth(t, 0, c)
	end := `"last_ts":"` + c.Packets[len(c.Packets)-1].TS.UTC().Format("2006-01-02T15:04:05.000000000Z") + `"`
	wantIn(t, "jsonl", runJobs(t, "-r", f, "--format", "jsonl"), end, `"skipped_bytes":5010,`)
	wantIn(t, "conns jsonl", runJobs(t, "conns", "-r", f, "--format", "jsonl"), end)
}

// TestFallbackBothSidesBrokenCounted: once both sides of a fallback
// session's connection broke HTTP framing, the decoder said it was done
// and the reassembly stopped feeding the connection: the bytes after
// were in no count (skipped 10 and 9 bytes, not 5 010 and 3 009).
func TestFallbackBothSidesBrokenCounted(t *testing.T) {
	f := brokenFallback(t)
	wantIn(t, "jsonl", runJobs(t, "-r", f, "--format", "jsonl"), `"lost_bytes":0,"skipped_bytes":5010,`, `"lost_bytes":0,"skipped_bytes":3009,`, `"anomalies":["fallback_framing"]}`)
}

// TestConnsFallbackSkipped: conns --format jsonl's conn records carry
// skipped_bytes beside lost_bytes when there are any (a fallback
// session's included: it had none).
func TestConnsFallbackSkipped(t *testing.T) {
	f := brokenFallback(t)
	out := runJobs(t, "conns", "-r", f, "--format", "jsonl")
	wantIn(t, "conns jsonl", out, `"transport":"xhr-polling"`, `"lost_bytes":0,"skipped_bytes":5010,"tcp_fin"`, `"lost_bytes":0,"skipped_bytes":3009,"tcp_fin"`)
	// Omitted when zero, as the conns records were before.
	out = runJobs(t, "conns", "-r", "../../testdata/pcaps/gen__ws-node-basic.pcap", "--format", "jsonl")
	if strings.Contains(out, "skipped_bytes") {
		t.Errorf("skipped_bytes on a capture that skipped nothing:\n%.2000s", out)
	}
}

// TestFallbackLostCounted: what a fallback session's TCP connection lost
// from the capture is its lost_bytes, as README's fallback_framing says. A
// SockJS poll, then an xhr_send whose body's second segment (700 bytes)
// is lost: the connection was HTTP, not WebSocket, so the decoder's gap
// counted nothing (lost_bytes 0 beside capture_truncated), though the
// fallback decoder was reading it.
func TestFallbackLostCounted(t *testing.T) {
	c := synth.New("10.0.0.1:5000", "10.0.0.2:80").Open()
	c.Send(true, []byte("POST /s/1/a/xhr HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
	c.Send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no\n"))
	c.Send(true, []byte("POST /s/1/a/xhr_send HTTP/1.1\r\nHost: h\r\nContent-Length: 1500\r\n\r\n"))
	c.Send(true, []byte(`["`+strings.Repeat("a", 698)))
	c.Send(false, []byte("JUNK\r\n\r\n"))
	c.DropNext = 1
	c.Send(true, []byte(strings.Repeat("b", 700)))
	c.Send(true, []byte(strings.Repeat("c", 98)+`"]`))
	c.Fin(true).Fin(false)
	f := writeSynth(t, 0, c)
	const want = `"lost_bytes":700,`
	wantIn(t, "jsonl", runJobs(t, "-r", f, "--format", "jsonl"), want)
	wantIn(t, "conns jsonl", runJobs(t, "conns", "-r", f, "--format", "jsonl"), want)
	wantIn(t, "table", runJobs(t, "-r", f), "c2s lost 700B")
}
