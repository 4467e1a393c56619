package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// day writes a day of records: n connections starting at t0, each a
// handshake, a masked text frame and its message (decoded as JSON), a
// binary frame and message, a close exchange and the conn record.
func day(t *testing.T, w *Writer, t0 time.Time, n int) {
	t.Helper()
	w.SetOrigin(t0)
	for i := 1; i <= n; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		c := wsparse.NewView(i, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:8080")})
		h := &wsparse.Handshake{RequestTS: at, TS: at.Add(time.Millisecond), Method: "GET", URI: "/ws", HTTPVersion: "HTTP/1.1",
			Host: "example", Status: 101, Reason: "Switching Protocols", Key: "k", Accept: "a", AcceptValid: true,
			Deflate: true, DeflateParams: wsparse.DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}}
		w.Handshake(c, h)
		text := []byte(`{"type":"chat","n":` + string(rune('0'+i%10)) + `}`)
		bin := []byte{0, 1, 2, 0xff, 0xfe}
		fr := func(d wsparse.Dir, idx int, op wsparse.Opcode, p []byte, ts time.Time) *wsparse.Frame {
			return &wsparse.Frame{Dir: d, TS: ts, Index: idx, Payload: p,
				Header: wsparse.Header{Fin: true, Opcode: op, Masked: d == wsparse.ClientToServer, MaskKey: [4]byte{1, 2, 3, 4}, Length: uint64(len(p)), Size: 6}}
		}
		ts1 := at.Add(2 * time.Millisecond)
		w.Frame(c, fr(wsparse.ClientToServer, 1, wsparse.OpText, text, ts1))
		m := &wsparse.Message{Dir: wsparse.ClientToServer, TS: ts1, Index: 1, Opcode: wsparse.OpText, Frames: 1, Len: uint64(len(text)), Data: text}
		w.MessageApps(c, m, appproto.New(nil, appproto.ModeAuto).Message(m))
		ts2 := at.Add(3 * time.Millisecond)
		w.Frame(c, fr(wsparse.ServerToClient, 1, wsparse.OpBinary, bin, ts2))
		w.Message(c, &wsparse.Message{Dir: wsparse.ServerToClient, TS: ts2, Index: 1, Opcode: wsparse.OpBinary, Frames: 1, Len: uint64(len(bin)), Data: bin})
		cl := fr(wsparse.ClientToServer, 2, wsparse.OpClose, []byte{0x03, 0xf3}, at.Add(4*time.Millisecond))
		cl.HasCloseCode, cl.CloseCode = true, 1011
		w.Frame(c, cl)
		s := &wsparse.Summary{First: at, Last: at.Add(5 * time.Millisecond), Handshake: h, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean}
		s.Stats[0] = wsparse.DirStats{Frames: 2, Messages: 1, ControlFrames: 1, PayloadBytes: uint64(len(text) + 2)}
		s.Stats[1] = wsparse.DirStats{Frames: 1, Messages: 1, PayloadBytes: uint64(len(bin))}
		s.Close[0] = wsparse.CloseInfo{TS: cl.TS, Code: 1011, HasCode: true, Sent: true}
		w.End(c, s)
	}
}

// files maps every file under dir (hidden ones included) to its SHA-256.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	return out
}

func write(t *testing.T, o Options, t0 time.Time, n int) *Writer {
	t.Helper()
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	day(t, w, t0, n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func openFile(t *testing.T, path string) *parquet.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// TestSchema reads the files back with parquet-go: the column types
// (TIMESTAMP(NANOS, UTC), payloads BINARY, app a string), zstd, the row
// counts of every dataset and the values.
func TestSchema(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)
	w := write(t, Options{Dir: dir}, t0, 3)
	want := map[string]int64{"handshakes": 3, "frames": 9, "messages": 6, "conns": 3}
	got := map[string]int64{}
	for _, f := range w.Files() {
		ds := strings.Split(f, string(filepath.Separator))[0]
		if !strings.HasPrefix(filepath.Base(f), "part-"+w.ID()) || filepath.Base(filepath.Dir(f)) != "date=2026-12-04" {
			t.Errorf("file %s: want <dataset>/date=2026-12-04/part-%s.parquet", f, w.ID())
		}
		got[ds] += openFile(t, filepath.Join(dir, f)).NumRows()
	}
	for ds, n := range want {
		if got[ds] != n {
			t.Errorf("%s: %d rows, want %d", ds, got[ds], n)
		}
	}
	frames := openFile(t, filepath.Join(dir, "frames", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	col := func(f *parquet.File, path ...string) parquet.Node {
		leaf, ok := f.Schema().Lookup(path...)
		if !ok {
			t.Fatalf("no column %v in %s", path, f.Schema())
		}
		return leaf.Node
	}
	logical := func(n parquet.Node) string {
		if lt := n.Type().LogicalType(); lt != nil {
			return lt.String()
		}
		return ""
	}
	if got := logical(col(frames, "ts")); got != "TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)" {
		t.Errorf("frames.ts: logical type %q, want TIMESTAMP(isAdjustedToUTC=true,unit=NANOS)", got)
	}
	if n := col(frames, "payload"); n.Type().Kind() != parquet.ByteArray || logical(n) != "" {
		t.Errorf("frames.payload: %v %q, want BYTE_ARRAY without a logical type (BINARY)", n.Type().Kind(), logical(n))
	}
	for _, cc := range frames.Metadata().RowGroups[0].Columns {
		if cc.MetaData.Codec.String() != "ZSTD" {
			t.Errorf("column %v: codec %v, want ZSTD", cc.MetaData.PathInSchema, cc.MetaData.Codec)
		}
	}
	msgs := openFile(t, filepath.Join(dir, "messages", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if n := col(msgs, "data"); n.Type().Kind() != parquet.ByteArray || logical(n) != "" {
		t.Errorf("messages.data: %v %q, want BINARY", n.Type().Kind(), logical(n))
	}
	if got := logical(col(msgs, "app")); got != "STRING" {
		t.Errorf("messages.app: %q, want STRING (JSON text)", got)
	}
	rows, err := parquet.ReadFile[messageRow](filepath.Join(dir, "messages", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || !rows[0].TS.Equal(t0.Add(time.Second+2*time.Millisecond)) || rows[0].App == nil ||
		!strings.Contains(*rows[0].App, `"protocol":"json"`) || !bytes.Equal(rows[1].Data, []byte{0, 1, 2, 0xff, 0xfe}) ||
		rows[1].App != nil || rows[0].Capture != w.ID() || rows[0].Conn != 1 {
		t.Errorf("messages read back: %+v", rows)
	}
	cr, err := parquet.ReadFile[connRow](filepath.Join(dir, "conns", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cr) != 3 || cr[2].Close == nil || cr[2].Close.Client == nil || *cr[2].Close.Client.Code != 1011 || cr[2].Close.Server != nil || cr[2].C2S.Frames != 2 {
		t.Errorf("conns read back: %+v", cr)
	}
}

// TestAppend: a second day written into the same root adds files and
// leaves the first day's byte-identical; the same capture written again
// gets new part names; a part name that exists is an error, and the file
// there is left as it was.
func TestAppend(t *testing.T) {
	dir := t.TempDir()
	day1 := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	w1 := write(t, Options{Dir: dir}, day1, 2)
	before := files(t, dir)
	if len(before) != len(w1.Files()) || len(before) < 5 {
		t.Fatalf("day 1: files %v, written %v", before, w1.Files())
	}
	w2 := write(t, Options{Dir: dir}, day1.Add(24*time.Hour), 2)
	w3 := write(t, Options{Dir: dir}, day1, 2) // day 1 again
	after := files(t, dir)
	for f, sum := range before {
		if after[f] != sum {
			t.Errorf("%s: changed or gone after day 2 and a second run of day 1", f)
		}
	}
	if w1.ID() == w3.ID() {
		t.Errorf("the same capture twice: one part id %s", w1.ID())
	}
	if len(after) != 3*len(before) {
		t.Errorf("%d files after three runs, want %d: %v", len(after), 3*len(before), slices.Sorted(mapsKeys(after)))
	}
	for _, f := range w2.Files() {
		if !strings.Contains(f, "date=2026-12-05") {
			t.Errorf("day 2 file %s not under date=2026-12-05", f)
		}
	}
	// A part id given twice: refused, nothing replaced.
	w, err := New(Options{Dir: dir, ID: w1.ID()})
	if err != nil {
		t.Fatal(err)
	}
	day(t, w, day1, 1)
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a run over an existing part name: err %v, want an error saying it exists", err)
	}
	final := files(t, dir)
	if len(final) != len(after) {
		t.Errorf("the refused run left %d files, want %d", len(final), len(after))
	}
	for f, sum := range after {
		if final[f] != sum {
			t.Errorf("%s: changed by the refused run", f)
		}
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestPartitions: records are dated by their own time: connections on
// both sides of midnight land in two partitions; past maxOpen dates at
// once, a date's later records go to a new file (-2), none lost.
func TestPartitions(t *testing.T) {
	dir := t.TempDir()
	w, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 23, 59, 58, 0, time.UTC)
	day(t, w, t0, 3) // 23:59:59, 00:00:00, 00:00:01
	// Six dates, twice round: more than maxOpen open at once.
	for round := 0; round < 2; round++ {
		for d := 0; d < 6; d++ {
			day(t, w, time.Date(2027, 1, 1+d, 12, round, 0, 0, time.UTC), 1)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var handshakes int64
	dates := map[string]int{}
	for _, f := range w.Files() {
		if strings.HasPrefix(f, "handshakes") {
			handshakes += openFile(t, filepath.Join(dir, f)).NumRows()
			dates[filepath.Base(filepath.Dir(f))]++
		}
	}
	if handshakes != 3+12 {
		t.Errorf("%d handshake rows, want 15", handshakes)
	}
	if dates["date=2026-12-04"] != 1 || dates["date=2026-12-05"] != 1 || dates["date=2027-01-01"] != 2 {
		t.Errorf("handshake files by date: %v; want one each side of midnight and two for 2027-01-01 (closed and reopened)", dates)
	}
	if _, err := os.Stat(filepath.Join(dir, "handshakes", "date=2027-01-01", "part-"+w.ID()+"-2.parquet")); err != nil {
		t.Errorf("the reopened date's second file: %v", err)
	}
}

// TestRowGroups: a row group ends at RowGroupRows rows or RowGroupBytes
// of payload.
func TestRowGroups(t *testing.T) {
	dir := t.TempDir()
	w := write(t, Options{Dir: dir, RowGroupRows: 4, RowGroupBytes: 1 << 30}, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), 5)
	f := openFile(t, filepath.Join(dir, "frames", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if n := len(f.RowGroups()); n != 4 { // 15 frames: 4+4+4+3
		t.Errorf("15 frames, 4 rows a group: %d row groups, want 4", n)
	}
	dir = t.TempDir()
	w = write(t, Options{Dir: dir, RowGroupRows: 1000, RowGroupBytes: 10}, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), 5)
	f = openFile(t, filepath.Join(dir, "messages", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	// Text (14 bytes: ends its group), binary (5), text, ...: [t] [b t] [b t] [b t] [b t] [b].
	if n := len(f.RowGroups()); n != 6 {
		t.Errorf("10 messages, 10 payload bytes a group: %d row groups, want 6", n)
	}
}

// TestFileRowGroups: a file ends after FileRowGroups row groups and the
// date's next records go on in its next file; every row is in one file.
func TestFileRowGroups(t *testing.T) {
	dir := t.TempDir()
	w := write(t, Options{Dir: dir, RowGroupRows: 2, FileRowGroups: 3}, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC), 5)
	// 15 frames, 2 rows a group, 3 groups a file: 6 + 6 + 3 rows.
	want := map[string][2]int64{"": {6, 3}, "-2": {6, 3}, "-3": {3, 2}}
	for suffix, rg := range want {
		f := openFile(t, filepath.Join(dir, "frames", "date=2026-12-04", "part-"+w.ID()+suffix+".parquet"))
		if f.NumRows() != rg[0] || int64(len(f.RowGroups())) != rg[1] {
			t.Errorf("frames file %q: %d rows in %d row groups, want %d in %d", suffix, f.NumRows(), len(f.RowGroups()), rg[0], rg[1])
		}
	}
	var frames int
	for _, f := range w.Files() {
		if strings.HasPrefix(f, "frames"+string(filepath.Separator)) {
			frames++
		}
	}
	if frames != 3 {
		t.Errorf("%d frames files, want 3", frames)
	}
}

// TestStreamColumn: a WebSocket over HTTP/2 (RFC 8441) is written as the
// jsonl writes it: "conn" the TCP connection's number, "stream" its
// HTTP/2 stream, and its conn row "stream_end"; an HTTP/1.1 WebSocket has
// a null stream. A message of a SockJS or Engine.IO session over HTTP has
// its "transport".
func TestStreamColumn(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir})
	for _, id := range []int{wsparse.StreamID(3, 5), 4} {
		c := wsparse.NewView(id, ends)
		m := &wsparse.Message{Dir: wsparse.ClientToServer, TS: t0, Index: 1, Opcode: wsparse.OpText, Frames: 1, Len: 2, Data: []byte("hi")}
		if id == 4 {
			m.Fallback = &wsparse.Fallback{Transport: "xhr-send"} // a SockJS message over HTTP
		}
		w.Message(c, m)
		sum := &wsparse.Summary{First: t0, Last: t0, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean}
		if id != 4 {
			sum.StreamEnd = "rst_stream CANCEL"
		}
		w.End(c, sum)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []string{"messages", "conns"} {
		type row struct {
			Conn   int64  `parquet:"conn"`
			Stream *int64 `parquet:"stream,optional"`
		}
		rows, err := parquet.ReadFile[row](filepath.Join(dir, ds, "date=2026-12-04", "part-"+w.ID()+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Conn != 3 || rows[0].Stream == nil || *rows[0].Stream != 5 || rows[1].Conn != 4 || rows[1].Stream != nil {
			t.Errorf("%s: %+v, want conn 3 stream 5, then conn 4 stream null", ds, rows)
		}
	}
	// The conn record's stream_end, on the stream's row only (it was in
	// no column).
	type connEnd struct {
		StreamEnd *string `parquet:"stream_end,optional"`
	}
	se, err := parquet.ReadFile[connEnd](filepath.Join(dir, "conns", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(se) != 2 || se[0].StreamEnd == nil || *se[0].StreamEnd != "rst_stream CANCEL" || se[1].StreamEnd != nil {
		t.Errorf("conns.stream_end: %+v, want rst_stream CANCEL then null", se)
	}
	type msg struct {
		Transport *string `parquet:"transport,optional"`
	}
	rows, err := parquet.ReadFile[msg](filepath.Join(dir, "messages", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Transport != nil || rows[1].Transport == nil || *rows[1].Transport != "xhr-send" {
		t.Errorf("messages.transport: %+v, want null then xhr-send", rows)
	}
}

// TestH2NotFollowedRow: of the connections that never showed WebSocket
// (Options.EndsAll), the conns dataset has a row for an HTTP/2 connection
// wsdump did not wholly follow (streams over the limit, framing it could
// not follow), with the jsonl's http2 object; not for a plain one, nor an
// HTTP/2 connection followed to its end.
func TestH2NotFollowedRow(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir, EndsAll: true})
	for id, s := range []*wsparse.Summary{
		1: {},
		2: {HTTP2: &wsparse.HTTP2Counts{Streams: 4, Requests: 4, RequestBytes: 100}},
		3: {HTTP2: &wsparse.HTTP2Counts{Streams: 1003, WebSockets: 1000, NotFollowed: 3}, Anomalies: wsparse.AnomH2StreamsOverLimit},
		4: {HTTP2: &wsparse.HTTP2Counts{Streams: 1, Requests: 1, RequestBytes: 7, GoAway: "PROTOCOL_ERROR"}, Anomalies: wsparse.AnomH2Malformed},
	} {
		if s == nil {
			continue
		}
		s.First, s.Last, s.End = t0, t0.Add(time.Second), wsparse.EndNotWebSocket
		s.Stats[0].SkippedBytes = uint64(8 * id)
		w.End(wsparse.NewView(id, ends), s)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.ReadFile[connRow](filepath.Join(dir, "conns", "date=2026-12-04", "part-"+w.ID()+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Conn != 3 || rows[1].Conn != 4 {
		t.Fatalf("conns: %+v, want the rows of connections 3 and 4", rows)
	}
	h3, h4 := rows[0].HTTP2, rows[1].HTTP2
	if h3 == nil || h3.Streams != 1003 || h3.WebSockets != 1000 || h3.StreamsNotFollowed == nil || *h3.StreamsNotFollowed != 3 ||
		h3.RequestBytes != nil || h3.GoAway != nil || rows[0].C2S.SkippedBytes != 24 || rows[0].End != "not_websocket" ||
		!slices.Equal(rows[0].Anomalies, []string{"h2_streams_over_limit"}) {
		t.Errorf("conn 3: %+v http2 %+v", rows[0], h3)
	}
	if h4 == nil || h4.Requests != 1 || h4.RequestBytes == nil || *h4.RequestBytes != 7 || h4.StreamsNotFollowed != nil ||
		h4.GoAway == nil || *h4.GoAway != "PROTOCOL_ERROR" || !slices.Equal(rows[1].Anomalies, []string{"h2_malformed"}) {
		t.Errorf("conn 4: %+v http2 %+v", rows[1], h4)
	}
}

// TestFileColumn: conns' last column, file, names the input each
// connection was first seen in (Options.Files by wsparse.Conn.Input): an
// optional STRING, null without names (standard input).
func TestFileColumn(t *testing.T) {
	for _, files := range [][]string{{"caps/host-a_1.pcap", "caps/host-b_1.pcap"}, nil} {
		dir := t.TempDir()
		w, t0, ends := originWriter(t, Options{Dir: dir, Files: files})
		for id := 1; id <= 2; id++ {
			c := wsparse.NewView(id, ends)
			c.SetInput(2 - id)
			h := &wsparse.Handshake{TS: t0, Method: "GET", URI: "/ws", Status: 101}
			w.Handshake(c, h)
			w.End(c, &wsparse.Summary{First: t0, Last: t0.Add(time.Second), Handshake: h, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "conns", "date=2026-12-04", "part-"+w.ID()+".parquet")
		fields := openFile(t, p).Schema().Fields()
		if last := fields[len(fields)-1]; last.Name() != "file" || !last.Optional() || last.Type().LogicalType().String() != "STRING" {
			t.Errorf("conns: last column %s, want file, an optional STRING", last.Name())
		}
		rows, err := parquet.ReadFile[connRow](p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if r.File == nil {
				got = append(got, "null")
			} else {
				got = append(got, *r.File)
			}
		}
		want := []string{"null", "null"}
		if files != nil {
			want = []string{files[1], files[0]}
		}
		if !slices.Equal(got, want) {
			t.Errorf("files %v: file column %v, want %v", files, got, want)
		}
	}
}

// TestEncapColumn: every dataset has encap as its last column: in conns,
// handshakes, frames, messages and heartbeats the jsonl's (what carried
// the connection), in reconnect_groups the group's tenant; two tenants
// sharing a 4-tuple are told apart by it, and a plain connection's is
// null (frames, messages, heartbeats and reconnect_groups had none
// before: a fleet's rows of two tenants could not be told apart there).
// (conns has file after it.)
func TestEncapColumn(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir})
	encaps := []string{1: "vlan:10", 2: "vlan:20/vxlan:100", 3: ""}
	for id := 1; id <= 3; id++ {
		c := wsparse.NewView(id, ends)
		c.SetEncapID(wsparse.EncapID(encaps[id]))
		h := &wsparse.Handshake{TS: t0, Method: "GET", URI: "/ws", Status: 101}
		w.Handshake(c, h)
		for k := range 3 {
			w.Frame(c, &wsparse.Frame{Header: wsparse.Header{Opcode: wsparse.OpPing, Fin: true}, Dir: wsparse.ClientToServer, TS: t0.Add(time.Duration(k) * time.Second), Payload: []byte("p")})
		}
		w.Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, TS: t0, Opcode: wsparse.OpText, Data: []byte("hi"), Len: 2, Frames: 1})
		w.End(c, &wsparse.Summary{First: t0, Last: t0.Add(3 * time.Second), Handshake: h, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join("date=2026-12-04", "part-"+w.ID()+".parquet")
	for _, ds := range []string{"conns", "handshakes", "frames", "messages", "heartbeats", "reconnect_groups"} {
		f := openFile(t, filepath.Join(dir, ds, part))
		fields := f.Schema().Fields()
		if ds == "conns" { // file after it (TestFileColumn)
			fields = fields[:len(fields)-1]
		}
		if last := fields[len(fields)-1]; last.Name() != "encap" || !last.Optional() || last.Type().LogicalType().String() != "STRING" {
			t.Errorf("%s: last column %s, want encap, an optional STRING", ds, last.Name())
		}
	}
	str := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	want := []string{"vlan:10", "vlan:20/vxlan:100", "null"}
	conns, err := parquet.ReadFile[connRow](filepath.Join(dir, "conns", part))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := parquet.ReadFile[handshakeRow](filepath.Join(dir, "handshakes", part))
	if err != nil {
		t.Fatal(err)
	}
	frames := readRows[frameRow](t, filepath.Join(dir, "frames", part))
	msgs := readRows[messageRow](t, filepath.Join(dir, "messages", part))
	beats := readRows[heartbeatRow](t, filepath.Join(dir, "heartbeats", part))
	groups := readRows[groupRow](t, filepath.Join(dir, "reconnect_groups", part))
	if len(conns) != 3 || len(hs) != 3 || len(frames) != 9 || len(msgs) != 3 || len(beats) != 3 || len(groups) != 3 {
		t.Fatalf("%d conns, %d handshakes, %d frames, %d messages, %d heartbeats, %d groups; want 3, 3, 9, 3, 3, 3",
			len(conns), len(hs), len(frames), len(msgs), len(beats), len(groups))
	}
	for _, f := range frames {
		if got := str(f.Encap); got != want[f.Conn-1] {
			t.Errorf("frame of conn %d: encap %s, want %s", f.Conn, got, want[f.Conn-1])
		}
	}
	for _, m := range msgs {
		if got := str(m.Encap); got != want[m.Conn-1] {
			t.Errorf("message of conn %d: encap %s, want %s", m.Conn, got, want[m.Conn-1])
		}
	}
	for _, b := range beats {
		if got := str(b.Encap); got != want[b.Conn-1] {
			t.Errorf("heartbeat series of conn %d: encap %s, want %s", b.Conn, got, want[b.Conn-1])
		}
	}
	// The same client IP, Host and URL: a group per tenant, named by the
	// words of encap that tell a tenant (vlan:20/vxlan:100 both do).
	for _, g := range groups {
		c := g.Timeline[0].Conn
		if got := str(g.Encap); len(g.Timeline) != 1 || got != want[c-1] {
			t.Errorf("group %d: %d attempts, encap %s, want 1 and %s", g.Group, len(g.Timeline), got, want[c-1])
		}
	}
	for i, w := range want {
		if got := str(conns[i].Encap); got != w {
			t.Errorf("conns row %d: encap %s, want %s", i, got, w)
		}
		if got := str(hs[i].Encap); got != w {
			t.Errorf("handshakes row %d: encap %s, want %s", i, got, w)
		}
	}
}

// originWriter returns a Writer on o whose first packet came at t0 (its
// files dated 2026-12-04), and the ends of a connection to write on it.
func originWriter(t *testing.T, o Options) (w *Writer, t0 time.Time, ends [2]netip.AddrPort) {
	t.Helper()
	t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.SetOrigin(t0)
	return w, t0, [2]netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:8080")}
}

func readRows[T any](t *testing.T, name string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](name)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestTLSStopError: the tls group has jsonl's tls.stop_error, the failure
// that stopped decryption where the first error was another, null
// elsewhere (not stopped, or stopped by its first failure), on the conns
// and handshakes rows.
func TestTLSStopError(t *testing.T) {
	dir := t.TempDir()
	w, t0, ends := originWriter(t, Options{Dir: dir})
	for id, i := range []*wsparse.TLSInfo{
		1: {Version: "TLS 1.2", Error: "side 1: 51 bytes lost, records lost: 1", Stopped: true, StopError: "side 0: renegotiation 1 to keys not known"},
		2: {Version: "TLS 1.2", Error: "side 0: renegotiation 1 to keys not known", Stopped: true, StopError: "side 0: renegotiation 1 to keys not known"},
		3: {Version: "TLS 1.2", Error: "side 1: 51 bytes lost, records lost: 1"},
	} {
		if i == nil {
			continue
		}
		c := wsparse.NewView(id, ends)
		w.Handshake(c, &wsparse.Handshake{TS: t0, Method: "GET", Status: 101, TLS: i})
		w.End(c, &wsparse.Summary{First: t0, Last: t0, Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean, TLS: i})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Conn int64 `parquet:"conn"`
		TLS  *struct {
			Error     *string `parquet:"error,optional"`
			StopError *string `parquet:"stop_error,optional"`
		} `parquet:"tls,optional"`
	}
	for _, ds := range []string{"conns", "handshakes"} {
		rows := readRows[row](t, filepath.Join(dir, ds, "date=2026-12-04", "part-"+w.ID()+".parquet"))
		if len(rows) != 3 {
			t.Fatalf("%s: %d rows, want 3", ds, len(rows))
		}
		for _, r := range rows {
			var got string
			if r.TLS != nil && r.TLS.StopError != nil {
				got = *r.TLS.StopError
			}
			if want := map[int64]string{1: "side 0: renegotiation 1 to keys not known"}[r.Conn]; got != want || r.TLS.Error == nil {
				t.Errorf("%s: conn %d: tls.stop_error %q, want %q (null when empty)", ds, r.Conn, got, want)
			}
		}
	}
}
