package report

import (
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// connText is what jsonl writes of a connection in each of its frame and
// message records, formatted once: `,"conn":N` (and `,"stream":S`), and
// per direction `,"src":"A","dst":"B","dir":"c2s"`. It is kept for the
// values it was made from (number, client and server as captured) and
// used only while a record's connection has all three the same: a view
// after the -j merge names its client side record by record, a 4-tuple
// comes back as another connection, an HTTP/2 stream shares its
// connection's addresses, and a connection forgotten after eviction comes
// back under a new number.
type connText struct {
	id             int
	encap          uint32 // wsparse.Conn.EncapID: a connection that went on in another tenant has another
	input          int    // wsparse.Conn.Input: its file, of several inputs
	client, server netip.AddrPort
	set, dirsSet   bool
	conn           []byte
	dirs           [2][]byte // by wsparse.Dir
}

// connTexts is a direct-mapped cache of connText by connection number:
// records of the connections open at once come interleaved.
const connTexts = 256

// connText returns the text of c's connection, formatted anew unless the
// entry for its number holds c's number, addresses and encapsulation.
func (j *jsonl) connText(c *wsparse.Conn) *connText {
	if j.conns == nil {
		j.conns = new([connTexts]connText)
	}
	client, server := c.Client(), c.Server()
	e := &j.conns[uint64(c.ID)*0x9e3779b97f4a7c15>>56]
	if e.set && e.id == c.ID && e.client == client && e.server == server && e.encap == c.EncapID() && e.input == c.Input() {
		j.connHits++
		return e
	}
	e.id, e.client, e.server, e.set, e.encap, e.input = c.ID, client, server, true, c.EncapID(), c.Input()
	e.conn = j.appendConnField(e.conn[:0], c)
	e.dirsSet = false
	return e
}

// dirs returns e's text per direction, made at the first frame record:
// --stable numbers a client where a record first shows it, and a message
// record does not (TestJSONLStableClientsNumberedWhereShown). The
// stabilizer numbers the same client the same way after: asking it once
// here is asking it at every record.
func (j *jsonl) dirs(e *connText) *[2][]byte {
	if !e.dirsSet {
		e.dirsSet = true
		cl := j.st.Client(e.client)
		b := addrField(e.dirs[wsparse.ClientToServer][:0], "src", cl)
		b = addrField(b, "dst", e.server)
		e.dirs[wsparse.ClientToServer] = strField(b, "dir", wsparse.ClientToServer.String())
		b = addrField(e.dirs[wsparse.ServerToClient][:0], "src", e.server)
		b = addrField(b, "dst", cl)
		e.dirs[wsparse.ServerToClient] = strField(b, "dir", wsparse.ServerToClient.String())
	}
	return &e.dirs
}

// tsText holds the text of the last second jsonl wrote a time in
// ("2026-12-05T14:56:30."): records come in time order, many a second.
type tsText struct {
	sec    int64
	set    bool
	prefix [20]byte
}

// appendQuotedTS is appendQuotedTS (of report.go) with the second's text
// reused from the time before when it is the same.
func (p *tsText) appendQuotedTS(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 || sec >= maxFastTS {
		return appendQuotedTS(b, t)
	}
	if !p.set || sec != p.sec {
		p.sec, p.set = sec, true
		var tmp [len(tsLayout) + 1]byte
		copy(p.prefix[:], appendTS(tmp[:0], time.Unix(sec, 0)))
	}
	b = append(b, '"')
	b = append(b, p.prefix[:]...)
	ns := t.Nanosecond()
	hi, mid, lo := &threeDigits[ns/1e6], &threeDigits[ns/1e3%1e3], &threeDigits[ns%1e3]
	return append(b, hi[0], hi[1], hi[2], mid[0], mid[1], mid[2], lo[0], lo[1], lo[2], 'Z', '"')
}

// threeDigits holds 000 to 999.
var threeDigits = func() (t [1000][3]byte) {
	for i := range t {
		t[i] = [3]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)}
	}
	return t
}()
