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
