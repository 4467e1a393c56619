package report

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// TestCloseTextAppEscaped: the application's word on a connection's end
// (a STOMP ERROR's message, a SockJS close frame's code and reason) is
// text from the traffic, escaped as the rest of the conns table's cells
// are: a line break in it broke the table's row, and C1 controls (U+009B
// is CSI) and bidi overrides reached the terminal.
func TestCloseTextAppEscaped(t *testing.T) {
	c := &health.Conn{Status: 101}
	c.Close.End = wsparse.EndFINWithoutClose
	c.Close.TCPFin = [2]bool{true, true}
	c.Close.App = &health.AppEnd{Text: "SockJS close {\"a\":\n1, \"b\":\"\u009b31m\u202eRED\"} \"bye\"", Failed: true}
	got := CloseText(c)
	if strings.ContainsAny(got, "\n\u009b\u202e") {
		t.Errorf("CloseText gives %q: line breaks, C1 controls or bidi overrides unescaped", got)
	}
	if !strings.Contains(got, `after SockJS close {"a":`) {
		t.Errorf("CloseText gives %q, want the application's words", got)
	}
}
