package lint

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// Finding is one broken rule at one place.
type Finding struct {
	Rule   *Rule
	Conn   int
	Dir    string // c2s, s2c, or "" for handshakes and connections
	Record string // frame, message, handshake, connection
	Index  int    // frame or message ordinal in its direction (1-based), 0 otherwise
	TS     time.Time
	Detail string // what was seen, escaped for a terminal
	// Omitted, when not 0, makes this line stand for that many more
	// findings of its rule on its connection (Conn 0: on connections past
	// the bound), from TS on, that the linter counted but did not list.
	Omitted int
	// EncapID is the connection's encapsulation's number
	// (wsparse.EncapID; 0: none): two tenants' connections on one
	// 4-tuple differ by it alone.
	EncapID uint32
}

// Encap returns what carried the finding's connection ("vlan:10"; ""
// if nothing).
func (f *Finding) Encap() string { return wsparse.EncapName(f.EncapID) }

// Where is "conn 1 c2s frame 3" (or "conn 1 handshake"), and "in
// vlan:10" after it when an encapsulation carried the connection.
func (f *Finding) Where() string {
	s := "conn " + wsparse.ConnLabel(f.Conn)
	if f.Dir != "" {
		s += " " + f.Dir
	}
	s += " " + f.Record
	if f.Index > 0 {
		s += " " + strconv.Itoa(f.Index)
	}
	if e := f.Encap(); e != "" {
		s += " in " + e
	}
	return s
}

// Linter is a wsparse.Sink that collects findings.
//
// A broken peer repeats its fault on every frame, and a hostile capture can
// hold millions: the linter lists at most maxPerRule findings of a rule on
// a connection and maxListed in all, and counts the rest (exactly: Counts),
// which a line per rule and connection stands for (Finding.Omitted).
type Linter struct {
	findings [][]Finding // listed, in chunks of findingChunk
	nListed  int
	seen     map[*wsparse.Conn]wsparse.Anomalies // anomalies reported on records, per connection
	listed   map[listKey]int                     // findings listed per connection and rule
	omitted  map[listKey]*Finding                // the line standing for the others
	count    [3]int                              // all findings, by severity
	declared time.Duration                       // --heartbeat-interval (DeclareInterval)
}

type listKey struct {
	conn int
	rule *Rule
}

const (
	maxPerRule   = 1000    // findings listed per connection and rule
	maxListed    = 100_000 // findings listed in all
	maxOmitLines = 10_000  // lines for unlisted findings; past it, one per rule (Conn 0)

	// findingChunk: the findings listed are kept in chunks of it, never
	// moved. One slice grown by append copied them ~5 times over (52 MB
	// for the 100 000 findings of 100 000 connections still open at the
	// end of the input, with the old copy and the new both held while it
	// grew), while those connections' last records were out: the peak
	// (issue 16).
	findingChunk = 1024
)

// New returns an empty linter.
func New() *Linter {
	return &Linter{seen: map[*wsparse.Conn]wsparse.Anomalies{}, listed: map[listKey]int{}, omitted: map[listKey]*Finding{}}
}

// push counts a finding and lists it, within the bounds.
func (l *Linter) push(f Finding) {
	l.count[f.Rule.Severity]++
	k := listKey{f.Conn, f.Rule}
	if n := l.listed[k]; n < maxPerRule && l.nListed < maxListed {
		l.listed[k] = n + 1
		if l.nListed%findingChunk == 0 {
			l.findings = append(l.findings, make([]Finding, 0, findingChunk))
		}
		last := &l.findings[len(l.findings)-1]
		*last = append(*last, f)
		l.nListed++
		return
	}
	o := l.omitted[k]
	if o == nil && len(l.omitted) >= maxOmitLines {
		k.conn = 0
		o = l.omitted[k]
	}
	if o == nil {
		o = &Finding{Rule: f.Rule, Conn: k.conn, Record: f.Record, TS: f.TS}
		if k.conn != 0 {
			o.Dir, o.EncapID = f.Dir, f.EncapID
		}
		l.omitted[k] = o
	}
	if o.Dir != f.Dir {
		o.Dir = ""
	}
	if o.Record != f.Record {
		o.Record = "record"
	}
	o.Omitted++
}

// Counts returns the number of findings per severity (Info, Warning,
// Error), listed or not.
func (l *Linter) Counts() [3]int { return l.count }

func (l *Linter) add(a wsparse.Anomalies, c *wsparse.Conn, f Finding) {
	if a == 0 {
		return // nothing kept for the connection (issue 16: 100 000 open ones)
	}
	l.seen[c] |= a
	f.Conn, f.EncapID = c.ID, c.EncapID()
	a.Each(func(name string) {
		g := f
		g.Rule = RuleForAnomaly(name)
		if g.Rule.Anomaly == "" {
			g.Detail = name + ": " + f.Detail
		}
		l.push(g)
	})
}

// Handshake implements wsparse.Sink.
func (l *Linter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if h.Anomalies == 0 {
		return
	}
	detail := h.Method + " " + string(text.AppendEscaped(nil, []byte(h.Host+h.URI), 60, true)) + " -> "
	if h.Status == 0 {
		detail += "no response"
	} else {
		detail += strconv.Itoa(h.Status)
	}
	l.add(h.Anomalies, c, Finding{Record: "handshake", TS: h.TS, Detail: detail})
}

// Frame implements wsparse.Sink.
func (l *Linter) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if f.Anomalies == 0 {
		return
	}
	detail := f.Opcode.String() + " len " + strconv.FormatUint(f.Length, 10)
	if f.Masked {
		detail += " masked"
	}
	if f.RSV != 0 {
		detail += " rsv " + strconv.Itoa(int(f.RSV))
	}
	if f.Opcode == wsparse.OpClose && f.HasCloseCode {
		detail += " code " + strconv.Itoa(int(f.CloseCode))
	}
	l.add(f.Anomalies, c, Finding{Dir: f.Dir.String(), Record: "frame", Index: f.Index, TS: f.TS, Detail: detail})
}

// Message implements wsparse.Sink.
func (l *Linter) Message(c *wsparse.Conn, m *wsparse.Message) {
	if m.Anomalies == 0 {
		return
	}
	detail := m.Opcode.String() + " len " + strconv.FormatUint(m.Len, 10) + " in " + strconv.Itoa(m.Frames) + " frames"
	if m.Compressed {
		detail += ", compressed"
	}
	l.add(m.Anomalies, c, Finding{Dir: m.Dir.String(), Record: "message", Index: m.Index, TS: m.TS, Detail: detail})
}

// End implements wsparse.Sink: anomalies the records did not carry, and
// the connection checks.
func (l *Linter) End(c *wsparse.Conn, s *wsparse.Summary) {
	conn := Finding{Record: "connection", TS: s.Last, Detail: string(s.End)}
	if s.StreamEnd != "" {
		conn.Detail += " (" + s.StreamEnd + ")" // an HTTP/2 stream's end
	}
	rest := s.Anomalies &^ l.seen[c]
	if h := s.HTTP2; h != nil && h.NotFollowed > 0 && rest&wsparse.AnomH2StreamsOverLimit != 0 {
		// Its own detail, on its own finding only (the last bit: the
		// findings keep their order).
		rest &^= wsparse.AnomH2StreamsOverLimit
		l.add(rest, c, conn)
		f := conn
		f.Detail = "HTTP/2: " + strconv.Itoa(h.NotFollowed) + " of " + strconv.Itoa(h.Streams) + " streams not followed, " +
			strconv.FormatUint(s.Stats[0].SkippedBytes+s.Stats[1].SkippedBytes, 10) + " bytes skipped"
		l.add(wsparse.AnomH2StreamsOverLimit, c, f)
	} else if rest != 0 {
		l.add(rest, c, conn)
	}
	delete(l.seen, c)
	if t := s.TLS; t != nil && t.H2Renegotiations > 0 {
		f := conn
		f.Conn, f.EncapID, f.Rule = c.ID, c.EncapID(), rule("h2-tls-renegotiation")
		f.Detail = "TLS 1.2 renegotiated after the HTTP/2 connection preface"
		if n := t.H2Renegotiations; n > 1 {
			f.Detail += " (" + strconv.Itoa(n) + " times)"
		}
		l.push(f)
	}
	if s.End == wsparse.EndNotWebSocket {
		return // an HTTP/2 connection told for its anomalies: no WebSocket to check
	}
	conn.Conn, conn.EncapID = c.ID, c.EncapID()
	emit := func(name, detail string) {
		f := conn
		f.Rule = rule(name)
		if detail != "" {
			f.Detail = detail
		}
		l.push(f)
	}
	switch s.End {
	case wsparse.EndCloseUnanswered:
		emit("close-unanswered", "close by "+side(s.Initiator)+", never answered")
	case wsparse.EndFINWithoutClose:
		emit("fin-without-close", streamEnd(s, "FIN")+" from "+order(s.TCPFin, s.TCPFirst()))
	case wsparse.EndRSTWithoutClose:
		emit("rst-without-close", streamEnd(s, "RST")+" from "+order(s.TCPRst, s.TCPFirst()))
	case wsparse.EndOpen:
		emit("open-at-end", "")
	}
	if s.Handshake == nil {
		emit("no-handshake", "confidence "+string(s.Confidence))
	}
	if s.TLS != nil && s.TLS.Stopped {
		emit("tls-decryption-stopped", string(text.AppendEscaped(nil, []byte(s.TLS.StopWhy()), 160, true)))
	}
	for d := range s.Stats {
		if n := s.Stats[d].LostBytes; n > 0 {
			f := conn
			f.Rule, f.Dir = rule("capture-lost-bytes"), wsparse.Dir(d).String()
			f.Detail = strconv.FormatUint(n, 10) + " bytes lost"
			l.push(f)
		}
		if n := s.Stats[d].Urgent; n > 0 {
			f := conn
			f.Rule, f.Dir = rule("tcp-urgent-data"), wsparse.Dir(d).String()
			f.Detail = text.Plural(n, "segment") + " with the URG flag: a receiver without SO_OOBINLINE takes the byte an urgent pointer marks out of the stream, one for a pointer however many segments repeat it"
			l.push(f)
		}
	}
}

// sides names who sent a FIN or RST: client, server or both.
// order is sides, with who ended first when both did at different times
// (wsparse.Summary.TCPFirst): "server first, then client".
func order(by, first [2]bool) string {
	if by[0] && by[1] {
		switch {
		case first[wsparse.ServerToClient]:
			return "server first, then client"
		case first[wsparse.ClientToServer]:
			return "client first, then server"
		}
	}
	return sides(by)
}

func sides(by [2]bool) string {
	switch {
	case by[0] && by[1]:
		return "both"
	case by[wsparse.ClientToServer]:
		return "client"
	}
	return "server"
}

func side(d wsparse.Dir) string {
	if d == wsparse.ClientToServer {
		return "client"
	}
	return "server"
}

// Findings returns the findings in a stable order: by connection, then
// time, then rule.
func (l *Linter) Findings() []Finding {
	out := make([]Finding, 0, l.nListed+len(l.omitted))
	for _, c := range l.findings {
		out = append(out, c...)
	}
	for _, o := range l.omitted {
		f := *o
		f.Detail = strconv.Itoa(f.Omitted) + " more not listed"
		if f.Conn == 0 {
			f.Detail += " (on other connections)"
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Conn != b.Conn {
			return a.Conn < b.Conn
		}
		if !a.TS.Equal(b.TS) {
			return a.TS.Before(b.TS)
		}
		if a.Rule.ID != b.Rule.ID {
			return a.Rule.ID < b.Rule.ID
		}
		return a.Omitted < b.Omitted
	})
	return out
}

// Worst returns the highest severity with findings, or -1 with none.
func Worst(counts [3]int) Severity {
	for s := Error; s >= Info; s-- {
		if counts[s] > 0 {
			return s
		}
	}
	return -1
}

// streamEnd names what ended a connection: tcp (FIN, RST), or over
// HTTP/2 how its stream ended (END_STREAM, RST_STREAM with its code).
func streamEnd(s *wsparse.Summary, tcp string) string {
	switch {
	case s.StreamEnd == "end_stream":
		return "END_STREAM"
	case strings.HasPrefix(s.StreamEnd, "rst_stream "):
		return "RST_STREAM " + strings.TrimPrefix(s.StreamEnd, "rst_stream ")
	case strings.HasPrefix(s.StreamEnd, "goaway "):
		return tcp + " after GOAWAY " + strings.TrimPrefix(s.StreamEnd, "goaway ")
	}
	return tcp
}

// Result is the lint of one capture.
type Result struct {
	Capture  string    // as named on the command line
	Origin   time.Time // the first packet: finding times count from it
	Findings []Finding
	Counts   [3]int // findings per severity, the unlisted included (Linter.Counts)
}

// Rel is the time of f in seconds after the capture's first packet (0
// when either is unknown).
func (r *Result) Rel(f *Finding) float64 {
	if r.Origin.IsZero() || f.TS.IsZero() {
		return 0
	}
	return f.TS.Sub(r.Origin).Seconds()
}

// Put lints the four wsparse kinds of record, and says which TLS
// connections it could not look into.
func (l *Linter) Put(r *record.Record) {
	if r.Kind == record.TLS {
		if i := r.TLS.Info; !i.Decrypted {
			l.push(Finding{Rule: rule("tls-not-decrypted"), Conn: r.Conn.ID, EncapID: r.Conn.EncapID(), Record: "connection", TS: r.TLS.TS,
				Detail: "TLS to " + r.TLS.Server.String() + ": " + string(text.AppendEscaped(nil, []byte(i.Why()), 120, true))})
		}
		return
	}
	record.ToWS(l, r)
}
