package dataset

import (
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/prof"
	"github.com/wsdump/wsdump/wsparse"
)

// TestEndedConnectionsLetGo: the heartbeats dataset is written at Close
// from each connection's heartbeats as measured when it ended (health's
// FinishAtEnd): what the writer's tracker keeps of an ended connection
// does not grow with its beats. It kept every beat's time until Close, and
// a long capture's live heap grew with it (~23 of the 111 MiB live at the
// end of a 2.9 GB capture). The tracker is measured alone: the tables'
// goroutines and buffers would hide it.
func TestEndedConnectionsLetGo(t *testing.T) {
	const n, beats = 2000, 200
	var per [2]float64
	for k, nb := range []int{0, beats} {
		w, err := New(Options{Dir: t.TempDir(), ID: "test"})
		if err != nil {
			t.Fatal(err)
		}
		per[k] = bytesPer(n, func() { beating(w.tr, 1, n, nb) })
		runtime.KeepAlive(w)
	}
	t.Logf("bytes kept per ended connection: %.0f without beats, %.0f with %d", per[0], per[1], beats)
	if d := per[1] - per[0]; d > 400 {
		t.Errorf("%d beats add %.0f bytes to what is kept of an ended connection, want at most 400 (%.1f a beat)", beats, d, d/beats)
	}

	// Through the writer, every connection has its heartbeat row.
	dir := t.TempDir()
	w, err := New(Options{Dir: dir, ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	beating(w, 1, 50, 20)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, w, dir, "heartbeats"); got != 50 {
		t.Errorf("%d heartbeat rows, want 50 (one series a connection)", got)
	}
}

// beatSink is what beating feeds: a Writer, or its tracker alone.
type beatSink interface {
	Handshake(*wsparse.Conn, *wsparse.Handshake)
	Beat(health.Beat)
	End(*wsparse.Conn, *wsparse.Summary)
}

// beating writes connections from to to, one after the other: a
// handshake, nb application heartbeats (a STOMP SEND every 10 s) and a
// clean end.
func beating(w beatSink, from, to, nb int) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	if w, ok := w.(*Writer); ok {
		w.SetOrigin(t0)
	}
	for i := from; i <= to; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		c := wsparse.NewView(i, [2]netip.AddrPort{
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000),
			netip.MustParseAddrPort("10.0.0.2:8080")})
		h := &wsparse.Handshake{RequestTS: at, TS: at.Add(time.Millisecond), Method: "GET", URI: "/ws", HTTPVersion: "HTTP/1.1",
			Host: "example", Status: 101, Reason: "Switching Protocols", Key: "k", Accept: "a", AcceptValid: true}
		w.Handshake(c, h)
		for b := range nb {
			w.Beat(health.Beat{Conn: i, Dir: wsparse.ClientToServer, TS: at.Add(time.Duration(b+1) * 10 * time.Second),
				Kind: health.KindApp, Proto: "stomp", Key: "SEND /app/ping"})
		}
		s := &wsparse.Summary{First: at, Last: at.Add(time.Duration(nb+1) * 10 * time.Second), Handshake: h,
			Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndClean}
		w.End(c, s)
	}
}

// bytesPer is the heap f leaves alive, per one of n.
var bytesPer = prof.HeapLeftPer

// countRows counts the rows w wrote into dataset ds under dir.
func countRows(t *testing.T, w *Writer, dir, ds string) int64 {
	t.Helper()
	var n int64
	for _, f := range w.Files() {
		if strings.Split(f, string(filepath.Separator))[0] == ds {
			n += openFile(t, filepath.Join(dir, f)).NumRows()
		}
	}
	return n
}

// TestOpenConnectionsBounded: what the writer keeps of an open
// connection (a handshake, a frame and its message, the first frame of a
// message that has not ended, as bench/memgen's 100 000 open connections
// have) does not grow with their number. It kept every row of the open
// row groups until RowGroupRows (122 880) of a dataset, 320 to 470 bytes
// a row when the addresses differ, and each connection's heartbeat
// state: ~700 bytes an open connection, 70 MB of the 100 000. The row
// groups of all datasets now hold HeldBytes of rows together, and an
// open connection's heartbeat state waits for its End (EndsAll): what
// grows is measured past 40 000 open connections, the bounded part
// (and parquet-go's buffers for it) full by then.
func TestOpenConnectionsBounded(t *testing.T) {
	const n = 20000
	// A smaller bound than HeldBytes: what it holds comes and goes as
	// row groups end, up to 1 MiB (50 bytes a connection here).
	w, err := New(Options{Dir: t.TempDir(), ID: "test", EndsAll: true, HeldBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var kept [3]float64
	for k := range kept {
		kept[k] = bytesPer(n, func() {
			opening(w, k*n+1, (k+1)*n)
			w.sync()
			runtime.GC() // what parquet-go's pools hold is not kept
		})
	}
	t.Logf("bytes kept per open connection, by %d: %.0f", n, kept)
	if kept[2] > 100 {
		t.Errorf("each open connection past %d keeps %.0f bytes, want at most 100 (the open row groups and heartbeat state bounded)", 2*n, kept[2])
	}
	runtime.KeepAlive(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// opening writes connections from to to as bench/memgen's open ones: a
// handshake, a 64 B text frame and its message from the client, and the
// first 1000 B frame of a server message that never ends; each from its
// own address.
func opening(w *Writer, from, to int) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	w.SetOrigin(t0)
	small, frag := make([]byte, 64), make([]byte, 1000)
	for i := from; i <= to; i++ {
		c, at, h := openView(t0, i)
		h.Key, h.Accept = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
		w.Handshake(c, h)
		ts := at.Add(2 * time.Microsecond)
		w.Frame(c, &wsparse.Frame{Dir: wsparse.ClientToServer, TS: ts, Index: 1, Payload: small,
			Header: wsparse.Header{Fin: true, Opcode: wsparse.OpText, Masked: true, MaskKey: [4]byte{1, 2, 3, byte(i)}, Length: 64, Size: 6}})
		w.Message(c, &wsparse.Message{Dir: wsparse.ClientToServer, TS: ts, Index: 1, Opcode: wsparse.OpText, Frames: 1, Len: 64, Data: small})
		w.Frame(c, &wsparse.Frame{Dir: wsparse.ServerToClient, TS: ts.Add(time.Microsecond), Index: 1, Payload: frag,
			Header: wsparse.Header{Opcode: wsparse.OpText, Length: 1000, Size: 4}})
	}
}

// openView returns connection i as bench/memgen's open ones are (its own
// address), the time of its upgrade request from t0 and its handshake.
func openView(t0 time.Time, i int) (*wsparse.Conn, time.Time, *wsparse.Handshake) {
	at := t0.Add(time.Duration(i) * 10 * time.Microsecond)
	c := wsparse.NewView(i, [2]netip.AddrPort{
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000)),
		netip.MustParseAddrPort("192.0.2.2:80")})
	h := &wsparse.Handshake{RequestTS: at, TS: at.Add(time.Microsecond), Method: "GET", URI: "/x", HTTPVersion: "HTTP/1.1",
		Host: "h", Status: 101, Reason: "Switching Protocols", Version: "13", AcceptValid: true}
	return c, at, h
}

// sync waits until the tables' goroutines have written every row queued.
func (w *Writer) sync() {
	for _, t := range []interface{ drain() }{w.handshakes, w.frames, w.messages, w.conns, w.heartbeats, w.groups} {
		t.drain()
	}
}

// drain sends the batch queued and waits until the goroutine took it and
// the one before.
func (t *table[T]) drain() {
	t.send()
	for range cap(t.ch) + 1 {
		t.ch <- batchBufs[T]{} // an empty batch: written once those before are
	}
}

// TestConnsRowsBounded: the conns rows of 100 000 open connections come
// all at once at the end of the input, when the live heap is at its
// highest. What their open row group keeps is bounded by HeldBytes with
// each row at its dataset's cost: with every row counted at 384 bytes
// under 16 MiB, it kept ~475 bytes a row up to 43 690 rows (20 MiB), and
// the file's 256 KiB pages (~60 columns) 4.5 MiB more. Measured past
// 20 000 rows, with the default options; the rows go straight to the
// table (the tracker's End keeps its own state of each connection).
func TestConnsRowsBounded(t *testing.T) {
	const n = 20000
	w, err := New(Options{Dir: t.TempDir(), ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	w.SetOrigin(t0)
	conns := func(from, to int) {
		for i := from; i <= to; i++ {
			c, at, h := openView(t0, i)
			r := connOf(w.partID(), c, &wsparse.Summary{First: at, Last: at.Add(time.Millisecond), Handshake: h,
				Confidence: wsparse.ConfidenceHandshake, End: wsparse.EndOpen})
			w.conns.add(r.TS, &r, 0)
		}
	}
	var fixed float64
	kept := bytesPer(n, func() {
		fixed = bytesPer(1, func() { conns(1, 1); w.sync() })
		conns(2, n)
		w.sync()
		runtime.GC()
	})
	more := bytesPer(n, func() {
		conns(n+1, 2*n)
		w.sync()
		runtime.GC() // what parquet-go's pools hold is not kept
	})
	t.Logf("conns file with one row: %.1f MiB; bytes kept per conns row: %.0f by %d, %.0f past it", fixed/(1<<20), kept, n, more)
	if fixed > 4<<20 {
		t.Errorf("a conns file with one row keeps %.1f MiB, want at most 4 (its pages)", fixed/(1<<20))
	}
	if more > 100 {
		t.Errorf("each conns row past %d keeps %.0f bytes, want at most 100 (the open row groups bounded)", n, more)
	}
	runtime.KeepAlive(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
