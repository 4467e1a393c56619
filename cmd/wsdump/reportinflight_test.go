package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket/pcapgo"
	"golang.org/x/net/html"
)

// cutCapture writes the first n packets of file, as `editcap -r file out
// 1-n` does: a capture stopped while the client was still trying.
func cutCapture(t *testing.T, file string, n int) string {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cut-"+strconv.Itoa(n)+".pcap")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(r.Snaplen(), r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			t.Fatalf("%s has %d packets, fewer than %d", file, i, n)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportInFlight: the report says which attempts were in flight when
// the capture ended, as conns does (jsonl "in_flight": true): their bar or
// mark on the timeline carries data-in-flight and its title says so, and
// the summary counts them. gen__reconnect-fork (the seed's client run for
// real, reconnecting) cut after its first retry's /info was answered (31
// packets: that request in flight, a mark), and after its retry's upgrade
// request, unanswered (47 packets: that upgrade in flight, a bar); whole,
// nothing is in flight and the report says nothing of it. Before, the
// report drew an attempt in flight as any other of its outcome.
func TestReportInFlight(t *testing.T) {
	full := "../../testdata/pcaps/gen__reconnect-fork.pcap"
	for _, c := range []struct {
		file     string
		inFlight int // the connection in flight; 0: none
		tag      string
	}{
		{cutCapture(t, full, 31), 1, "path"},
		{cutCapture(t, full, 47), 4, "rect"},
		{full, 0, ""},
	} {
		_, groups := readConnsJSONL(t, c.file)
		want := map[int]bool{}
		for _, g := range groups {
			for _, a := range g.Timeline {
				if a.InFlight {
					want[a.Conn] = true
				}
			}
		}
		if c.inFlight == 0 && len(want) != 0 || c.inFlight != 0 && (len(want) != 1 || !want[c.inFlight]) {
			t.Fatalf("%s: conns has %v in flight, want connection %d", c.file, want, c.inFlight)
		}
		doc, out := reportHTML(t, c.file)
		var seen []string
		for _, tag := range []string{"rect", "path"} {
			for _, n := range elements(doc, tag, "") {
				if attr(n, "data-in-flight") == "" {
					continue
				}
				seen = append(seen, tag+" "+attr(n, "data-conn"))
				var title string
				if n.FirstChild != nil && n.FirstChild.Type == html.ElementNode && n.FirstChild.Data == "title" {
					title = textOf(n.FirstChild)
				}
				if !strings.Contains(title, "in flight at the capture's end") {
					t.Errorf("%s: %s of connection %s in flight, its title %q does not say so", c.file, tag, attr(n, "data-conn"), title)
				}
			}
		}
		wantSeen := ""
		if c.inFlight != 0 {
			wantSeen = c.tag + " " + strconv.Itoa(c.inFlight)
		}
		if strings.Join(seen, ",") != wantSeen {
			t.Errorf("%s: drawn in flight: %v, want %q", c.file, seen, wantSeen)
		}
		if said := strings.Contains(out, "failed, 1 in flight at the capture&#39;s end "); said != (c.inFlight != 0) {
			t.Errorf("%s: the summary says 1 in flight: %v, want %v", c.file, said, c.inFlight != 0)
		}
	}
}
