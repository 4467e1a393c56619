package report

import (
	"reflect"
	"regexp"
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
	want := "wsdump: a.pcap: 1 of 9 packets was cut short by the capture's snap length: its missing bytes count as lost\n" +
		"wsdump: a.pcap: 4 SockJS / Engine.IO messages (200 bytes) of fallback sessions past the 65536 held at once were not decoded\n"
	if b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	// A session past the bound that carried only requests (empty
	// polls) is said too, its requests counted apart from its messages.
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{FallbackDroppedRequests: 3}, Limits{FallbackSessions: 65536})
	if want := "wsdump: 0 SockJS / Engine.IO messages (0 bytes) and 3 HTTP requests of fallback sessions past the 65536 held at once were not decoded\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	// Sessions ended early to make room are said.
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{FallbackEndedEarly: 2}, Limits{FallbackSessions: 65536})
	if want := "wsdump: 2 SockJS / Engine.IO sessions ended early to stay under the 65536 held at once (not closed; those with every connection ended first, then the least recently active): a later request of one starts a new conversation (connection_resumed)\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	// A connection in another tenant on the 4-tuple of one still open.
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{Lanes: 1}, Limits{})
	if want := "wsdump: 1 connection opened on the addresses and ports of another still open in another tenant (VLAN id, VXLAN, VXLAN-GPE or GENEVE VNI, GRE key), with other sequence numbers: each is a connection of its own (tshark 4.0 takes the SYN for port reuse, and mixes the two)\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{LanesFull: 2}, Limits{Connections: 100000})
	if want := "wsdump: 2 times, a connection opened in another tenant on the addresses and ports of one still open found no lane (255 tenants at once on them, or --max-connections 100000 4-tuples split): it ended the first, as port reuse does, and the packets of both went to it, mixed as tshark 4.0 mixes them\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{EncapsFull: 3}, Limits{})
	if want := "wsdump: 3 connections came in an encapsulation past the 65 536 distinct ones named: encap \"…\" (which ones depends on the order connections were read in: -j, --per-file)\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	// Segments past a hole not copied to compare a later one with.
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{HeldCopyLimit: 2}, Limits{})
	if want := "wsdump: 2 segments past a hole were not copied, or not whole, as 8 MiB of such copies were held (each -j worker) or 4096 ranges on a side: a later segment over their bytes with others is compared only where it repeats or covers one whole (retransmission_conflict), and the later copy is decoded\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
	// So are the bytes a connection lost after its last session ended.
	b.Reset()
	WriteLimitNotices(&b, reassembly.Stats{FallbackBytesAfterEnd: 37}, Limits{FallbackSessions: 65536})
	if want := "wsdump: 37 bytes lost or passed over on HTTP connections that outlived the fallback sessions they carried (ended to stay under the 65536 held at once) are counted in no session\n"; b.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestWriteDatasetNotice: the notice names a run's files, a date's later
// files (a file ends after 64 row groups, or when a fifth date opens)
// included. (Session 32's TestLimitNotices had taken its place.)
func TestWriteDatasetNotice(t *testing.T) {
	var b strings.Builder
	WriteDatasetNotice(&b, "out", 10, 3, "20261206T000000Z-0a0b0c0d")
	for _, want := range []string{"wrote 10 rows in 3 files to out", "part-20261206T000000Z-0a0b0c0d.parquet", "part-20261206T000000Z-0a0b0c0d-2.parquet"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("notice %q: no %q", b.String(), want)
		}
	}
	b.Reset()
	WriteDatasetNotice(&b, "out", 1, 1, "20261206T000000Z-0a0b0c0d")
	if want := "wsdump: wrote 1 row in 1 file to out\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("one row: %q, want %q...", b.String(), want)
	}
}

// two2one matches a count of 2 standing alone (not in 20, 2.5 or 2026).
var two2one = regexp.MustCompile(`(^|[^0-9.])2($|[^0-9.])`)

// TestLimitNoticesAgreeInNumber: every count a limit notice says agrees
// with its noun and verb: for each count of reassembly.Stats, the notice of
// 1 is not that of 2 with the number changed, wherever it stands ("1
// connections ended early", "1 times, ...", "1 HTTP heads were cut", "in 1
// bytes" were written), and no notice of 1 says "1 times". The lines
// whose noun agreed but whose verb or pronoun did not ("1 IP packet ...
// were not opened: any TCP in them") are checked word for word.
func TestLimitNoticesAgreeInNumber(t *testing.T) {
	l := Limits{Connections: 1, PendingTotal: 100, FallbackSessions: 65536}
	notices := func(field string, n int64) string {
		var st reassembly.Stats
		st.Packets = 10 // (none of them IP: a notice of its own)
		f := reflect.ValueOf(&st).Elem().FieldByName(field)
		if f.CanInt() {
			f.SetInt(n)
		} else {
			f.SetUint(uint64(n))
		}
		var b strings.Builder
		WriteLimitNotices(&b, st, l)
		return b.String()
	}
	said := 0
	for _, sf := range reflect.VisibleFields(reflect.TypeOf(reassembly.Stats{})) {
		switch sf.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint64:
		default:
			continue
		}
		if sf.Name == "Packets" {
			continue
		}
		one, two := notices(sf.Name, 1), notices(sf.Name, 2)
		if one == "" {
			continue // no notice of its own (said with another count, or in records)
		}
		said++
		if two2one.ReplaceAllString(two, "${1}1${2}") == one || strings.Contains(one, "1 times") {
			t.Errorf("%s = 1: %q", sf.Name, one)
		}
	}
	if said < 20 {
		t.Errorf("%d counts said a notice: the test sets them wrong", said)
	}
	for _, c := range []struct {
		field, want string
	}{
		{"Evicted", "wsdump: 1 connection ended early to stay under --max-connections 1 "},
		{"Resumed", "wsdump: 1 time, a connection ended early went on: "},
		{"HeldStartTotalLimit", "wsdump: 1 connection whose first bytes after a loss at its start were held while TLS record headers were searched for in them was passed to the WebSocket decoder undecided, "},
		{"TooDeep", "wsdump: 1 IP packet inside more than 4 tunnels (IP in IP, GRE, VXLAN, GENEVE, MPLS...) was not opened: any TCP in it, "},
		{"Malformed", "wsdump: 1 packet skipped, with an IP or TCP header that does not parse: the bytes it carried count as lost on its connection "},
		{"FragmentConflicts", "wsdump: 1 IP fragment overlapped earlier fragments of its datagram "},
		{"HeldCopyLimit", "wsdump: 1 segment past a hole was not copied, "},
		{"FallbackDroppedRequests", "wsdump: 0 SockJS / Engine.IO messages (0 bytes) and 1 HTTP request of fallback sessions past the 65536 held at once were not decoded"},
	} {
		if got := notices(c.field, 1); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s = 1: %q, want %q...", c.field, got, c.want)
		}
	}
}
