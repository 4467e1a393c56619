package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// The Parquet datasets and the HTML report show an HTTP/2 connection
// wsdump did not wholly follow (h2_streams_over_limit, h2_malformed), as
// every other view does: until session 33 the conns dataset kept only
// WebSocket connections and the report named no HTTP/2 connection, so in
// both a capture whose WebSockets were hidden that way looked complete.

// h2ConnFields are the conn record's fields that tell an HTTP/2
// connection not wholly followed, as jsonl and the conns dataset have them.
type h2ConnFields struct {
	Conn   int64  `json:"conn" parquet:"conn"`
	Stream *int64 `json:"stream" parquet:"stream,optional"`
	Client string `json:"client" parquet:"client"`
	Server string `json:"server" parquet:"server"`
	End    string `json:"end" parquet:"end"`
	C2S    struct {
		SkippedBytes int64 `json:"skipped_bytes" parquet:"skipped_bytes"`
		LostBytes    int64 `json:"lost_bytes" parquet:"lost_bytes"`
	} `json:"c2s" parquet:"c2s"`
	S2C struct {
		SkippedBytes int64 `json:"skipped_bytes" parquet:"skipped_bytes"`
		LostBytes    int64 `json:"lost_bytes" parquet:"lost_bytes"`
	} `json:"s2c" parquet:"s2c"`
	HTTP2 *struct {
		Streams            int64   `json:"streams" parquet:"streams"`
		Requests           int64   `json:"requests" parquet:"requests"`
		RequestBytes       *int64  `json:"request_bytes" parquet:"request_bytes,optional"`
		WebSockets         int64   `json:"websockets" parquet:"websockets"`
		StreamsNotFollowed *int64  `json:"streams_not_followed" parquet:"streams_not_followed,optional"`
		GoAway             *string `json:"goaway" parquet:"goaway,optional"`
	} `json:"http2" parquet:"http2,optional"`
	Anomalies []string `json:"anomalies" parquet:"anomalies,list"`
}

// h2NotFollowedViews checks the conns dataset's row and the HTML report's
// table for the HTTP/2 connection (conn 1) of capture f against its jsonl
// conn record; notFollowed is what the report's NOT FOLLOWED cell says.
func h2NotFollowedViews(t *testing.T, f, notFollowed string) {
	t.Helper()
	var want *h2ConnFields
	for _, l := range strings.Split(runJobs(t, "-r", f, "--format", "jsonl"), "\n") {
		if strings.HasPrefix(l, `{"type":"conn",`) && strings.Contains(l, `"end":"not_websocket"`) {
			if want != nil {
				t.Fatalf("jsonl: two not_websocket conn records")
			}
			want = new(h2ConnFields)
			if err := json.Unmarshal([]byte(l), want); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want == nil || want.HTTP2 == nil {
		t.Fatalf("jsonl: no not_websocket conn record with http2")
	}

	dir := t.TempDir()
	writeParquet(t, f, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "conns", "*", "*.parquet"))
	var got []h2ConnFields
	for _, p := range files {
		rows, err := parquet.ReadFile[h2ConnFields](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.End == "not_websocket" {
				got = append(got, r)
			}
		}
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], *want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("parquet conns: not_websocket rows %s, want the jsonl's %s", gj, wj)
	}

	doc, _ := reportHTML(t, f)
	var rows [][]string
	for _, tb := range elements(doc, "table", "") {
		if attr(tb, "id") == "http2" {
			for _, tr := range elements(tb, "tr", "") {
				var cells []string
				for _, td := range elements(tr, "td", "") {
					cells = append(cells, textOf(td))
				}
				rows = append(rows, cells)
			}
		}
	}
	// CONN, START, DUR, CLIENT, SERVER, STREAMS, WEBSOCKETS, NOT FOLLOWED, SKIPPED B, LOST B, ANOMALIES
	if len(rows) != 2 || len(rows[1]) != 11 {
		t.Fatalf("report: table http2 rows %q, want its head and the connection's 11 cells", rows)
	}
	r := rows[1]
	got2 := []string{r[0], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]}
	want2 := append([]string{"1", want.Client, want.Server, itoa(int(want.HTTP2.Streams)), itoa(int(want.HTTP2.WebSockets)), notFollowed,
		itoa(int(want.C2S.SkippedBytes + want.S2C.SkippedBytes)), itoa(int(want.C2S.LostBytes + want.S2C.LostBytes))}, strings.Join(want.Anomalies, ","))
	if !reflect.DeepEqual(got2, want2) {
		t.Errorf("report: http2 row %q, want %q", got2, want2)
	}
	wantIn(t, "report", textOf(doc), "1 HTTP/2 connection not wholly followed")
}

func TestH2StreamsOverBoundParquetReport(t *testing.T) {
	f := h2OverBoundCapture(t, 3)
	h2NotFollowedViews(t, f, "3 of 1003 streams (h2_streams_over_limit)")
}

func TestH2MalformedParquetReport(t *testing.T) {
	h2NotFollowedViews(t, h2MalformedCapture(t), "framing (h2_malformed)")
}
