package pipeline

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// undecrypted counts, on their way to next, the TLS connections that
// were not decrypted. The views that list TLS connections show them; the
// commands and views that show only WebSockets (conns, report, diff,
// follow, export, -T fields, the Parquet datasets) have nothing of them,
// so a notice says they were there.
type undecrypted struct {
	next      record.Sink
	n         int
	first     string // the lowest-numbered connection's (the records come at the connections' ends)
	firstConn int
	late      int // of n, captured after their handshakes: no key log helps
	lost      int // of n, their hellos lost (tlsdec.HelloLost): nor does it
	// ws: a WebSocket's record passed (a frame, a message, a handshake
	// that upgraded, a WebSocket's end): when none did, the command says
	// what the capture held (report.WriteNoWebSocket).
	ws bool
	// stopped: the WebSocket connections whose decryption stopped
	// partway (wsparse.TLSInfo.Stopped); stoppedFirst the lowest-numbered
	// few, each "connection N: why", escaped.
	stopped      int
	stoppedFirst []stoppedConn
}

// stoppedConn is one of the connections a stopped notice names.
type stoppedConn struct {
	conn int
	text string
}

// maxStoppedNamed bounds the connections the stopped notice names.
const maxStoppedNamed = 3

func (u *undecrypted) Put(r *record.Record) {
	if r.Kind == record.TLS && !r.TLS.Info.Decrypted {
		if conn, _ := wsparse.SplitID(r.Conn.ID); u.n == 0 || conn < u.firstConn {
			why := string(text.AppendEscaped(nil, []byte(r.TLS.Info.Why()), 120, true))
			u.first, u.firstConn = fmt.Sprintf("connection %d, to %s: %s", conn, r.TLS.Server, why), conn
		}
		u.n++
		if strings.HasPrefix(r.TLS.Info.Error, tlsdec.NoHandshake) {
			u.late++
		}
		if strings.HasPrefix(r.TLS.Info.Error, tlsdec.HelloLost) {
			u.lost++
		}
	}
	switch r.Kind {
	case record.Frame, record.Message:
		u.ws = true
	case record.Handshake:
		u.ws = u.ws || r.Handshake.Upgraded()
	case record.End:
		u.ws = u.ws || r.Summary.End != wsparse.EndNotWebSocket
		if t := r.Summary.TLS; t != nil && t.Stopped {
			u.stop(r.Conn.ID, t)
		}
	}
	u.next.Put(r)
}

// none reports whether nothing passed that showed a WebSocket or might
// hold one (a TLS connection not decrypted): the capture had none.
func (u *undecrypted) none() bool { return !u.ws && u.n == 0 }

// undecryptedExporter is an exporter with an undecrypted counter in
// front of it (its next).
type undecryptedExporter struct {
	report.Exporter
	u *undecrypted
}

func (e undecryptedExporter) Put(r *record.Record) { e.u.Put(r) }

// notice writes the count on w, when there was any: "wsdump: NAME: 1
// TLS connection was not decrypted, so its WebSockets, if any, VERB
// (...)"; no name for "".
func (u *undecrypted) notice(w io.Writer, name, verb string) {
	if name != "" {
		name += ": "
	}
	advice := [2]string{"a key log with its keys (--keylog FILE) decrypts it", "a key log with their keys (--keylog FILE) decrypts them"}
	switch {
	case u.late == u.n:
		advice = [2]string{"it was captured after its TLS handshake, which no key log makes up for",
			"they were captured after their TLS handshakes, which no key log makes up for"}
	case u.lost == u.n:
		advice = [2]string{"its TLS hello was not captured, which no key log makes up for",
			"their TLS hellos were not captured, which no key log makes up for"}
	case u.late+u.lost == u.n:
		advice[1] = "they were captured without their TLS hellos, which no key log makes up for"
	case u.late > 0 && u.lost == 0:
		advice[1] += fmt.Sprintf(", but for the %d captured after their TLS handshakes", u.late)
	case u.late+u.lost > 0:
		advice[1] += fmt.Sprintf(", but for the %d captured without their TLS hellos", u.late+u.lost)
	}
	switch {
	case u.n == 1:
		fmt.Fprintf(w, "wsdump: %s1 TLS connection was not decrypted, so its WebSockets, if any, %s (%s); %s\n", name, verb, u.first, advice[0])
	case u.n > 1:
		fmt.Fprintf(w, "wsdump: %s%d TLS connections were not decrypted, so their WebSockets, if any, %s (the first: %s); %s\n", name, u.n, verb, u.first, advice[1])
	}
}

// stop counts a connection whose decryption stopped partway, keeping the
// lowest-numbered few (the records come at the connections' ends, -j
// workers' in any order).
func (u *undecrypted) stop(id int, t *wsparse.TLSInfo) {
	u.stopped++
	conn, _ := wsparse.SplitID(id)
	i := len(u.stoppedFirst)
	for i > 0 && u.stoppedFirst[i-1].conn > conn {
		i--
	}
	if i >= maxStoppedNamed {
		return
	}
	why := string(text.AppendEscaped(nil, []byte(t.StopText()), 80, true))
	u.stoppedFirst = slices.Insert(u.stoppedFirst, i, stoppedConn{conn, fmt.Sprintf("connection %d: %s", conn, why)})
	if len(u.stoppedFirst) > maxStoppedNamed {
		u.stoppedFirst = u.stoppedFirst[:maxStoppedNamed]
	}
}

// stoppedNotice writes, when decryption of any WebSocket connection
// stopped partway, how many and why for the first few: what came after
// is in no view ("wsdump: NAME: 1 wss connection's TLS decryption
// stopped partway, ...").
func (u *undecrypted) stoppedNotice(w io.Writer, name string) {
	if u.stopped == 0 {
		return
	}
	if name != "" {
		name += ": "
	}
	named := make([]string, len(u.stoppedFirst))
	for i, s := range u.stoppedFirst {
		named[i] = s.text
	}
	which := strings.Join(named, "; ")
	if u.stopped > len(named) {
		which = "the first: " + which
	}
	if u.stopped == 1 {
		fmt.Fprintf(w, "wsdump: %s1 wss connection's TLS decryption stopped partway, so what it carried after that is not shown: its bytes count as lost (%s)\n", name, which)
		return
	}
	fmt.Fprintf(w, "wsdump: %s%d wss connections' TLS decryption stopped partway, so what they carried after that is not shown: their bytes count as lost (%s)\n", name, u.stopped, which)
}
