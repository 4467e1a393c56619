package main

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestH2StreamsOverBoundOnRecord: the streams an HTTP/2 connection opened
// while 1 000 were open are not followed; until session 32 only a stderr
// notice counted them, and their DATA went to skipped bytes no record
// showed. Now the HTTP/2 connection's record says so in every view that
// reports it: its end in jsonl, the table and csv (reported without
// Config.EndAll for this), http2_conn and the conns table, and lint.
func TestH2StreamsOverBoundOnRecord(t *testing.T) {
	const extra = 3
	f := h2OverBoundCapture(t, extra)
	skipped := extra * len(synth.WSFrame(true, wsparse.OpText, []byte("hi"))) // the DATA of the streams not followed

	out := runJobs(t, "-r", f, "--format", "jsonl")
	wantIn(t, "jsonl", out, `"end":"not_websocket","http2":{"streams":1003,"requests":0,"websockets":1000,"streams_not_followed":3},"anomalies":["h2_streams_over_limit"]}`,
		`"c2s":{"frames":0,"messages":0,"control_frames":0,"payload_bytes":0,"wire_bytes":0,"lost_bytes":0,"skipped_bytes":`+itoa(skipped)+`,`)
	if n := countType(out, "conn"); n != 1001 {
		t.Errorf("jsonl: %d conn records, want the 1 000 streams' and the HTTP/2 connection's", n)
	}
	wantIn(t, "table", runJobs(t, "-r", f), "not_websocket, HTTP/2 streams 1003, 3 not followed (h2_streams_over_limit), c2s lost 0B skipped "+itoa(skipped)+"B")
	wantIn(t, "csv", runJobs(t, "-r", f, "--format", "csv"), `conn,1,`, `h2_streams_over_limit`)
	wantIn(t, "conns jsonl", runJobs(t, "conns", "-r", f, "--format", "jsonl"),
		`"streams":1003,"websockets":1000,"requests":0,"request_bytes":0,"streams_not_followed":3,"skipped_bytes":`+itoa(skipped)+`,"anomalies":["h2_streams_over_limit"]}`)
	wantIn(t, "conns", runJobs(t, "conns", "-r", f), "SKIPPED  LOST  ANOMALIES", " "+itoa(skipped)+"       0     h2_streams_over_limit (3 streams)")
	out, errs, _ := runWsdump(t, nil, "lint", "-r", f, "--fail-on", "none")
	wantIn(t, "lint", out+errs, "WS508 h2-streams-over-limit", "HTTP/2: 3 of 1003 streams not followed, "+itoa(skipped)+" bytes skipped")
	runJobs(t, "lint", "-r", f, "--format", "jsonl", "--fail-on", "none")
}

// h2OverBoundCapture writes an HTTP/2 connection that opens 1 000 + extra
// WebSocket streams, each sending a frame, none closed.
func h2OverBoundCapture(t *testing.T, extra uint32) string {
	h := synth.NewH2()
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(false, h.ConnectProtocol())
	cl := h.Preface()
	frame := synth.WSFrame(true, wsparse.OpText, []byte("hi"))
	for i := range 1000 + extra {
		cl = append(cl, h.Headers(true, 2*i+1, false, synth.ExtendedConnect("/s")...)...)
		cl = append(cl, h.Data(true, 2*i+1, false, frame)...)
	}
	c.Send(true, cl)
	return writeSynth(t, 0, c)
}

// TestH2OverBoundLintDetail: lint's detail for h2_streams_over_limit
// (streams not followed, bytes skipped) is WS508's only: an HTTP/2
// connection that also broke framing (a CONTINUATION out of place) gave
// WS507 the same detail, which says nothing of its framing.
func TestH2OverBoundLintDetail(t *testing.T) {
	h := synth.NewH2()
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(false, h.ConnectProtocol())
	cl := h.Preface()
	frame := synth.WSFrame(true, wsparse.OpText, []byte("hi"))
	for i := range uint32(1003) {
		cl = append(cl, h.Headers(true, 2*i+1, false, synth.ExtendedConnect("/s")...)...)
		cl = append(cl, h.Data(true, 2*i+1, false, frame)...)
	}
	cl = append(cl, 0, 0, 0, 9, 4, 0, 0, 0, 1) // CONTINUATION, END_HEADERS, stream 1, no HEADERS before it
	c.Send(true, cl)
	f := writeSynth(t, 0, c)
	out := runJobs(t, "lint", "-r", f, "--fail-on", "none")
	var ws507, ws508 string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "WS507") && strings.Contains(l, "conn 1 connection") {
			ws507 = l
		}
		if strings.Contains(l, "WS508") {
			ws508 = l
		}
	}
	if !strings.HasSuffix(ws507, "not_websocket") || strings.Contains(ws507, "not followed") {
		t.Errorf("WS507 on the HTTP/2 connection: %q, want its end (not_websocket) as the detail", ws507)
	}
	if !strings.HasSuffix(ws508, "HTTP/2: 3 of 1003 streams not followed, 24 bytes skipped") {
		t.Errorf("WS508: %q", ws508)
	}
}

// TestH2MalformedOnRecord: an HTTP/2 connection whose framing wsdump
// could not follow (here a CONTINUATION with no HEADERS before it, then an
// extended CONNECT and a WebSocket frame it can no longer see) had no
// record in the default views and no lint finding: what was not decoded,
// a WebSocket maybe, left no trace. Its end is reported now, as for
// h2_streams_over_limit.
func TestH2MalformedOnRecord(t *testing.T) {
	f := h2MalformedCapture(t)
	wantIn(t, "jsonl", runJobs(t, "-r", f, "--format", "jsonl"), `"end":"not_websocket","http2":{"streams":`, `"anomalies":["h2_malformed"]}`)
	wantIn(t, "table", runJobs(t, "-r", f), "not_websocket, HTTP/2 streams 1, framing not followed (h2_malformed)")
	out, _, _ := runWsdump(t, nil, "lint", "-r", f, "--fail-on", "none")
	wantIn(t, "lint", out, "WS507 h2-malformed")
}

// h2MalformedCapture writes an HTTP/2 connection whose client sends a
// CONTINUATION with no HEADERS before it, then an extended CONNECT and a
// WebSocket frame.
func h2MalformedCapture(t *testing.T) string {
	h := synth.NewH2()
	c := synth.New("192.0.2.1:40000", "192.0.2.2:80").Open()
	c.Send(false, h.ConnectProtocol())
	cl := h.Preface()
	cl = append(cl, 0, 0, 0, 9, 4, 0, 0, 0, 1) // CONTINUATION, END_HEADERS, stream 1, no HEADERS before it
	cl = append(cl, h.Headers(true, 3, false, synth.ExtendedConnect("/s")...)...)
	cl = append(cl, h.Data(true, 3, false, synth.WSFrame(true, wsparse.OpText, []byte("hidden")))...)
	c.Send(true, cl)
	return writeSynth(t, 0, c)
}
