package report

import (
	"strings"
	"testing"

	"github.com/wsdump/wsdump/reassembly"
)

// TestLimitNotices: the fallback sessions past the bound are said, and a
// named capture's notices carry its name, every line of them.
func TestLimitNotices(t *testing.T) {
	var b strings.Builder
	WriteLimitNotices(&b, reassembly.Stats{FallbackDropped: 4, FallbackDroppedBytes: 200, Cut: 1, Packets: 9},
		Limits{FallbackSessions: 65536, Name: "a.pcap"})
	want := "wsdump: a.pcap: 1 of 9 packets were cut short by the capture's snap length: their missing bytes count as lost\n" +
		"wsdump: a.pcap: 4 SockJS / Engine.IO messages (200 bytes) of fallback sessions past the 65536 held at once were not decoded\n"
	if b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
}
