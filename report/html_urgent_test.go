package report

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/health"
)

// TestHTMLUrgentNote: a report whose connections carried segments with
// the TCP URG flag says so in a note at the top, naming them (its tables
// show no urgent_segments); none without.
func TestHTMLUrgentNote(t *testing.T) {
	urgent := &health.Conn{ID: 1}
	urgent.Stats[0].Urgent, urgent.Stats[1].Urgent = 2, 1
	plain := &health.Conn{ID: 2}
	_, out := parseReport(t, HTMLInput{Report: &health.Report{Conns: []*health.Conn{urgent, plain}}})
	if w := "3 TCP segments with the URG flag (urgent data) on connection 1: decoded with the urgent byte in the stream"; !strings.Contains(out, w) {
		t.Errorf("no %q in the report", w)
	}
	_, out = parseReport(t, HTMLInput{Report: &health.Report{Conns: []*health.Conn{plain}}})
	if strings.Contains(out, "URG") {
		t.Errorf("a report without urgent data names it")
	}
}
