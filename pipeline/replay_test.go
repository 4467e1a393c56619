package pipeline_test

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// These tests measure report's rendering. They live in pipeline, beside
// the decoding chain that makes their records: in report's tests, pipeline
// (and dataset, Parquet with it) was compiled again against report's test
// build and linked into report.test, on every change to wsparse.

// replayCapture is a real capture with many small and some large
// messages, text and binary, fragments, pings and a close.
const replayCapture = "../testdata/pcaps/gen__ws-node-chatty-mtu.pcap"

// capturedRecords reads a capture through the decoding chain of
// `wsdump -r F -j 1` and keeps a copy of every record, so that rendering
// can be measured apart from decoding.
func capturedRecords(tb testing.TB, path string) []record.Record {
	tb.Helper()
	src, err := capture.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var recs []record.Record
	keep := record.Func(func(r *record.Record) { recs = append(recs, copyRecord(r)) })
	asm := pipeline.NewApps(keep, pipeline.AppOptions{Apps: true}, reassembly.Options{}, 1)
	if err := pipeline.Feed(src, asm, pipeline.FeedOptions{}); err != nil {
		tb.Fatal(err)
	}
	asm.Finish()
	if len(recs) == 0 {
		tb.Fatalf("%s: no records", path)
	}
	return recs
}

// copyRecord copies what a record points to that its producer reuses.
func copyRecord(r *record.Record) record.Record {
	cp := *r
	if r.Frame != nil {
		f := *r.Frame
		f.Payload = bytes.Clone(f.Payload)
		cp.Frame = &f
	}
	if r.Message != nil {
		m := *r.Message
		m.Data = bytes.Clone(m.Data)
		cp.Message = &m
	}
	if r.Handshake != nil {
		h := *r.Handshake
		cp.Handshake = &h
	}
	if r.Summary != nil {
		s := *r.Summary
		cp.Summary = &s
	}
	cp.Apps = slices.Clone(r.Apps)
	for i := range cp.Apps {
		a := &cp.Apps[i]
		a.Own() // fields lent by the session (appproto.Session.BorrowBodies)
		a.Body, a.Fields, a.Anomalies = bytes.Clone(a.Body), slices.Clone(a.Fields), slices.Clone(a.Anomalies)
	}
	return cp
}

// replayViews are the views measured: jsonl, the default table, and
// --messages.
var replayViews = []report.Options{{Format: "jsonl"}, {Format: "table"}, {Format: "table", Messages: true}, {Format: "csv"}}

func viewName(o report.Options) string {
	if o.Messages {
		return o.Format + "-messages"
	}
	return o.Format
}

// BenchmarkReplay renders the records of a real capture in each view,
// to io.Discard: the cost of the view alone. Bytes are the payloads'.
func BenchmarkReplay(b *testing.B) {
	recs := capturedRecords(b, replayCapture)
	var n int64
	for i := range recs {
		if recs[i].Kind == record.Frame {
			n += int64(len(recs[i].Frame.Payload))
		}
	}
	for _, opts := range replayViews {
		b.Run(viewName(opts), func(b *testing.B) {
			exp, err := report.New(io.Discard, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range recs {
					exp.Put(&recs[i])
				}
			}
			exp.Close()
		})
	}
}

// TestReplayAllocs: rendering a frame or a message record allocates
// nothing, in jsonl, the table and --messages (the table used to make a
// string of every cell: four or five allocations a row). Counted over
// the frames and messages of a real capture, after one pass that sizes
// the buffers.
func TestReplayAllocs(t *testing.T) {
	recs := capturedRecords(t, replayCapture)
	var data []record.Record
	for _, r := range recs {
		if r.Kind == record.Frame || r.Kind == record.Message {
			data = append(data, r)
		}
	}
	for _, opts := range replayViews[:3] {
		exp, err := report.New(io.Discard, opts)
		if err != nil {
			t.Fatal(err)
		}
		put := func() {
			for i := range data {
				exp.Put(&data[i])
			}
		}
		put()
		if got := testing.AllocsPerRun(3, put); got != 0 {
			t.Errorf("%s: %v allocations for %d frame and message records, want 0", viewName(opts), got, len(data))
		}
		exp.Close()
	}
}

// TestReplayCapture: the records kept for the benchmark are the
// capture's (a test of the helper: frames, messages, and a payload).
func TestReplayCapture(t *testing.T) {
	recs := capturedRecords(t, replayCapture)
	count := map[record.Kind]int{}
	big := 0
	for _, r := range recs {
		count[r.Kind]++
		if r.Kind == record.Message && len(r.Message.Data) > 20000 && r.Message.Opcode != wsparse.OpClose {
			big++
		}
	}
	if got := fmt.Sprint(count[record.Handshake], count[record.End], big); got != "1 1 6" || count[record.Frame] < 2000 {
		t.Errorf("handshakes, ends, large messages: %s; frames %d", got, count[record.Frame])
	}
}
