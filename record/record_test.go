package record_test

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// logSink writes each wsparse.Sink call as a line.
type logSink struct{ lines []string }

func (l *logSink) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	l.lines = append(l.lines, fmt.Sprintf("%d handshake %s", c.ID, h.URI))
}
func (l *logSink) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	l.lines = append(l.lines, fmt.Sprintf("%d frame %d", c.ID, f.Index))
}
func (l *logSink) Message(c *wsparse.Conn, m *wsparse.Message) {
	l.lines = append(l.lines, fmt.Sprintf("%d message %s", c.ID, m.Data))
}
func (l *logSink) End(c *wsparse.Conn, s *wsparse.Summary) {
	l.lines = append(l.lines, fmt.Sprintf("%d end %v", c.ID, s.End))
}

func conn(id int) *wsparse.Conn {
	return wsparse.NewView(id, [2]netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.2:80")})
}

// every is one record of each kind, in a connection's order.
func every() []record.Record {
	c := conn(1)
	return []record.Record{
		{Kind: record.Handshake, Conn: c, Handshake: &wsparse.Handshake{URI: "/ws", Status: 101}},
		{Kind: record.TLS, Conn: conn(2), TLS: &record.TLSConn{Info: &wsparse.TLSInfo{SNI: "x"}}},
		{Kind: record.Frame, Conn: c, Frame: &wsparse.Frame{Index: 1}},
		{Kind: record.Beat, Conn: c, Beat: health.Beat{Conn: 1, Kind: "stomp"}},
		{Kind: record.Message, Conn: c, Message: &wsparse.Message{Data: []byte("plain")}},
		{Kind: record.Message, Conn: c, Message: &wsparse.Message{Data: []byte("decoded")},
			Apps: []appproto.App{{Protocol: "stomp"}}, Decoded: true},
		{Kind: record.Negotiated, Conn: c, Negotiated: health.Negotiated{Conn: 1, Kind: "stomp"}},
		{Kind: record.End, Conn: c, Summary: &wsparse.Summary{End: wsparse.EndClean}},
	}
}

// TestAdapt: the four wsparse kinds reach the wsparse.Sink in order (a
// Message whose Apps were looked for as a Message), the others are
// dropped.
func TestAdapt(t *testing.T) {
	l := &logSink{}
	s := record.Adapt(l)
	for _, r := range every() {
		s.Put(&r)
	}
	want := []string{"1 handshake /ws", "1 frame 1", "1 message plain", "1 message decoded", fmt.Sprintf("1 end %v", wsparse.EndClean)}
	if !reflect.DeepEqual(l.lines, want) {
		t.Errorf("got\n%q\nwant\n%q", l.lines, want)
	}
}

// TestFromWS: wsparse.Sink calls become records of their kind, with what
// the call carried.
func TestFromWS(t *testing.T) {
	var got []string
	w := &record.FromWS{Out: record.Func(func(r *record.Record) {
		s := r.Kind.String()
		switch r.Kind {
		case record.Handshake:
			s += " " + r.Handshake.URI
		case record.Frame:
			s += fmt.Sprint(" ", r.Frame.Index)
		case record.Message:
			s += " " + string(r.Message.Data)
		case record.End:
			s += fmt.Sprint(" ", r.Summary.End == wsparse.EndClean)
		}
		got = append(got, fmt.Sprintf("%d %s", r.Conn.ID, s))
	})}
	c := conn(3)
	w.Handshake(c, &wsparse.Handshake{URI: "/a"})
	w.Frame(c, &wsparse.Frame{Index: 2})
	w.Message(c, &wsparse.Message{Data: []byte("hi")})
	w.End(c, &wsparse.Summary{End: wsparse.EndClean})
	want := []string{"3 handshake /a", "3 frame 2", "3 message hi", "3 end true"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
